"""The admin's named queries: checked SQL, saved by name, run with typed parameters
and a time limit."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.util import await_only
from sqlmodel import Session, col, select

from callhub.i18n import N_
from callhub.store.models import (
    NamedQuery,
    utcnow,
)

NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)")
_LEADING = re.compile(r"^\s*(\w+)", re.ASCII)
_WRITES = re.compile(
    r"\b(insert|update|delete|merge|replace|create|drop|alter|truncate|grant|revoke|attach|"
    r"detach|pragma|vacuum|reindex|copy|call|do|lock|set|reset|load)\b",
    re.IGNORECASE,
)
READ_KINDS = ("select", "with", "values")
WRITE_KINDS = ("select", "with", "insert", "update", "delete")
MAX_ROWS = 1000
# How long a named query may run: on PostgreSQL the server stops it; on SQLite, where it
# runs in a thread of its own beside the event loop, callhub interrupts it sooner.
QUERY_SECONDS = 5.0
SQLITE_QUERY_SECONDS = 2.0


class QueryRejected(ValueError):
    """The admin's SQL is not what its kind allows; `field` names the form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _strip_literals(sql: str) -> str:
    """The SQL without its string literals and comments, for the keyword checks."""
    sql = re.sub(r"'(?:[^']|'')*'", "''", sql)
    sql = re.sub(r"--[^\n]*", " ", sql)
    return re.sub(r"/\*.*?\*/", " ", sql, flags=re.DOTALL)


def parameters_of(sql: str) -> list[str]:
    seen: list[str] = []
    for name in PARAMETER.findall(_strip_literals(sql)):
        if name not in seen:
            seen.append(name)
    return seen


def check_sql(sql: str, kind: str) -> str:
    """One statement of the kind's verbs; a read-only query names no writing keyword."""
    sql = sql.strip().rstrip(";").strip()
    bare = _strip_literals(sql)
    if not sql:
        raise QueryRejected("sql", N_("Escreva o SQL."))
    if ";" in bare:
        raise QueryRejected("sql", N_("Um só comando (sem ';')."))
    leading = _LEADING.match(bare)
    verb = leading.group(1).lower() if leading else ""
    allowed = READ_KINDS if kind == "query" else WRITE_KINDS
    if verb not in allowed:
        raise QueryRejected(
            "sql",
            N_("Uma consulta começa com SELECT, WITH ou VALUES.")
            if kind == "query"
            else N_("Uma operação começa com SELECT, WITH, INSERT, UPDATE ou DELETE."),
        )
    if kind == "query":
        found = _WRITES.search(bare)
        if found:
            raise QueryRejected(
                "sql", N_("Uma consulta só lê: comandos que alteram dados não são aceitos.")
            )
    return sql


def save_named_query(
    *, session: Session, name: str, kind: str, description: str, sql: str
) -> NamedQuery:
    if not NAME.match(name):
        raise QueryRejected("name", N_("Nome: letras, dígitos, '_', '.' ou '-', até 64."))
    if kind not in ("query", "operation"):
        raise QueryRejected("kind", N_("Escolha consulta ou operação."))
    sql = check_sql(sql, kind)
    found = named_query(session=session, name=name)
    if found is None:
        found = NamedQuery(name=name, kind=kind, sql=sql)
    found.kind, found.sql, found.description = kind, sql, description[:255]
    found.updated_at = utcnow()
    session.add(found)
    session.flush()
    return found


def named_query(*, session: Session, name: str) -> NamedQuery | None:
    return session.exec(select(NamedQuery).where(NamedQuery.name == name)).first()


def list_named_queries(*, session: Session) -> list[NamedQuery]:
    return list(session.exec(select(NamedQuery).order_by(col(NamedQuery.name))).all())


def delete_named_query(*, session: Session, name: str) -> bool:
    found = named_query(session=session, name=name)
    if found is None:
        return False
    session.delete(found)
    session.flush()
    return True


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


@dataclass(frozen=True)
class QueryResult:
    rows: list[dict[str, Any]]
    truncated: bool
    row_count: int | None


class QueryFailed(RuntimeError):
    """The database refused the admin's SQL."""


class QueryTimedOut(QueryFailed):
    """The query ran out of time and was stopped."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"stopped after {seconds:g} s")
        self.seconds = seconds


class BadParameter(ValueError):
    """A parameter's JSON value cannot be read as the type the query compares it with."""

    def __init__(self, name: str, expected: str) -> None:
        super().__init__(expected)
        self.name = name
        self.expected = expected


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, str):
        return datetime.fromisoformat(value.strip())
    raise ValueError(value)


