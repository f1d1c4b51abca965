"""The agent's call controls through USCall: log in to and out of the queue, pause and
resume, hang up, and call a requester from a request's screen (click-to-call).

Every answer is a notice fragment for the agent's tab; USCall's refusals are shown with
the PBX's own words. The agent's state itself arrives over the websocket (the wall
board's poller publishes each agent's row to the agent's extension).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

import phonenumbers
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from callhub.adapters.uscall import results as r
from callhub.adapters.uscall.client import USCallClient, USCallError
from callhub.adapters.uscall.link import USCallLink
from callhub.appstate import app_state
from callhub.i18n import STATUS_LABELS, gettext_for
from callhub.screenpop import NotFound
from callhub.store import catalog, requests, users
from callhub.store.models import User
from callhub.views.auth import AGENTS, login_required
from callhub.views.board import current_board
from callhub.views.uscall_actions import Refused, answer, link_of

AGENT_NUMBER = re.compile(r"^[0-9]{1,10}$")
PAUSE_ID = re.compile(r"^[0-9A-Za-z_-]{1,20}$")


async def _my_ramal(request: Request) -> str:
    user: User = request.state.user
    ext = await app_state(request).store.run(
        lambda s: users.extension_of(session=s, user_id=user.id or 0)
    )
    if ext is None:
        _ = gettext_for(request)
        raise Refused(_("Informe o seu ramal antes."), 409)
    return str(ext.ramal)


async def _me(request: Request, client: USCallClient, ramal: str) -> r.AgentStatus:
    """The USCall agent logged in on this tab's extension."""
    for agent in await client.agent_status():
        if agent.ramal == ramal and agent.status != "nao logado":
            return agent
    _ = gettext_for(request)
    raise Refused(_("Você não está logado na fila neste ramal."), 409)


async def act(
    request: Request,
    action: Callable[[USCallClient, str, dict[str, str]], Awaitable[r.Done]],
) -> Response:
    """One action of the agent's, from the agent's extension."""
    _ = gettext_for(request)

    async def run(form: dict[str, str]) -> r.Done:
        ramal = await _my_ramal(request)
        return await action(link_of(request).require(), ramal, form)

    return await answer(request, run, done_text=_("Feito."))


@login_required(*AGENTS)
async def queue_login(request: Request) -> Response:
    _ = gettext_for(request)

    async def action(client: USCallClient, ramal: str, form: dict[str, str]) -> r.Done:
        agent, password, queue = form.get("agente", ""), form.get("senha", ""), form.get("fila", "")
        if not AGENT_NUMBER.match(agent):
            raise Refused(_("agente: o número do seu agente no USCall (só dígitos)."), 400)
        if not password:
            raise Refused(_("senha: a sua senha de agente no USCall."), 400)
        if queue and not AGENT_NUMBER.match(queue):
            raise Refused(_("fila: escolha uma fila da lista."), 400)
        md5 = hashlib.md5(password.encode()).hexdigest()  # USCall's agentLogin takes MD5
        return await client.agent_login(agent, ramal, md5, filachave=queue or None)

    return await act(request, action)


@login_required(*AGENTS)
async def queue_logout(request: Request) -> Response:
    async def action(client: USCallClient, ramal: str, form: dict[str, str]) -> r.Done:
        return await client.agent_logout((await _me(request, client, ramal)).num)

    return await act(request, action)


@login_required(*AGENTS)
async def pause(request: Request) -> Response:
    _ = gettext_for(request)

    async def action(client: USCallClient, ramal: str, form: dict[str, str]) -> r.Done:
        pause_id = form.get("idpausa", "")
        if not PAUSE_ID.match(pause_id):
            raise Refused(_("idpausa: escolha uma pausa da lista."), 400)
        return await client.start_pause((await _me(request, client, ramal)).num, pause_id)

    return await act(request, action)


@login_required(*AGENTS)
async def resume(request: Request) -> Response:
    async def action(client: USCallClient, ramal: str, form: dict[str, str]) -> r.Done:
        return await client.end_pause((await _me(request, client, ramal)).num)

    return await act(request, action)


@login_required(*AGENTS)
async def hangup(request: Request) -> Response:
    async def action(client: USCallClient, ramal: str, form: dict[str, str]) -> r.Done:
        return await client.hangup_call(ramal)

    return await act(request, action)


