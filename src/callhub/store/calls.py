"""Call records: merged from every push about a call, searched for the history page."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, bindparam, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, and_, col, or_, select

from callhub.store import hotpath
from callhub.store.board import call_outcome
from callhub.store.models import Call, Extension, Requester, User, utcnow

# Marks set apart from a push's merge (which claims start, end and transfer itself).
MARKS = {"transfer_pop": "transfer_popped_at"}


def merge_record(
    *, session: Session, source: str, external_id: str, values: dict[str, Any], newer_wins: bool
) -> int:
    """Create the call at its first mention, or merge this mention into it (one statement,
    so concurrent pushes for one call never make two records); see hotpath.merge_push."""
    call, _claimed, _origin = hotpath.merge_push(
        session=session,
        source=source,
        external_id=external_id,
        values=values,
        newer_wins=newer_wins,
        marks=(),
    )
    assert call.id is not None
    return call.id


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
    """True for the one push that first sets this mark (transfer_pop: the transferred
    call's pop, which either of two pushes may make)."""
    result = session.execute(_claim_statement(MARKS[mark]), {"b_id": call_id, "b_now": utcnow()})
    return bool(getattr(result, "rowcount", 0))


def get_call(*, session: Session, call_id: int) -> Call | None:
    # Merged by a Core statement: never trust what the identity map may hold.
    return session.get(Call, call_id, populate_existing=True)


def by_external_id(*, session: Session, source: str, external_id: str) -> Call | None:
    query = select(Call).where(Call.source == source).where(Call.external_id == external_id)
    return session.exec(query).first()


def set_request(*, session: Session, call_id: int, request_id: int) -> None:
    table = Call.__table__  # type: ignore[attr-defined]
    session.execute(
        update(table)
        .where(table.c.id == call_id)
        .where(table.c.request_id.is_(None))
        .values(request_id=request_id)
    )


def child_request_of(*, session: Session, call_id: int) -> int | None:
    """The child request the call opened on viewing a request (parameter 282), if any."""
    table = Call.__table__  # type: ignore[attr-defined]
    row = session.execute(sa_select(table.c.child_request_id).where(table.c.id == call_id)).first()
    return row[0] if row is not None else None


def set_child_request(*, session: Session, call_id: int, request_id: int) -> None:
    table = Call.__table__  # type: ignore[attr-defined]
    session.execute(update(table).where(table.c.id == call_id).values(child_request_id=request_id))


def latest_of_requester(*, session: Session, requester_id: int, limit: int = 5) -> list[Call]:
    """The requester's latest calls, newest first."""
    query = (
        select(Call)
        .where(Call.requester_id == requester_id)
        .order_by(col(Call.started_at).desc())
        .limit(limit)
    )
    return list(session.exec(query).all())


MISSED_HOURS = 24


def missed_calls(
    *,
    session: Session,
    ramal: str,
    queues: list[str],
    handled: bool = False,
    limit: int = 100,
) -> list[Call]:
    """Calls of the last day that rang `ramal` or waited in one of `queues` and were not
    answered (store.board.outcome: abandoned), newest first; those not yet handled, or
    (`handled`) those handled too."""
    since = utcnow() - timedelta(hours=MISSED_HOURS)
    reached: ColumnElement[bool] = col(Call.ramal) == ramal
    if queues:
        reached = or_(reached, col(Call.queue).in_(queues))
    query = (
        select(Call)
        .where(col(Call.started_at) >= since)
        .where(reached)
        .where(or_(col(Call.direction).is_(None), Call.direction == "receptive"))
        .where(or_(col(Call.talk_seconds).is_(None), col(Call.talk_seconds) == 0))
    )
    if not handled:
        query = query.where(col(Call.handled_at).is_(None))
    query = query.order_by(col(Call.started_at).desc()).limit(limit * 4)
    # What was not answered is the board's rule, applied to the few candidates.
    return [c for c in session.exec(query).all() if call_outcome(c) == "abandoned"][:limit]


def mark_handled(*, session: Session, call_id: int, user_id: int) -> None:
    table = Call.__table__  # type: ignore[attr-defined]
    session.execute(
        update(table)
        .where(table.c.id == call_id)
        .where(table.c.handled_at.is_(None))
        .values(handled_at=utcnow(), handled_by=user_id)
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
    """Newest first, by when the call started; `before` (a call id) pages backwards from
    that call."""
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
        last = session.get(Call, before)
        if last is not None:
            at = col(Call.started_at)
            query = query.where(
                or_(at < last.started_at, and_(at == last.started_at, col(Call.id) < before))
            )
        else:
            query = query.where(col(Call.id) < before)
    query = query.order_by(col(Call.started_at).desc(), col(Call.id).desc()).limit(limit)
    return list(session.exec(query).all())


@dataclass(frozen=True)
class CallNames:
    """Who the calls of a list are about: callers by requester id, agents by extension
    (the user who holds the extension now)."""

    callers: dict[int, str]
    agents: dict[str, str]


def names_for(*, session: Session, found: list[Call]) -> CallNames:
    requester_ids = {c.requester_id for c in found if c.requester_id is not None}
    ramals = {c.ramal for c in found if c.ramal}
    callers: dict[int, str] = {}
    agents: dict[str, str] = {}
    if requester_ids:
        rows = session.exec(
            select(Requester.id, Requester.name).where(col(Requester.id).in_(requester_ids))
        ).all()
        callers = {int(i): n for i, n in rows if i is not None}
    if ramals:
        held = session.exec(
            select(Extension.ramal, User.name)
            .join(User, col(User.id) == col(Extension.user_id))
            .where(col(Extension.ramal).in_(ramals))
        ).all()
        agents = dict(held)
    return CallNames(callers, agents)


def adopt_for_uscall(
    *,
    session: Session,
    external_id: str,
    number: str | None = None,
    started_at: datetime | None = None,
) -> None:
    """One row per USCall call. Before a USCall record is merged under its id:
    - the pop USCall rang callhub for (novaSolicitacao with `callId`, source "telefonia")
      becomes that call's row;
    - a caller the wall board saw abandon a queue (recorded under a made-up id, queue:
      number:arrival) becomes the CDR's row, when the number and the minute match."""
    table = Call.__table__  # type: ignore[attr-defined]
    mine = (table.c.source == "uscall") & (table.c.external_id == external_id)
    if session.execute(sa_select(table.c.id).where(mine)).first() is not None:
        return
    popped = (table.c.source == "telefonia") & (table.c.external_id == external_id)
    adopted = cast(
        CursorResult[Any], session.execute(update(table).where(popped).values(source="uscall"))
    )
    if adopted.rowcount:
        return
    if number and started_at is not None:
        seen = session.execute(
            sa_select(table.c.id)
            .where(table.c.source == "uscall")
            .where(table.c.external_id.contains(f":{number}:", autoescape=True))
            .where(
                table.c.started_at.between(
                    started_at - timedelta(minutes=2), started_at + timedelta(minutes=2)
                )
            )
            .limit(1)
        ).first()
        if seen is not None:
            session.execute(
                update(table).where(table.c.id == seen[0]).values(external_id=external_id)
            )


def statuses(*, session: Session) -> list[str]:
    """The call statuses PBXs have reported, for the history's filter."""
    query = select(Call.status).where(col(Call.status).is_not(None)).distinct().limit(100)
    return sorted(s for s in session.exec(query).all() if s)
