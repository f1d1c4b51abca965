"""Field service: tasks, site visits, denied check-ins, the location track, and the
justifications and reasons the field app offers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from callhub.store.models.columns import ts, utcnow


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
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts())
    started_at: datetime | None = Field(default=None, sa_column=ts(nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=ts(nullable=True))
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
    checkin_at: datetime = Field(sa_column=ts())
    checkin_latitude: float
    checkin_longitude: float
    checkout_at: datetime | None = Field(default=None, sa_column=ts(nullable=True, index=True))
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
    at: datetime = Field(sa_column=ts())


class LocationPoint(SQLModel, table=True):
    """A field technician's position, as the app reports it every few minutes."""

    __tablename__ = "location_point"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    latitude: float
    longitude: float
    at: datetime = Field(sa_column=ts(index=True))
    received_at: datetime = Field(default_factory=utcnow, sa_column=ts())
