"""Calls and screen pops: stored before they are published, replayed to tabs that missed them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from callhub.store.models import Call, ScreenPop, utcnow


async def record_call(
    *,
    session: AsyncSession,
    source: str,
    external_id: str,
    ramal: str | None,
    number: str | None,
    document: str | None,
    queue: str | None,
    ivr: str | None,
    requester_id: int | None,
) -> Call:
    """The call with this id, created at its first mention and completed by later ones."""
    call = (
        await session.exec(
            select(Call).where(Call.source == source).where(Call.external_id == external_id)
        )
    ).first()
    if call is None:
        call = Call(source=source, external_id=external_id)
    call.ramal = ramal or call.ramal
    call.number = number or call.number
    call.document = document or call.document
    call.queue = queue or call.queue
    call.ivr = ivr or call.ivr
    call.requester_id = requester_id or call.requester_id
    session.add(call)
    await session.flush()
    return call


async def create_pop(
    *,
    session: AsyncSession,
    pop_id: str,
    ramal: str,
    kind: str,
    payload: dict[str, Any],
    call_id: int | None,
    requester_id: int | None,
    request_id: int | None,
) -> ScreenPop:
    pop = ScreenPop(
        pop_id=pop_id,
        ramal=ramal,
        kind=kind,
        payload=payload,
        call_id=call_id,
        requester_id=requester_id,
        request_id=request_id,
    )
    session.add(pop)
    await session.flush()
    return pop


async def mark_delivered(*, session: AsyncSession, seq: int, delivered: int) -> None:
    await session.exec(
        update(ScreenPop).where(col(ScreenPop.seq) == seq).values(delivered=delivered)
    )


async def pops_after(
    *, session: AsyncSession, ramal: str, after: int, window_seconds: int, limit: int = 50
) -> list[ScreenPop]:
    since = utcnow() - timedelta(seconds=window_seconds)
    query = (
        select(ScreenPop)
        .where(ScreenPop.ramal == ramal)
        .where(col(ScreenPop.seq) > after)
        .where(col(ScreenPop.created_at) >= since)
        .order_by(col(ScreenPop.seq).desc())
        .limit(limit)
    )
    return list(reversed((await session.exec(query)).all()))


async def recent_pops(
    *, session: AsyncSession, ramal: str, window_seconds: int, limit: int = 20
) -> list[ScreenPop]:
    return await pops_after(
        session=session, ramal=ramal, after=0, window_seconds=window_seconds, limit=limit
    )


async def last_delivered_seq(*, session: AsyncSession, ramal: str, window_seconds: int) -> int:
    """Where a brand-new tab starts: after the last pop some tab already received."""
    since = utcnow() - timedelta(seconds=window_seconds)
    query = (
        select(func.max(ScreenPop.seq))
        .where(ScreenPop.ramal == ramal)
        .where(col(ScreenPop.delivered) > 0)
        .where(col(ScreenPop.created_at) >= since)
    )
    value = (await session.exec(query)).one()
    return int(value or 0)


async def get_pop(*, session: AsyncSession, seq: int) -> ScreenPop | None:
    return await session.get(ScreenPop, seq)


async def link_call_to_request(*, session: AsyncSession, call_id: int, request_id: int) -> None:
    await session.exec(update(Call).where(col(Call.id) == call_id).values(request_id=request_id))


async def update_payload(*, session: AsyncSession, seq: int, payload: dict[str, Any]) -> None:
    """What the agent did on a pop's screen (the caller registered, the request opened)."""
    values: dict[str, Any] = {"payload": payload, "kind": payload["kind"]}
    request = payload.get("request")
    if isinstance(request, dict):
        values["request_id"] = request.get("id")
    requester = payload.get("requester")
    if isinstance(requester, dict):
        values["requester_id"] = requester.get("id")
    await session.exec(update(ScreenPop).where(col(ScreenPop.seq) == seq).values(**values))
