"""rotearChamada: what the PBX's IVR asks before delivering a call. Refuse it (a block an
admin set, each refusal recorded), send it to the agent who holds the caller's open
request when that agent is available (sticky routing), or to the queue."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from callhub.appstate import app_state
from callhub.board.current import read_board
from callhub.board.model import Board
from callhub.broker import BrokerUnavailable
from callhub.i18n import gettext_for
from callhub.identity import normalise_phone, parse_document
from callhub.screenpop import identify
from callhub.store import blocks, routing
from callhub.store import board as board_store
from callhub.store.params import TelephonyParams
from callhub.webservices.common import BadInput, first, wants_text


@dataclass(frozen=True)
class Decision:
    action: str  # "recusar", "ramal" or "fila"
    reason: str = ""
    candidates: tuple[routing.Holder, ...] = ()


async def _available(request: Request, holder: routing.Holder, board: Board | None) -> bool:
    """With USCall, the agent's state on the wall board (`board`, when it knows the agent);
    otherwise a tab open on the extension and no call on it."""
    state = app_state(request)
    row = board.agent_at(holder.ramal) if board is not None else None
    if row is not None:
        return row.state == "available"
    channel = f"ext:{holder.ramal}"
    try:
        tabs = await state.broker.coordination.tab_counts([channel])
    except BrokerUnavailable:
        return False  # who has a tab open is not known now: the queue is the safe answer
    if tabs.get(channel, 0) <= 0:
        return False
    busy = await state.store.read(lambda s: board_store.on_a_call(session=s, ramal=holder.ramal))
    return not busy


async def rotear_chamada(request: Request, params: dict[str, str], tp: TelephonyParams) -> Response:
    _ = gettext_for(request)
    typed_number, typed_document = first(params, "numero"), first(params, "cpf")
    queue = (first(params, "fila") or "")[:64]
    if typed_number is None and typed_document is None:
        raise BadInput(
            "numero",
            _("numero ou cpf: informe ao menos um (o número que liga ou o documento digitado)"),
        )
    number = normalise_phone(typed_number) if typed_number else None
    document = parse_document(typed_document)
    digits = document.digits if document.valid else None

    def decide(session: Session) -> Decision:
        block = blocks.matching_block(session=session, number=number, document=digits)
        if block is not None:
            blocks.record_refusal(session=session, block=block, number=number, document=digits)
            session.commit()
            return Decision("recusar", reason=block.reason)
        caller = identify(session=session, document=document, number=number)
        if caller is None:
            return Decision("fila")
        return Decision(
            "fila", candidates=tuple(routing.holders_of(session=session, requester_id=caller.id))
        )

    route = await app_state(request).store.run(decide)
    chosen = None
    state = app_state(request)
    board = None
    if route.candidates and state.uscall is not None:
        board = await read_board(
            state.broker,
            uscall_configured=True,
            service_level_seconds=state.settings.service_level_seconds,
        )
    for holder in route.candidates:
        if await _available(request, holder, board):
            chosen = holder
            break
    plain = wants_text(request, params)
    if route.action == "recusar":
        if plain:
            return PlainTextResponse(f"RECUSAR;{route.reason}")
        return JSONResponse({"acao": "recusar", "motivo": route.reason})
    if chosen is not None:
        if plain:
            return PlainTextResponse(f"RAMAL;{chosen.ramal}")
        return JSONResponse(
            {
                "acao": "ramal",
                "ramal": chosen.ramal,
                "agente": chosen.agent,
                "solicitacao": chosen.request,
                "fila": queue,
            }
        )
    if plain:
        return PlainTextResponse(f"FILA;{queue}")
    return JSONResponse({"acao": "fila", "fila": queue})
