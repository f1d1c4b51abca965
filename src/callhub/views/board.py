"""/painel: the supervisors' wall board, and the two things they do from it (monitor a
call, hang it up) through USCall."""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from callhub.adapters.uscall.client import USCallError
from callhub.adapters.uscall.link import USCallLink
from callhub.board.model import Board
from callhub.broker import BrokerUnavailable
from callhub.store.models import Role
from callhub.views.auth import login_required
from callhub.views.templating import Renderer, gettext_for
from callhub.views.templating import notice as _notice
from callhub.ws.hub import BOARD_CHANNEL

RAMAL = re.compile(r"^[0-9]{1,20}$")
MONITOR_KINDS = ("escuta", "monitor", "conf")


async def current_board(request: Request) -> Board:
    try:
        raw = await request.app.state.broker.get(BOARD_CHANNEL)
    except BrokerUnavailable:
        raw = None
    if raw is None:
        return Board(uscall_configured=request.app.state.uscall is not None)
    return Board.from_json(raw)


def board_context(board: Board, *, actions: bool, interval: float) -> dict[str, Any]:
    return {
        "queues": [asdict(q) for q in board.queues.values()],
        "agents": [asdict(a) for a in board.agents.values()],
        "meta": board.meta(),
        "actions": actions,
        "interval": interval,
        "target": board.service_level_seconds,
    }


@login_required(Role.supervisor, Role.admin)
async def page(request: Request) -> Response:
    board = await current_board(request)
    settings = request.app.state.settings
    context = board_context(
        board, actions=request.app.state.uscall is not None, interval=settings.board_poll_seconds
    )
    context["target"] = settings.service_level_seconds
    context["monitor_from"] = request.session.get("monitor_from")
    renderer: Renderer = request.app.state.renderer
    return renderer.response(request, "pages/painel.html", context)


async def _uscall_action(request: Request) -> tuple[USCallLink | None, dict[str, str], str]:
    link: USCallLink | None = request.app.state.uscall
    form = await request.form()
    values = {k: str(v).strip() for k, v in form.items() if isinstance(v, str)}
    return link, values, values.get("agente", "")


@login_required(Role.supervisor, Role.admin)
async def monitor(request: Request) -> Response:
    _ = gettext_for(request)
    link, form, agent = await _uscall_action(request)
    if link is None:
        return _notice(request, _("USCall não está configurado."), ok=False, status=404)
    source = form.get("ramal_origem", "")
    kind = form.get("tipo") or "escuta"
    if not RAMAL.match(source):
        return _notice(
            request, _("ramal_origem: informe o seu ramal (só dígitos)."), ok=False, status=400
        )
    if not RAMAL.match(agent):
        return _notice(request, _("agente: número do agente inválido."), ok=False, status=400)
    if kind not in MONITOR_KINDS:
        return _notice(request, _("tipo: use escuta, monitor ou conf."), ok=False, status=400)
    request.session["monitor_from"] = source
    try:
        done = await link.require().monit_exten(source, agent, agente=True, tipo=kind)
    except USCallError as exc:
        return _notice(
            request, _("USCall recusou: %(error)s") % {"error": exc}, ok=False, status=502
        )
    return _notice(request, done.message or _("Monitoria iniciada."), ok=True)


@login_required(Role.supervisor, Role.admin)
async def hangup(request: Request) -> Response:
    _ = gettext_for(request)
    link, _form, agent = await _uscall_action(request)
    if link is None:
        return _notice(request, _("USCall não está configurado."), ok=False, status=404)
    if not RAMAL.match(agent):
        return _notice(request, _("agente: número do agente inválido."), ok=False, status=400)
    try:
        done = await link.require().hangup_call(agent, agente=True)
    except USCallError as exc:
        return _notice(
            request, _("USCall recusou: %(error)s") % {"error": exc}, ok=False, status=502
        )
    return _notice(request, done.message or _("Ligação desligada."), ok=True)


routes = [
    Route("/painel", page, methods=["GET"]),
    Route("/painel/monitorar", monitor, methods=["POST"]),
    Route("/painel/desligar", hangup, methods=["POST"]),
]
