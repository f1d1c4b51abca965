"""`POST`/`PUT /integrations/55pbx`: where 55pbx pushes its call records."""

from __future__ import annotations

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from callhub.adapters.pbx55.calls import Outcome, handle_push
from callhub.adapters.pbx55.parse import Push, parse_push
from callhub.store.params import TelephonyParams
from callhub.views.templating import gettext_for
from callhub.webservices.common import (
    BadInput,
    client_allowed,
    error_response,
    read_body,
    token_matches,
)

PATH = "/integrations/55pbx"


async def receive(request: Request) -> Response:
    state = request.app.state
    _ = gettext_for(request)
    try:
        if not client_allowed(request, state.settings.pbx_allowlist):
            raise BadInput(None, _("origem não autorizada para a integração 55pbx"), 403)
        if not token_matches(request.headers.get("token"), await state.pbx55_token.current()):
            raise BadInput("token", _("token ausente ou inválido (cabeçalho token)"), 401)
        body = await read_body(request, state.settings.max_body_bytes)
        push = parse_push(body, state.pbx55_zone, _)
        tp = await state.telephony_params.get()
        outcome: Outcome = await state.store.run(lambda s: _handle(s, push, tp))
    except BadInput as exc:
        response = error_response(exc, plain=False)
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = 'Token header="token"'
        return response
    hub = state.hub
    delivered = 0
    for pop in outcome.pops:
        delivered += await hub.publish_pop(pop)
    for ramal, message in outcome.messages:
        await hub.publish(ramal, message)
    return JSONResponse(
        {
            "ok": True,
            "callId": push.call_id,
            "phase": outcome.phase.value,
            "popped": len(outcome.pops),
            "delivered": delivered,
        }
    )


def _handle(session: Session, push: Push, tp: TelephonyParams) -> Outcome:
    outcome = handle_push(session=session, push=push, params=tp)
    session.commit()
    return outcome


routes = [Route(PATH, receive, methods=["POST", "PUT"])]
