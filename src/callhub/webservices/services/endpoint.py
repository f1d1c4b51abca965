"""The endpoint of every operation: body -> session and permission -> validation -> the
operation's work and the execution's record, in one transaction -> the envelope."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from callhub import i18n
from callhub.appstate import app_state
from callhub.i18n import N_
from callhub.settings import Settings
from callhub.store import api
from callhub.store.engine import Store
from callhub.store.models import utcnow
from callhub.store.requests import RequestError
from callhub.webservices.services.body import read_input
from callhub.webservices.services.errors import rule_error, validation_error
from callhub.webservices.services.framework import REGISTRY, ApiError, Call, Operation

if TYPE_CHECKING:
    from callhub.pipeline import Pipeline

log = logging.getLogger("callhub.services")


def redact(data: dict[str, Any]) -> dict[str, Any]:
    """What is logged of the input: no password, no sessionID, nothing huge."""
    clean = {k: ("***" if k in ("password", "sessionID") else v) for k, v in data.items()}
    if len(json.dumps(clean, default=str)) > api.MAX_LOGGED_CHARS:
        return {"truncated": True, "fields": sorted(clean)[:50]}
    return clean


def _message_id(data: dict[str, Any]) -> str | None:
    value = data.get("messageID")
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)[:128]


def describe(call: Call, error: ApiError) -> str:
    """The error's description in the caller's language, its parameters filled in."""
    params = {k: call.t(v) if k == "expected" else v for k, v in error.params.items()}
    return call.t(error.description, field=error.field, **params)


def _envelope(
    call: Call,
    operation_id: int | None,
    payload: dict[str, Any] | None,
    error: ApiError | None,
    message_id: str | None,
) -> dict[str, Any]:
    body: dict[str, Any] = dict(payload or {})
    body["dateTime"] = int(time.time() * 1000)
    body["operationID"] = operation_id
    body["error"] = None
    if error is not None:
        body["error"] = {
            "code": error.code,
            "description": describe(call, error),
            "field": error.field,
        }
    if message_id is not None:
        body["messageID"] = message_id
    return body


def _run(
    call: Call,
    session: Session,
    data: dict[str, Any] | None,
    early: ApiError | None,
    logged: dict[str, Any] | None,
    message_id: str | None,
    started: float,
) -> tuple[int, dict[str, Any] | None, ApiError | None]:
    op = call.op
    started_at = utcnow()
    payload: dict[str, Any] | None = None
    error = early
    if error is None:
        assert data is not None
        try:
            if op.session_required:
                check_session(call, session, data)
            try:
                model = op.model.model_validate(data)
            except ValidationError as exc:
                raise validation_error(exc) from None
            try:
                payload = op.work(call, model, session).model_dump(mode="json", by_alias=True)
            except RequestError as exc:
                raise rule_error(exc) from None
        except ApiError as exc:
            error = exc
            session.rollback()
            call.changed_requests.clear()
        except Exception:
            # A defect, or the database refusing: still an answer, and still recorded.
            log.exception("%s failed", op.path)
            error = ApiError("INTERNAL", N_("Erro interno; tente novamente."), 500)
            session.rollback()
            call.changed_requests.clear()
    output = payload
    if error is not None:
        output = {"code": error.code, "field": error.field, "description": describe(call, error)}
    elif output is not None and len(json.dumps(output)) > api.MAX_LOGGED_CHARS:
        output = {"truncated": True}
    operation_id = api.record_execution(
        session=session,
        operation=op.name,
        user_id=call.user.id if call.user is not None else None,
        platform=call.platform,
        message_id=message_id,
        input=logged,
        output=output,
        error_code=error.code if error else None,
        http_status=error.status if error else 200,
        started_at=started_at,
        started=started,
    )
    session.commit()
    return operation_id, payload, error


def check_session(call: Call, session: Session, data: dict[str, Any]) -> None:
    """The call's sessionID is alive and its user may call the operation (ApiError if
    not). Every operation that needs a session passes here inside its transaction; one
    that works before it (prepare) calls it first too."""
    session_id = data.get("sessionID")
    if not isinstance(session_id, str) or not session_id.strip():
        raise ApiError(
            "SESSION_REQUIRED", N_("Informe o sessionID (faça login)."), 401, field="sessionID"
        )
    check = api.check_session(
        session=session,
        session_id=session_id.strip(),
        idle_seconds=call.settings.api_session_idle_seconds,
        max_seconds=call.settings.api_session_max_seconds,
    )
    if check.expired:
        raise ApiError(
            "SESSION_EXPIRED", N_("Sessão expirada: faça login novamente."), 401, field="sessionID"
        )
    if check.row is None or check.user is None:
        raise ApiError("SESSION_UNKNOWN", N_("Sessão desconhecida."), 401, field="sessionID")
    call.user = check.user
    call.platform = check.row.platform
    if not call.language_asked:
        call.language = check.row.language
    call.session_id = session_id.strip()
    if call.op.needs_permission and not api.may_call(
        session=session, user_id=call.user_id, operation=call.op.name
    ):
        raise ApiError(
            "FORBIDDEN",
            N_("Nenhum grupo do usuário pode chamar %(operation)s."),
            403,
            operation=call.op.name,
        )


def endpoint(op: Operation) -> Callable[[Request], Awaitable[Response]]:
    async def handle(request: Request) -> Response:
        started = time.perf_counter()
        settings: Settings = app_state(request).settings
        store: Store = app_state(request).store
        call = Call(
            op=op,
            settings=settings,
            store=store,
            dialect=store.dialect,
            language=i18n.negotiate(request.headers.get("accept-language")),
            language_asked="accept-language" in request.headers,
            address=request.client.host if request.client else "",
            limiter=app_state(request).login_limiter,
        )
        data: dict[str, Any] | None = None
        early: ApiError | None = None
        try:
            data = await read_input(request, op, settings.max_body_bytes)
        except ApiError as exc:
            early = exc
        if data is not None and op.prepare is not None:
            try:
                call.prepared = await op.prepare(call, data)
            except ApiError as exc:
                early = exc
            except Exception:
                # The database behind a login went away: the envelope, as a 503.
                log.exception("%s failed", op.path)
                down = ApiError("UNAVAILABLE", N_("Erro interno; tente novamente."), 503)
                return JSONResponse(_envelope(call, None, None, down, _message_id(data)), 503)
        logged = redact(data) if data is not None else None
        message_id = _message_id(data) if data is not None else None
        try:
            operation_id, payload, error = await store.run(
                lambda s: _run(call, s, data, early, logged, message_id, started)
            )
        except Exception:
            log.exception("%s failed", op.path)
            error = ApiError("UNAVAILABLE", N_("Erro interno; tente novamente."), 503)
            return JSONResponse(_envelope(call, None, None, error, message_id), 503)
        if call.changed_requests:
            pipeline: Pipeline = app_state(request).pipeline
            pipeline.spawn(pipeline.requests_changed(sorted(call.changed_requests)))
        body = _envelope(call, operation_id, payload, error, message_id)
        return JSONResponse(body, status_code=error.status if error else 200)

    return handle


def routes() -> list[Route]:
    return [
        Route(op.path, endpoint(op), methods=["POST"], name=op.name) for op in REGISTRY.values()
    ]
