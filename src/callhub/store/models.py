"""The tables. Changing one means a new migration in store/migrations/versions."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, String, UniqueConstraint, false, text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (which keeps no zone) as on PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class DecimalText(TypeDecorator[Decimal]):
    """Exact decimals (money) on SQLite too, which would round them through floats."""

    impl = String(32)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        return None if value is None else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


def _money() -> Column[Decimal]:
    return Column(DecimalText(), nullable=True)


def _partial_index(name: str, column: str) -> Index:
    """An index of the rows where `column` is set (the others cost no index write)."""
    where = text(f"{column} IS NOT NULL")
    return Index(name, column, sqlite_where=where, postgresql_where=where)


def _ts(*, nullable: bool = False, index: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(timezone=True), nullable=nullable, index=index)


class Role(StrEnum):
    agent = "agent"
    supervisor = "supervisor"
    admin = "admin"


class Status(StrEnum):
    """Request statuses, with the codes of the ITSM contract."""

    in_progress = "InProgress"
    suspended = "Suspended"
    canceled = "Canceled"
    resolved = "Resolved"
    reopened = "Reopened"
    closed = "Closed"


# "In progress" for the IVR's obterQtdeSolicitacoes: open and being worked on.
IN_PROGRESS = (Status.in_progress, Status.reopened)


class Urgency(StrEnum):
    high = "H"
    medium = "M"
    low = "L"


class PopKind(StrEnum):
    new_request = "new_request"
    unidentified = "unidentified"
    view = "view"


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=120)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=16, default=Role.agent)
    can_execute: bool = False
    active: bool = True
    # Raised at logout, at a password change and when an admin ends the user's sessions:
    # a session cookie carries the version it was issued under, and an older one opens
    # nothing (views/auth.py).
    session_version: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Requester(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # The requester's login in the service desk (the API's userID).
    login: str | None = Field(default=None, max_length=64, unique=True, index=True)
    # Digits only. A person has a CPF (11 digits); an organisation a CNPJ (14).
    cpf: str | None = Field(default=None, max_length=11, unique=True, index=True)
    cnpj: str | None = Field(default=None, max_length=14, unique=True, index=True)
    name: str = Field(max_length=160)
    email: str | None = Field(default=None, max_length=254)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Phone(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("requester_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    requester_id: int = Field(foreign_key="requester.id", index=True)
    # E.164, normalised with the phonenumbers library, so any spelling of a number matches.
    number: str = Field(max_length=20, index=True)


class Category(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # The code integrators quote (the API's category.code); the number when unset.
    code: str | None = Field(default=None, max_length=64, unique=True, index=True)
    name: str = Field(max_length=120, unique=True)
    sla_minutes: int | None = None
    # The field app's notification type for its requests: 1 purchases, 2 travels, 3 HR.
    # Unset: 4 for incidents, 5 for anything else.
    notification_type: int | None = None


class Service(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str | None = Field(default=None, max_length=64, unique=True, index=True)
    name: str = Field(max_length=160, unique=True)
    category_id: int | None = Field(default=None, foreign_key="category.id")
    # When unset, the category's SLA applies.
    sla_minutes: int | None = None
    active: bool = True
    # Requests for this service wait for this group's approval before anyone executes them.
    approval_group_id: int | None = Field(default=None, foreign_key="user_group.id")


class ServiceRequest(SQLModel, table=True):
    __tablename__ = "service_request"
    # The request number is its primary key: what agents, IVRs and integrators quote.
    id: int | None = Field(default=None, primary_key=True)
    type: str = Field(max_length=1, default="I")
    description: str
    requester_id: int = Field(foreign_key="requester.id", index=True)
    service_id: int | None = Field(default=None, foreign_key="service.id")
    status: str = Field(max_length=16, default=Status.in_progress, index=True)
    urgency: str = Field(max_length=1, default=Urgency.medium)
    impact: str = Field(max_length=1, default=Urgency.medium)
    group_id: int | None = Field(default=None, foreign_key="user_group.id", index=True)
    contract_id: int | None = Field(default=None, foreign_key="contract.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    # Where the work is, when it is not a known unit's site (a technician's report).
    latitude: float | None = None
    longitude: float | None = None
    opened_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    deadline: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    parent_id: int | None = Field(default=None, foreign_key="service_request.id", index=True)
    opened_by: int | None = Field(default=None, foreign_key="user.id")
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Occurrence(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="service_request.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    user_id: int | None = Field(default=None, foreign_key="user.id")
    description: str
    status_from: str | None = Field(default=None, max_length=16)
    status_to: str | None = Field(default=None, max_length=16)
    # What the ITSM API adds: a category code, the reason, how it came, when it happened.
    category: str | None = Field(default=None, max_length=32, index=True)
    reason: str | None = Field(default=None, max_length=255)
    origin: str | None = Field(default=None, max_length=16)
    occurred_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    elapsed_minutes: int | None = None


class Extension(SQLModel, table=True):
    """An extension ("ramal") and the one agent it belongs to."""

    ramal: str = Field(primary_key=True, max_length=20)
    user_id: int = Field(foreign_key="user.id", unique=True)
    registered_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Parameter(SQLModel, table=True):
    """Numbered parameters, as CITSmart names them (281, 282, 283)."""

    id: int = Field(primary_key=True)
    value: str = Field(default="", max_length=255)


class Setting(SQLModel, table=True):
    """Values an admin may change at run time (the PBX token, once rotated)."""

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=255)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class CallDirection(StrEnum):
    receptive = "receptive"
    active = "active"
    sms = "sms"


class Call(SQLModel, table=True):
    """One call (or SMS) as its PBX reported it, merged from every mention of it."""

    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        # Partial: most calls have neither, and every index a pop writes costs a page.
        _partial_index("ix_call_request_id", "request_id"),
        _partial_index("ix_call_transfer_to", "transfer_to"),
    )
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=16)
    external_id: str = Field(max_length=64)
    ramal: str | None = Field(default=None, max_length=20, index=True)
    number: str | None = Field(default=None, max_length=32)
    document: str | None = Field(default=None, max_length=32)
    queue: str | None = Field(default=None, max_length=64)
    ivr: str | None = Field(default=None, max_length=255)
    requester_id: int | None = Field(default=None, foreign_key="requester.id")
    request_id: int | None = Field(default=None, foreign_key="service_request.id")
    started_at: datetime = Field(default_factory=utcnow, sa_column=_ts(index=True))
    ended_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    # What a PBX's call record adds (55pbx names in comments).
    direction: str | None = Field(default=None, max_length=16)
    call_type: str | None = Field(default=None, max_length=16)  # call_type, as sent
    status: str | None = Field(default=None, max_length=64)  # call_status
    disconnection: str | None = Field(default=None, max_length=64)  # call_disconnection
    central_id: str | None = Field(default=None, max_length=32)
    trunk: str | None = Field(default=None, max_length=32)  # call_terminal
    country_code: str | None = Field(default=None, max_length=4)
    area_code: str | None = Field(default=None, max_length=4)
    order_typed: str | None = Field(default=None, max_length=32)  # call_order
    talk_seconds: int | None = None  # call_time
    duration_seconds: int | None = None  # call_duration
    wait_seconds: int | None = None  # call_time_waiting
    audio_url: str | None = Field(default=None, max_length=1024)
    audio_file: str | None = Field(default=None, max_length=255)
    tax: Decimal | None = Field(default=None, sa_column=_money())
    tax_type: str | None = Field(default=None, max_length=16)
    cost: Decimal | None = Field(default=None, sa_column=_money())
    balance: Decimal | None = Field(default=None, sa_column=_money())
    transfer_to: str | None = Field(default=None, max_length=64)  # call_transfer_id
    transferred_from_id: int | None = Field(default=None, foreign_key="call.id")
    # When each kind of push was first seen: a repeated push finds its mark and does nothing.
    start_seen_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    end_seen_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    transfer_seen_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    transfer_popped_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    # The marks the latest push set first (bits: 1 start, 2 end, 4 transfer; store/hotpath).
    claimed: int | None = None


class ScreenPop(SQLModel, table=True):
    __tablename__ = "screen_pop"
    # A pop's rows are read by extension (in seq order: the ramal index holds it) or by the
    # request it shows; only pops that show a request are indexed by it.
    __table_args__ = (_partial_index("ix_screen_pop_request_id", "request_id"),)
    # seq orders pops; a tab asks for "everything after seq N" when it reconnects.
    seq: int | None = Field(default=None, primary_key=True)
    pop_id: str = Field(max_length=32, unique=True)
    ramal: str = Field(max_length=20, index=True)
    kind: str = Field(max_length=16)
    call_id: int | None = Field(default=None, foreign_key="call.id")
    requester_id: int | None = Field(default=None, foreign_key="requester.id")
    request_id: int | None = Field(default=None, foreign_key="service_request.id")
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    delivered: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    # Who held the extension when the pop was made (None: nobody). An agent who takes the
    # extension over does not see the former holder's callers (store/pops.py).
    holder_id: int | None = None


class OccurrenceOrigin(StrEnum):
    email = "EMAIL"
    phone = "FONE_FAX"
    voice_mail = "VOICE_MAIL"
    personally = "PERSONALLY"
    others = "OTHERS"


class Group(SQLModel, table=True):
    """A group of users: a request's executing group, and the unit of API permissions."""

    __tablename__ = "user_group"
    id: int | None = Field(default=None, primary_key=True)
    acronym: str = Field(max_length=32, unique=True, index=True)
    name: str = Field(max_length=120)
    # Its members see every request through the API (an ERP integration's group); other
    # groups see their own requests only (store/access.py).
    all_requests: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class GroupMember(SQLModel, table=True):
    __tablename__ = "group_member"
    group_id: int = Field(foreign_key="user_group.id", primary_key=True)
    user_id: int = Field(foreign_key="user.id", primary_key=True, index=True)
    # A leader follows the whole team's work and hands tasks to its members.
    leader: bool = False


