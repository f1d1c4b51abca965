"""The ITSM API's own records: groups and permissions, sessions, executions, FROM-TO keys,
synchronisation marks and the admin's named queries."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, delete, func, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.util import await_only
from sqlmodel import Session, col, select

from callhub.i18n import N_
from callhub.store.models import (
    ApiExecution,
    ApiPermission,
    ApiSession,
    Group,
    GroupMember,
    GroupPlatform,
    NamedQuery,
    SyncKey,
    SyncMark,
    User,
    utcnow,
)

# -- groups and permissions -------------------------------------------------------------

# What a group's acronym may be, and how long a platform's name (the admin page and the
# command line check both with these).
ACRONYM = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
PLATFORM_MAX = 64


def group_by_acronym(*, session: Session, acronym: str) -> Group | None:
    return session.exec(select(Group).where(Group.acronym == acronym)).first()


def save_group(*, session: Session, acronym: str, name: str) -> Group:
    group = group_by_acronym(session=session, acronym=acronym)
    if group is None:
        group = Group(acronym=acronym, name=name)
    group.name = name
    session.add(group)
    session.flush()
    return group


def set_all_requests(*, session: Session, group_id: int, value: bool) -> None:
    """Whether the group's members see every request (store/access.py), or their own."""
    group = session.get(Group, group_id)
    assert group is not None
    group.all_requests = value
    session.add(group)
    session.flush()


def platforms_of(*, session: Session, group_id: int) -> list[str]:
    query = select(GroupPlatform.platform).where(GroupPlatform.group_id == group_id)
    return sorted(session.exec(query).all())


def set_platforms(*, session: Session, group_id: int, platforms: Iterable[str]) -> None:
    """The API platforms the group's members may log in as (replacing the group's own)."""
    wanted = {p.strip().upper() for p in platforms if p.strip()}
    for row in session.exec(select(GroupPlatform).where(GroupPlatform.group_id == group_id)):
        if row.platform not in wanted:
            session.delete(row)
        wanted.discard(row.platform)
    for platform in sorted(wanted):
        session.add(GroupPlatform(group_id=group_id, platform=platform))
    session.flush()


def platform_allowed(*, session: Session, user_id: int, platform: str) -> bool:
    """A platform some group names is its members' only; one no group names is open."""
    owners = list(
        session.exec(
            select(GroupPlatform.group_id).where(GroupPlatform.platform == platform.strip().upper())
        )
    )
    if not owners:
        return True
    member = session.exec(
        select(GroupMember.user_id).where(
            GroupMember.user_id == user_id, col(GroupMember.group_id).in_(owners)
        )
    ).first()
    return member is not None


def list_groups(*, session: Session) -> list[Group]:
    return list(session.exec(select(Group).order_by(col(Group.acronym))).all())


def members_of(*, session: Session, group_id: int) -> list[tuple[User, bool]]:
    """A group's members, each with whether the member leads the group."""
    query = (
        select(User, GroupMember.leader)
        .join(GroupMember, col(GroupMember.user_id) == col(User.id))
        .where(GroupMember.group_id == group_id)
        .order_by(col(User.username))
    )
    return [(user, bool(leader)) for user, leader in session.exec(query).all()]


def add_member(*, session: Session, group_id: int, user_id: int, leader: bool = False) -> None:
    """Make the user a member (a leader when `leader`); adding again sets the leader mark."""
    member = session.get(GroupMember, (group_id, user_id))
    if member is None:
        member = GroupMember(group_id=group_id, user_id=user_id)
    member.leader = leader
    session.add(member)
    session.flush()


def remove_member(*, session: Session, group_id: int, user_id: int) -> None:
    found = session.get(GroupMember, (group_id, user_id))
    if found is not None:
        session.delete(found)
        session.flush()


def permissions_of(*, session: Session, group_id: int) -> set[str]:
    query = select(ApiPermission.operation).where(ApiPermission.group_id == group_id)
    return set(session.exec(query).all())


