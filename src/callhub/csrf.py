"""CSRF protection for every form and htmx request made with the session cookie.

A random token lives in the session (created when a page first needs it, replaced at
login). Pages put it in each form (`csrf_token`) and on <body> as htmx's `hx-headers`
(`X-CSRF-Token`), which every htmx request inherits, including the forms of the screens
that arrive over the websocket. A state-changing request without the token, or with
another session's, is refused with 403 before it reaches the view.

Not covered, by design: the PBX and ITSM APIs, which take no cookie (a token header, a
sessionID in the body), so a browser cannot be tricked into authenticating them.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callhub import i18n
from callhub.appstate import app_state

FIELD = "csrf_token"
HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Called by machines with their own credentials, never with the session cookie.
EXEMPT_PREFIXES = ("/webservices/", "/webservice/", "/integrations/", "/services/", "/mobile/")


def token(session: dict[str, Any]) -> str:
    value = session.get("csrf")
    if not isinstance(value, str):
        value = session["csrf"] = secrets.token_urlsafe(32)
    return value


def request_token(request: Request) -> str | None:
    """The current session's token, for the templates (None outside a session)."""
    return token(request.session) if "session" in request.scope else None


class CsrfProtect:
    """Must run inside SessionMiddleware (it reads scope["session"])."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in SAFE_METHODS
            or scope["path"].startswith(EXEMPT_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        expected = scope.get("session", {}).get("csrf")
        headers = Headers(scope=scope)
        given = headers.get(HEADER)
        replay = receive
        if given is None:
            body, replay = await _buffer(receive)
            given = _form_field(headers.get("content-type", ""), body)
        if not (
            isinstance(expected, str)
            and given is not None
            and hmac.compare_digest(given.encode(), expected.encode())
        ):
            await _refuse(scope, receive, send)
            return
        await self.app(scope, replay, send)


async def _buffer(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole body (BodyLimit, outside, caps it) and a receive that replays it."""
    chunks = []
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


def _form_field(content_type: str, body: bytes) -> str | None:
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            return None
        return next((v for k, v in pairs if k == FIELD), None)
    return None


async def _refuse(scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope, receive)
    locale = i18n.negotiate(request.headers.get("accept-language"))
    message = i18n.gettext(
        locale,
        i18n.N_(
            "Formulário recusado: a sessão expirou ou ele não veio desta página. "
            "Recarregue a página e tente de novo."
        ),
    )
    renderer = app_state(request).renderer
    response = renderer.response(request, "pages/forbidden.html", {"reason": message}, 403)
    await response(scope, receive, send)
