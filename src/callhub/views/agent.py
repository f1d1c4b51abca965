"""The agent's tab: the extension form, the live area, and what its screens post back."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from callhub import i18n
from callhub.appstate import app_state
from callhub.i18n import locale_of
from callhub.identity import EMAIL, EXTENSION, DocKind, normalise_phone, parse_document
from callhub.pipeline import Pipeline, Stored
from callhub.protocol import Moved, Screen
from callhub.screenpop import NotFound, request_view, requester_view_by_id
from callhub.store import catalog, pops, requests, users
from callhub.store.engine import Store
from callhub.store.models import ScreenPop, Urgency, User
from callhub.templating import Renderer
from callhub.views.agent_uscall import agent_panel
from callhub.views.auth import AGENTS, login_required


def _pipeline(request: Request) -> Pipeline:
    pipeline: Pipeline = app_state(request).pipeline
    return pipeline


def _store(request: Request) -> Store:
    store: Store = app_state(request).store
    return store


def _user(request: Request) -> User:
    user: User = request.state.user
    return user


def _screen(
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
        can_execute=_user(request).can_execute,
        errors=errors,
        form=form,
        notice=notice,
    )
    return HTMLResponse(html, status_code=status)


def _rejected(
    request: Request, pop: ScreenPop, errors: dict[str, str], values: dict[str, str]
) -> Response:
    """The pop's screen again, with what was typed and each field's problem (422)."""
    return _screen(
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
    user = _user(request)
    extension = await _store(request).run(
        lambda s: users.extension_of(session=s, user_id=user.id or 0)
    )
    renderer: Renderer = app_state(request).renderer
    request.session["locale"] = locale_of(request)
    context: dict[str, Any] = {
        "ramal": extension.ramal if extension else None,
        "moved": request.query_params.get("m"),
    }
    if extension is not None and app_state(request).uscall is not None:
        context["panel"] = await agent_panel(request, extension.ramal)
    return renderer.response(request, "pages/atendimento.html", context)


@login_required(*AGENTS)
async def register_ramal(request: Request) -> Response:
    form = await request.form()
    ramal = str(form.get("ramal") or "").strip()
    user = _user(request)
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
    user = _user(request)

    def release(session: Session) -> str | None:
        released = users.release_extension(session=session, user_id=user.id or 0)
        session.commit()
        return released

    ramal = await _store(request).run(release)
    if ramal is not None:
        await _pipeline(request).publish(Moved(ramal, None, None, from_user=user.id))
    return RedirectResponse("/atendimento", status_code=303)


async def _own_pop(request: Request, seq: int) -> ScreenPop | None:
    """A pop of the extension this agent holds now, made while they held it (or nobody
    did); nobody else's."""
    user_id = _user(request).id or 0
    pop, extension = await _store(request).run(
        lambda s: (pops.get_pop(session=s, seq=seq), users.extension_of(session=s, user_id=user_id))
    )
    if pop is None or extension is None or pop.ramal != extension.ramal:
        return None
    if pop.holder_id is not None and pop.holder_id != user_id:
        return None
    return pop


def _int(value: object) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 12 else None


@login_required(*AGENTS)
async def open_pop(request: Request) -> Response:
    seq = int(request.path_params["seq"])
    pop = await _own_pop(request, seq)
    if pop is None:
        return HTMLResponse("", status_code=404)
    html = _pipeline(request).fragments.pop(
        seq,
        pop.payload,
        locale=locale_of(request),
        can_execute=_user(request).can_execute,
        listed=False,
    )
    return HTMLResponse(html)


