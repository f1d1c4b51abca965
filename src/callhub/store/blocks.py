"""The block list the PBX's IVR asks before delivering a call (rotearChamada): numbers and
documents an admin refuses, with the reason and an optional expiry; each refusal kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, or_, select

from callhub.store.models import CallBlock, CallRefusal, utcnow


@dataclass(frozen=True)
class BlockRow:
    """A block as the admin's page lists it, with how often it refused a call."""

    block: CallBlock
    refusals: int
    last_refused_at: datetime | None


def list_blocks(*, session: Session) -> list[BlockRow]:
    counts = (
        select(
            CallRefusal.block_id,
            func.count().label("n"),
            func.max(CallRefusal.refused_at).label("last"),
        )
        .group_by(col(CallRefusal.block_id))
        .subquery()
    )
    rows = session.exec(
        select(CallBlock, counts.c.n, counts.c.last)
        .join(counts, counts.c.block_id == CallBlock.id, isouter=True)
        .order_by(col(CallBlock.id).desc())
    ).all()
    return [BlockRow(b, int(n or 0), last) for b, n, last in rows]


def add_block(
    *,
    session: Session,
    number: str | None,
    document: str | None,
    reason: str,
    expires_at: datetime | None,
    user_id: int | None,
) -> CallBlock:
    block = CallBlock(
        number=number, document=document, reason=reason, expires_at=expires_at, created_by=user_id
    )
    session.add(block)
    session.flush()
    return block


def remove_block(*, session: Session, block_id: int) -> bool:
    block = session.get(CallBlock, block_id)
    if block is None:
        return False
    for refusal in session.exec(select(CallRefusal).where(CallRefusal.block_id == block_id)):
        session.delete(refusal)
    session.delete(block)
    session.flush()
    return True


def matching_block(
    *, session: Session, number: str | None, document: str | None
) -> CallBlock | None:
    """The block in force for this number (E.164) or document (digits), if any."""
    if not number and not document:
        return None
    matches = []
    if number:
        matches.append(CallBlock.number == number)
    if document:
        matches.append(CallBlock.document == document)
    now = utcnow()
    return session.exec(
        select(CallBlock)
        .where(or_(*matches))
        .where(or_(col(CallBlock.expires_at).is_(None), col(CallBlock.expires_at) > now))
        .order_by(col(CallBlock.id))
        .limit(1)
    ).first()


def record_refusal(
    *, session: Session, block: CallBlock, number: str | None, document: str | None
) -> None:
    session.add(CallRefusal(block_id=block.id or 0, number=number, document=document))
    session.flush()
