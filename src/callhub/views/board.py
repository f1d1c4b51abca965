"""/painel: the supervisors' wall board, and the two things they do from it (monitor a
call, hang it up) through USCall."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from callhub.adapters.uscall.results import Done
from callhub.appstate import app_state
from callhub.board.current import read_board
from callhub.board.model import Board, plain
from callhub.i18n import N_, gettext_for
from callhub.identity import EXTENSION
from callhub.store import board as board_store
from callhub.store.board import BoardSettings
from callhub.store.models import Role
from callhub.templating import Renderer
from callhub.views.auth import login_required
from callhub.views.uscall_actions import Refused, answer, link_of

MONITOR_KINDS = ("escuta", "monitor", "conf")


async def current_board(request: Request) -> Board:
    state = app_state(request)
    return await read_board(
        state.broker,
        uscall_configured=state.uscall is not None,
        service_level_seconds=state.settings.service_level_seconds,
    )


def board_context(
    board: Board, *, actions: bool, interval: float, tv: bool = False
) -> dict[str, Any]:
    return {
        "queues": [plain(q) for q in board.queues.values()],
        "agents": [plain(a) for a in board.agents.values()],
        "requests": plain(board.requests),
        "meta": board.meta(),
        "actions": actions,
        "interval": interval,
        "target": board.service_level_seconds,
        "tv": tv,
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
async def tv(request: Request) -> Response:
    """The wall board for a TV: the whole screen, no navigation, no buttons."""
    board = await current_board(request)
    context = board_context(
        board,
        actions=False,
        interval=app_state(request).settings.board_poll_seconds,
        tv=True,
    )
    renderer: Renderer = app_state(request).renderer
    return renderer.response(request, "pages/painel_tv.html", context)


# The board's settings form: each threshold's field, and the most it may be.
THRESHOLDS = {
    "sl_warn": 100,
    "sl_bad": 100,
    "wait_warn": 86400,
    "wait_bad": 86400,
    "abandon_warn": 100,
    "abandon_bad": 100,
}
MAX_QUEUES = 50
QUEUE_NAME = 64  # Call.queue's length


async def _settings_page(
    request: Request,
    values: Mapping[str, Any],
    *,
    errors: dict[str, str] | None = None,
    saved: bool = False,
    status: int = 200,
) -> Response:
    """The form, with `values` as the fields show them (what was typed, after an error)."""
    renderer: Renderer = app_state(request).renderer
    return renderer.response(
        request,
        "pages/painel_ajustes.html",
        {"values": values, "errors": errors or {}, "saved": saved, "fields": list(THRESHOLDS)},
        status=status,
    )


@login_required(Role.supervisor, Role.admin)
async def settings_page(request: Request) -> Response:
    chosen = await app_state(request).store.read(lambda s: board_store.board_settings(session=s))
    values = {**vars(chosen), "filas": "\n".join(chosen.queues)}
    return await _settings_page(request, values, saved=request.query_params.get("ok") == "1")


def parse_settings(form: Mapping[str, Any]) -> tuple[BoardSettings, dict[str, str]]:
    """The board's settings from the form, and each field's error (untranslated)."""
    errors: dict[str, str] = {}
    names = [n.strip() for n in str(form.get("filas") or "").splitlines()]
    queues = list(dict.fromkeys(n for n in names if n))
    if len(queues) > MAX_QUEUES:
        errors["filas"] = N_("No máximo 50 filas.")
    elif any(len(n) > QUEUE_NAME for n in queues):
        errors["filas"] = N_("Cada nome de fila tem no máximo 64 caracteres.")
    values: dict[str, int] = {}
    for name, most in THRESHOLDS.items():
        raw = str(form.get(name) or "").strip()
        if not raw.isdigit() or int(raw) > most:
            errors[name] = (
                N_("Informe uma porcentagem de 0 a 100.")
                if most == 100
                else N_("Informe um número de segundos (até 86400).")
            )
            continue
        values[name] = int(raw)
    chosen = replace(BoardSettings(), queues=queues, **values)
    for warn, bad, higher in (
        ("sl_warn", "sl_bad", True),
        ("wait_warn", "wait_bad", False),
        ("abandon_warn", "abandon_bad", False),
    ):
        if warn in values and bad in values and not errors.get(bad):
            if (values[bad] > values[warn]) if higher else (values[bad] < values[warn]):
                errors[bad] = (
                    N_("O limite do vermelho fica abaixo do amarelo.")
                    if higher
                    else N_("O limite do vermelho fica acima do amarelo.")
                )
    return chosen, errors


@login_required(Role.supervisor, Role.admin)
async def save_settings(request: Request) -> Response:
    form = await request.form()
    chosen, errors = parse_settings(form)
    if errors:
        typed = {k: str(form.get(k) or "") for k in ("filas", *THRESHOLDS)}
        return await _settings_page(request, typed, errors=errors, status=422)

    def save(session: Session) -> None:
        board_store.save_board_settings(session=session, settings=chosen)
        session.commit()

    await app_state(request).store.run(save)
    return RedirectResponse("/painel/ajustes?ok=1", status_code=303)


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
    Route("/painel/tv", tv, methods=["GET"]),
    Route("/painel/ajustes", settings_page, methods=["GET"]),
    Route("/painel/ajustes", save_settings, methods=["POST"]),
    Route("/painel/monitorar", monitor, methods=["POST"]),
    Route("/painel/desligar", hangup, methods=["POST"]),
]
