"""The CITSmart telephony webservices at /webservices/telefonia/ (spec: telephony.md)."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, urlencode

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from callhub.appstate import app_state
from callhub.i18n import STATUS_LABELS, gettext_for, locale_of
from callhub.identity import EXTENSION, DocKind, parse_document
from callhub.pipeline import Pipeline
from callhub.screenpop import CallContext, NotFound, PopResult, new_request_pop, view_request_pop
from callhub.store import requests as store_requests
from callhub.store import users
from callhub.store.engine import Store
from callhub.store.params import TelephonyParams, telephony_params
from callhub.templating import Renderer
from callhub.units import Stored
from callhub.webservices.common import (
    BadInput,
    client_allowed,
    error_response,
    first,
    read_params,
    wants,
    wants_text,
)
from callhub.webservices.routing import rotear_chamada

CALL_ID = re.compile(r"^[\w.:@+-]{1,64}$")

Handler = Callable[[Request, dict[str, str], TelephonyParams], Awaitable[Response]]


class ParamsCache:
    """Parameters 281-283, read through a short cache (an admin's change applies within ttl)."""

    def __init__(self, store: Store, ttl: float = 2.0) -> None:
        self.store = store
        self.ttl = ttl
        self._value: TelephonyParams | None = None
        self._read_at = 0.0

    async def get(self) -> TelephonyParams:
        if self._value is None or time.monotonic() - self._read_at > self.ttl:
            self._value = await self.store.run(lambda s: telephony_params(session=s))
            self._read_at = time.monotonic()
        return self._value

    def invalidate(self) -> None:
        self._value = None


def _ramal(request: Request, params: dict[str, str]) -> str:
    _ = gettext_for(request)
    ramal = first(params, "ramal")
    if ramal is None:
        raise BadInput("ramal", _("ramal: parâmetro obrigatório (o ramal do atendente)"))
    if not EXTENSION.match(ramal):
        raise BadInput("ramal", _("ramal: deve ter apenas dígitos (até 20)"))
    return ramal


def _number(request: Request, params: dict[str, str]) -> int:
    _ = gettext_for(request)
    raw = first(params, "idSolicitacao")
    if raw is None:
        raise BadInput("idSolicitacao", _("idSolicitacao: parâmetro obrigatório"))
    if not raw.isdigit() or not raw.isascii() or len(raw) > 12:
        raise BadInput("idSolicitacao", _("idSolicitacao: deve ser um número"))
    return int(raw)


def _context(request: Request, params: dict[str, str], ramal: str) -> CallContext:
    _ = gettext_for(request)
    call_id = first(params, "callId")
    if call_id is not None and not CALL_ID.match(call_id):
        raise BadInput("callId", _("callId: até 64 letras, dígitos ou . : @ + - _"))
    return CallContext(
        ramal=ramal,
        external_id=call_id,
        number=(first(params, "numero", "telefone") or "")[:32] or None,
        document=first(params, "cpf"),
        queue=(first(params, "fila") or "")[:64] or None,
        ivr=(first(params, "ura") or "")[:255] or None,
    )


async def _pop(request: Request, ramal: str, work: Callable[[Session], PopResult]) -> Response:
    """Store the pop (and publish it to the agent's tabs), then answer the PBX."""
    pipeline: Pipeline = app_state(request).pipeline
    published = await pipeline.run(lambda session: _stored(work(session)), ramal=ramal)
    result, delivered = published.value, published.delivered
    if wants(request, "text/html"):
        renderer: Renderer = app_state(request).renderer
        return renderer.response(
            request,
            "pages/screen.html",
            {
                "pop_html": pipeline.fragments.pop(
                    result.pop.seq or 0,
                    result.pop.payload,
                    locale=locale_of(request),
                    can_execute=request.state.user.can_execute,
                    listed=False,
                )
            },
        )
    _ = gettext_for(request)
    body: dict[str, Any] = {
        "popId": result.pop.pop_id,
        "delivered": delivered,
        "identified": result.identified,
        "cpfValid": None if result.document.kind is DocKind.missing else result.document.valid,
    }
    if result.document.kind is DocKind.invalid:
        body["warning"] = _(
            "cpf: o documento informado não é um CPF ou CNPJ válido (dígitos verificadores);"
            " o atendente recebeu o aviso de não identificação"
        )
    if result.child_request is not None:
        body["childRequest"] = result.child_request
    return JSONResponse(body)


def _stored(result: PopResult) -> Stored[PopResult]:
    return Stored(result, pops=[result.pop])


async def _html_login_first(request: Request) -> Response | None:
    """A browser or softphone opening the URL sees the screen as a page, after login."""
    if not wants(request, "text/html"):
        return None
    user_id = request.session.get("user_id")
    user = None
    if isinstance(user_id, int):
        user = await app_state(request).store.run(
            lambda s: users.get_user(session=s, user_id=user_id)
        )
    if user is None or not users.session_current(user, request.session):
        # Back to the same screen after login, without the PBX's token: a URL travels
        # (history, logs, the Referer); a secret must not.
        kept = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
        target = request.url.path + ("?" + kept if kept else "")
        return RedirectResponse("/login?next=" + quote(target, safe=""), status_code=303)
    request.state.user = user
    return None


async def nova_solicitacao(
    request: Request, params: dict[str, str], tp: TelephonyParams
) -> Response:
    ctx = _context(request, params, _ramal(request, params))
    redirect = await _html_login_first(request)
    if redirect is not None:
        return redirect

    return await _pop(request, ctx.ramal, lambda session: new_request_pop(session=session, ctx=ctx))


async def visualizar_solicitacao(
    request: Request, params: dict[str, str], tp: TelephonyParams
) -> Response:
    number = _number(request, params)
    ctx = _context(request, params, _ramal(request, params))
    redirect = await _html_login_first(request)
    if redirect is not None:
        return redirect
    user = getattr(request.state, "user", None)

    def work(session: Session) -> PopResult:
        return view_request_pop(
            session=session,
            ctx=ctx,
            number=number,
            params=tp,
            user_id=user.id if user is not None else None,
        )

    try:
        return await _pop(request, ctx.ramal, work)
    except NotFound:
        _ = gettext_for(request)
        raise BadInput(
            "idSolicitacao",
            _("idSolicitacao: a solicitação %(n)s não existe") % {"n": number},
            404,
        ) from None


async def obter_qtde_solicitacoes(
    request: Request, params: dict[str, str], tp: TelephonyParams
) -> Response:
    _ = gettext_for(request)
    typed = first(params, "cpf")
    if typed is None:
        raise BadInput("cpf", _("cpf: parâmetro obrigatório"))
    document = parse_document(typed)
    if not document.valid:
        raise BadInput("cpf", _("cpf: não é um CPF ou CNPJ válido (dígitos verificadores)"))
    count, only = await app_state(request).store.run(
        lambda s: store_requests.in_progress_for_document(session=s, cpf=document.digits)
    )
    return PlainTextResponse(answer_count(count, only))


def answer_count(count: int, only: int | None) -> str:
    """The IVR's answer: empty for none, `1?<number>` for exactly one, else the count."""
    if count <= 0:
        return ""
    if count == 1 and only is not None:
        return f"1?{only}"
    return str(count)


async def obter_dados_solicitacao(
    request: Request, params: dict[str, str], tp: TelephonyParams
) -> Response:
    number = _number(request, params)
    _ = gettext_for(request)
    found = await app_state(request).store.run(
        lambda s: store_requests.get_request(session=s, number=number)
    )
    if found is None:
        raise BadInput(
            "idSolicitacao", _("idSolicitacao: a solicitação %(n)s não existe") % {"n": number}, 404
        )
    from callhub.store.models import Status, utcnow

    on_time = found.deadline is None or found.deadline >= utcnow()
    situacao = _(STATUS_LABELS[Status(found.status)])
    if wants_text(request, params):
        zone = app_state(request).settings.zone

        def local(value: Any) -> str:
            return value.astimezone(zone).strftime("%d/%m/%Y %H:%M") if value else ""

        text = ";".join(
            [
                str(found.id),
                local(found.opened_at),
                local(found.deadline),
                situacao,
                "S" if on_time else "N",
            ]
        )
        return PlainTextResponse(text)
    return JSONResponse(
        {
            "id": found.id,
            "dataAbertura": found.opened_at.isoformat(),
            "prazo": found.deadline.isoformat() if found.deadline else None,
            "situacao": situacao,
            "codigoSituacao": found.status,
            "noPrazo": on_time,
        }
    )


HANDLERS: dict[str, Handler] = {
    "novaSolicitacao": nova_solicitacao,
    "visualizarSolicitacao": visualizar_solicitacao,
    "obterQtdeSolicitacoes": obter_qtde_solicitacoes,
    "obterDadosSolicitacao": obter_dados_solicitacao,
    "rotearChamada": rotear_chamada,
}
PLAIN = {"obterQtdeSolicitacoes"}


async def telefonia(request: Request) -> Response:
    name = request.path_params["name"]
    handler = HANDLERS.get(name)
    _ = gettext_for(request)
    if handler is None:
        return JSONResponse(
            {
                "error": _("webservice desconhecido: %(name)s") % {"name": name},
                "webservices": sorted(HANDLERS),
            },
            status_code=404,
        )
    plain = name in PLAIN
    state = app_state(request)
    try:
        if not client_allowed(request, state.settings.pbx_allowlist):
            raise BadInput(None, _("origem não autorizada para a integração de telefonia"), 403)
        given = request.headers.get("token") or request.query_params.get("token")
        if not await state.pbx_token.matches(given):
            raise BadInput("token", _("token ausente ou inválido"), 401)
        params = await read_params(request, state.settings.max_body_bytes)
        tp = await state.telephony_params.get()
        if not tp.enabled:
            raise BadInput(
                None,
                _("os webservices de telefonia estão desativados (parâmetro 281)"),
                503,
            )
        return await handler(request, params, tp)
    except BadInput as exc:
        response = error_response(exc, plain=plain)
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = 'Token header="token"'
        return response


routes = [Route("/webservices/telefonia/{name}", telefonia, methods=["GET", "POST"])]
