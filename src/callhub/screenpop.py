"""Who called and which screen the agent gets, whatever transport told us about the call.

The pipeline's identify step (pipeline.py). Everything a screen needs is gathered here
into a plain dict (the pop's payload), stored with the pop (store/hotpath.py), and
rendered once per variant by fragments.py: the same payload serves the live push
and the replay to a tab that reconnects.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from sqlmodel import Session

from callhub.identity import DocKind, Document, format_phone, normalise_phone, parse_document
from callhub.store import calls, catalog, hotpath, requests
from callhub.store.board import call_outcome
from callhub.store.models import Call, PopKind, ScreenPop, ServiceRequest, Status, utcnow
from callhub.store.params import TelephonyParams


class NotFound(LookupError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class CallContext:
    """What the PBX told us about the call."""

    ramal: str
    source: str = "telefonia"
    external_id: str | None = None
    number: str | None = None
    document: str | None = None
    queue: str | None = None
    ivr: str | None = None
    wait_seconds: int | None = None
    # Set when the PBX reports call ends (55pbx): the screen shows when the call ended.
    ended: dict[str, Any] | None = None
    tracks_end: bool = False
    # A transferred call: who had it, and the request they opened.
    transfer: dict[str, Any] | None = None
    # The call's record, when the adapter has stored it already (55pbx merges its own).
    call_id: int | None = None


@dataclass
class PopResult:
    pop: ScreenPop
    document: Document
    identified: bool
    child_request: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def requester_view(card: catalog.RequesterCard) -> dict[str, Any]:
    return {
        "id": card.id,
        "name": card.name,
        "cpf": card.cpf,
        "cnpj": card.cnpj,
        "email": card.email,
        "phones": [format_phone(p) for p in card.phones],
    }


def requester_view_by_id(*, session: Session, requester_id: int) -> dict[str, Any]:
    card = catalog.card_by_id(session=session, requester_id=requester_id)
    if card is None:
        raise NotFound("requester_id", "unknown requester")
    return requester_view(card)


# A screen (and so a stored pop, and every refresh of it) carries the latest occurrences
# only: a long history would make each of them megabytes. The rest is a link away.
HISTORY_SHOWN = 20


def request_view(*, session: Session, number: int, full_history: bool = False) -> dict[str, Any]:
    """The view/execute screen's data: the request, its requester, its latest history (all
    of it with `full_history`)."""
    request = requests.get_request(session=session, number=number)
    if request is None:
        raise NotFound("idSolicitacao", f"request {number} does not exist")
    return _request_view(session=session, request=request, full_history=full_history)


def _request_view(
    *, session: Session, request: ServiceRequest, full_history: bool = False
) -> dict[str, Any]:
    assert request.id is not None
    service = (
        catalog.get_service(session=session, service_id=request.service_id)
        if request.service_id
        else None
    )
    history = requests.history(
        session=session, number=request.id, latest=None if full_history else HISTORY_SHOWN
    )
    history_total = requests.history_count(session=session, number=request.id)
    children = requests.children_of(session=session, number=request.id)
    linked = calls.calls_for_request(session=session, request_id=request.id)
    return {
        "id": request.id,
        "type": request.type,
        "description": request.description,
        "status": request.status,
        "urgency": request.urgency,
        "service": service.name if service else None,
        "category": service.category if service else None,
        "opened_at": request.opened_at.isoformat(),
        "deadline": request.deadline.isoformat() if request.deadline else None,
        "on_time": request.deadline is None or request.deadline >= utcnow(),
        "parent_id": request.parent_id,
        "children": [c.id for c in children],
        "requester": requester_view_by_id(session=session, requester_id=request.requester_id),
        "history": [
            {
                "at": h.at.isoformat(),
                "user": h.user,
                "description": h.description,
                "status_from": h.status_from,
                "status_to": h.status_to,
            }
            for h in history
        ],
        "history_total": history_total,
        "calls": [call_summary(c) for c in linked],
    }


def call_summary(call: Call, names: calls.CallNames | None = None) -> dict[str, Any]:
    """A call as lists show it (the request's calls, the history page): with `names`, its
    caller's and agent's names too."""
    e164 = normalise_phone(call.number)
    duration = call.duration_seconds
    if duration is None and call.ended_at is not None:
        duration = max(0, round((call.ended_at - call.started_at).total_seconds()))
    return {
        "id": call.id,
        "source": call.source,
        "started_at": call.started_at.isoformat(),
        "ramal": call.ramal,
        "direction": call.direction,
        "number_display": format_phone(e164) if e164 else (call.number or ""),
        "duration_seconds": duration,
        "wait_seconds": call.wait_seconds,
        "queue": call.queue,
        "status": call.status,
        "outcome": call_outcome(call),
        "request_id": call.request_id,
        "caller": names.callers.get(call.requester_id) if names and call.requester_id else None,
        "agent": names.agents.get(call.ramal) if names and call.ramal else None,
        # Money as text: the summary travels in stored pops (JSON).
        "cost": None if call.cost is None else str(call.cost),
        "tax": None if call.tax is None else str(call.tax),
        "tax_type": call.tax_type,
        "disconnection": call.disconnection,
        "audio_url": call.audio_url if _playable(call.audio_url) else None,
        # USCall keeps its recordings: callhub fetches one when it is played (audioDownload).
        "recording_url": f"/chamadas/{call.id}/gravacao"
        if call.source == "uscall" and call.audio_file
        else None,
    }


def _playable(url: str | None) -> bool:
    return bool(url) and str(url).lower().startswith(("https://", "http://"))


def identify(
    *, session: Session, document: Document, number: str | None
) -> catalog.RequesterCard | None:
    """By the document typed in the IVR; by the number that called only when none was typed.

    A document that is unknown or fails its check digits identifies nobody (telephony.md):
    the agent must see what was typed rather than a guess from a shared line.
    """
    if document.kind is DocKind.missing:
        return hotpath.card_by_phone(session=session, number=number)
    if document.valid:
        return hotpath.card_by_document(session=session, document=document)
    return None


def _call_view(ctx: CallContext, call_id: int | None, external_id: str) -> dict[str, Any]:
    e164 = normalise_phone(ctx.number)
    return {
        "id": call_id,
        "external_id": external_id,
        "number": ctx.number,
        "number_display": format_phone(e164) if e164 else (ctx.number or ""),
        "queue": ctx.queue,
        "ivr": ctx.ivr,
        "wait_seconds": ctx.wait_seconds,
        "tracks_end": ctx.tracks_end,
        "ended": ctx.ended,
    }


def _call_of(
    *, session: Session, ctx: CallContext, requester: catalog.RequesterCard | None
) -> tuple[int, str]:
    """The pop's call (its id, and the PBX's id for it), recorded at its first mention.
    Recording it locks its row until the transaction ends (PostgreSQL's upsert; SQLite
    writes one at a time), so what a call did is read after this without a race."""
    external_id = ctx.external_id or hotpath.time_ordered_id()
    if ctx.call_id is not None:
        return ctx.call_id, external_id
    call_id = hotpath.record_call(
        session=session,
        source=ctx.source,
        external_id=external_id,
        ramal=ctx.ramal,
        number=ctx.number,
        document=(ctx.document or "")[:32] or None,
        queue=ctx.queue,
        ivr=ctx.ivr,
        requester_id=requester.id if requester else None,
    )
    return call_id, external_id


def _store(
    *,
    session: Session,
    ctx: CallContext,
    kind: PopKind,
    document: Document,
    requester: catalog.RequesterCard | None,
    request: dict[str, Any] | None,
    child: int | None,
    mismatch: str | None = None,
) -> ScreenPop:
    call_id, external_id = _call_of(session=session, ctx=ctx, requester=requester)
    payload: dict[str, Any] = {
        "kind": kind.value,
        "at": utcnow().isoformat(),
        "call": _call_view(ctx, call_id, external_id),
        "document": {
            "typed": (ctx.document or "")[:32],
            "valid": document.valid,
            "kind": document.kind.value,
            "digits": document.digits if document.valid else "",
        },
        "requester": None,
        "request": request,
        "child": child,
        "transfer": ctx.transfer,
    }
    if mismatch:
        # The document typed in the IVR is not the requester's: the screen warns.
        payload["mismatch"] = mismatch
    if requester is not None:
        payload["requester"] = requester_view(requester)
    return hotpath.create_pop(
        session=session,
        pop_id=hotpath.time_ordered_id(),
        ramal=ctx.ramal,
        kind=kind.value,
        payload=payload,
        call_id=call_id,
        requester_id=requester.id if requester else None,
        request_id=request["id"] if request else None,
    )


def new_request_pop(
    *,
    session: Session,
    ctx: CallContext,
    requester: catalog.RequesterCard | None | Literal[False] = False,
) -> PopResult:
    """novaSolicitacao: the requester's card with a form, or "no identification".

    `requester`: the caller, when the adapter identified them already (None: nobody)."""
    document = parse_document(ctx.document)
    if requester is False:
        requester = identify(session=session, document=document, number=ctx.number)
    kind = PopKind.new_request if requester is not None else PopKind.unidentified
    pop = _store(
        session=session,
        ctx=ctx,
        kind=kind,
        document=document,
        requester=requester,
        request=None,
        child=None,
    )
    return PopResult(pop=pop, document=document, identified=requester is not None)


def _child_of_call(
    *,
    session: Session,
    call_id: int,
    request: ServiceRequest,
    params: TelephonyParams,
    user_id: int | None,
) -> int:
    """Parameter 282: the call's child request, opened at its first view and closed at once
    (the seed: "Essa será encerrada automaticamente"). A call opens one child at most:
    viewing again, or another request, in the same call shows the same child."""
    opened = calls.child_request_of(session=session, call_id=call_id)
    if opened is not None:
        return opened
    number = request.id or 0
    service = (
        catalog.get_service(session=session, service_id=params.child_service_id)
        if params.child_service_id
        else None
    )
    child = requests.create_request(
        session=session,
        requester_id=request.requester_id,
        description=f"Atendimento telefônico referente à solicitação {number}",
        service=service,
        type_="R",
        parent_id=number,
        user_id=user_id,
        note=f"Solicitação filha aberta ao visualizar a solicitação {number} (parâmetro 282)",
    )
    for status, text in (
        (Status.resolved, f"Informações da solicitação {number} prestadas por telefone"),
        (Status.closed, "Encerrada automaticamente (parâmetro 282)"),
    ):
        requests.change_status(
            session=session, request=child, status=status, user_id=user_id, description=text
        )
    calls.set_child_request(session=session, call_id=call_id, request_id=child.id or 0)
    requests.add_occurrence(
        session=session,
        request=request,
        user_id=user_id,
        description=f"Visualizada por telefone; solicitação filha {child.id} aberta e encerrada",
    )
    return child.id or 0


def _not_the_callers(document: Document, requester: catalog.RequesterCard | None) -> str | None:
    """The document typed, when it is a valid one and not the request's requester's."""
    if not document.valid or requester is None:
        return None
    return None if document.digits in (requester.cpf, requester.cnpj) else document.digits


def view_request_pop(
    *,
    session: Session,
    ctx: CallContext,
    number: int,
    params: TelephonyParams,
    user_id: int | None = None,
) -> PopResult:
    """visualizarSolicitacao: the request's view/execute screen (and, with 282, its child)."""
    request = requests.get_request(session=session, number=number)
    if request is None:
        raise NotFound("idSolicitacao", f"request {number} does not exist")
    document = parse_document(ctx.document)
    requester = catalog.card_by_id(session=session, requester_id=request.requester_id)
    call_id, external_id = _call_of(session=session, ctx=ctx, requester=requester)
    ctx = replace(ctx, call_id=call_id, external_id=external_id)
    child_number: int | None = None
    if params.child_on_view:
        child_number = _child_of_call(
            session=session, call_id=call_id, request=request, params=params, user_id=user_id
        )
    view = _request_view(session=session, request=request)
    pop = _store(
        session=session,
        ctx=ctx,
        kind=PopKind.view,
        document=document,
        requester=requester,
        request=view,
        child=child_number,
        mismatch=_not_the_callers(document, requester),
    )
    return PopResult(pop=pop, document=document, identified=True, child_request=child_number)
