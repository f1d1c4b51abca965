"""The screen pop's statements: written once per database, run through the driver.

The ORM serves the rest of callhub. A pop's few statements skip its per-statement work
(compiling, processing parameters and rows) and go straight to the DBAPI cursor of the
session's connection, inside the session's transaction, where SQLite's statement cache
and asyncpg's prepared statements keep them prepared:

- `card_by_document`, `card_by_phone`: who called, one statement either way;
- `record_call`: the call a webservice pop belongs to, created or completed;
- `create_pop`: the pop itself;
- `merge_push`: a PBX's call record merged into its call, with the start, end and
  transfer claims folded in: the statement reports which marks this very push set first
  (`claimed`, computed from the row as it was), so a repeated or concurrent push does
  each side effect once, and which call this one was transferred from.
"""

from __future__ import annotations

import functools
import json
import re
import secrets
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from callhub.identity import DocKind, Document, normalise_phone
from callhub.store.catalog import RequesterCard
from callhub.store.models import Call, DecimalText, ScreenPop, UTCDateTime, utcnow

# The marks a push may set first, and their bits in `claimed`.
CLAIM_BITS = {"start": 1, "end": 2, "transfer": 4}
CLAIM_COLUMNS = {"start": "start_seen_at", "end": "end_seen_at", "transfer": "transfer_seen_at"}


def time_ordered_id() -> str:
    """32 hex digits that sort by creation time (nanoseconds, then 64 random bits): a new
    row's key lands at the end of its index, on a page the cache holds and the batch
    shares, instead of on a random page of the whole index."""
    return f"{time.time_ns():016x}{secrets.randbits(64):016x}"


_HANDLE = "callhub.hotpath"


def _handle(session: Session) -> tuple[Any, str]:
    """The DBAPI cursor of the session's current transaction, and the database's dialect:
    looked up once per transaction (a batch of pops shares one), not per statement."""
    transaction = session.get_transaction()
    kept = session.info.get(_HANDLE)
    if kept is not None and kept[0] is transaction:
        return kept[1], kept[2]
    cursor = session.connection().connection.cursor()
    dialect = session.get_bind().dialect.name
    session.info[_HANDLE] = (session.get_transaction(), cursor, dialect)
    return cursor, dialect


def _dialect(session: Session) -> str:
    return _handle(session)[1]


@functools.cache
def _sql(text: str, dialect: str) -> str:
    """`?` placeholders as the driver wants them ($1, $2… for asyncpg)."""
    if dialect != "postgresql":
        return text
    counter = iter(range(1, 10_000))
    return re.sub(r"\?", lambda _m: f"${next(counter)}", text)


def _at(value: datetime | None, dialect: str) -> Any:
    """A UTC datetime as the column keeps it (SQLite: the ORM's text form,
    `%Y-%m-%d %H:%M:%S.%f`, which isoformat writes five times faster than strftime)."""
    if value is None or dialect == "postgresql":
        return value
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _execute(session: Session, text: str, params: tuple[Any, ...]) -> Any:
    cursor, dialect = _handle(session)
    try:
        cursor.execute(_sql(text, dialect), params)
    except Exception as exc:
        raise _translated(session, exc, text, params) from exc
    return cursor


def _translated(session: Session, exc: Exception, statement: str, params: Any) -> Exception:
    """A driver's error as SQLAlchemy would have raised it (what the callers and the
    error handlers know): an IntegrityError, an OperationalError… and, when the
    connection is gone, the connection invalidated, so the pool replaces it."""
    connection = session.connection()
    dialect = connection.dialect
    dbapi = dialect.loaded_dbapi
    if not isinstance(exc, dbapi.Error):
        return exc
    gone = dialect.is_disconnect(exc, connection.connection.dbapi_connection, None)
    if gone:
        connection.invalidate(exc)
    return DBAPIError.instance(
        statement, params, exc, dbapi.Error, connection_invalidated=gone, dialect=dialect
    )


# -- who called --------------------------------------------------------------------------

_CARD = (
    "SELECT r.id, r.name, r.cpf, r.cnpj, r.email, p.number FROM requester r"
    " LEFT JOIN phone p ON p.requester_id = r.id WHERE {where} ORDER BY p.id"
)
_BY_CPF = _CARD.format(where="r.cpf = ?")
_BY_CNPJ = _CARD.format(where="r.cnpj = ?")
# A number identifies its owner only when exactly one requester has it.
_BY_PHONE = _CARD.format(
    where="r.id = (SELECT min(requester_id) FROM phone WHERE number = ?"
    " HAVING count(DISTINCT requester_id) = 1)"
)


