"""The ITSM API's own tables: groups, their members, permissions and platforms; sessions;
the execution log; FROM-TO keys and synchronisation marks; named queries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from callhub.store.models.columns import ts, utcnow


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
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts())
    last_seen_at: datetime = Field(default_factory=utcnow, sa_column=ts())
    ended_at: datetime | None = Field(default=None, sa_column=ts(nullable=True))


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
    started_at: datetime = Field(default_factory=utcnow, sa_column=ts(index=True))
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
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts())


class SyncMark(SQLModel, table=True):
    """When a platform last took an item through getNotSynchronized."""

    __tablename__ = "sync_mark"
    __table_args__ = (UniqueConstraint("platform", "object", "item_id"),)
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=64)
    object: str = Field(max_length=32)
    item_id: int
    synced_at: datetime = Field(default_factory=utcnow, sa_column=ts())


class NamedQuery(SQLModel, table=True):
    """An admin's SQL, run by name with bound parameters: `query` reads, `operation` may write."""

    __tablename__ = "named_query"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True, index=True)
    kind: str = Field(max_length=16, default="query")
    description: str = Field(default="", max_length=255)
    sql: str
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts())
