"""/admin/bloqueios: the numbers and documents the IVR refuses (rotearChamada), with the
reason, an optional expiry, and how often each refused a call."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from callhub import i18n
from callhub.appstate import app_state
from callhub.identity import normalise_phone, parse_document
from callhub.store import blocks
from callhub.store.models import Role
from callhub.templating import Renderer
from callhub.views.auth import login_required
from callhub.views.calls import form_day, start_of

REASON_MAX = 255


async def _page(
    request: Request,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    saved: bool = False,
    status: int = 200,
) -> Response:
    rows = await app_state(request).store.read(lambda s: blocks.list_blocks(session=s))
    renderer: Renderer = app_state(request).renderer
    return renderer.response(
        request,
        "pages/admin_bloqueios.html",
        {"rows": rows, "errors": errors or {}, "form": form or {}, "saved": saved},
        status=status,
    )


@login_required(Role.admin)
async def page(request: Request) -> Response:
    return await _page(request, saved=request.query_params.get("ok") == "1")


def parse_block(form: dict[str, str], zone: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The block as typed: a phone number and/or a CPF/CNPJ, the reason, the last day."""
    errors: dict[str, str] = {}
    raw_number, raw_document = form.get("numero", ""), form.get("documento", "")
    number = normalise_phone(raw_number) if raw_number else None
    if raw_number and number is None:
        errors["numero"] = i18n.N_("Número de telefone inválido.")
    document = parse_document(raw_document) if raw_document else None
    if document is not None and not document.valid:
        errors["documento"] = i18n.N_("CPF ou CNPJ inválido (dígitos verificadores).")
    if not raw_number and not raw_document:
        errors["numero"] = i18n.N_("Informe o número, o documento ou os dois.")
    reason = form.get("motivo", "")
    if not reason:
        errors["motivo"] = i18n.N_("Informe o motivo.")
    elif len(reason) > REASON_MAX:
        errors["motivo"] = i18n.N_("Motivo longo demais (até 255 caracteres).")
    last_day = form_day(form.get("ate"), "ate", errors)
    # Blocked through that day, in the site's time zone.
    expires_at = start_of(last_day + timedelta(days=1), zone) if last_day else None
    values = {
        "number": number,
        "document": document.digits if document is not None and document.valid else None,
        "reason": reason,
        "expires_at": expires_at,
    }
    return values, errors


@login_required(Role.admin)
async def add(request: Request) -> Response:
    form = {k: str(v).strip() for k, v in (await request.form()).items()}
    values, errors = parse_block(form, app_state(request).settings.zone)
    if errors:
        return await _page(request, errors=errors, form=form, status=422)
    user_id = request.state.user.id

    def work(session: Session) -> None:
        blocks.add_block(session=session, user_id=user_id, **values)
        session.commit()

    await app_state(request).store.run(work)
    return RedirectResponse("/admin/bloqueios?ok=1", status_code=303)


@login_required(Role.admin)
async def remove(request: Request) -> Response:
    block_id = int(request.path_params["block_id"])

    def work(session: Session) -> bool:
        gone = blocks.remove_block(session=session, block_id=block_id)
        session.commit()
        return gone

    if not await app_state(request).store.run(work):
        return HTMLResponse("", status_code=404)
    return RedirectResponse("/admin/bloqueios", status_code=303)


routes = [
    Route("/admin/bloqueios", page, methods=["GET"]),
    Route("/admin/bloqueios", add, methods=["POST"]),
    Route("/admin/bloqueios/{block_id:int}/remover", remove, methods=["POST"]),
]