class ApiPermission(SQLModel, table=True):
    """Group `group_id` may call the API operation `operation` (its path under /services/)."""

    __tablename__ = "api_permission"
    group_id: int = Field(foreign_key="user_group.id", primary_key=True)
    operation: str = Field(max_length=64, primary_key=True)


class GroupPlatform(SQLModel, table=True):
    """Group `group_id` may log in to the API as `platform` (kept in capitals). A platform
    some group names is reserved to the members of such groups; one no group names is
    open to every user (store/api.platform_allowed)."""

    __tablename__ = "group_platform"
    group_id: int = Field(foreign_key="user_group.id", primary_key=True)
    platform: str = Field(max_length=64, primary_key=True, index=True)


class ApiSession(SQLModel, table=True):
    """A login to the ITSM API. The sessionID itself is never stored: only its SHA-256."""

    __tablename__ = "api_session"
    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user.id", index=True)
    platform: str = Field(max_length=64)
    device_token: str | None = Field(default=None, max_length=255, index=True)
    language: str = Field(max_length=16, default="pt_BR")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    last_seen_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    ended_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class ApiExecution(SQLModel, table=True):
    """Every API call, failed ones too: its id is the answer's operationID."""

    __tablename__ = "api_execution"
    id: int | None = Field(default=None, primary_key=True)
    operation: str = Field(max_length=64, index=True)
    user_id: int | None = Field(default=None, foreign_key="user.id")
    platform: str | None = Field(default=None, max_length=64)
    message_id: str | None = Field(default=None, max_length=128)
    input: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    output: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    ok: bool = Field(default=True, index=True)
    error_code: str | None = Field(default=None, max_length=32)
    http_status: int = 200
    started_at: datetime = Field(default_factory=utcnow, sa_column=_ts(index=True))
    duration_ms: float = 0.0


