"""Calls and screen pops: stored before they are published, replayed to tabs that missed them."""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, func, or_
from sqlalchemy import update as sa_update
from sqlmodel import Session, col, select, update

from callhub.store.models import Call, ScreenPop, utcnow


@functools.cache
def _mark_delivered_statement() -> Any:
    table = ScreenPop.__table__  # type: ignore[attr-defined]
    return (
        sa_update(table)
        .where(table.c.seq == bindparam("b_seq"))
        .values(delivered=bindparam("b_delivered"))
    )


def mark_delivered(*, session: Session, marks: dict[int, int]) -> None:
    """How many tabs each pop reached (seq -> count), in one batched statement."""
    if marks:
        session.execute(
            _mark_delivered_statement(),
            [{"b_seq": seq, "b_delivered": n} for seq, n in marks.items()],
        )


def _shown_to(holder: int) -> Any:
    """Pops made while `holder` held the extension, or while nobody did; never those of
    another agent's calls (an extension taken over does not hand its history on)."""
    return or_(col(ScreenPop.holder_id).is_(None), col(ScreenPop.holder_id) == holder)


def pops_after(
    *,
    session: Session,
    ramal: str,
    holder: int,
    after: int,
    window_seconds: int,
    limit: int = 50,
) -> list[ScreenPop]:
    since = utcnow() - timedelta(seconds=window_seconds)
    query = (
        select(ScreenPop)
        .where(ScreenPop.ramal == ramal, _shown_to(holder))
        .where(col(ScreenPop.seq) > after)
        .where(col(ScreenPop.created_at) >= since)
        .order_by(col(ScreenPop.seq).desc())
        .limit(limit)
    )
    return list(reversed((session.exec(query)).all()))


def recent_pops(
    *, session: Session, ramal: str, holder: int, window_seconds: int, limit: int = 20
) -> list[ScreenPop]:
    return pops_after(
        session=session,
        ramal=ramal,
        holder=holder,
        after=0,
        window_seconds=window_seconds,
        limit=limit,
    )


def last_delivered_seq(*, session: Session, ramal: str, holder: int, window_seconds: int) -> int:
    """Where a brand-new tab starts: after the last pop some tab already received."""
    since = utcnow() - timedelta(seconds=window_seconds)
    query = (
        select(func.max(ScreenPop.seq))
        .where(ScreenPop.ramal == ramal, _shown_to(holder))
        .where(col(ScreenPop.delivered) > 0)
        .where(col(ScreenPop.created_at) >= since)
    )
    value = (session.exec(query)).one()
    return int(value or 0)


def get_pop(*, session: Session, seq: int) -> ScreenPop | None:
    return session.get(ScreenPop, seq)


def link_call_to_request(*, session: Session, call_id: int, request_id: int) -> None:
    session.exec(update(Call).where(col(Call.id) == call_id).values(request_id=request_id))


def update_payload(*, session: Session, seq: int, payload: dict[str, Any]) -> None:
    """What the agent did on a pop's screen (the caller registered, the request opened)."""
    values: dict[str, Any] = {"payload": payload, "kind": payload["kind"]}
    request = payload.get("request")
    if isinstance(request, dict):
        values["request_id"] = request.get("id")
    requester = payload.get("requester")
    if isinstance(requester, dict):
        values["requester_id"] = requester.get("id")
    session.exec(update(ScreenPop).where(col(ScreenPop.seq) == seq).values(**values))


def pops_of_call(*, session: Session, call_id: int) -> list[ScreenPop]:
    query = select(ScreenPop).where(ScreenPop.call_id == call_id).order_by(col(ScreenPop.seq))
    return list(session.exec(query).all())


def recent_with_request(
    *, session: Session, ramal: str, window_seconds: int, limit: int = 5
) -> list[ScreenPop]:
    """The extension's latest pops that showed or opened a request, newest first."""
    since = utcnow() - timedelta(seconds=window_seconds)
    query = (
        select(ScreenPop)
        .where(ScreenPop.ramal == ramal)
        .where(col(ScreenPop.request_id).is_not(None))
        .where(col(ScreenPop.created_at) >= since)
        .order_by(col(ScreenPop.seq).desc())
        .limit(limit)
    )
    return list(session.exec(query).all())


def pops_showing(
    *, session: Session, request_ids: list[int], window_seconds: int
) -> list[ScreenPop]:
    """The recent pops whose screen shows one of these requests."""
    since = utcnow() - timedelta(seconds=window_seconds)
    query = (
        select(ScreenPop)
        .where(col(ScreenPop.request_id).in_(request_ids))
        .where(col(ScreenPop.created_at) >= since)
        .order_by(col(ScreenPop.seq))
    )
    return list(session.exec(query).all())
