"""Login, logout, and the guard every page uses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from urllib.parse import quote

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from callhub import i18n
from callhub.appstate import app_state
from callhub.ratelimit import LoginLimited, LoginLimiter
from callhub.store import users
from callhub.store.models import Role, User
from callhub.templating import Renderer

Endpoint = Callable[[Request], Awaitable[Response]]
# Where each role lands after login: the agent at the screen, the supervisor at the board.
HOME = {Role.agent: "/atendimento", Role.supervisor: "/painel", Role.admin: "/admin"}


async def current_user(request: Request) -> User | None:
    user_id = request.session.get("user_id")
    if not isinstance(user_id, int):
        return None
    user: User | None = await app_state(request).store.run(
        lambda s: users.get_user(session=s, user_id=user_id)
    )
    if not users.session_current(user, request.session):
        request.session.clear()
        return None
    return user


# Who works the agent screen.
AGENTS = (Role.agent, Role.supervisor, Role.admin)


def login_required(*roles: Role) -> Callable[[Endpoint], Endpoint]:
    """Anonymous: to the login page (401 for htmx). Wrong role: 403."""

    def decorate(endpoint: Endpoint) -> Endpoint:
        @wraps(endpoint)
        async def guarded(request: Request) -> Response:
            user = await current_user(request)
            if user is None:
                if request.headers.get("hx-request"):
                    return Response(status_code=401, headers={"HX-Redirect": "/login"})
                target = request.url.path
                return RedirectResponse("/login?next=" + quote(target, safe=""), status_code=303)
            if roles and user.role not in roles:
                renderer: Renderer = app_state(request).renderer
                return renderer.response(request, "pages/forbidden.html", status=403)
            request.state.user = user
            return await endpoint(request)

        return guarded

    return decorate


def _safe_next(target: str | None) -> str | None:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


async def login_page(request: Request) -> Response:
    renderer: Renderer = app_state(request).renderer
    return renderer.response(
        request, "pages/login.html", {"next": _safe_next(request.query_params.get("next"))}
    )


async def login(request: Request) -> Response:
    form = await request.form()
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    target = _safe_next(str(form.get("next") or ""))
    renderer: Renderer = app_state(request).renderer
    errors = {}
    if not username:
        errors["username"] = i18n.N_("Informe o usuário.")
    if not password:
        errors["password"] = i18n.N_("Informe a senha.")
    user = None
    if not errors:
        limiter: LoginLimiter = app_state(request).login_limiter
        address = request.client.host if request.client else ""
        try:
            user = await limiter.login(app_state(request).store, username, password, address)
        except LoginLimited as limited:
            response = renderer.response(
                request,
                "pages/login.html",
                {
                    "errors": {"form": i18n.N_("Muitas tentativas; tente de novo mais tarde.")},
                    "username": username,
                    "next": target,
                },
                status=429,
            )
            response.headers["Retry-After"] = str(limited.retry_after)
            return response
        if user is None:
            errors["form"] = i18n.N_("Usuário ou senha incorretos.")
    if user is None:
        return renderer.response(
            request,
            "pages/login.html",
            {"errors": errors, "username": username, "next": target},
            status=401 if "form" in errors else 422,
        )
    request.session.clear()
    request.session["user_id"] = user.id
    request.session["sv"] = user.session_version
    request.session["locale"] = i18n.negotiate(request.headers.get("accept-language"))
    return RedirectResponse(target or HOME.get(Role(user.role), "/atendimento"), status_code=303)


async def logout(request: Request) -> Response:
    """Ends every session of the user, on every browser: a copy of the cookie opens
    nothing either."""
    user = await current_user(request)
    if user is not None and user.id is not None:
        user_id = user.id

        def end(session: Session) -> None:
            users.end_sessions(session=session, user_id=user_id)
            session.commit()

        await app_state(request).store.run(end)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


async def home(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(HOME.get(Role(user.role), "/atendimento"), status_code=303)


routes = [
    Route("/", home),
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
