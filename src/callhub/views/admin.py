"""Admin pages: the telephony parameters (281, 282, 283) and the PBX tokens."""

from __future__ import annotations

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from callhub import i18n
from callhub.adapters.pbx55.endpoint import PATH as PBX55_PATH
from callhub.appstate import app_state
from callhub.store import catalog
from callhub.store.models import Role
from callhub.store.params import (
    CHILD_ON_VIEW,
    CHILD_SERVICE,
    TELEPHONY_ENABLED,
    get_parameters,
    is_yes,
    set_parameter,
)
from callhub.templating import Renderer
from callhub.views.auth import login_required


async def _parameters_page(
    request: Request, errors: dict[str, str] | None = None, saved: bool = False, status: int = 200
) -> Response:
    values, services = await app_state(request).store.run(
        lambda s: (get_parameters(session=s), catalog.list_services(session=s))
    )
    renderer: Renderer = app_state(request).renderer
    return renderer.response(
        request,
        "pages/admin_parametros.html",
        {
            "values": values,
            "services": services,
            "errors": errors or {},
            "saved": saved,
            "is_yes": is_yes,
        },
        status=status,
    )


@login_required(Role.admin)
async def parameters(request: Request) -> Response:
    return await _parameters_page(request, saved=request.query_params.get("ok") == "1")


@login_required(Role.admin)
async def save_parameters(request: Request) -> Response:
    form = await request.form()
    errors: dict[str, str] = {}
    enabled = str(form.get(f"p{TELEPHONY_ENABLED}") or "")
    child = str(form.get(f"p{CHILD_ON_VIEW}") or "")
    service = str(form.get(f"p{CHILD_SERVICE}") or "").strip()
    for number, value in ((TELEPHONY_ENABLED, enabled), (CHILD_ON_VIEW, child)):
        if value not in ("S", "N"):
            errors[f"p{number}"] = i18n.N_("Escolha S ou N.")
    if service and (not service.isdigit() or len(service) > 12):
        errors[f"p{CHILD_SERVICE}"] = i18n.N_("Informe o número de um serviço.")
    elif service:
        found = await app_state(request).store.run(
            lambda s: catalog.get_service(session=s, service_id=int(service))
        )
        if found is None:
            errors[f"p{CHILD_SERVICE}"] = i18n.N_("Serviço inexistente.")
    if child == "S" and not service and f"p{CHILD_SERVICE}" not in errors:
        errors[f"p{CHILD_SERVICE}"] = i18n.N_(
            "Com o parâmetro 282 ativo, informe o serviço da solicitação filha."
        )
    if errors:
        return await _parameters_page(request, errors=errors, status=422)

    def save(session: Session) -> None:
        set_parameter(session=session, number=TELEPHONY_ENABLED, value=enabled)
        set_parameter(session=session, number=CHILD_ON_VIEW, value=child)
        set_parameter(session=session, number=CHILD_SERVICE, value=service)
        session.commit()

    await app_state(request).store.run(save)
    app_state(request).telephony_params.invalidate()
    return RedirectResponse("/admin/parametros?ok=1", status_code=303)


async def _telephony_page(
    request: Request, *, token: str | None = None, token55: str | None = None
) -> Response:
    """The PBX integrations' page. A token is on it only right after it was generated
    (the store keeps its digest alone); never cached, as a page that shows a secret."""
    base = str(request.base_url).rstrip("/")
    renderer: Renderer = app_state(request).renderer
    response = renderer.response(
        request,
        "pages/admin_telefonia.html",
        {
            "token": token,
            "source": await app_state(request).pbx_token.source(),
            "base": base + "/webservices/telefonia/",
            "token55": token55,
            "source55": await app_state(request).pbx55_token.source(),
            "url55": base + PBX55_PATH,
            "zone55": app_state(request).settings.pbx55_timezone,
        },
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@login_required(Role.admin)
async def telephony(request: Request) -> Response:
    return await _telephony_page(request)


@login_required(Role.admin)
async def rotate_token(request: Request) -> Response:
    return await _telephony_page(request, token=await app_state(request).pbx_token.rotate())


@login_required(Role.admin)
async def rotate_token55(request: Request) -> Response:
    return await _telephony_page(request, token55=await app_state(request).pbx55_token.rotate())


async def index(request: Request) -> Response:
    return RedirectResponse("/admin/parametros", status_code=303)


routes = [
    Route("/admin", index, methods=["GET"]),
    Route("/admin/parametros", parameters, methods=["GET"]),
    Route("/admin/parametros", save_parameters, methods=["POST"]),
    Route("/admin/telefonia", telephony, methods=["GET"]),
    Route("/admin/telefonia/token", rotate_token, methods=["POST"]),
    Route("/admin/telefonia/55pbx/token", rotate_token55, methods=["POST"]),
]
