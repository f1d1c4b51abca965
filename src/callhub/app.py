"""Builds the Starlette app; the lifespan owns the engine, the broker and the hub."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callhub import csrf, i18n, metrics
from callhub.adapters.pbx55 import endpoint as pbx55_endpoint
from callhub.adapters.uscall.link import USCallLink
from callhub.appstate import AppState, app_state
from callhub.board.poller import BoardPoller
from callhub.broker import create_broker
from callhub.fragments import Fragments
from callhub.pipeline import Pipeline
from callhub.protocol import BOARD_WAKE, VARIANTS
from callhub.ratelimit import LoginLimiter
from callhub.settings import Settings
from callhub.store import catalog
from callhub.store.engine import Store
from callhub.templating import STATIC_DIR, Renderer
from callhub.views import (
    admin,
    admin_api,
    admin_blocks,
    agent,
    agent_requests,
    agent_uscall,
    auth,
    board,
    calls,
    missed,
    uscall_reports,
)
from callhub.webservices import services, telefonia
from callhub.webservices.common import TokenStore
from callhub.ws.endpoints import agent_socket, board_socket
from callhub.ws.hub import Hub, settle

log = logging.getLogger("callhub")


class RedactTokens(logging.Filter):
    """The access log never shows a token given in a query string (a PBX may send its
    token there): `token=…` becomes `token=***`."""

    TOKEN = re.compile(r"(?i)([?&]token=)[^&\s\"]*")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                self.TOKEN.sub(r"\1***", a) if isinstance(a, str) and "token=" in a.lower() else a
                for a in record.args
            )
        return True


# uvicorn logs each request's path with its query string; whichever way it was started.
logging.getLogger("uvicorn.access").addFilter(RedactTokens())

READY_TIMEOUT = 2.0

SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; media-src 'self' https:; frame-ancestors 'none'; base-uri 'self'; "
        b"form-action 'self'; object-src 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


HSTS = (b"strict-transport-security", b"max-age=31536000")


class SecurityHeaders:
    """The headers every answer carries; HSTS too when callhub is served over HTTPS only
    (CALLHUB_HTTPS_ONLY)."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.headers = [*SECURITY_HEADERS, HSTS] if hsts else SECURITY_HEADERS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + self.headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """413 for any request body over the limit, declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                response = PlainTextResponse(f"body larger than {self.limit} bytes", 413)
                await response(scope, receive, send)
                return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except TooLarge:
            response = PlainTextResponse(f"body larger than {self.limit} bytes", 413)
            await response(scope, receive, send)


class TooLarge(Exception):
    pass


async def healthz(request: Request) -> Response:
    """Alive: the process answers. Load balancers restart it when this fails."""
    return PlainTextResponse("ok")


async def readyz(request: Request) -> Response:
    """Ready for traffic: the database and the broker answer now (503 with what does not)."""
    state = app_state(request)
    problems = []
    if state.stopping:
        problems.append("stopping")
    for name, check in (("database", state.store.ping), ("broker", state.broker.ping)):
        try:
            async with asyncio.timeout(READY_TIMEOUT):
                await check()
        except Exception as exc:
            detail = next(iter(str(exc).splitlines()), type(exc).__name__)
            problems.append(f"{name}: {detail}")
    if problems:
        return PlainTextResponse("\n".join(problems), 503, headers={"Retry-After": "2"})
    return PlainTextResponse("ready")


async def client_gone(request: Request, exc: Exception) -> Response:
    """The client hung up before its body arrived: nobody reads the answer, and nothing
    was done (a 499, as proxies log it, instead of an error's traceback)."""
    log.info("client went away before its body arrived: %s", request.url.path)
    return Response(status_code=499)


async def database_unavailable(request: Request, exc: Exception) -> Response:
    """The database went away (restart, failover, network): a clean 503, and the pool
    reconnects on its own once it is back (store.engine: a dead connection is replaced),
    without restarting callhub."""
    if isinstance(exc, DBAPIError) and not (
        isinstance(exc, (OperationalError, InterfaceError)) or exc.connection_invalidated
    ):
        raise exc
    log.warning("database unavailable on %s: %s", request.url.path, exc)
    locale = i18n.negotiate(request.headers.get("accept-language"))
    message = i18n.gettext(locale, i18n.N_("Banco de dados indisponível; tente novamente."))
    return PlainTextResponse(message, 503, headers={"Retry-After": "2"})


# What the app (and the PBX's lean path beside it) answers for these errors.
EXCEPTION_HANDLERS: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
    ClientDisconnect: client_gone,
    DBAPIError: database_unavailable,
    ConnectionError: database_unavailable,
}


