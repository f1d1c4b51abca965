"""The FROM-TO key table, named queries and operations, the error log and the workflow."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from callhub import i18n
from callhub.store import api, requests
from callhub.store.models import NamedQuery, Status
from callhub.store.requests import TRANSITIONS
from callhub.webservices.services.endpoint import check_session
from callhub.webservices.services.errors import validation_error
from callhub.webservices.services.framework import ApiError, Call, operation
from callhub.webservices.services.schemas import (
    Authed,
    DataQueryIn,
    Empty,
    ErrorItem,
    ErrorListIn,
    ErrorsOut,
    ExecuteIn,
    ExecuteOut,
    KeyOut,
    KeysOut,
    QueryOut,
    SyncDeleteIn,
    SyncFindIn,
    SyncIn,
    WorkflowOut,
    WorkflowState,
    WorkflowTransition,
)
from callhub.webservices.services.shapes import FINAL, aware, status_of

N_ = i18n.N_
SESSION = {"sessionID": "…"}


# -- FROM-TO keys ---------------------------------------------------------------------------


@operation(
    "synchronize",
    model=SyncIn,
    answer=Empty,
    summary=N_("Grava o par de chaves (Object, FromKey da plataforma, ToKey do callhub)"),
    tag="synchronize",
    example={**SESSION, "Object": "request", "FromKey": "ERP-77", "ToKey": "1"},
)
def synchronize(call: Call, body: SyncIn, session: Session) -> Empty:
    if body.Object == "request":
        if (
            not body.ToKey.isdigit()
            or requests.get_request(session=session, number=int(body.ToKey[:12])) is None
        ):
            raise ApiError(
                "UNKNOWN_REFERENCE",
                N_("%(field)s %(value)s não existe."),
                422,
                field="ToKey",
                value=body.ToKey,
            )
    api.put_key(
        session=session,
        platform=call.origin_platform,
        object=body.Object,
        from_key=body.FromKey,
        to_key=body.ToKey,
    )
    return Empty()


@operation(
    "synchronize/find",
    model=SyncFindIn,
    answer=KeysOut,
    summary=N_("Os pares de chaves desta plataforma (filtros opcionais)"),
    tag="synchronize",
    example={**SESSION, "Object": "request"},
)
def synchronize_find(call: Call, body: SyncFindIn, session: Session) -> KeysOut:
    rows = api.find_keys(
        session=session,
        platform=call.origin_platform,
        object=body.Object,
        from_key=body.FromKey,
        to_key=body.ToKey,
    )
    keys = [KeyOut(Object=r.object, FromKey=r.from_key, ToKey=r.to_key) for r in rows]
    return KeysOut(amount=len(keys), requests=keys)


@operation(
    "synchronize/delete",
    model=SyncDeleteIn,
    answer=Empty,
    summary=N_("Apaga pares de chaves (Object e FromKey ou ToKey)"),
    tag="synchronize",
    example={**SESSION, "Object": "request", "FromKey": "ERP-77"},
)
def synchronize_delete(call: Call, body: SyncDeleteIn, session: Session) -> Empty:
    if not body.FromKey and not body.ToKey:
        raise ApiError(
            "REQUIRED", N_("Informe %(field)s ou %(other)s."), field="FromKey", other="ToKey"
        )
    removed = api.delete_keys(
        session=session,
        platform=call.origin_platform,
        object=body.Object,
        from_key=body.FromKey,
        to_key=body.ToKey,
    )
    if not removed:
        raise ApiError(
            "NOT_FOUND", N_("Nenhum par de chaves com esses valores."), 404, field="FromKey"
        )
    return Empty()


# -- named queries and operations ----------------------------------------------------------


def _bind(query_sql: str, given: dict[str, Any]) -> dict[str, Any]:
    wanted = api.parameters_of(query_sql)
    for name in wanted:
        if name not in given:
            raise ApiError(
                "REQUIRED", N_("Campo obrigatório: %(field)s."), field=f"Parameters.{name}"
            )
    for name in given:
        if name not in wanted:
            raise ApiError(
                "UNKNOWN_PARAMETER",
                N_("Parâmetro desconhecido: %(field)s."),
                field=f"Parameters.{name}",
            )
    return {name: given[name] for name in wanted}


def _find(session: Session, name: str, field: str, kind: str) -> NamedQuery:
    found = api.named_query(session=session, name=name)
    if found is None or found.kind != kind:
        raise ApiError(
            "NOT_FOUND",
            N_("%(field)s %(value)s não está cadastrada."),
            404,
            field=field,
            value=name,
        )
    return found


def _results(
    call: Call, session: Session, found: NamedQuery, field: str, params: dict[str, Any]
) -> api.QueryResult:
    bound = _bind(found.sql, params)
    try:
        return api.run_named(session=session, query=found, parameters=bound, dialect=call.dialect)
    except api.QueryTimedOut as exc:
        raise ApiError(
            "QUERY_TIMEOUT",
            N_("A consulta %(name)s passou de %(seconds)s s e foi interrompida."),
            503,
            field=field,
            name=found.name,
            seconds=f"{exc.seconds:g}",
        ) from None
    except api.QueryFailed as exc:
        raise ApiError(
            "QUERY_FAILED", N_("A consulta falhou: %(detail)s"), 422, field=field, detail=str(exc)
        ) from None
    except api.BadParameter as exc:
        raise ApiError(
            "INVALID_PARAMETER",
            N_("%(field)s deve ser %(expected)s."),
            400,
            field=f"Parameters.{exc.name}",
            expected=exc.expected,
        ) from None


def _run(
    call: Call, session: Session, name: str, field: str, kind: str, params: dict[str, Any]
) -> api.QueryResult:
    return _results(call, session, _find(session, name, field, kind), field, params)


async def _query_off_the_loop(call: Call, data: dict[str, Any]) -> api.QueryResult | None:
    """On SQLite a query would run on the event loop, and hold every tab and pop while it
    runs: it runs in a thread instead, on a read-only connection of its own, once the
    caller's session and permission are checked (the transaction checks them again). On
    PostgreSQL it runs in the transaction: the server works, the loop serves the others."""
    if not call.store.on_loop:
        return None
    try:
        body = DataQueryIn.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None

    def allowed(session: Session) -> NamedQuery:
        check_session(call, session, data)
        return _find(session, body.QueryName, "QueryName", "query")

    found = await call.store.run(allowed)
    return await call.store.read(lambda s: _results(call, s, found, "QueryName", body.Parameters))


@operation(
    "data/query",
    model=DataQueryIn,
    answer=QueryOut,
    summary=N_("Executa uma consulta somente leitura cadastrada pelo administrador, por nome"),
    tag="data",
    prepare=_query_off_the_loop,
    example={
        **SESSION,
        "QueryName": "solicitacoesPorSituacao",
        "Parameters": {"desde": "2026-01-01"},
    },
)
def data_query(call: Call, body: DataQueryIn, session: Session) -> QueryOut:
    result = call.prepared or _run(
        call, session, body.QueryName, "QueryName", "query", body.Parameters
    )
    return QueryOut(Result=result.rows, Truncated=result.truncated)


@operation(
    "execute",
    model=ExecuteIn,
    answer=ExecuteOut,
    summary=N_("Executa uma operação cadastrada pelo administrador, por nome"),
    tag="data",
    example={
        **SESSION,
        "OperationName": "anotarSolicitacao",
        "Parameters": {"numero": 1, "texto": "Anotação em lote"},
    },
)
def execute(call: Call, body: ExecuteIn, session: Session) -> ExecuteOut:
    result = _run(call, session, body.OperationName, "OperationName", "operation", body.Parameters)
    return ExecuteOut(Result=result.rows, RowCount=result.row_count)


@operation(
    "error/getList",
    model=ErrorListIn,
    answer=ErrorsOut,
    summary=N_("Execuções que falharam num intervalo (opcionalmente de algumas operações)"),
    tag="data",
    example={
        **SESSION,
        "startDate": "2026-11-23T00:00:00-03:00",
        "endDate": "2026-11-23T23:59:59-03:00",
        "OperationList": ["request/create"],
    },
)
def error_list(call: Call, body: ErrorListIn, session: Session) -> ErrorsOut:
    start, end = aware(call, body.startDate), aware(call, body.endDate)
    total, rows = api.failed_executions(
        session=session, start=start, end=end, operations=body.OperationList, limit=1000
    )
    errors = []
    for row, login in rows:
        output = row.output if isinstance(row.output, dict) else {}
        errors.append(
            ErrorItem(
                operationID=row.id or 0,
                operation=row.operation,
                dateTime=int(row.started_at.timestamp() * 1000),
                userID=login,
                code=row.error_code,
                description=str(output.get("description") or "") or None,
                httpStatus=row.http_status,
                messageID=row.message_id,
            )
        )
    return ErrorsOut(Amount=total, Errors=errors)


@operation(
    "v2/getWorkflow",
    model=Authed,
    answer=WorkflowOut,
    summary=N_("O fluxo das solicitações: situações e transições permitidas"),
    tag="v2",
    example=SESSION,
)
def get_workflow(call: Call, body: Authed, session: Session) -> WorkflowOut:
    states = [
        WorkflowState(
            code=s.value,
            name=status_of(call, s.value).name,
            initial=s is Status.in_progress,
            final=s in FINAL,
        )
        for s in Status
    ]
    moves = [
        WorkflowTransition(source=s.value, target=t.value)
        for s, ts in TRANSITIONS.items()
        for t in ts
    ]
    return WorkflowOut(states=states, transitions=moves)
