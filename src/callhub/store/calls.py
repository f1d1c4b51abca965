"""Call records: merged from every push about a call, searched for the history page."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from callhub.store.models import Call, utcnow

# Filled from a PBX's call record. On a repeated or late push nothing already known is lost:
# an end push's values win over a start push's, and a start push only fills gaps.
RECORD_FIELDS = (
    "ramal",
    "number",
    "document",
    "queue",
    "ivr",
    "started_at",
    "ended_at",
    "direction",
    "call_type",
    "status",
    "disconnection",
    "central_id",
    "trunk",
    "country_code",
    "area_code",
    "order_typed",
    "talk_seconds",
    "duration_seconds",
    "wait_seconds",
    "audio_url",
    "audio_file",
    "tax",
    "tax_type",
    "cost",
    "balance",
    "transfer_to",
    "transferred_from_id",
)
MARKS = {
    "start": "start_seen_at",
    "end": "end_seen_at",
    "transfer": "transfer_seen_at",
    "transfer_pop": "transfer_popped_at",
}


@functools.cache
def _merge_statement(dialect: str, newer_wins: bool, date_known: bool) -> Any:
    table = Call.__table__  # type: ignore[attr-defined]
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
    new, old = statement.excluded, table.c
    merged: dict[str, Any] = {
        k: func.coalesce(new[k], old[k]) if newer_wins else func.coalesce(old[k], new[k])
        for k in RECORD_FIELDS
    }
    # A date the PBX sent beats the arrival time a record was first given without one.
    merged["started_at"] = new.started_at if date_known else old.started_at
    return statement.on_conflict_do_update(
        index_elements=["source", "external_id"], set_=merged
    ).returning(table.c.id)


def merge_record(
    *, session: Session, source: str, external_id: str, values: dict[str, Any], newer_wins: bool
) -> int:
    """Create the call at its first mention, or merge this mention into it (one statement,
    so concurrent pushes for one call never make two records)."""
    row = {k: values.get(k) for k in RECORD_FIELDS}
    row.update(source=source, external_id=external_id)
    date_known = row["started_at"] is not None
    if not date_known:
        row["started_at"] = utcnow()
    statement = _merge_statement(session.get_bind().dialect.name, newer_wins, date_known)
    return int(session.execute(statement, row).scalar_one())


@functools.cache
def _claim_statement(column: str) -> Any:
    table = Call.__table__  # type: ignore[attr-defined]
    return (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .where(table.c[column].is_(None))
        .values({column: bindparam("b_now")})
    )


def claim(*, session: Session, call_id: int, mark: str) -> bool:
    """True for the one push that first sets this mark (start, end, transfer, transfer_pop)."""
    result = session.execute(_claim_statement(MARKS[mark]), {"b_id": call_id, "b_now": utcnow()})
    return bool(getattr(result, "rowcount", 0))


def get_call(*, session: Session, call_id: int) -> Call | None:
    # Merged by a Core statement: never trust what the identity map may hold.
    return session.get(Call, call_id, populate_existing=True)


def by_external_id(*, session: Session, source: str, external_id: str) -> Call | None:
    query = select(Call).where(Call.source == source).where(Call.external_id == external_id)
    return session.exec(query).first()


@functools.cache
def _transferred_from_statement() -> Any:
    return (
        select(Call)
        .where(Call.source == bindparam("b_source"))
        .where(Call.transfer_to == bindparam("b_external"))
        .order_by(col(Call.id))
        .limit(1)
    )


def transferred_from(*, session: Session, call: Call) -> Call | None:
    """The call whose transfer created this one."""
    if call.transferred_from_id is not None:
        return session.get(Call, call.transferred_from_id)
    params = {"b_source": call.source, "b_external": call.external_id}
    found: Call | None = session.exec(_transferred_from_statement(), params=params).first()
    return found


def set_request(*, session: Session, call_id: int, request_id: int) -> None:
    table = Call.__table__  # type: ignore[attr-defined]
    session.execute(
        update(table)
        .where(table.c.id == call_id)
        .where(table.c.request_id.is_(None))
        .values(request_id=request_id)
    )


def calls_for_request(*, session: Session, request_id: int) -> list[Call]:
    query = select(Call).where(Call.request_id == request_id).order_by(col(Call.started_at).desc())
    return list(session.exec(query).all())


@dataclass(frozen=True)
class CallFilter:
    since: datetime | None = None
    until: datetime | None = None
    ramal: str | None = None
    number: str | None = None
    direction: str | None = None
    status: str | None = None


def search(
    *, session: Session, where: CallFilter, before: int | None = None, limit: int = 50
) -> list[Call]:
    """Newest first; `before` (a call id) pages backwards."""
    query = select(Call)
    if where.since is not None:
        query = query.where(col(Call.started_at) >= where.since)
    if where.until is not None:
        query = query.where(col(Call.started_at) < where.until)
    if where.ramal:
        query = query.where(Call.ramal == where.ramal)
    if where.number:
        query = query.where(col(Call.number).contains(where.number, autoescape=True))
    if where.direction:
        query = query.where(Call.direction == where.direction)
    if where.status:
        query = query.where(Call.status == where.status)
    if before is not None:
        query = query.where(col(Call.id) < before)
    query = query.order_by(col(Call.id).desc()).limit(limit)
    return list(session.exec(query).all())


def statuses(*, session: Session) -> list[str]:
    """The call statuses PBXs have reported, for the history's filter."""
    query = select(Call.status).where(col(Call.status).is_not(None)).distinct().limit(100)
    return sorted(s for s in session.exec(query).all() if s)
