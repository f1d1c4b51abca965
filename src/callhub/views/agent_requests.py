"""The agent's screens for requests: register the caller, open a request, view one, add an
occurrence or change its status (the store's rules, said beside the field)."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from callhub import i18n
from callhub.appstate import app_state
from callhub.i18n import locale_of
from callhub.identity import EMAIL, DocKind, normalise_phone, parse_document
from callhub.screenpop import NotFound, request_view, requester_view_by_id
from callhub.store import calls, catalog, pops, requests
from callhub.store.models import Status, Urgency, utcnow
from callhub.templating import Renderer
from callhub.views.agent import form_int, own_pop, rejected, screen_response, update_pop, user_of
from callhub.views.auth import AGENTS, login_required


@login_required(*AGENTS)
async def register_requester(request: Request) -> Response:
    """The "no identification" form: register the caller, then continue to a new request."""
    form = await request.form()
    values = {k: str(form.get(k) or "").strip() for k in ("name", "cpf", "email", "phone", "seq")}
    seq = form_int(values["seq"])
    pop = await own_pop(request, seq) if seq else None
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
        return rejected(request, pop, errors, values)
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

    view = await app_state(request).store.run(save)
    payload = {**pop.payload, "kind": "new_request", "requester": view}
    await update_pop(request, pop, payload)
    return screen_response(
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
    seq = form_int(values["seq"])
    pop = await own_pop(request, seq) if seq else None
    if pop is None or not pop.payload.get("requester"):
        return HTMLResponse("", status_code=404)
    screen_id = f"screen-{seq}"
    errors: dict[str, str] = {}
    service = None
    service_id = form_int(values["service_id"])
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
        service = await app_state(request).store.run(
            lambda s: catalog.get_service(session=s, service_id=service_id)
        )
        if service is None:
            errors["service_id"] = i18n.N_("Serviço inexistente.")
    if errors:
        return rejected(request, pop, errors, values)
    user_id = user_of(request).id

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

    view = await app_state(request).store.run(create)
    payload = {**pop.payload, "kind": "view", "request": view, "created": view["id"]}
    await update_pop(request, pop, payload)
    return screen_response(request, screen_id=screen_id, seq=seq, pop=payload)


@login_required(*AGENTS)
async def view_request(request: Request) -> Response:
    number = int(request.path_params["number"])
    full = request.query_params.get("historico") == "completo"
    try:
        view = await app_state(request).store.run(
            lambda s: request_view(session=s, number=number, full_history=full)
        )
    except NotFound:
        return HTMLResponse("", status_code=404)
    payload = {"kind": "view", "request": view, "requester": view["requester"]}
    if request.headers.get("hx-request"):
        return screen_response(request, screen_id=f"screen-r{number}", pop=payload)
    renderer: Renderer = app_state(request).renderer
    html = renderer.render(
        "fragments/screen.html",
        locale_of(request),
        screen_id=f"screen-r{number}",
        pop=payload,
        services=app_state(request).pipeline.fragments.services,
        can_execute=user_of(request).can_execute,
        errors={},
        form={},
    )
    return renderer.response(request, "pages/screen.html", {"pop_html": html})


async def _execute(request: Request, change: str) -> Response:
    """Execute actions: for users with the permission only, checked here, not just hidden."""
    user = user_of(request)
    number = int(request.path_params["number"])
    form = await request.form()
    screen_id = str(form.get("screen_id") or f"screen-r{number}")
    if not re.fullmatch(r"screen-r?\d{1,12}", screen_id):
        screen_id = f"screen-r{number}"
    seq = (
        form_int(screen_id.removeprefix("screen-"))
        if not screen_id.startswith("screen-r")
        else None
    )
    if not user.can_execute:
        return HTMLResponse(
            i18n.gettext(
                locale_of(request), i18n.N_("Você não tem permissão para executar solicitações.")
            ),
            status_code=403,
        )
    text = str(form.get("description") or "").strip()
    # The status form's text: the solution when resolving (required), else a remark.
    solution = str(form.get("solution") or "").strip() or text
    errors: dict[str, str] = {}
    raw_status = str(form.get("status") or "")
    if change == "status" and raw_status == Status.resolved and not solution:
        errors["solution"] = i18n.N_("Descreva a solução para resolver a solicitação.")

    def execute(session: Session) -> dict[str, Any] | None:
        found = requests.get_request(session=session, number=number)
        if found is None:
            return None
        if errors:
            return request_view(session=session, number=number)
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
                    description=solution or "Situação alterada pelo atendimento",
                )
        except requests.RequestError as exc:
            errors[exc.field] = FORM_ERRORS[exc.code]
        else:
            session.commit()
        return request_view(session=session, number=number)

    view = await app_state(request).store.run(execute)
    if view is None:
        return HTMLResponse("", status_code=404)
    pop: dict[str, Any] = {"kind": "view", "request": view, "requester": view["requester"]}
    if seq is not None:
        own = await own_pop(request, seq)
        if own is not None:
            pop = {**own.payload, "kind": "view", "request": view}
            if not errors:
                await update_pop(request, own, pop)
    return screen_response(
        request,
        screen_id=screen_id,
        seq=seq,
        pop=pop,
        errors=errors,
        form={"description": text, "solution": solution if change == "status" else ""},
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


@login_required(*AGENTS)
async def caller_context(request: Request) -> Response:
    """The caller in context, under the card: requests in progress (one is offered first;
    several are listed) and the last calls. Loaded once the pop is on screen, so the pop
    itself stays as quick as before."""
    requester_id = int(request.path_params["requester_id"])
    this_call = request.query_params.get("chamada", "")
    open_requests, last_calls = await app_state(request).store.read(
        lambda s: (
            requests.in_progress_of(session=s, requester_id=requester_id),
            calls.latest_of_requester(session=s, requester_id=requester_id, limit=6),
        )
    )
    # The call on screen is not one of the "last" ones.
    last_calls = [c for c in last_calls if str(c.id) != this_call][:5]
    renderer: Renderer = app_state(request).renderer
    html = renderer.render(
        "fragments/caller_context.html",
        locale_of(request),
        open_requests=open_requests,
        last_calls=last_calls,
        now=utcnow(),
    )
    return HTMLResponse(html)


routes = [
    Route("/atendimento/solicitantes", register_requester, methods=["POST"]),
    Route("/atendimento/solicitantes/{requester_id:int}/contexto", caller_context),
    Route("/atendimento/solicitacoes", create_request, methods=["POST"]),
    Route("/atendimento/solicitacoes/{number:int}", view_request, methods=["GET"]),
    Route("/atendimento/solicitacoes/{number:int}/ocorrencias", add_occurrence, methods=["POST"]),
    Route("/atendimento/solicitacoes/{number:int}/situacao", change_status, methods=["POST"]),
]
