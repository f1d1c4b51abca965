"""Missed calls: what rang the agent's extension or queues and was not answered, with a
counter in the navigation, marked handled, and a call back through USCall."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from callhub.adapters.uscall import results as r
from callhub.adapters.uscall.client import USCallClient
from callhub.appstate import app_state
from callhub.i18n import gettext_for, locale_of
from callhub.identity import normalise_phone
from callhub.screenpop import call_summary
from callhub.store import board as board_store
from callhub.store import calls, users
from callhub.store.models import Call
from callhub.templating import Renderer
from callhub.views.agent import user_of
from callhub.views.agent_uscall import act, dialable
from callhub.views.auth import AGENTS, login_required
from callhub.views.board import current_board
from callhub.views.uscall_actions import Refused


async def _whose(request: Request) -> tuple[str | None, list[str]]:
    """The agent's extension, and the queues whose missed calls are theirs: with USCall,
    the queues the agent is logged in to (the wall board's poll knows them); without,
    every queue of the wall board's settings."""
    user = user_of(request)
    extension, chosen = await app_state(request).store.read(
        lambda s: (
            users.extension_of(session=s, user_id=user.id or 0),
            board_store.board_settings(session=s),
        )
    )
    if extension is None:
        return None, []
    if app_state(request).uscall is not None:
        board = await current_board(request)
        mine = board.agent_at(extension.ramal)
        keys = mine.queues if mine is not None and mine.state != "logged_out" else []
        return extension.ramal, [board.queues[k].name if k in board.queues else k for k in keys]
    return extension.ramal, list(chosen.queues)


async def _missed(request: Request, *, handled: bool = False) -> tuple[str | None, list[Call]]:
    ramal, queues = await _whose(request)
    if ramal is None:
        return None, []
    found = await app_state(request).store.read(
        lambda s: calls.missed_calls(session=s, ramal=ramal, queues=queues, handled=handled)
    )
    return ramal, found


@login_required(*AGENTS)
async def page(request: Request) -> Response:
    handled = request.query_params.get("todas") == "1"
    ramal, found = await _missed(request, handled=handled)
    names = await app_state(request).store.read(lambda s: calls.names_for(session=s, found=found))
    renderer: Renderer = app_state(request).renderer
    return renderer.response(
        request,
        "pages/perdidas.html",
        {
            "ramal": ramal,
            "rows": [
                {**call_summary(c, names), "handled": c.handled_at is not None} for c in found
            ],
            "all": handled,
            "uscall": app_state(request).uscall is not None,
        },
    )


@login_required(*AGENTS)
async def counter(request: Request) -> Response:
    """The navigation's counter: how many missed calls wait for the agent."""
    _ramal, found = await _missed(request)
    renderer: Renderer = app_state(request).renderer
    html = renderer.render("fragments/missed_count.html", locale_of(request), count=len(found))
    return HTMLResponse(html)


async def _one_of_mine(request: Request) -> Call | None:
    call_id = int(request.path_params["call_id"])
    _ramal, found = await _missed(request, handled=True)
    return next((c for c in found if c.id == call_id), None)


@login_required(*AGENTS)
async def handled(request: Request) -> Response:
    call = await _one_of_mine(request)
    if call is None or call.id is None:
        return HTMLResponse("", status_code=404)
    call_id, user_id = call.id, user_of(request).id or 0

    def work(session: Session) -> None:
        calls.mark_handled(session=session, call_id=call_id, user_id=user_id)
        session.commit()

    await app_state(request).store.run(work)
    if request.headers.get("hx-request"):
        # The row leaves the list; the counter follows.
        return Response(status_code=200, headers={"HX-Trigger": "missed-changed"})
    return RedirectResponse("/atendimento/perdidas", status_code=303)


@login_required(*AGENTS)
async def call_back(request: Request) -> Response:
    """Dial the missed caller from the agent's extension (USCall's click to call)."""
    call = await _one_of_mine(request)
    if call is None:
        return HTMLResponse("", status_code=404)
    number = normalise_phone(call.number) or call.number or ""

    async def action(client: USCallClient, ramal: str, form: dict[str, Any]) -> r.Done:
        if not number:
            _ = gettext_for(request)
            raise Refused(_("Esta ligação não tem número para retornar."), 409)
        link = app_state(request).uscall
        assert link is not None
        return await client.start_call("outbound", ramal, dialable(number), link.category)

    return await act(request, action)


routes = [
    Route("/atendimento/perdidas", page, methods=["GET"]),
    Route("/atendimento/perdidas/contador", counter, methods=["GET"]),
    Route("/atendimento/perdidas/{call_id:int}/tratada", handled, methods=["POST"]),
    Route("/atendimento/perdidas/{call_id:int}/retornar", call_back, methods=["POST"]),
]