def _coerce(value: Any, pg_type: str) -> Any:
    """A JSON value as the PostgreSQL type the statement expects (asyncpg binds by type)."""
    if value is None:
        return None
    if pg_type in ("timestamp", "timestamptz"):
        moment = _as_datetime(value)
        if pg_type == "timestamptz" and moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        if pg_type == "timestamp" and moment.tzinfo is not None:
            return moment.astimezone(UTC).replace(tzinfo=None)
        return moment
    if pg_type == "date":
        return _as_datetime(value).date()
    if pg_type in ("int2", "int4", "int8"):
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(value)
        return int(value)
    if pg_type in ("float4", "float8"):
        if isinstance(value, bool):
            raise ValueError(value)
        return float(value)
    if pg_type == "numeric":
        if isinstance(value, bool):
            raise ValueError(value)
        return Decimal(str(value))
    if pg_type == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ValueError(value)
    if pg_type in ("text", "varchar", "bpchar", "name", "unknown") and not isinstance(value, str):
        return str(value).lower() if isinstance(value, bool) else str(value)
    return value


PG_TYPE_NAMES = {
    "timestamp": N_("data e hora"),
    "timestamptz": N_("data e hora"),
    "date": N_("data"),
    "int2": N_("número inteiro"),
    "int4": N_("número inteiro"),
    "int8": N_("número inteiro"),
    "float4": N_("número"),
    "float8": N_("número"),
    "numeric": N_("número"),
    "bool": N_("verdadeiro ou falso"),
}


def _typed_for_postgres(
    connection: Connection, statement: TextClause, parameters: dict[str, Any]
) -> dict[str, Any]:
    """asyncpg sends parameters typed as the server infers them: ask the server (prepare
    the statement) and read each JSON value as that type, so `created_at >= :desde` takes
    "2026-01-01" on PostgreSQL as it does on SQLite."""
    compiled = statement.compile(dialect=connection.dialect)
    names = list(compiled.positiontup or [])
    raw = connection.connection.driver_connection
    try:
        prepared = await_only(raw.prepare(str(compiled)))  # type: ignore[union-attr]
    except Exception as exc:  # asyncpg's own errors: this is the driver, not SQLAlchemy
        raise QueryFailed(str(exc).splitlines()[0]) from None
    typed = dict(parameters)
    for name, pg in zip(names, prepared.get_parameters(), strict=False):
        if name not in parameters:
            continue
        try:
            typed[name] = _coerce(parameters[name], pg.name)
        except (ValueError, TypeError, ArithmeticError):
            raise BadParameter(name, PG_TYPE_NAMES.get(pg.name, pg.name)) from None
    return typed


def run_named(
    *, session: Session, query: NamedQuery, parameters: dict[str, Any], dialect: str
) -> QueryResult:
    """Run it with bound parameters. A `query` runs read-only: SQLite's query_only, or a
    PostgreSQL savepoint rolled back after the read; both with a time limit."""
    statement = text(query.sql)
    read_only = query.kind == "query"
    connection = session.connection()
    nested = session.begin_nested() if read_only and dialect != "sqlite" else None
    raw: Any = None
    was_read_only = 0
    seconds = SQLITE_QUERY_SECONDS if dialect == "sqlite" else QUERY_SECONDS
    deadline = time.monotonic() + seconds
    try:
        if dialect == "sqlite":
            raw = connection.connection.driver_connection
            # A connection of the reads' own is read-only already; it stays so.
            was_read_only = raw.execute("PRAGMA query_only").fetchone()[0]
            if read_only:
                raw.execute("PRAGMA query_only = ON")
            raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        else:
            connection.exec_driver_sql(f"SET LOCAL statement_timeout = {int(seconds * 1000)}")
            parameters = _typed_for_postgres(connection, statement, parameters)
        result = connection.execute(statement, parameters)
        if result.returns_rows:
            keys = list(result.keys())
            fetched = result.fetchmany(MAX_ROWS + 1)
            rows = [dict(zip(keys, (_plain(v) for v in row), strict=True)) for row in fetched]
            outcome = QueryResult(rows[:MAX_ROWS], len(rows) > MAX_ROWS, None)
        else:
            outcome = QueryResult([], False, result.rowcount)
    except DBAPIError as exc:
        if nested is not None:
            nested.rollback()
        cancelled = getattr(exc.orig, "sqlstate", None) == "57014"  # PostgreSQL's timeout
        if cancelled or (dialect == "sqlite" and time.monotonic() > deadline):
            raise QueryTimedOut(seconds) from None
        raise QueryFailed(str(exc.orig).splitlines()[0] if exc.orig else str(exc)) from None
    finally:
        if raw is not None:
            raw.set_progress_handler(None, 0)
            if read_only and not was_read_only:
                raw.execute("PRAGMA query_only = OFF")
    if nested is not None:
        nested.rollback()
    return outcome
