"""The service desk: users, requesters and their phones, the catalogue (categories,
services), contracts and units, requests and their occurrences."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint, text
from sqlmodel import Field, SQLModel

from callhub.store.models.columns import ts, utcnow


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
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts())


class Requester(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # The requester's login in the service desk (the API's userID).
    login: str | None = Field(default=None, max_length=64, unique=True, index=True)
    # Digits only. A person has a CPF (11 digits); an organisation a CNPJ (14).
    cpf: str | None = Field(default=None, max_length=11, unique=True, index=True)
    cnpj: str | None = Field(default=None, max_length=14, unique=True, index=True)
    name: str = Field(max_length=160)
    email: str | None = Field(default=None, max_length=254)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts())


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
    opened_at: datetime = Field(default_factory=utcnow, sa_column=ts())
    deadline: datetime | None = Field(default=None, sa_column=ts(nullable=True))
    parent_id: int | None = Field(default=None, foreign_key="service_request.id", index=True)
    opened_by: int | None = Field(default=None, foreign_key="user.id")
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts())


class Occurrence(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="service_request.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts())
    user_id: int | None = Field(default=None, foreign_key="user.id")
    description: str
    status_from: str | None = Field(default=None, max_length=16)
    status_to: str | None = Field(default=None, max_length=16)
    # What the ITSM API adds: a category code, the reason, how it came, when it happened.
    category: str | None = Field(default=None, max_length=32, index=True)
    reason: str | None = Field(default=None, max_length=255)
    origin: str | None = Field(default=None, max_length=16)
    occurred_at: datetime | None = Field(default=None, sa_column=ts(nullable=True))
    elapsed_minutes: int | None = None


class OccurrenceOrigin(StrEnum):
    email = "EMAIL"
    phone = "FONE_FAX"
    voice_mail = "VOICE_MAIL"
    personally = "PERSONALLY"
    others = "OTHERS"


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
