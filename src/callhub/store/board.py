"""What the wall board reads from callhub's own records: today's calls per queue and per
extension, who holds each extension, and the requests' counts (the field's too)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, bindparam, case, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, or_

from callhub.store.models import (
    IN_PROGRESS,
    OPEN_TASK,
    Call,
    CallDirection,
    Extension,
    FieldVisit,
    Occurrence,
    ServiceRequest,
    Status,
    Task,
    TaskKind,
    User,
    UTCDateTime,
    utcnow,
)
from callhub.store.params import get_setting, set_setting

# How PBXs spell an answered or an abandoned call (compared case-insensitively).
ANSWERED = {"atendida", "atendido", "completada", "answered", "completed"}
ABANDONED = {"abandono", "abandonada", "abandonado", "abandoned", "não atendida", "nao atendida"}
# Sources whose end of call is reported: only their open calls count as "on a call".
ENDS_REPORTED = ("55pbx", "uscall")
OPEN_CALL_HOURS = 4


@dataclass
class RequestCounts:
    """The service desk's requests as the board shows them; the field's technicians too."""

    in_progress: int = 0
    suspended: int = 0
    overdue: int = 0
    awaiting_approval: int = 0
    solved_today: int = 0
    # Technicians checked in at a customer's site right now.
    in_field: int = 0


@dataclass
class QueueDay:
    """A queue's receptive calls since midnight, each counted once: answered, abandoned
    (ended, or given up, without an answer) or still in progress (ringing, waiting in
    the PBX). `offered` is their sum: the wall board's figures add up."""

    answered: int = 0
    abandoned: int = 0
    in_progress: int = 0
    within_target: int = 0

    @property
    def offered(self) -> int:
        return self.answered + self.abandoned + self.in_progress


@dataclass
class BoardSettings:
    """What a supervisor sets for the wall board: which queues are rows (with USCall, its
    queues are rows too) and where each figure turns amber and red."""

    queues: list[str] = field(default_factory=list)
    # Service level (%, higher is better): amber below `sl_warn`, red below `sl_bad`.
    sl_warn: int = 80
    sl_bad: int = 60
    # Longest wait (seconds): amber from `wait_warn`, red from `wait_bad`.
    wait_warn: int = 30
    wait_bad: int = 60
    # Abandon rate (%): amber from `abandon_warn`, red from `abandon_bad`.
    abandon_warn: int = 5
    abandon_bad: int = 10

    def to_json(self) -> str:
        return json.dumps(vars(self), separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | None) -> BoardSettings:
        if not text:
            return cls()
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in json.loads(text).items() if k in known})


BOARD_SETTINGS = "board.settings"


def board_settings(*, session: Session) -> BoardSettings:
    return BoardSettings.from_json(get_setting(session=session, key=BOARD_SETTINGS))


def save_board_settings(*, session: Session, settings: BoardSettings) -> None:
    set_setting(session=session, key=BOARD_SETTINGS, value=settings.to_json())


@dataclass
class ExtensionDay:
    ramal: str
    user: str | None = None
    received: int = 0
    made: int = 0
    number: str = ""
    call_since: datetime | None = None


def queue_day(*, session: Session, since: datetime, target_seconds: int) -> dict[str, QueueDay]:
    """Receptive calls per queue since `since`, each in one of answered, abandoned and in
    progress (`outcome`); and those answered within `target_seconds` of waiting."""
    open_since = utcnow() - timedelta(hours=OPEN_CALL_HOURS)
    rows = session.execute(
        _queue_day(), {"since": since, "target": target_seconds, "open_since": open_since}
    )
    out: dict[str, QueueDay] = {}
    for queue, status, talk, ok, ended, delivered, stale, count in rows:
        day = out.setdefault(str(queue), QueueDay())
        said = outcome(
            status, talked=bool(talk), ended=bool(ended or stale), delivered=bool(delivered)
        )
        if said == "answered":
            day.answered += count
            day.within_target += count if ok else 0
        elif said == "abandoned":
            day.abandoned += count
        else:
            day.in_progress += count
    return out


def outcome(status: str | None, *, talked: bool, ended: bool, delivered: bool) -> str:
    """What became of a receptive call: "answered", "abandoned" or "in_progress", for the
    wall board and the call lists alike.

    Answered: it talked, its PBX says so, or a PBX that reports no end delivered it to an
    extension (a webservice pop: the call reached the agent). Abandoned: its PBX says so,
    or it ended (or was left open for hours) unanswered. Otherwise still in progress."""
    said = (status or "").strip().casefold()
    if talked or said in ANSWERED or (not said and delivered):
        return "answered"
    if said in ABANDONED or said.startswith("abandon") or ended:
        return "abandoned"
    return "in_progress"


def call_outcome(call: Call) -> str:
    """`outcome` for one stored call (a call left open for hours counts as ended)."""
    started = call.started_at
    stale = started is not None and started < utcnow() - timedelta(hours=OPEN_CALL_HOURS)
    return outcome(
        call.status,
        talked=bool(call.talk_seconds),
        ended=call.ended_at is not None or call.end_seen_at is not None or stale,
        delivered=call.ramal is not None and call.source not in ENDS_REPORTED,
    )