class SyncKey(SQLModel, table=True):
    """The FROM-TO table: a calling platform's key for an object, and callhub's.

    A request's numberOrigin is the row (platform, "request", numberOrigin, number).
    """

    __tablename__ = "sync_key"
    __table_args__ = (UniqueConstraint("platform", "object", "from_key"),)
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=64)
    object: str = Field(max_length=32)
    from_key: str = Field(max_length=128)
    to_key: str = Field(max_length=128, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class SyncMark(SQLModel, table=True):
    """When a platform last took an item through getNotSynchronized."""

    __tablename__ = "sync_mark"
    __table_args__ = (UniqueConstraint("platform", "object", "item_id"),)
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=64)
    object: str = Field(max_length=32)
    item_id: int
    synced_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class NamedQuery(SQLModel, table=True):
    """An admin's SQL, run by name with bound parameters: `query` reads, `operation` may write."""

    __tablename__ = "named_query"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True, index=True)
    kind: str = Field(max_length=16, default="query")
    description: str = Field(default="", max_length=255)
    sql: str
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Contract(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    description: str = Field(max_length=160)
    active: bool = True


class Unit(SQLModel, table=True):
    """A customer site under a contract, where field technicians go."""

    id: int | None = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="contract.id", index=True)
    description: str = Field(max_length=160)
    latitude: float | None = None
    longitude: float | None = None


