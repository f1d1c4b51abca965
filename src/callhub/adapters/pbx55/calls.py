"""What a 55pbx push does: merge the call record, pop the agent's screen, mark the end.

All of it runs in one transaction (`handle_push`); the pops and the end-of-call messages
it returns are published by the caller after the commit. Every side effect is claimed
first (a conditional UPDATE of a "seen" mark on the call), so a repeated push, or two
concurrent ones, do it once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlmodel import Session

from callhub.adapters.pbx55.parse import Phase, Push
from callhub.identity import normalise_phone, parse_document
from callhub.protocol import CallEnded
from callhub.screenpop import CallContext, identify, new_request_pop, view_request_pop
from callhub.store import calls, catalog, hotpath, pops, requests, users
from callhub.store.catalog import RequesterCard
from callhub.store.models import Call, CallDirection, ScreenPop
from callhub.store.params import TelephonyParams

SOURCE = "55pbx"
# How far back an outbound call looks for the request its agent was on.
DIALLED_FROM_WINDOW_SECONDS = 30 * 60


@dataclass
class Outcome:
    call_id: int
    phase: Phase
    pops: list[ScreenPop] = field(default_factory=list)
    # to publish once committed
    messages: list[CallEnded] = field(default_factory=list)


def record_values(push: Push) -> dict[str, Any]:
    full = push.full_number
    return {
        "ramal": push.branch,
        "number": (normalise_phone(full) or full or "")[:32] or None,
        "document": push.document,
        "queue": push.queue,
        "ivr": push.ura,
        "started_at": push.call_date,
        "ended_at": push.ended_at if push.phase is not Phase.start else None,
        "direction": push.direction.value if push.direction else None,
        "call_type": push.call_type,
        "status": push.status,
        "disconnection": push.disconnection,
        "central_id": push.central_id,
        "trunk": push.terminal,
        "country_code": push.country_code,
        "area_code": push.area_code,
        "order_typed": push.order,
        "talk_seconds": push.talk_seconds,
        "duration_seconds": push.duration_seconds,
        "wait_seconds": push.wait_seconds,
        "audio_url": push.url_audio,
        "audio_file": push.audio_file,
        "tax": push.tax,
        "tax_type": push.tax_type,
        "cost": push.cost,
        "balance": push.balance,
        "transfer_to": push.transfer_id if push.phase is Phase.transfer else None,
    }


# The marks each kind of push sets: a repeated push finds them set and does nothing again.
MARKS = {Phase.start: ("start",), Phase.end: ("end",), Phase.transfer: ("end", "transfer")}


def handle_push(*, session: Session, push: Push, params: TelephonyParams) -> Outcome:
    """One push: merged (one statement, which says what this push does first), then the
    pop (who called: one statement; the pop: one), the end, the transfer."""
    phase = push.phase
    values = record_values(push)
    caller: RequesterCard | None | Literal[False] = False
    if phase is Phase.start and push.direction is CallDirection.receptive:
        # Known from the push itself: the call is recorded with its caller at once.
        caller = identify(
            session=session, document=parse_document(push.document), number=values["number"]
        )
        values["requester_id"] = caller.id if caller is not None else None
    call, claimed, origin_id = hotpath.merge_push(
        session=session,
        source=SOURCE,
        external_id=push.call_id,
        values=values,
        newer_wins=phase is not Phase.start,
        marks=MARKS[phase],
    )
    assert call.id is not None
    outcome = Outcome(call_id=call.id, phase=phase)
    if call.number != values["number"] or call.document != values["document"]:
        caller = False  # an earlier push said otherwise: identify from the merged call

    if call.direction == CallDirection.active and call.request_id is None:
        _link_dialled_from(session=session, call=call)
    if "start" in claimed and call.direction == CallDirection.receptive and call.ramal:
        origin_id = call.transferred_from_id or origin_id
        origin = session.get(Call, origin_id) if origin_id is not None else None
        if origin is not None:
            if calls.claim(session=session, call_id=call.id, mark="transfer_pop"):
                outcome.pops.append(_transfer_pop(session=session, call=call, origin=origin))
        else:
            outcome.pops.append(_pop(session=session, call=call, params=params, caller=caller))
    if "end" in claimed:
        _mark_ended(session=session, call=call, outcome=outcome)
    if "transfer" in claimed and push.transfer_id:
        _follow_transfer(session=session, call=call, to=push.transfer_id, outcome=outcome)
    return outcome


def _context(call: Call, **extra: Any) -> CallContext:
    assert call.ramal is not None
    return CallContext(
        ramal=call.ramal,
        source=SOURCE,
        external_id=call.external_id,
        number=call.number,
        document=call.document,
        queue=call.queue,
        ivr=call.ivr,
        wait_seconds=call.wait_seconds,
        tracks_end=True,
        ended=_ended(call) if call.end_seen_at is not None else None,
        call_id=call.id,
        **extra,
    )


def _ended(call: Call) -> dict[str, Any]:
    return {
        "duration_seconds": call.duration_seconds,
        "at": call.ended_at.isoformat() if call.ended_at else None,
    }


def _pop(
    *,
    session: Session,
    call: Call,
    params: TelephonyParams,
    caller: RequesterCard | None | Literal[False] = False,
) -> ScreenPop:
    """The caller by the document typed in the IVR, else by the number; with `call_order`
    naming one of the caller's requests, that request's screen."""
    ctx = _context(call)
    order = (call.order_typed or "").strip()
    if order.isdigit() and order.isascii() and len(order) <= 12:
        requester = identify(
            session=session, document=parse_document(call.document), number=call.number
        )
        request = requests.get_request(session=session, number=int(order))
        if requester is not None and request is not None and request.requester_id == requester.id:
            return view_request_pop(session=session, ctx=ctx, number=int(order), params=params).pop
    return new_request_pop(session=session, ctx=ctx, requester=caller).pop


def _transfer_pop(*, session: Session, call: Call, origin: Call) -> ScreenPop:
    """The receiving agent sees what the first one did: the request opened, if any."""
    holder = users.holder_of(session=session, ramal=origin.ramal) if origin.ramal else None
    merged = dataclasses.replace(
        _context(
            call,
            transfer={
                "from_ramal": origin.ramal,
                "from_agent": holder.name if holder else None,
                "request": origin.request_id,
            },
        ),
        number=call.number or origin.number,
        document=call.document or origin.document,
        queue=call.queue or origin.queue,
        ivr=call.ivr or origin.ivr,
    )
    if origin.request_id is not None:
        calls.set_request(session=session, call_id=call.id or 0, request_id=origin.request_id)
        no_child = TelephonyParams(enabled=True, child_on_view=False, child_service_id=None)
        return view_request_pop(
            session=session, ctx=merged, number=origin.request_id, params=no_child
        ).pop
    return new_request_pop(session=session, ctx=merged).pop


def _mark_ended(*, session: Session, call: Call, outcome: Outcome) -> None:
    """Every screen that shows this call learns that it ended (live, and on replay)."""
    ended = _ended(call)
    told: set[str] = set()
    for pop in pops.pops_of_call(session=session, call_id=call.id or 0):
        payload = {**pop.payload, "call": {**(pop.payload.get("call") or {}), "ended": ended}}
        assert pop.seq is not None
        pops.update_payload(session=session, seq=pop.seq, payload=payload)
        if pop.ramal not in told:
            told.add(pop.ramal)
            outcome.messages.append(CallEnded(pop.ramal, call.id or 0, ended))


def _follow_transfer(*, session: Session, call: Call, to: str, outcome: Outcome) -> None:
    """Link the new call to this one; pop it now if it already started (pushes may come in
    any order: otherwise its own start push pops it)."""
    target, _claimed, _origin = hotpath.merge_push(
        session=session,
        source=SOURCE,
        external_id=to,
        values={"transferred_from_id": call.id},
        newer_wins=False,
        marks=(),
    )
    new_id = target.id or 0
    if (
        target.start_seen_at is not None
        and target.ramal
        and target.direction == CallDirection.receptive
        and calls.claim(session=session, call_id=new_id, mark="transfer_pop")
    ):
        outcome.pops.append(_transfer_pop(session=session, call=target, origin=call))


def _link_dialled_from(*, session: Session, call: Call) -> None:
    """An outbound call belongs to the request it was dialled from: the one the IVR order
    names, else the request the agent last had on screen for the person called."""
    assert call.id is not None
    order = (call.order_typed or "").strip()
    if order.isdigit() and order.isascii() and len(order) <= 12:
        if requests.get_request(session=session, number=int(order)) is not None:
            calls.set_request(session=session, call_id=call.id, request_id=int(order))
            return
    if not call.ramal or not call.number:
        return
    for pop in pops.recent_with_request(
        session=session, ramal=call.ramal, window_seconds=DIALLED_FROM_WINDOW_SECONDS
    ):
        if pop.requester_id is None or pop.request_id is None:
            continue
        card = catalog.card_by_id(session=session, requester_id=pop.requester_id)
        if card is not None and call.number in card.phones:
            calls.set_request(session=session, call_id=call.id, request_id=pop.request_id)
            return