def _card(rows: list[Any]) -> RequesterCard | None:
    if not rows:
        return None
    first = rows[0]
    return RequesterCard(
        id=first[0],
        name=first[1],
        cpf=first[2],
        cnpj=first[3],
        email=first[4],
        phones=tuple(row[5] for row in rows if row[5] is not None),
    )


def card_by_document(*, session: Session, document: Document) -> RequesterCard | None:
    if document.kind is DocKind.cpf:
        return _card(_execute(session, _BY_CPF, (document.digits,)).fetchall())
    if document.kind is DocKind.cnpj:
        return _card(_execute(session, _BY_CNPJ, (document.digits,)).fetchall())
    return None


def card_by_phone(*, session: Session, number: str | None) -> RequesterCard | None:
    e164 = normalise_phone(number)
    if e164 is None:
        return None
    return _card(_execute(session, _BY_PHONE, (e164,)).fetchall())


# -- the call and the pop ------------------------------------------------------------------

_CALL_FIELDS = ("ramal", "number", "document", "queue", "ivr", "requester_id")
# A later mention fills in what the first one lacked and never erases what it had.
_RECORD_CALL = (
    'INSERT INTO "call" (source, external_id, started_at, '
    + ", ".join(_CALL_FIELDS)
    + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, external_id) DO UPDATE SET "
    + ", ".join(f'{k} = coalesce(excluded.{k}, "call".{k})' for k in _CALL_FIELDS)
    + " RETURNING id"
)


def record_call(
    *,
    session: Session,
    source: str,
    external_id: str,
    ramal: str | None,
    number: str | None,
    document: str | None,
    queue: str | None,
    ivr: str | None,
    requester_id: int | None,
) -> int:
    """The call's id: created at its first mention, completed by later ones."""
    params = (
        source,
        external_id,
        _at(utcnow(), _dialect(session)),
        ramal,
        number,
        document,
        queue,
        ivr,
        requester_id,
    )
    return int(_execute(session, _RECORD_CALL, params).fetchone()[0])


# The extension's holder is read in the same statement (its primary key).
_CREATE_POP = (
    "INSERT INTO screen_pop (pop_id, ramal, kind, payload, call_id, requester_id, request_id,"
    " delivered, created_at, holder_id) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?,"
    " (SELECT user_id FROM extension WHERE ramal = ?)) RETURNING seq, holder_id"
)


def create_pop(
    *,
    session: Session,
    pop_id: str,
    ramal: str,
    kind: str,
    payload: dict[str, Any],
    call_id: int | None,
    requester_id: int | None,
    request_id: int | None,
) -> ScreenPop:
    created_at = utcnow()
    params = (
        pop_id,
        ramal,
        kind,
        json.dumps(payload, separators=(",", ":")),
        call_id,
        requester_id,
        request_id,
        _at(created_at, _dialect(session)),
        ramal,
    )
    seq, holder_id = _execute(session, _CREATE_POP, params).fetchone()
    # Built without validation: the values are ours, and this is the hot path.
    return ScreenPop.model_construct(
        seq=int(seq),
        pop_id=pop_id,
        ramal=ramal,
        kind=kind,
        payload=payload,
        call_id=call_id,
        requester_id=requester_id,
        request_id=request_id,
        delivered=0,
        created_at=created_at,
        holder_id=holder_id,
    )


# -- a PBX's call record -------------------------------------------------------------------

# Filled from a PBX's call record. On a repeated or late push nothing already known is lost:
# an end push's values win over a start push's, and a start push only fills gaps.
RECORD_FIELDS = (
    "ramal",
    "number",
    "document",
    "queue",
    "ivr",
    "started_at",
    "ended_at",
    "direction",
    "call_type",
    "status",
    "disconnection",
    "central_id",
    "trunk",
    "country_code",
    "area_code",
    "order_typed",
    "talk_seconds",
    "duration_seconds",
    "wait_seconds",
    "audio_url",
    "audio_file",
    "tax",
    "tax_type",
    "cost",
    "balance",
    "transfer_to",
    "transferred_from_id",
    "requester_id",
)


