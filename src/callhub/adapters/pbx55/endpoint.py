"""`POST`/`PUT /integrations/55pbx`: where 55pbx pushes its call records."""

from __future__ import annotations

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from callhub.adapters.pbx55.calls import Outcome, handle_push
from callhub.adapters.pbx55.parse import Push, PushRejected, parse_push
from callhub.appstate import app_state
from callhub.i18n import gettext_for
from callhub.pipeline import Pipeline
from callhub.store.params import TelephonyParams
from callhub.units import Stored
from callhub.webservices.common import (
    BadInput,
    client_allowed,
    error_response,
    read_body,
)

PATH = "/integrations/55pbx"


async def receive(request: Request) -> Response:
    state = app_state(request)
    _ = gettext_for(request)
    try:
        if not client_allowed(request, state.settings.pbx_allowlist):
            raise BadInput(None, _("origem não autorizada para a integração 55pbx"), 403)
        if not await state.pbx55_token.matches(request.headers.get("token")):
            raise BadInput("token", _("token ausente ou inválido (cabeçalho token)"), 401)
        body = await read_body(request, state.settings.max_body_bytes)
        try:
            push = parse_push(body, state.pbx55_zone, _)
        except PushRejected as exc:
            raise BadInput(exc.field, exc.message) from None
        tp = await state.telephony_params.get()
    except BadInput as exc:
        response = error_response(exc, plain=False)
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = 'Token header="token"'
        return response
    pipeline: Pipeline = state.pipeline
    published = await pipeline.run(lambda s: _handle(s, push, tp), ramal=push.branch)
    return JSONResponse(
        {
            "ok": True,
            "callId": push.call_id,
            "phase": published.value.phase.value,
            "popped": len(published.pops),
            "delivered": published.delivered,
        }
    )


def _handle(session: Session, push: Push, tp: TelephonyParams) -> Stored[Outcome]:
    outcome = handle_push(session=session, push=push, params=tp)
    return Stored(outcome, pops=outcome.pops, messages=list(outcome.messages))


routes = [Route(PATH, receive, methods=["POST", "PUT"])]
