"""The agent's tab: the extension form, the live area, and what its screens post back."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from callhub import i18n
from callhub.appstate import app_state
from callhub.i18n import locale_of
from callhub.identity import EXTENSION
from callhub.pipeline import Pipeline
from callhub.protocol import Moved, Screen
from callhub.store import pops, users
from callhub.store.engine import Store
from callhub.store.models import ScreenPop, User
from callhub.templating import Renderer
from callhub.units import Stored
from callhub.views.agent_uscall import agent_panel
from callhub.views.auth import AGENTS, login_required


def _pipeline(request: Request) -> Pipeline:
    pipeline: Pipeline = app_state(request).pipeline
    return pipeline


def _store(request: Request) -> Store:
    store: Store = app_state(request).store
    return store


def user_of(request: Request) -> User:
    user: User = request.state.user
    return user


def screen_response(
    request: Request,
    *,
    screen_id: str,
    pop: dict[str, Any],
    seq: int | None = None,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    """A screen swapped into the tab (out of band), and its line in the recent list."""
    html = _pipeline(request).fragments.screen(
        screen_id=screen_id,
        seq=seq,
        payload=pop,
        locale=locale_of(request),
        can_execute=user_of(request).can_execute,
        errors=errors,
        form=form,
        notice=notice,
    )
    return HTMLResponse(html, status_code=status)


def rejected(
    request: Request, pop: ScreenPop, errors: dict[str, str], values: dict[str, str]
) -> Response:
    """The pop's screen again, with what was typed and each field's problem (422)."""
    return screen_response(
        request,
        screen_id=f"screen-{pop.seq}",
        seq=pop.seq,
        pop=pop.payload,
        errors=errors,
        form=values,
        status=422,
    )


@login_required(*AGENTS)
async def page(request: Request) -> Response:
    user = user_of(request)
    extension, ring = await _store(request).run(
        lambda s: (
            users.extension_of(session=s, user_id=user.id or 0),
            users.rings_on_pop(session=s, user_id=user.id or 0),
        )
    )
    renderer: Renderer = app_state(request).renderer
    request.session["locale"] = locale_of(request)
    context: dict[str, Any] = {
        "ramal": extension.ramal if extension else None,
        "moved": request.query_params.get("m"),
        "ring": ring,
    }
    if extension is not None and app_state(request).uscall is not None:
        context["panel"] = await agent_panel(request, extension.ramal)
    return renderer.response(request, "pages/atendimento.html", context)


@login_required(*AGENTS)
async def register_ramal(request: Request) -> Response:
    form = await request.form()
    ramal = str(form.get("ramal") or "").strip()
    user = user_of(request)
    renderer: Renderer = app_state(request).renderer
    error = None
    if not ramal:
        error = i18n.N_("Informe o número do ramal.")
    elif not EXTENSION.match(ramal):
        error = i18n.N_("O ramal deve ter apenas dígitos (até 20).")
    if error:
        return renderer.response(
            request,
            "pages/atendimento.html",
            {"ramal": None, "error": error, "typed": ramal},
            status=422,
        )

    def register(session: Session) -> tuple[int | None, str | None]:
        moved = users.register_extension(session=session, ramal=ramal, user_id=user.id or 0)
        session.commit()
        return moved

    previous_holder, previous_ramal = await _store(request).run(register)
    pipeline = _pipeline(request)
    if previous_holder is not None:
        await pipeline.publish(Moved(ramal, user.id, user.name))
    if previous_ramal is not None:
        await pipeline.publish(Moved(previous_ramal, None, None, from_user=user.id))
    return RedirectResponse("/atendimento", status_code=303)


@login_required(*AGENTS)
async def release_ramal(request: Request) -> Response:
    user = user_of(request)

    def release(session: Session) -> str | None:
        released = users.release_extension(session=session, user_id=user.id or 0)
        session.commit()
        return released

    ramal = await _store(request).run(release)
    if ramal is not None:
        await _pipeline(request).publish(Moved(ramal, None, None, from_user=user.id))
    return RedirectResponse("/atendimento", status_code=303)


async def own_pop(request: Request, seq: int) -> ScreenPop | None:
    """A pop of the extension this agent holds now, made while they held it (or nobody
    did); nobody else's."""
    user_id = user_of(request).id or 0
    pop, extension = await _store(request).run(
        lambda s: (pops.get_pop(session=s, seq=seq), users.extension_of(session=s, user_id=user_id))
    )
    if pop is None or extension is None or pop.ramal != extension.ramal:
        return None
    if pop.holder_id is not None and pop.holder_id != user_id:
        return None
    return pop


def form_int(value: object) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 12 else None


@login_required(*AGENTS)
async def open_pop(request: Request) -> Response:
    seq = int(request.path_params["seq"])
    pop = await own_pop(request, seq)
    if pop is None:
        return HTMLResponse("", status_code=404)
    html = _pipeline(request).fragments.pop(
        seq,
        pop.payload,
        locale=locale_of(request),
        can_execute=user_of(request).can_execute,
        listed=False,
    )
    return HTMLResponse(html)


async def update_pop(request: Request, pop: ScreenPop, payload: dict[str, Any]) -> None:
    """Keep the stored pop current (a reload shows it), tell the agent's other tabs, and
    wake the wall board.

    `pop` comes from own_pop, so its extension is the agent's.
    """
    seq = pop.seq or 0

    def work(session: Session) -> Stored[None]:
        pops.update_payload(session=session, seq=seq, payload=payload)
        return Stored(None, messages=[Screen(seq, pop.ramal, payload)])

    pipeline = _pipeline(request)
    await pipeline.run(work, ramal=pop.ramal)
    # A request was opened or changed: the wall board's counts follow at once.
    await pipeline.board_changed()


@login_required(*AGENTS)
async def preferences(request: Request) -> Response:
    """The agent's own choices on this screen: whether a pop rings (`tocar`: 1 or 0; an
    unticked box sends nothing, which is 0)."""
    form = await request.form()
    value = str(form.get("tocar") or "0")
    if value not in ("0", "1"):
        return HTMLResponse(i18n.gettext_for(request)("tocar: use 1 ou 0."), status_code=422)
    user_id = user_of(request).id or 0

    def save(session: Session) -> None:
        users.set_rings_on_pop(session=session, user_id=user_id, ring=value == "1")
        session.commit()

    await _store(request).run(save)
    return Response(status_code=204)


routes = [
    Route("/atendimento", page, methods=["GET"]),
    Route("/atendimento/preferencias", preferences, methods=["POST"]),
    Route("/atendimento/ramal", register_ramal, methods=["POST"]),
    Route("/atendimento/ramal/liberar", release_ramal, methods=["POST"]),
    Route("/atendimento/pops/{seq:int}", open_pop, methods=["GET"]),
]