def set_permissions(*, session: Session, group_id: int, operations: Iterable[str]) -> None:
    session.exec(delete(ApiPermission).where(col(ApiPermission.group_id) == group_id))
    for operation in sorted(set(operations)):
        session.add(ApiPermission(group_id=group_id, operation=operation))
    session.flush()


def may_call(*, session: Session, user_id: int, operation: str) -> bool:
    query = (
        select(func.count())
        .select_from(ApiPermission)
        .join(GroupMember, col(GroupMember.group_id) == col(ApiPermission.group_id))
        .where(GroupMember.user_id == user_id)
        .where(ApiPermission.operation == operation)
    )
    return int(session.exec(query).one()) > 0


# -- sessions ---------------------------------------------------------------------------


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def open_session(
    *,
    session: Session,
    user_id: int,
    platform: str,
    device_token: str | None,
    language: str,
) -> str:
    """A new sessionID. Only its digest is stored: a copy of the database opens no session."""
    session_id = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        ApiSession(
            id=_digest(session_id),
            user_id=user_id,
            platform=platform,
            device_token=device_token,
            language=language,
            created_at=now,
            last_seen_at=now,
        )
    )
    session.flush()
    return session_id


@dataclass(frozen=True)
class SessionCheck:
    row: ApiSession | None
    user: User | None
    expired: bool