def _wants_html(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"accept":
            first: bytes = value.split(b",", 1)[0].split(b";", 1)[0]
            return first.strip().lower() == b"text/html"
    return False


class Shortcuts:
    """Two kinds of traffic skip the layers built for pages.

    - PBX requests (telefonia, 55pbx) carry a token, not a cookie: no session, no CSRF.
      A browser opening a telefonia URL (Accept: text/html) takes the full app, and its
      login.
    - Tabs' websockets need the session (whose tab it is) and nothing else. Every layer a
      websocket passes through stays alive as long as the tab, so a thousand tabs would
      pay for each of them.
    """

    PBX = ("/webservices/telefonia/", pbx55_endpoint.PATH)

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        session: dict[str, Any],
        sockets: list[BaseRoute],
    ) -> None:
        self.app = app
        routes = Router(routes=[*telefonia.routes, *pbx55_endpoint.routes])
        lean: ASGIApp = ExceptionMiddleware(routes, handlers=dict(EXCEPTION_HANDLERS))
        self.pbx = metrics.Instrument(
            SecurityHeaders(BodyLimit(lean, limit=max_body_bytes), hsts=session["https_only"])
        )
        self.sockets = SessionMiddleware(Router(routes=sockets), **session)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self.sockets(scope, receive, send)
        elif scope["type"] == "http" and scope["path"].startswith(self.PBX):
            if _wants_html(scope):
                await self.app(scope, receive, send)
            else:
                await self.pbx(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def create_app(settings: Settings | None = None, *, process_wide: bool = True) -> Starlette:
    """The app. `process_wide=False` when it shares its process with others (the tests'
    in-process servers): startup then leaves the process's garbage collector as it is."""
    settings = settings or Settings.from_env()
    renderer = Renderer(settings.zone)
    renderer.set_global("uscall", settings.uscall)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        settings.check()
        store = Store(settings.database_url, background_checkpoints=True)
        checkpoints = asyncio.create_task(store.checkpoints(), name="callhub-checkpoints")
        lag = asyncio.create_task(metrics.watch_loop_lag(), name="callhub-loop-lag")
        try:
            await store.migrate()
            broker = create_broker(settings.broker_url)
            await broker.connect()
            fragments = Fragments(
                renderer,
                await store.run(lambda s: catalog.list_services(session=s)),
                board_actions=settings.uscall,
                board_interval=settings.board_poll_seconds,
            )
            hub = Hub(broker=broker, renders=fragments)
            pipeline = Pipeline(
                store=store, broker=broker, hub=hub, fragments=fragments, settings=settings
            )
            pbx_token = TokenStore(store, "pbx_token", settings.pbx_token)
            pbx55_token = TokenStore(store, "pbx55_token", settings.pbx55_token)
            if settings.demo:
                await pbx_token.ensure()
                await pbx55_token.ensure()
            link = USCallLink(settings) if settings.uscall else None
            state = AppState(
                settings=settings,
                store=store,
                broker=broker,
                hub=hub,
                pipeline=pipeline,
                renderer=renderer,
                login_limiter=LoginLimiter(broker.coordination, settings),
                pbx_token=pbx_token,
                pbx55_token=pbx55_token,
                pbx55_zone=ZoneInfo(settings.pbx55_timezone),
                telephony_params=telefonia.ParamsCache(store),
                uscall=link,
            )
            app.state.callhub = state
            if link is not None:
                link.start()
            poller = BoardPoller(broker=broker, store=store, settings=settings, link=link)
            hub.board_wake = poller.wake
            await broker.messaging.subscribe(BOARD_WAKE)
            if broker.shared:
                await broker.messaging.subscribe(VARIANTS)
            poller.start()
            # What startup built (modules, mappers, templates, the catalogue) lives as long
            # as the process: kept out of the cyclic collector's full passes, which stop
            # the event loop for a time that grows with every object they scan.
            if process_wide:
                settle()
            try:
                yield
            finally:
                state.stopping = True
                await poller.aclose()
                if link is not None:
                    await link.aclose()
                await hub.close_all()
                await pipeline.aclose()
                await broker.disconnect()
        finally:
            for task in (checkpoints, lag):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await store.dispose()
            metrics.process_exited()

    secret = settings.secret_key or secrets.token_urlsafe(32)
    session: dict[str, Any] = {
        "secret_key": secret,
        "session_cookie": "callhub_session",
        "max_age": settings.session_max_age,
        "same_site": "lax",
        "https_only": settings.https_only_cookies,
    }
    sockets: list[BaseRoute] = [
        WebSocketRoute("/ws/atendimento", agent_socket),
        WebSocketRoute("/ws/painel", board_socket),
    ]
    app = Starlette(
        routes=[
            *auth.routes,
            *agent.routes,
            *agent_requests.routes,
            *admin.routes,
            *admin_api.routes,
            *admin_blocks.routes,
            *calls.routes,
            *board.routes,
            *agent_uscall.routes,
            *missed.routes,
            *uscall_reports.routes,
            *telefonia.routes,
            *pbx55_endpoint.routes,
            *services.routes(),
            *sockets,
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics.endpoint),
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        ],
        middleware=[
            Middleware(
                Shortcuts,
                max_body_bytes=settings.max_body_bytes,
                session=session,
                sockets=sockets,
            ),
            Middleware(metrics.Instrument),
            Middleware(SecurityHeaders, hsts=settings.https_only_cookies),
            Middleware(BodyLimit, limit=settings.max_body_bytes),
            Middleware(SessionMiddleware, **session),
            Middleware(csrf.CsrfProtect),
        ],
        lifespan=lifespan,
        exception_handlers=dict(EXCEPTION_HANDLERS),
    )
    return app


app = create_app()