class Justification(SQLModel, table=True):
    """Why a request was suspended, canceled or solved; `status_id` is the v2 status id."""

    id: int | None = Field(default=None, primary_key=True)
    description: str = Field(max_length=160)
    status_id: int
    active: bool = True
    # A reason an approver may give (the field app's getReasons), and one for travels.
    approval: bool = False
    travel: bool = False


class DeniedReason(SQLModel, table=True):
    """Why a field technician could not check in."""

    __tablename__ = "denied_reason"
    id: int | None = Field(default=None, primary_key=True)
    description: str = Field(max_length=160)
    active: bool = True


class TaskKind(StrEnum):
    execution = "execution"
    approval = "approval"


class TaskStatus(StrEnum):
    open = "open"
    # Someone is on it: attending, or checked in at the site.
    in_service = "in_service"
    done = "done"
    canceled = "canceled"


OPEN_TASK = (TaskStatus.open, TaskStatus.in_service)


class Task(SQLModel, table=True):
    """A step of a request's workflow in someone's work list: executing it, or approving it.

    A task with a user is that user's (personal); without one, any member of its group may
    take it. A request that is not finished has one open execution task, unless it waits
    for an approval.
    """

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="service_request.id", index=True)
    kind: str = Field(max_length=16, default=TaskKind.execution)
    group_id: int | None = Field(default=None, foreign_key="user_group.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    status: str = Field(max_length=16, default=TaskStatus.open, index=True)
    # The order a team leader asked for (1 first); unset for most.
    priority_order: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    started_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    # An approval's decision: "approved" or "rejected", why, and by whom.
    decision: str | None = Field(default=None, max_length=16)
    reason_id: int | None = Field(default=None, foreign_key="justification.id")
    comment: str | None = Field(default=None, max_length=2000)
    decided_by: int | None = Field(default=None, foreign_key="user.id")


class FieldVisit(SQLModel, table=True):
    """A technician's check-in at a task's site and, later, the check-out."""

    __tablename__ = "field_visit"
    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    request_id: int = Field(foreign_key="service_request.id", index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    checkin_at: datetime = Field(sa_column=_ts())
    checkin_latitude: float
    checkin_longitude: float
    checkout_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True, index=True))
    checkout_latitude: float | None = None
    checkout_longitude: float | None = None
    # What the check-out did: the request's new status, the justification, the solution.
    status_to: str | None = Field(default=None, max_length=16)
    justification_id: int | None = Field(default=None, foreign_key="justification.id")
    solution: str | None = Field(default=None, max_length=4000)


class CheckinDenial(SQLModel, table=True):
    """A check-in the technician could not make, and why."""

    __tablename__ = "checkin_denial"
    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    user_id: int = Field(foreign_key="user.id")
    reason_id: int = Field(foreign_key="denied_reason.id")
    latitude: float
    longitude: float
    at: datetime = Field(sa_column=_ts())


class LocationPoint(SQLModel, table=True):
    """A field technician's position, as the app reports it every few minutes."""

    __tablename__ = "location_point"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    latitude: float
    longitude: float
    at: datetime = Field(sa_column=_ts(index=True))
    received_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
