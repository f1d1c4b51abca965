"""FROM-TO keys (an integrator's ids against callhub's) and synchronisation marks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, col, select

from callhub.store.models import (
    SyncKey,
    SyncMark,
    utcnow,
)


def put_key(*, session: Session, platform: str, object: str, from_key: str, to_key: str) -> bool:
    """Map the platform's key to callhub's. Returns True when the mapping is new."""
    found = session.exec(
        select(SyncKey)
        .where(SyncKey.platform == platform)
        .where(SyncKey.object == object)
        .where(SyncKey.from_key == from_key)
    ).first()
    created = found is None
    if found is None:
        found = SyncKey(platform=platform, object=object, from_key=from_key, to_key=to_key)
    found.to_key = to_key
    session.add(found)
    session.flush()
    return created


def to_key(*, session: Session, platform: str, object: str, from_key: str) -> str | None:
    query = (
        select(SyncKey.to_key)
        .where(SyncKey.platform == platform)
        .where(SyncKey.object == object)
        .where(SyncKey.from_key == from_key)
    )
    return session.exec(query).first()


def from_keys(
    *, session: Session, platform: str, object: str, to_keys: Iterable[str]
) -> dict[str, str]:
    """callhub's keys back to the platform's (the first mapping of each)."""
    wanted = list(to_keys)
    if not wanted:
        return {}
    query = (
        select(SyncKey.to_key, SyncKey.from_key)
        .where(SyncKey.platform == platform)
        .where(SyncKey.object == object)
        .where(col(SyncKey.to_key).in_(wanted))
        .order_by(col(SyncKey.id))
    )
    found: dict[str, str] = {}
    for to, frm in session.exec(query).all():
        found.setdefault(to, frm)
    return found


def find_keys(
    *,
    session: Session,
    platform: str,
    object: str | None,
    from_key: str | None,
    to_key: str | None,
) -> list[SyncKey]:
    query = select(SyncKey).where(SyncKey.platform == platform)
    if object:
        query = query.where(SyncKey.object == object)
    if from_key:
        query = query.where(SyncKey.from_key == from_key)
    if to_key:
        query = query.where(SyncKey.to_key == to_key)
    return list(session.exec(query.order_by(col(SyncKey.id)).limit(1000)).all())


def delete_keys(
    *, session: Session, platform: str, object: str, from_key: str | None, to_key: str | None
) -> int:
    rows = find_keys(
        session=session, platform=platform, object=object, from_key=from_key, to_key=to_key
    )
    for row in rows:
        session.delete(row)
    session.flush()
    return len(rows)


def marks(
    *, session: Session, platform: str, object: str, item_ids: Iterable[int]
) -> dict[int, datetime]:
    ids = list(item_ids)
    if not ids:
        return {}
    query = (
        select(SyncMark.item_id, SyncMark.synced_at)
        .where(SyncMark.platform == platform)
        .where(SyncMark.object == object)
        .where(col(SyncMark.item_id).in_(ids))
    )
    return dict(session.exec(query).all())


def mark(*, session: Session, platform: str, object: str, item_ids: Iterable[int]) -> None:
    ids = list(item_ids)
    known = {
        row.item_id: row
        for row in session.exec(
            select(SyncMark)
            .where(SyncMark.platform == platform)
            .where(SyncMark.object == object)
            .where(col(SyncMark.item_id).in_(ids))
        ).all()
    }
    now = utcnow()
    for item_id in ids:
        row = known.get(item_id) or SyncMark(platform=platform, object=object, item_id=item_id)
        row.synced_at = now
        session.add(row)
    session.flush()
