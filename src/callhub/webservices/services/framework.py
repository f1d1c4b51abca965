"""One execution of an ITSM API operation, whatever the operation.

Body (JSON, or XML for /services/xml/*) -> session and permission -> validation -> the
operation's work and the execution's record, in one transaction -> the envelope.
A failure rolls the work back and records the failure in its place, so every answer,
even an error, carries the operationID of a stored execution.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from pydantic import BaseModel, ValidationError
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from callhub import i18n
from callhub.appstate import app_state
from callhub.ratelimit import LoginLimiter
from callhub.settings import Settings
from callhub.store import access, api
from callhub.store.engine import Store
from callhub.store.models import User, utcnow
from callhub.store.requests import RequestError
from callhub.textcheck import join_surrogates
from callhub.webservices.common import BadInput, read_body

if TYPE_CHECKING:
    from callhub.pipeline import Pipeline

log = logging.getLogger("callhub.services")
N_ = i18n.N_


class ApiError(Exception):
    """An error answer: a stable `code`, a translatable description, the HTTP status."""

    def __init__(
        self,
        code: str,
        description: str,
        status: int = 400,
        *,
        field: str | None = None,
        **params: Any,
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.status = status
        self.field = field
        self.params = params


@dataclass
class Call:
    """What an operation's work may use: who calls, from which platform, in which language."""

    op: Operation
    settings: Settings
    store: Store
    dialect: str
    language: str
    # The app's failed-login counter (login uses it).
    limiter: LoginLimiter
    user: User | None = None
    platform: str | None = None
    prepared: Any = None
    # An Accept-Language header on the call wins over the language chosen at login.
    language_asked: bool = False
    # Requests whose screens must be refreshed in agents' tabs once the work is committed.
    changed_requests: set[int] = field(default_factory=set)
    # The client's address (login counts failures by it).
    address: str = ""
    _scope: access.RequestScope | None = None
    # The caller's sessionID, once checked (logout ends it).
    session_id: str | None = None

    def requests_scope(self, session: Session) -> access.RequestScope:
        """The requests this caller may read and change (store/access.py), read once."""
        if self._scope is None:
            self._scope = access.scope_of(session=session, user_id=self.user_id)
        return self._scope

    @property
    def user_id(self) -> int:
        assert self.user is not None and self.user.id is not None
        return self.user.id

    @property
    def origin_platform(self) -> str:
        assert self.platform is not None
        return self.platform

    def t(self, message: str, **params: Any) -> str:
        text = i18n.gettext(self.language, message)
        return text % params if params else text


Work = Callable[[Call, Any, Session], BaseModel]
Prepare = Callable[[Call, dict[str, Any]], Awaitable[Any]]


@dataclass(frozen=True)
class Operation:
    name: str
    model: type[BaseModel]
    answer: type[BaseModel]
    work: Work
    summary: str
    tag: str
    xml: bool = False
    session_required: bool = True
    # Whether a group must be allowed it (logout needs a session, not a permission).
    needs_permission: bool = True
    prepare: Prepare | None = None
    example: dict[str, Any] | None = None
    # Where it is served: the service desk's API under /services/, the field app's at
    # /mobile/... (its name, as permissions and the execution log know it, then starts
    # with "mobile/").
    root: str = "/services/"

    @property
    def path(self) -> str:
        return self.root + self.name


REGISTRY: dict[str, Operation] = {}


def grantable() -> list[str]:
    """Every operation a group's permission can name (logging in and out need none)."""
    return sorted(
        name for name, op in REGISTRY.items() if op.session_required and op.needs_permission
    )


def operation(
    name: str,
    *,
    model: type[BaseModel],
    answer: type[BaseModel],
    summary: str,
    tag: str,
    xml: bool = False,
    session_required: bool = True,
    needs_permission: bool = True,
    prepare: Prepare | None = None,
    example: dict[str, Any] | None = None,
    root: str = "/services/",
) -> Callable[[Work], Work]:
    def register(work: Work) -> Work:
        assert name not in REGISTRY, name
        REGISTRY[name] = Operation(
            name=name,
            model=model,
            answer=answer,
            work=work,
            summary=summary,
            tag=tag,
            xml=xml,
            session_required=session_required,
            needs_permission=needs_permission,
            prepare=prepare,
            example=example,
            root=root,
        )
        return work

    return register


# -- reading the body -------------------------------------------------------------------

JSON_TYPES = {"", "application/json", "text/json", "text/plain"}
XML_TYPES = {"", "application/xml", "text/xml", "text/plain"}


def _xml_value(element: Any) -> Any:
    children = list(element)
    if not children:
        return (element.text or "").strip()
    value: dict[str, Any] = {}
    for child in children:
        tag = child.tag.rsplit("}", 1)[-1] if isinstance(child.tag, str) else None
        if tag is None:
            continue
        item = _xml_value(child)
        if tag in value:
            if not isinstance(value[tag], list):
                value[tag] = [value[tag]]
            value[tag].append(item)
        else:
            value[tag] = item
    return value


