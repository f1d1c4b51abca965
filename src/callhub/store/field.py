"""The field technician's work on tasks: taking one, an approver's decision, check-in (or
why it could not be made) and check-out, a leader's assignments, the positions reported.

What a request's history says about each of these is written by `requests.add_occurrence`,
by the caller, in the caller's language; here are the rows the work itself changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from callhub.store import catalog, itsm, requests, tasks
from callhub.store.models import (
    CheckinDenial,
    DeniedReason,
    FieldVisit,
    Justification,
    LocationPoint,
    ServiceRequest,
    Status,
    Task,
    TaskStatus,
    Unit,
    User,
    utcnow,
)


def get_task(*, session: Session, task_id: int) -> Task | None:
    return session.get(Task, task_id)


def get_unit(*, session: Session, unit_id: int) -> Unit | None:
    return session.get(Unit, unit_id)


def request_of(*, session: Session, task: Task) -> ServiceRequest:
    request = session.get(ServiceRequest, task.request_id)
    assert request is not None  # a task's request is a foreign key: never missing
    return request


def unit_of(*, session: Session, request: ServiceRequest) -> Unit | None:
    return session.get(Unit, request.unit_id) if request.unit_id else None


def approval_reason(*, session: Session, reason_id: int) -> Justification | None:
    """An active reason an approver may give, or None."""
    reason = session.get(Justification, reason_id)
    return reason if reason is not None and reason.approval and reason.active else None


def denied_reason(*, session: Session, reason_id: int) -> DeniedReason | None:
    """An active reason for a check-in not made, or None."""
    reason = session.get(DeniedReason, reason_id)
    return reason if reason is not None and reason.active else None


def checkout_justification(
    *, session: Session, justification_id: int, status_id: int
) -> Justification | None:
    """An active justification of the check-out status `status_id`, or None."""
    found = session.get(Justification, justification_id)
    if found is None or found.approval or not found.active or found.status_id != status_id:
        return None
    return found


def track(
    *, session: Session, user_id: int, latitude: float, longitude: float, at: datetime
) -> None:
    """The technician was here at `at`."""
    session.add(LocationPoint(user_id=user_id, latitude=latitude, longitude=longitude, at=at))


def take(*, session: Session, task: Task, user_id: int, started: datetime) -> None:
    """The task becomes the user's, in service from `started`."""
    task.user_id = user_id
    task.status = TaskStatus.in_service
    if task.started_at is None:
        task.started_at = started
    session.add(task)


def decide(
    *,
    session: Session,
    task: Task,
    user_id: int,
    approved: bool,
    reason_id: int | None,
    comment: str | None,
) -> None:
    """An approver's decision on an approval task, which it finishes."""
    task.decision = "approved" if approved else "rejected"
    task.reason_id = reason_id
    task.comment = comment
    task.decided_by = user_id
    task.user_id = user_id
    task.status = TaskStatus.done
    task.finished_at = utcnow()
    session.add(task)
    session.flush()


def check_in(
    *, session: Session, task: Task, user_id: int, at: datetime, latitude: float, longitude: float
) -> FieldVisit:
    """The technician arrived at the task's site: the task is theirs and in service."""
    assert task.id is not None
    take(session=session, task=task, user_id=user_id, started=at)
    visit = FieldVisit(
        task_id=task.id,
        request_id=task.request_id,
        user_id=user_id,
        checkin_at=at,
        checkin_latitude=latitude,
        checkin_longitude=longitude,
    )
    session.add(visit)
    track(session=session, user_id=user_id, latitude=latitude, longitude=longitude, at=at)
    session.flush()
    return visit


def deny_check_in(
    *,
    session: Session,
    task: Task,
    user_id: int,
    reason: DeniedReason,
    at: datetime,
    latitude: float,
    longitude: float,
) -> None:
    """The technician could not check in, for `reason`."""
    assert task.id is not None and reason.id is not None
    session.add(
        CheckinDenial(
            task_id=task.id,
            user_id=user_id,
            reason_id=reason.id,
            latitude=latitude,
            longitude=longitude,
            at=at,
        )
    )
    track(session=session, user_id=user_id, latitude=latitude, longitude=longitude, at=at)


@dataclass(frozen=True)
class Departure:
    """What a check-out ends: the visit, and how long it lasted in whole minutes."""

    visit: FieldVisit
    minutes: int


def check_out(
    *,
    session: Session,
    visit: FieldVisit,
    task: Task,
    status: Status,
    justification: Justification | None,
    solution: str | None,
    latitude: float,
    longitude: float,
) -> Departure:
    """The technician left the site: the task stays theirs, no longer in service."""
    now = utcnow()
    visit.checkout_at = now
    visit.checkout_latitude, visit.checkout_longitude = latitude, longitude
    visit.status_to = status
    visit.justification_id = justification.id if justification is not None else None
    visit.solution = solution
    session.add(visit)
    task.status = TaskStatus.open
    session.add(task)
    track(session=session, user_id=visit.user_id, latitude=latitude, longitude=longitude, at=now)
    minutes = max(0, math.floor((now - visit.checkin_at).total_seconds() / 60))
    return Departure(visit, minutes)


def assign(*, session: Session, task: Task, user_id: int | None) -> None:
    """A leader gives the task to a member (`user_id`), or back to the team (None)."""
    task.user_id = user_id
    task.status = TaskStatus.open
    session.add(task)


def locate_unit(*, session: Session, unit: Unit, latitude: float, longitude: float) -> None:
    """Where the unit is, as a technician or an integrator reports it."""
    unit.latitude, unit.longitude = latitude, longitude
    session.add(unit)


def set_priority(*, session: Session, task: Task, order: int) -> None:
    task.priority_order = order
    session.add(task)


def place(
    *,
    session: Session,
    request: ServiceRequest,
    unit: Unit | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
) -> None:
    """Where the request is to be served: a unit (and its contract), a position, or both."""
    if unit is not None:
        request.unit_id, request.contract_id = unit.id, unit.contract_id
    if latitude is not None and longitude is not None:
        request.latitude, request.longitude = latitude, longitude
    session.add(request)


def open_on_site(
    *,
    session: Session,
    user: User,
    description: str,
    latitude: float,
    longitude: float,
    note: str,
) -> ServiceRequest:
    """A request the technician registers where they stand: theirs to execute, in their
    first team's list, with the technician as requester (created on first use)."""
    assert user.id is not None
    requester = itsm.requester_by_login(session=session, login=user.username)
    if requester is None:
        requester = catalog.create_requester_without_document(
            session=session, name=user.name, email=None, phones=[], login=user.username
        )
    assert requester.id is not None
    member = tasks.membership(session=session, user_id=user.id)
    created = requests.create_request(
        session=session,
        requester_id=requester.id,
        description=description,
        service=None,
        user_id=user.id,
        note=note,
        group_id=min(member.groups) if member.groups else None,
        latitude=latitude,
        longitude=longitude,
    )
    assert created.id is not None
    task = tasks.current_task(session=session, request_id=created.id)
    assert task is not None
    task.user_id = user.id
    session.add(task)
    track(session=session, user_id=user.id, latitude=latitude, longitude=longitude, at=utcnow())
    return created