@functools.cache
def _columns() -> tuple[tuple[str, Any], ...]:
    table = Call.__table__  # type: ignore[attr-defined]
    return tuple((c.name, c.type) for c in table.columns)


@functools.cache
def _merge_sql(newer_wins: bool, date_known: bool) -> str:
    inserted = ["source", "external_id", *RECORD_FIELDS, *CLAIM_COLUMNS.values(), "claimed"]
    merged = [
        f'{k} = coalesce(excluded.{k}, "call".{k})'
        if newer_wins
        else f'{k} = coalesce("call".{k}, excluded.{k})'
        for k in RECORD_FIELDS
        if k != "started_at"
    ]
    # A date the PBX sent beats the arrival time a record was first given without one.
    source = "excluded" if date_known else '"call"'
    merged.append(f"started_at = {source}.started_at")
    merged += [f'{c} = coalesce("call".{c}, excluded.{c})' for c in CLAIM_COLUMNS.values()]
    # SET expressions see the row as it was: a mark this push sets first is claimed by it.
    merged.append(
        "claimed = "
        + " + ".join(
            f'(CASE WHEN "call".{c} IS NULL AND excluded.{c} IS NOT NULL THEN {CLAIM_BITS[m]}'
            " ELSE 0 END)"
            for m, c in CLAIM_COLUMNS.items()
        )
    )
    returning = ", ".join(f'"call".{name}' for name, _type in _columns())
    # By the values given, not the row's: SQLite plans a subquery of RETURNING that
    # refers to the row as a scan of the table.
    origin = (
        '(SELECT o.id FROM "call" o WHERE o.source = ? AND o.transfer_to = ? ORDER BY o.id LIMIT 1)'
    )
    return (
        f'INSERT INTO "call" ({", ".join(inserted)}) VALUES ({", ".join("?" * len(inserted))})'
        f" ON CONFLICT (source, external_id) DO UPDATE SET {', '.join(merged)}"
        f' RETURNING {returning}, "call".claimed, {origin}'
    )


def _bound(value: Any, dialect: str) -> Any:
    if isinstance(value, datetime):
        return _at(value, dialect)
    if isinstance(value, Decimal):
        return str(value)
    return value


def _utc(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@functools.cache
def _loaders() -> tuple[tuple[str, Any], ...]:
    """Each column of a returned call row, and what turns its value into the model's (None:
    taken as it is)."""
    loaders: list[tuple[str, Any]] = []
    for name, kind in _columns():
        if isinstance(kind, UTCDateTime | DateTime):
            loaders.append((name, _utc))
        elif isinstance(kind, DecimalText):
            loaders.append((name, Decimal))
        else:
            loaders.append((name, None))
    return tuple(loaders)


def merge_push(
    *,
    session: Session,
    source: str,
    external_id: str,
    values: dict[str, Any],
    newer_wins: bool,
    marks: tuple[str, ...],
) -> tuple[Call, set[str], int | None]:
    """Merge a call record (creating the call at its first mention) in one statement.

    Returns the call as it is now, the marks of `marks` this push set first, and the id
    of the call whose transfer made this one (found by the transfer's id), if any.
    """
    dialect = _dialect(session)
    now = utcnow()
    row = {k: values.get(k) for k in RECORD_FIELDS}
    date_known = row["started_at"] is not None
    if not date_known:
        row["started_at"] = now
    claims = [now if mark in marks else None for mark in CLAIM_COLUMNS]
    inserted_claims = sum(CLAIM_BITS[m] for m in marks)
    params = (
        source,
        external_id,
        *(_bound(row[k], dialect) for k in RECORD_FIELDS),
        *(_at(c, dialect) for c in claims),
        inserted_claims,
        source,
        external_id,
    )
    found = _execute(session, _merge_sql(newer_wins, date_known), params).fetchone()
    loaders = _loaders()
    call = Call.model_construct(
        **{
            name: value if load is None or value is None else load(value)
            for (name, load), value in zip(loaders, found, strict=False)
        }
    )
    claimed_bits = int(found[len(loaders)] or 0)
    claimed = {m for m in marks if claimed_bits & CLAIM_BITS[m]}
    origin = found[len(loaders) + 1]
    return call, claimed, int(origin) if origin is not None else None