def extension_day(*, session: Session, since: datetime) -> dict[str, ExtensionDay]:
    """Every registered extension with its agent, calls today, and the open call if any
    (the latest, when the PBX left several open). One statement, as `request_counts`."""
    open_since = utcnow() - timedelta(hours=OPEN_CALL_HOURS)
    rows = session.execute(_extension_day(), {"since": since, "open_since": open_since})
    out: dict[str, ExtensionDay] = {}
    for ramal, name, made_today, calls_today, number, since_at in rows:
        out[ramal] = ExtensionDay(
            ramal,
            user=name,
            received=(calls_today or 0) - (made_today or 0),
            made=made_today or 0,
            number=number or "",
            call_since=since_at,
        )
    return out


def request_counts(*, session: Session, since: datetime) -> RequestCounts:
    """Requests in progress, suspended, overdue and awaiting approval now; solved since
    `since`; technicians checked in at a site now. One statement: on PostgreSQL each
    round trip costs the event loop more than the counting."""
    row = session.execute(_request_counts(), {"since": since, "now": utcnow()}).one()
    return RequestCounts(
        in_progress=row[0],
        suspended=row[1],
        overdue=row[2],
        awaiting_approval=row[3],
        solved_today=row[4],
        in_field=row[5],
    )


# The statements, built once: building one costs the event loop more than PostgreSQL's
# answer (a millisecond for the extensions'); their values are bound at each read.


def _open_call(open_since: Any) -> tuple[ColumnElement[bool], ...]:
    """A call in progress at an extension: its PBX reports ends, its start was seen, its
    end was not, and it started after `open_since` (older ones were left open)."""
    return (
        col(Call.source).in_(ENDS_REPORTED),
        col(Call.started_at) >= open_since,
        col(Call.ended_at).is_(None),
        col(Call.end_seen_at).is_(None),
        col(Call.start_seen_at).is_not(None),
    )


def on_a_call(*, session: Session, ramal: str) -> bool:
    """Whether the extension has a call its PBX has not ended (as the board reads it)."""
    since = utcnow() - timedelta(hours=OPEN_CALL_HOURS)
    found = session.execute(
        sa_select(col(Call.id)).where(col(Call.ramal) == ramal, *_open_call(since)).limit(1)
    ).first()
    return found is not None


def _at(name: str) -> Any:
    return bindparam(name, type_=UTCDateTime(timezone=True))


@functools.cache
def _queue_day() -> Select[Any]:
    talked = col(Call.talk_seconds) > 0
    within = func.coalesce(col(Call.wait_seconds), 0) <= bindparam("target", type_=Integer())
    ended = col(Call.ended_at).is_not(None) | col(Call.end_seen_at).is_not(None)
    # Delivered to an extension by a PBX that never reports the end: the pop's call.
    delivered = col(Call.ramal).is_not(None) & col(Call.source).not_in(ENDS_REPORTED)
    stale = col(Call.started_at) < _at("open_since")
    conditions = (talked, within, ended, delivered, stale)
    flags = [case((c, 1), else_=0) for c in conditions]
    return (
        sa_select(col(Call.queue), col(Call.status), *flags, func.count())
        .where(
            col(Call.started_at) >= _at("since"),
            col(Call.queue).is_not(None),
            or_(col(Call.direction).is_(None), Call.direction == CallDirection.receptive),
        )
        .group_by(col(Call.queue), col(Call.status), *conditions)
    )


@functools.cache
def _extension_day() -> Select[Any]:
    made = col(Call.direction) == CallDirection.active
    counts = (
        sa_select(
            col(Call.ramal).label("ramal"),
            func.sum(case((made, 1), else_=0)).label("made"),
            func.count().label("calls"),
        )
        .where(col(Call.started_at) >= _at("since"))
        .where(col(Call.direction).is_(None) | (Call.direction != CallDirection.sms))
        .group_by(col(Call.ramal))
        .subquery()
    )
    open_calls = (
        sa_select(
            col(Call.ramal).label("ramal"),
            col(Call.number).label("number"),
            col(Call.started_at).label("started_at"),
            func.row_number()
            .over(partition_by=col(Call.ramal), order_by=col(Call.started_at).desc())
            .label("latest"),
        )
        .where(*_open_call(_at("open_since")))
        .subquery()
    )
    return (
        sa_select(
            col(Extension.ramal),
            col(User.name),
            counts.c.made,
            counts.c.calls,
            open_calls.c.number,
            open_calls.c.started_at,
        )
        .join(User, col(User.id) == Extension.user_id)
        .outerjoin(counts, counts.c.ramal == Extension.ramal)
        .outerjoin(open_calls, (open_calls.c.ramal == Extension.ramal) & (open_calls.c.latest == 1))
    )


@functools.cache
def _request_counts() -> Select[Any]:
    def count(what: Any, *where: Any) -> Any:
        return sa_select(what).where(*where).scalar_subquery()

    requests = func.count(col(ServiceRequest.id))
    is_open = col(ServiceRequest.status).in_([s.value for s in IN_PROGRESS])
    return sa_select(
        count(requests, is_open),
        count(requests, ServiceRequest.status == Status.suspended),
        count(requests, is_open, col(ServiceRequest.deadline) < _at("now")),
        count(
            func.count(func.distinct(Task.request_id)),
            Task.kind == TaskKind.approval,
            col(Task.status).in_([s.value for s in OPEN_TASK]),
        ),
        count(
            func.count(func.distinct(Occurrence.request_id)),
            Occurrence.status_to == Status.resolved,
            col(Occurrence.created_at) >= _at("since"),
        ),
        count(
            func.count(func.distinct(FieldVisit.user_id)),
            col(FieldVisit.checkout_at).is_(None),
        ),
    )
