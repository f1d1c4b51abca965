"""Telephony: extensions and who holds them, calls, screen pops, numbered parameters
and settings."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from callhub.store.models.columns import money_column, partial_index, ts, utcnow


class PopKind(StrEnum):
    new_request = "new_request"
    unidentified = "unidentified"
    view = "view"


class Extension(SQLModel, table=True):
    """An extension ("ramal") and the one agent it belongs to."""

    ramal: str = Field(primary_key=True, max_length=20)
    user_id: int = Field(foreign_key="user.id", unique=True)
    registered_at: datetime = Field(default_factory=utcnow, sa_column=ts())


class Parameter(SQLModel, table=True):
    """Numbered parameters, as CITSmart names them (281, 282, 283)."""

    id: int = Field(primary_key=True)
    value: str = Field(default="", max_length=255)


class Setting(SQLModel, table=True):
    """Values an admin may change at run time (the PBX token, once rotated)."""

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=255)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts())


class CallDirection(StrEnum):
    receptive = "receptive"
    active = "active"
    sms = "sms"


class Call(SQLModel, table=True):
    """One call (or SMS) as its PBX reported it, merged from every mention of it."""

    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        # Partial: most calls have neither, and every index a pop writes costs a page.
        partial_index("ix_call_request_id", "request_id"),
        partial_index("ix_call_transfer_to", "transfer_to"),
        # The caller's last calls on the agent's card; unidentified calls cost no entry.
        partial_index("ix_call_requester_id", "requester_id"),
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
    started_at: datetime = Field(default_factory=utcnow, sa_column=ts(index=True))
    ended_at: datetime | None = Field(default=None, sa_column=ts(nullable=True))
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
    tax: Decimal | None = Field(default=None, sa_column=money_column())
    tax_type: str | None = Field(default=None, max_length=16)
    cost: Decimal | None = Field(default=None, sa_column=money_column())
    balance: Decimal | None = Field(default=None, sa_column=money_column())
    transfer_to: str | None = Field(default=None, max_length=64)  # call_transfer_id
    transferred_from_id: int | None = Field(default=None, foreign_key="call.id")
    # When each kind of push was first seen: a repeated push finds its mark and does nothing.
    start_seen_at: datetime | None = Field(default=None, sa_column=ts(nullable=True))
    end_seen_at: datetime | None = Field(default=None, sa_column=ts(nullable=True))
    transfer_seen_at: datetime | None = Field(default=None, sa_column=ts(nullable=True))
    transfer_popped_at: datetime | None = Field(default=None, sa_column=ts(nullable=True))
    # The marks the latest push set first (bits: 1 start, 2 end, 4 transfer; store/hotpath).
    claimed: int | None = None
    # The child request this call opened on viewing a request (parameter 282): one a call.
    child_request_id: int | None = None
    # A missed call an agent dealt with (called back, or nothing to do): when, and who.
    handled_at: datetime | None = Field(default=None, sa_column=ts(nullable=True))
    handled_by: int | None = None


class ScreenPop(SQLModel, table=True):
    __tablename__ = "screen_pop"
    # A pop's rows are read by extension (in seq order: the ramal index holds it) or by the
    # request it shows; only pops that show a request are indexed by it.
    __table_args__ = (partial_index("ix_screen_pop_request_id", "request_id"),)
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
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts())
    # Who held the extension when the pop was made (None: nobody). An agent who takes the
    # extension over does not see the former holder's callers (store/pops.py).
    holder_id: int | None = None


class CallBlock(SQLModel, table=True):
    """A number or a document the IVR is told to refuse (rotearChamada), until it expires."""

    __tablename__ = "call_block"
    id: int | None = Field(default=None, primary_key=True)
    number: str | None = Field(default=None, max_length=32, index=True)  # E.164
    document: str | None = Field(default=None, max_length=14, index=True)  # CPF/CNPJ digits
    reason: str = Field(max_length=255)
    expires_at: datetime | None = Field(default=None, sa_column=ts(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts())
    created_by: int | None = None


class CallRefusal(SQLModel, table=True):
    """One call the IVR refused because of a block."""

    __tablename__ = "call_refusal"
    id: int | None = Field(default=None, primary_key=True)
    block_id: int = Field(foreign_key="call_block.id", index=True)
    number: str | None = Field(default=None, max_length=32)
    document: str | None = Field(default=None, max_length=14)
    refused_at: datetime = Field(default_factory=utcnow, sa_column=ts())