def parse_xml(body: bytes) -> dict[str, Any]:
    """An XML document as the JSON object it stands for (the root's children are its fields).
    DTDs, entities and external references are refused outright (defusedxml)."""
    try:
        root = SafeET.fromstring(body, forbid_dtd=True)
    except DefusedXmlException:
        raise ApiError(
            "XML_FORBIDDEN", N_("O XML declara DTD ou entidades, o que não é aceito."), 400
        ) from None
    except SafeET.ParseError as exc:
        raise ApiError(
            "MALFORMED_XML", N_("XML malformado: %(detail)s."), 400, detail=str(exc)
        ) from None
    try:
        value = _xml_value(root)
    except RecursionError:
        raise ApiError(
            "MALFORMED_XML", N_("XML aninhado em níveis demais para ser lido."), 400
        ) from None
    return value if isinstance(value, dict) else {}


def parse_json(body: bytes) -> dict[str, Any]:
    try:
        data = join_surrogates(json.loads(body))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(
            "MALFORMED_JSON", N_("JSON malformado: %(detail)s."), 400, detail=str(exc)
        ) from None
    except RecursionError:
        raise ApiError(
            "MALFORMED_JSON", N_("JSON aninhado em níveis demais para ser lido."), 400
        ) from None
    if not isinstance(data, dict):
        raise ApiError("MALFORMED_JSON", N_("O corpo deve ser um objeto JSON."), 400)
    return data


async def read_input(request: Request, op: Operation, limit: int) -> dict[str, Any]:
    try:
        body = await read_body(request, limit)
    except BadInput as exc:
        raise ApiError(
            "BODY_TOO_LARGE" if exc.status == 413 else "BAD_REQUEST",
            N_("Corpo grande demais (até %(limit)s bytes).")
            if exc.status == 413
            else N_("Corpo inválido."),
            exc.status,
            limit=limit,
        ) from None
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    accepted = XML_TYPES if op.xml else JSON_TYPES
    if ctype not in accepted and not ctype.endswith("+xml" if op.xml else "+json"):
        raise ApiError(
            "UNSUPPORTED_MEDIA_TYPE",
            N_("Envie %(kind)s (Content-Type %(ctype)s não é aceito)."),
            415,
            kind="XML" if op.xml else "JSON",
            ctype=ctype,
        )
    if not body.strip():
        raise ApiError("EMPTY_BODY", N_("O corpo está vazio."), 400)
    return parse_xml(body) if op.xml else parse_json(body)


# -- validation ---------------------------------------------------------------------------

EXPECTED = {
    "string": N_("texto"),
    "int": N_("número inteiro"),
    "float": N_("número"),
    "bool": N_("verdadeiro ou falso"),
    "dict": N_("objeto"),
    "model": N_("objeto"),
    "list": N_("lista"),
    "datetime": N_("data e hora ISO 8601"),
}


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def validation_error(exc: ValidationError) -> ApiError:
    first = exc.errors(include_url=False)[0]
    where = _where(tuple(first["loc"])) or "body"
    kind = first["type"]
    ctx = first.get("ctx") or {}
    if kind == "missing":
        return ApiError("REQUIRED", N_("Campo obrigatório: %(field)s."), field=where)
    family = kind.split("_")[0]
    if kind.endswith(("_type", "_parsing")) and family in EXPECTED:
        return ApiError(
            "INVALID_TYPE",
            N_("Tipo inválido em %(field)s: esperado %(expected)s."),
            field=where,
            expected=EXPECTED[family],
        )
    if kind in ("literal_error", "enum"):
        return ApiError(
            "INVALID_VALUE",
            N_("Valor inválido em %(field)s: aceitos %(allowed)s."),
            field=where,
            allowed=ctx.get("expected", ""),
        )
    if kind == "string_too_short":
        return ApiError("REQUIRED", N_("Campo obrigatório: %(field)s."), field=where)
    if kind in ("string_too_long", "too_long"):
        return ApiError(
            "TOO_LONG",
            N_("Longo demais em %(field)s (até %(max)s)."),
            field=where,
            max=ctx.get("max_length", ""),
        )
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return ApiError("OUT_OF_RANGE", N_("Valor fora do intervalo em %(field)s."), field=where)
    return ApiError("INVALID_VALUE", N_("Valor inválido em %(field)s."), field=where)


# The store's rules (store.requests.RequestError), as the API says them: its code, its
# message, its status. The same messages as the API's own checks where they coincide.
RULES: dict[str, tuple[str, str, int]] = {
    "NO_CHANGE": ("NO_CHANGE", N_("A solicitação já está em %(value)s."), 409),
    "INVALID_TRANSITION": (
        "INVALID_TRANSITION",
        N_("Uma solicitação em %(current)s não pode passar a %(value)s (veja getWorkflow)."),
        409,
    ),
    "UNKNOWN_STATUS": ("INVALID_VALUE", N_("Valor inválido em %(field)s."), 400),
    "EMPTY_DESCRIPTION": ("REQUIRED", N_("Campo obrigatório: %(field)s."), 400),
    "DESCRIPTION_TOO_LONG": ("TOO_LONG", N_("Longo demais em %(field)s (até %(max)s)."), 400),
}


def rule_error(
    exc: RequestError, *, field: str | None = None, status_name: Callable[[str], str] = str
) -> ApiError:
    """The API's answer to a rule the store enforced. `field`: where the rule's field sits
    in this operation's input; `status_name`: how this API names a status."""
    code, message, http_status = RULES[exc.code]
    values = {
        k: status_name(v) if k in ("current", "value") and exc.field == "status" else v
        for k, v in exc.values.items()
    }
    return ApiError(code, message, http_status, field=field or exc.field, **values)


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


# -- the endpoint -------------------------------------------------------------------------


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
