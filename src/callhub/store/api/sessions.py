"""API sessions: opened at login, checked on every call (idle and absolute limits), ended
at logout; a device token let go."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from callhub.store.models import (
    ApiSession,
    User,
    utcnow,
)


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def open_session(
    *,
    session: Session,
    user_id: int,
    platform: str,
    device_token: str | None,
    language: str,
) -> str:
    """A new sessionID. Only its digest is stored: a copy of the database opens no session."""
    session_id = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        ApiSession(
            id=_digest(session_id),
            user_id=user_id,
            platform=platform,
            device_token=device_token,
            language=language,
            created_at=now,
            last_seen_at=now,
        )
    )
    session.flush()
    return session_id


@dataclass(frozen=True)
class SessionCheck:
    row: ApiSession | None
    user: User | None
    expired: bool


def check_session(
    *, session: Session, session_id: str, idle_seconds: int, max_seconds: int
) -> SessionCheck:
    """Find the session; renew its idle clock (written at most every few seconds). It
    expires when idle too long, and in any case `max_seconds` after the login."""
    row = session.get(ApiSession, _digest(session_id))
    if row is None or row.ended_at is not None:
        return SessionCheck(None, None, False)
    now = utcnow()
    if now - row.last_seen_at > timedelta(seconds=idle_seconds) or now - row.created_at > (
        timedelta(seconds=max_seconds)
    ):
        return SessionCheck(row, None, True)
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return SessionCheck(None, None, False)
    # A write per call would double the cost of a read; a few seconds of slack on an
    # idle timeout of minutes is not worth it.
    if now - row.last_seen_at > timedelta(seconds=min(30, max(1, idle_seconds // 20))):
        row.last_seen_at = now
        session.add(row)
    return SessionCheck(row, user, False)


def end_session(*, session: Session, session_id: str) -> None:
    """Logout: the sessionID opens nothing any more."""
    row = session.get(ApiSession, _digest(session_id))
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
        session.add(row)
        session.flush()


def disassociate_device(*, session: Session, user_id: int, device_token: str) -> int:
    query = (
        select(ApiSession)
        .where(ApiSession.user_id == user_id)
        .where(ApiSession.device_token == device_token)
    )
    rows = list(session.exec(query).all())
    for row in rows:
        row.device_token = None
        session.add(row)
    session.flush()
    return len(rows)