async def _update_pop(request: Request, pop: ScreenPop, payload: dict[str, Any]) -> None:
    """Keep the stored pop current (a reload shows it), tell the agent's other tabs, and
    wake the wall board.

    `pop` comes from _own_pop, so its extension is the agent's.
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
async def register_requester(request: Request) -> Response:
    """The "no identification" form: register the caller, then continue to a new request."""
    form = await request.form()
    values = {k: str(form.get(k) or "").strip() for k in ("name", "cpf", "email", "phone", "seq")}
    seq = _int(values["seq"])
    pop = await _own_pop(request, seq) if seq else None
    if pop is None:
        return HTMLResponse("", status_code=404)
    errors: dict[str, str] = {}
    if not values["name"]:
        errors["name"] = i18n.N_("Informe o nome.")
    elif len(values["name"]) > 160:
        errors["name"] = i18n.N_("Nome longo demais (até 160 caracteres).")
    document = parse_document(values["cpf"])
    if values["cpf"] and not document.valid:
        errors["cpf"] = i18n.N_("CPF ou CNPJ inválido (confira os dígitos).")
    if values["email"] and (not EMAIL.match(values["email"]) or len(values["email"]) > 254):
        errors["email"] = i18n.N_("E-mail inválido.")
    phone = normalise_phone(values["phone"]) if values["phone"] else None
    if values["phone"] and phone is None:
        errors["phone"] = i18n.N_("Telefone inválido.")
    screen_id = f"screen-{seq}"
    if errors:
        return _rejected(request, pop, errors, values)
    phones = [phone] if phone else []

    def save(session: Session) -> dict[str, Any]:
        if document.kind in (DocKind.cpf, DocKind.cnpj):
            requester, _created = catalog.save_requester(
                session=session,
                document=document,
                name=values["name"],
                email=values["email"] or None,
                phones=phones,
            )
        else:
            requester = catalog.create_requester_without_document(
                session=session, name=values["name"], email=values["email"] or None, phones=phones
            )
        assert requester.id is not None
        view = requester_view_by_id(session=session, requester_id=requester.id)
        session.commit()
        return view

    view = await _store(request).run(save)
    payload = {**pop.payload, "kind": "new_request", "requester": view}
    await _update_pop(request, pop, payload)
    return _screen(
        request,
        screen_id=screen_id,
        seq=seq,
        pop=payload,
        notice=i18n.N_("Solicitante cadastrado."),
    )


@login_required(*AGENTS)
async def create_request(request: Request) -> Response:
    form = await request.form()
    values = {
        k: str(form.get(k) or "").strip()
        for k in ("seq", "service_id", "description", "urgency", "type")
    }
    seq = _int(values["seq"])
    pop = await _own_pop(request, seq) if seq else None
    if pop is None or not pop.payload.get("requester"):
        return HTMLResponse("", status_code=404)
    screen_id = f"screen-{seq}"
    errors: dict[str, str] = {}
    service = None
    service_id = _int(values["service_id"])
    if service_id is None:
        errors["service_id"] = i18n.N_("Escolha o serviço.")
    if not values["description"]:
        errors["description"] = i18n.N_("Descreva a solicitação.")
    elif len(values["description"]) > 4000:
        errors["description"] = i18n.N_("Descrição longa demais (até 4000 caracteres).")
    if values["urgency"] not in {u.value for u in Urgency}:
        errors["urgency"] = i18n.N_("Escolha a urgência.")
    if values["type"] not in ("I", "R"):
        errors["type"] = i18n.N_("Escolha o tipo.")
    if service_id is not None:
        service = await _store(request).run(
            lambda s: catalog.get_service(session=s, service_id=service_id)
        )
        if service is None:
            errors["service_id"] = i18n.N_("Serviço inexistente.")
    if errors:
        return _rejected(request, pop, errors, values)
    user_id = _user(request).id

    def create(session: Session) -> dict[str, Any]:
        created = requests.create_request(
            session=session,
            requester_id=int(pop.payload["requester"]["id"]),
            description=values["description"],
            service=service,
            urgency=Urgency(values["urgency"]),
            type_=values["type"],
            user_id=user_id,
            note="Solicitação registrada pelo atendimento telefônico",
        )
        assert created.id is not None
        if pop.call_id is not None:
            pops.link_call_to_request(session=session, call_id=pop.call_id, request_id=created.id)
        view = request_view(session=session, number=created.id)
        session.commit()
        return view

    view = await _store(request).run(create)
    payload = {**pop.payload, "kind": "view", "request": view, "created": view["id"]}
    await _update_pop(request, pop, payload)
    return _screen(request, screen_id=screen_id, seq=seq, pop=payload)


@login_required(*AGENTS)
async def view_request(request: Request) -> Response:
    number = int(request.path_params["number"])
    full = request.query_params.get("historico") == "completo"
    try:
        view = await _store(request).run(
            lambda s: request_view(session=s, number=number, full_history=full)
        )
    except NotFound:
        return HTMLResponse("", status_code=404)
    payload = {"kind": "view", "request": view, "requester": view["requester"]}
    if request.headers.get("hx-request"):
        return _screen(request, screen_id=f"screen-r{number}", pop=payload)
    renderer: Renderer = app_state(request).renderer
    html = renderer.render(
        "fragments/screen.html",
        locale_of(request),
        screen_id=f"screen-r{number}",
        pop=payload,
        services=_pipeline(request).fragments.services,
        can_execute=_user(request).can_execute,
        errors={},
        form={},
    )
    return renderer.response(request, "pages/screen.html", {"pop_html": html})


async def _execute(request: Request, change: str) -> Response:
    """Execute actions: for users with the permission only, checked here, not just hidden."""
    user = _user(request)
    number = int(request.path_params["number"])
    form = await request.form()
    screen_id = str(form.get("screen_id") or f"screen-r{number}")
    if not re.fullmatch(r"screen-r?\d{1,12}", screen_id):
        screen_id = f"screen-r{number}"
    seq = _int(screen_id.removeprefix("screen-")) if not screen_id.startswith("screen-r") else None
    if not user.can_execute:
        return HTMLResponse(
            i18n.gettext(
                locale_of(request), i18n.N_("Você não tem permissão para executar solicitações.")
            ),
            status_code=403,
        )
    text = str(form.get("description") or "").strip()
    errors: dict[str, str] = {}
    raw_status = str(form.get("status") or "")

    def execute(session: Session) -> dict[str, Any] | None:
        found = requests.get_request(session=session, number=number)
        if found is None:
            return None
        try:
            if change == "occurrence":
                requests.add_occurrence(
                    session=session, request=found, user_id=user.id, description=text
                )
            else:
                requests.change_status(
                    session=session,
                    request=found,
                    status=raw_status,
                    user_id=user.id,
                    description=text or "Situação alterada pelo atendimento",
                )
        except requests.RequestError as exc:
            errors[exc.field] = FORM_ERRORS[exc.code]
        else:
            session.commit()
        return request_view(session=session, number=number)

    view = await _store(request).run(execute)
    if view is None:
        return HTMLResponse("", status_code=404)
    pop: dict[str, Any] = {"kind": "view", "request": view, "requester": view["requester"]}
    if seq is not None:
        own = await _own_pop(request, seq)
        if own is not None:
            pop = {**own.payload, "kind": "view", "request": view}
            if not errors:
                await _update_pop(request, own, pop)
    return _screen(
        request,
        screen_id=screen_id,
        seq=seq,
        pop=pop,
        errors=errors,
        form={"description": text},
        status=422 if errors else 200,
    )


# The store's rules (store.requests.RequestError), as the agent's form says them.
FORM_ERRORS = {
    "EMPTY_DESCRIPTION": i18n.N_("Descreva a ocorrência."),
    "DESCRIPTION_TOO_LONG": i18n.N_("Descrição longa demais (até 4000 caracteres)."),
    "UNKNOWN_STATUS": i18n.N_("Escolha uma situação válida."),
    "NO_CHANGE": i18n.N_("A solicitação já está nessa situação."),
    "INVALID_TRANSITION": i18n.N_("Essa mudança de situação não é permitida."),
}


@login_required(*AGENTS)
async def add_occurrence(request: Request) -> Response:
    return await _execute(request, "occurrence")


@login_required(*AGENTS)
async def change_status(request: Request) -> Response:
    return await _execute(request, "status")


routes = [
    Route("/atendimento", page, methods=["GET"]),
    Route("/atendimento/ramal", register_ramal, methods=["POST"]),
    Route("/atendimento/ramal/liberar", release_ramal, methods=["POST"]),
    Route("/atendimento/pops/{seq:int}", open_pop, methods=["GET"]),
    Route("/atendimento/solicitantes", register_requester, methods=["POST"]),
    Route("/atendimento/solicitacoes", create_request, methods=["POST"]),
    Route("/atendimento/solicitacoes/{number:int}", view_request, methods=["GET"]),
    Route("/atendimento/solicitacoes/{number:int}/ocorrencias", add_occurrence, methods=["POST"]),
    Route("/atendimento/solicitacoes/{number:int}/situacao", change_status, methods=["POST"]),
]