def check_session(
    *, session: Session, session_id: str, idle_seconds: int, max_seconds: int
) -> SessionCheck:
    """Find the session; renew its idle clock (written at most every few seconds). It
    expires when idle too long, and in any case `max_seconds` after the login."""
    row = session.get(ApiSession, _digest(session_id))
    if row is None or row.ended_at is not None:
        return SessionCheck(None, None, False)
    now = utcnow()
    if now - row.last_seen_at > timedelta(seconds=idle_seconds) or now - row.created_at > (
        timedelta(seconds=max_seconds)
    ):
        return SessionCheck(row, None, True)
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return SessionCheck(None, None, False)
    # A write per call would double the cost of a read; a few seconds of slack on an
    # idle timeout of minutes is not worth it.
    if now - row.last_seen_at > timedelta(seconds=min(30, max(1, idle_seconds // 20))):
        row.last_seen_at = now
        session.add(row)
    return SessionCheck(row, user, False)


def end_session(*, session: Session, session_id: str) -> None:
    """Logout: the sessionID opens nothing any more."""
    row = session.get(ApiSession, _digest(session_id))
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
        session.add(row)
        session.flush()


def disassociate_device(*, session: Session, user_id: int, device_token: str) -> int:
    query = (
        select(ApiSession)
        .where(ApiSession.user_id == user_id)
        .where(ApiSession.device_token == device_token)
    )
    rows = list(session.exec(query).all())
    for row in rows:
        row.device_token = None
        session.add(row)
    session.flush()
    return len(rows)


# -- executions -------------------------------------------------------------------------

MAX_LOGGED_CHARS = 32_000


def record_execution(
    *,
    session: Session,
    operation: str,
    user_id: int | None,
    platform: str | None,
    message_id: str | None,
    input: Any,
    output: Any,
    error_code: str | None,
    http_status: int,
    started_at: datetime,
    started: float,
) -> int:
    row = ApiExecution(
        operation=operation,
        user_id=user_id,
        platform=platform,
        message_id=message_id,
        input=input,
        output=output,
        ok=error_code is None,
        error_code=error_code,
        http_status=http_status,
        started_at=started_at,
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


def failed_executions(
    *,
    session: Session,
    start: datetime | None,
    end: datetime | None,
    operations: list[str] | None,
    limit: int,
) -> tuple[int, list[tuple[ApiExecution, str | None]]]:
    query = select(ApiExecution, User.username).join(
        User, col(User.id) == col(ApiExecution.user_id), isouter=True
    )
    count = select(func.count()).select_from(ApiExecution)
    conditions: list[ColumnElement[bool]] = [col(ApiExecution.ok).is_(False)]
    if start is not None:
        conditions.append(col(ApiExecution.started_at) >= start)
    if end is not None:
        conditions.append(col(ApiExecution.started_at) <= end)
    if operations:
        conditions.append(col(ApiExecution.operation).in_(operations))
    for condition in conditions:
        query = query.where(condition)
        count = count.where(condition)
    total = int(session.exec(count).one())
    rows = session.exec(query.order_by(col(ApiExecution.id).desc()).limit(limit)).all()
    return total, [(row, name) for row, name in rows]


# -- FROM-TO keys and synchronisation marks ----------------------------------------------


def put_key(*, session: Session, platform: str, object: str, from_key: str, to_key: str) -> bool:
    """Map the platform's key to callhub's. Returns True when the mapping is new."""
    found = session.exec(
        select(SyncKey)
        .where(SyncKey.platform == platform)
        .where(SyncKey.object == object)
        .where(SyncKey.from_key == from_key)
    ).first()
    created = found is None
    if found is None:
        found = SyncKey(platform=platform, object=object, from_key=from_key, to_key=to_key)
    found.to_key = to_key
    session.add(found)
    session.flush()
    return created


def to_key(*, session: Session, platform: str, object: str, from_key: str) -> str | None:
    query = (
        select(SyncKey.to_key)
        .where(SyncKey.platform == platform)
        .where(SyncKey.object == object)
        .where(SyncKey.from_key == from_key)
    )
    return session.exec(query).first()


def from_keys(
    *, session: Session, platform: str, object: str, to_keys: Iterable[str]
) -> dict[str, str]:
    """callhub's keys back to the platform's (the first mapping of each)."""
    wanted = list(to_keys)
    if not wanted:
        return {}
    query = (
        select(SyncKey.to_key, SyncKey.from_key)
        .where(SyncKey.platform == platform)
        .where(SyncKey.object == object)
        .where(col(SyncKey.to_key).in_(wanted))
        .order_by(col(SyncKey.id))
    )
    found: dict[str, str] = {}
    for to, frm in session.exec(query).all():
        found.setdefault(to, frm)
    return found


def find_keys(
    *,
    session: Session,
    platform: str,
    object: str | None,
    from_key: str | None,
    to_key: str | None,
) -> list[SyncKey]:
    query = select(SyncKey).where(SyncKey.platform == platform)
    if object:
        query = query.where(SyncKey.object == object)
    if from_key:
        query = query.where(SyncKey.from_key == from_key)
    if to_key:
        query = query.where(SyncKey.to_key == to_key)
    return list(session.exec(query.order_by(col(SyncKey.id)).limit(1000)).all())


def delete_keys(
    *, session: Session, platform: str, object: str, from_key: str | None, to_key: str | None
) -> int:
    rows = find_keys(
        session=session, platform=platform, object=object, from_key=from_key, to_key=to_key
    )
    for row in rows:
        session.delete(row)
    session.flush()
    return len(rows)


def marks(
    *, session: Session, platform: str, object: str, item_ids: Iterable[int]
) -> dict[int, datetime]:
    ids = list(item_ids)
    if not ids:
        return {}
    query = (
        select(SyncMark.item_id, SyncMark.synced_at)
        .where(SyncMark.platform == platform)
        .where(SyncMark.object == object)
        .where(col(SyncMark.item_id).in_(ids))
    )
    return dict(session.exec(query).all())


def mark(*, session: Session, platform: str, object: str, item_ids: Iterable[int]) -> None:
    ids = list(item_ids)
    known = {
        row.item_id: row
        for row in session.exec(
            select(SyncMark)
            .where(SyncMark.platform == platform)
            .where(SyncMark.object == object)
            .where(col(SyncMark.item_id).in_(ids))
        ).all()
    }
    now = utcnow()
    for item_id in ids:
        row = known.get(item_id) or SyncMark(platform=platform, object=object, item_id=item_id)
        row.synced_at = now
        session.add(row)
    session.flush()


# -- named queries and operations ---------------------------------------------------------

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
