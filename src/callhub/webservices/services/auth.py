"""Login: /services/login, /services/v2/login and /services/xml/login."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError
from sqlmodel import Session

from callhub import i18n
from callhub.ratelimit import LoginLimited
from callhub.store import api
from callhub.store.models import User
from callhub.webservices.services.errors import validation_error
from callhub.webservices.services.framework import ApiError, Call, operation
from callhub.webservices.services.schemas import (
    Authed,
    LoginIn,
    LoginOut,
    LoginV2Out,
    SuccessOut,
)

N_ = i18n.N_
EXAMPLE = {"userName": "integracao", "password": "…", "platform": "ERP", "language": "pt_BR"}


def _language(tag: str | None) -> str | None:
    return i18n.negotiate(tag.replace("_", "-")) if tag else None


async def check_login(call: Call, data: dict[str, Any]) -> User:
    """Validate and check the password before the transaction: Argon2 runs in a thread."""
    try:
        body = LoginIn.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None
    call.language = _language(body.language) or call.language
    try:
        user = await call.limiter.login(call.store, body.userName, body.password, call.address)
    except LoginLimited as limited:
        raise ApiError(
            "TOO_MANY_ATTEMPTS",
            N_("Muitas tentativas de login; tente de novo em %(minutes)s minutos."),
            429,
            field="userName",
            minutes=max(1, round(limited.retry_after / 60)),
        ) from None
    if user is None:
        raise ApiError("LOGIN_FAILED", N_("Usuário ou senha inválidos."), 401, field="password")
    call.user = user
    return user


def _open(call: Call, body: LoginIn, session: Session) -> str:
    user: User = call.prepared
    if not api.platform_allowed(session=session, user_id=user.id or 0, platform=body.platform):
        # A platform bound to groups (an integration's) is theirs alone: anyone else acting
        # as it would take its keys and its synchronisation marks.
        raise ApiError(
            "PLATFORM_NOT_ALLOWED",
            N_("A plataforma %(platform)s não é permitida a este usuário."),
            403,
            field="platform",
            platform=body.platform,
        )
    call.platform = body.platform
    return api.open_session(
        session=session,
        user_id=user.id or 0,
        platform=body.platform,
        device_token=body.token,
        language=call.language,
    )


def _login(call: Call, body: BaseModel, session: Session) -> BaseModel:
    assert isinstance(body, LoginIn)
    return LoginOut(sessionID=_open(call, body, session))


for name in ("login", "xml/login"):
    operation(
        name,
        model=LoginIn,
        answer=LoginOut,
        summary=N_("Abre uma sessão (sessionID) com usuário e senha do callhub"),
        tag="login",
        xml=name.startswith("xml/"),
        session_required=False,
        prepare=check_login,
        example=EXAMPLE,
    )(_login)


@operation(
    "logout",
    model=Authed,
    answer=SuccessOut,
    summary=N_("Encerra a sessão: o sessionID não abre mais nada"),
    tag="login",
    needs_permission=False,
    example={"sessionID": "…"},
)
def logout(call: Call, body: BaseModel, session: Session) -> BaseModel:
    assert call.session_id is not None
    api.end_session(session=session, session_id=call.session_id)
    return SuccessOut(success=True)


@operation(
    "v2/login",
    model=LoginIn,
    answer=LoginV2Out,
    summary=N_(
        "Login do aplicativo de campo: sessionID, raio de ação (km) e intervalo de posição (min)"
    ),
    tag="login",
    session_required=False,
    prepare=check_login,
    example={**EXAMPLE, "platform": "ANDROID", "token": "device-push-token"},
)
def v2_login(call: Call, body: BaseModel, session: Session) -> BaseModel:
    assert isinstance(body, LoginIn)
    return LoginV2Out(
        sessionID=_open(call, body, session),
        rangeAction=call.settings.api_range_action_km,
        locationInterval=call.settings.api_location_interval_minutes,
    )