def dialable(e164: str) -> str:
    """What the PBX dials: the national number (area code first) at home, 00+E.164 abroad."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return re.sub(r"\D", "", e164)
    if number.country_code == 55:
        return str(phonenumbers.national_significant_number(number))
    return "00" + re.sub(r"\D", "", e164)


async def _requester_phone(request: Request, form: dict[str, str]) -> tuple[int, str, str, str]:
    """The request named in the form, and the requester's phone chosen: (number, E.164,
    the requester's name, the request's status)."""
    _ = gettext_for(request)
    number_raw, phone_raw = form.get("solicitacao", ""), form.get("telefone", "0")
    if not number_raw.isdigit() or len(number_raw) > 12:
        raise Refused(_("solicitacao: número da solicitação inválido."), 400)
    if not phone_raw.isdigit() or len(phone_raw) > 3:
        raise Refused(_("telefone: escolha um telefone da lista."), 400)

    def work(session: Session) -> tuple[list[str], str, str]:
        found = requests.get_request(session=session, number=int(number_raw))
        if found is None:
            raise NotFound("solicitacao", "unknown request")
        card = catalog.card_by_id(session=session, requester_id=found.requester_id)
        return (list(card.phones), card.name, found.status) if card else ([], "", found.status)

    try:
        phones, name, status = await app_state(request).store.run(work)
    except NotFound:
        raise Refused(_("solicitacao: solicitação não encontrada."), 404) from None
    index = int(phone_raw)
    if index >= len(phones):
        raise Refused(_("telefone: o solicitante não tem esse telefone."), 400)
    return int(number_raw), phones[index], name, status


@login_required(*AGENTS)
async def click_to_call(request: Request) -> Response:
    """Call the requester of a request from the agent's extension; idcti is the request's
    number, so its recording is found by it later."""
    link: USCallLink | None = app_state(request).uscall

    async def action(client: USCallClient, ramal: str, form: dict[str, str]) -> r.Done:
        number, phone, _name, _status = await _requester_phone(request, form)
        assert link is not None
        return await client.start_call(
            "outbound", ramal, dialable(phone), link.category, idcti=str(number)
        )

    return await act(request, action)


@login_required(*AGENTS)
async def notify_by_phone(request: Request) -> Response:
    """Dial the requester into the notice URA, which speaks their name, the request's
    number and its status (cti_info1..3), in Portuguese, as the URA's text is written."""
    link: USCallLink | None = app_state(request).uscall

    async def action(client: USCallClient, ramal: str, form: dict[str, str]) -> r.Done:
        number, phone, name, status = await _requester_phone(request, form)
        assert link is not None
        spoken_status = STATUS_LABELS.get(status, status).lower()
        return await client.start_call_ura(
            link.notify_ura,
            dialable(phone),
            link.category,
            idcti=str(number),
            cti_info=[name.split(" ")[0], str(number), spoken_status],
        )

    return await act(request, action)


async def agent_panel(request: Request, ramal: str) -> dict[str, Any]:
    """What the agent's USCall box starts with: the agent's row on the board, the pauses
    and the queues to choose from (or why they could not be read)."""
    board = await current_board(request)
    mine = board.agent_at(ramal)
    out: dict[str, Any] = {"me": asdict(mine) if mine else None, "pauses": [], "queues": []}
    try:
        client = link_of(request).require()
        out["pauses"] = await client.get_pauses()
        out["queues"] = [q for q in await client.get_queue() if q.tipo == "callcenter"]
    except (Refused, USCallError) as exc:
        out["error"] = str(exc)
    return out


routes = [
    Route("/atendimento/uscall/entrar", queue_login, methods=["POST"]),
    Route("/atendimento/uscall/sair", queue_logout, methods=["POST"]),
    Route("/atendimento/uscall/pausa", pause, methods=["POST"]),
    Route("/atendimento/uscall/retomar", resume, methods=["POST"]),
    Route("/atendimento/uscall/desligar", hangup, methods=["POST"]),
    Route("/atendimento/ligar", click_to_call, methods=["POST"]),
    Route("/atendimento/avisar", notify_by_phone, methods=["POST"]),
]
