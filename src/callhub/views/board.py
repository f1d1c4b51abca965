"""/painel: the supervisors' wall board, and the two things they do from it (monitor a
call, hang it up) through USCall."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from callhub.adapters.uscall.results import Done
from callhub.appstate import app_state
from callhub.board.model import Board, plain
from callhub.broker import BrokerUnavailable
from callhub.i18n import gettext_for
from callhub.identity import EXTENSION
from callhub.protocol import BOARD
from callhub.store.models import Role
from callhub.templating import Renderer
from callhub.views.auth import login_required
from callhub.views.uscall_actions import Refused, answer, link_of

MONITOR_KINDS = ("escuta", "monitor", "conf")


async def current_board(request: Request) -> Board:
    try:
        raw = await app_state(request).broker.coordination.get(BOARD)
    except BrokerUnavailable:
        raw = None
    if raw is None:  # no poll yet
        return Board(
            uscall_configured=app_state(request).uscall is not None,
            service_level_seconds=app_state(request).settings.service_level_seconds,
        )
    return Board.from_json(raw)


def board_context(board: Board, *, actions: bool, interval: float) -> dict[str, Any]:
    return {
        "queues": [plain(q) for q in board.queues.values()],
        "agents": [plain(a) for a in board.agents.values()],
        "requests": plain(board.requests),
        "meta": board.meta(),
        "actions": actions,
        "interval": interval,
        "target": board.service_level_seconds,
    }


@login_required(Role.supervisor, Role.admin)
async def page(request: Request) -> Response:
    board = await current_board(request)
    settings = app_state(request).settings
    context = board_context(
        board, actions=app_state(request).uscall is not None, interval=settings.board_poll_seconds
    )
    context["monitor_from"] = request.session.get("monitor_from")
    renderer: Renderer = app_state(request).renderer
    return renderer.response(request, "pages/painel.html", context)


@login_required(Role.supervisor, Role.admin)
async def monitor(request: Request) -> Response:
    _ = gettext_for(request)

    async def action(form: dict[str, str]) -> Done:
        link = link_of(request)
        source, agent = form.get("ramal_origem", ""), form.get("agente", "")
        kind = form.get("tipo") or "escuta"
        if not EXTENSION.match(source):
            raise Refused(_("ramal_origem: informe o seu ramal (só dígitos)."), 400)
        if not EXTENSION.match(agent):
            raise Refused(_("agente: número do agente inválido."), 400)
        if kind not in MONITOR_KINDS:
            raise Refused(_("tipo: use escuta, monitor ou conf."), 400)
        request.session["monitor_from"] = source
        return await link.require().monit_exten(source, agent, agente=True, tipo=kind)

    return await answer(request, action, done_text=_("Monitoria iniciada."))


@login_required(Role.supervisor, Role.admin)
async def hangup(request: Request) -> Response:
    _ = gettext_for(request)

    async def action(form: dict[str, str]) -> Done:
        link = link_of(request)
        agent = form.get("agente", "")
        if not EXTENSION.match(agent):
            raise Refused(_("agente: número do agente inválido."), 400)
        return await link.require().hangup_call(agent, agente=True)

    return await answer(request, action, done_text=_("Ligação desligada."))


routes = [
    Route("/painel", page, methods=["GET"]),
    Route("/painel/monitorar", monitor, methods=["POST"]),
    Route("/painel/desligar", hangup, methods=["POST"]),
]
