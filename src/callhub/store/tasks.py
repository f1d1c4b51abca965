"""Tasks: who has a request in their work list, and the field work done on them.

A request that is not finished has one open execution task, in its group's list or in
one member's; a request for a service that needs approval first has an approval task
in the approvers' list, and its execution task only once approved. `follow` keeps the
tasks in step with the request after every change, whoever made it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from callhub.store.models import (
    OPEN_TASK,
    Category,
    FieldVisit,
    GroupMember,
    LocationPoint,
    Service,
    ServiceRequest,
    Status,
    Task,
    TaskKind,
    TaskStatus,
    Unit,
    utcnow,
)

EARTH_RADIUS_KM = 6371.0088
FINISHED = {Status.resolved: TaskStatus.done, Status.closed: TaskStatus.done}


def follow(*, session: Session, request: ServiceRequest) -> None:
    """Bring the request's tasks in step with its status and group."""
    assert request.id is not None
    tasks = list(session.exec(select(Task).where(Task.request_id == request.id)).all())
    open_tasks = [t for t in tasks if t.status in OPEN_TASK]
    now = utcnow()
    if request.status in (Status.resolved, Status.closed, Status.canceled):
        for task in open_tasks:
            task.status = FINISHED.get(Status(request.status), TaskStatus.canceled)
            if task.kind == TaskKind.approval:
                task.status = TaskStatus.canceled
            task.finished_at = now
            session.add(task)
        session.flush()
        return
    approvals = [t for t in tasks if t.kind == TaskKind.approval]
    if not approvals and request.service_id is not None:
        service = session.get(Service, request.service_id)
        if service is not None and service.approval_group_id is not None:
            task = Task(
                request_id=request.id,
                kind=TaskKind.approval,
                group_id=service.approval_group_id,
                created_at=now,
            )
            session.add(task)
            session.flush()
            return
    if any(t.kind == TaskKind.approval for t in open_tasks):
        return
    executions = [t for t in open_tasks if t.kind == TaskKind.execution]
    if not executions:
        session.add(Task(request_id=request.id, group_id=request.group_id, created_at=now))
    for task in executions:
        if task.group_id != request.group_id:
            # Another team's now: back in its list, for any of its members to take.
            task.group_id = request.group_id
            task.user_id = None
            session.add(task)
    session.flush()


def current_task(*, session: Session, request_id: int) -> Task | None:
    """The request's open task: the execution when there is one, else the approval."""
    query = (
        select(Task)
        .where(Task.request_id == request_id)
        .where(col(Task.status).in_([s.value for s in OPEN_TASK]))
        .order_by(col(Task.kind).desc(), col(Task.id))
    )
    return session.exec(query).first()


@dataclass(frozen=True)
class Membership:
    groups: frozenset[int]
    led: frozenset[int]


def membership(*, session: Session, user_id: int) -> Membership:
    rows = session.exec(select(GroupMember).where(GroupMember.user_id == user_id)).all()
    return Membership(
        groups=frozenset(m.group_id for m in rows),
        led=frozenset(m.group_id for m in rows if m.leader),
    )


@dataclass
class WorkItem:
    """One line of a work list, with what its answer needs."""

    task: Task
    request: ServiceRequest
    service: str | None
    notification_type: int | None
    latitude: float | None
    longitude: float | None
    personal: bool
    # Whether this user may execute it (1) or only follows it as the team's leader (0).
    available: bool
    in_checkin: bool


def work_list(
    *, session: Session, user_id: int, task_ids: Iterable[int] | None = None
) -> list[WorkItem]:
    """The user's open tasks: personal ones, the groups' unassigned ones, and, for a team's
    leader, the team's tasks assigned to others (followed, not executed)."""
    member = membership(session=session, user_id=user_id)
    mine = col(Task.user_id) == user_id
    groups_own = and_(col(Task.user_id).is_(None), col(Task.group_id).in_(member.groups))
    led = col(Task.group_id).in_(member.led)
    query = (
        select(Task, ServiceRequest)
        .join(ServiceRequest, col(ServiceRequest.id) == col(Task.request_id))
        .where(col(Task.status).in_([s.value for s in OPEN_TASK]))
        .where(or_(mine, groups_own, led))
    )
    if task_ids is not None:
        query = query.where(col(Task.id).in_(list(task_ids)))
    rows = list(session.exec(query.order_by(col(Task.id))).all())
    return _items(session, user_id, member, rows)


def _items(
    session: Session,
    user_id: int,
    member: Membership,
    rows: list[tuple[Task, ServiceRequest]],
) -> list[WorkItem]:
    service_ids = {r.service_id for _, r in rows if r.service_id is not None}
    unit_ids = {r.unit_id for _, r in rows if r.unit_id is not None}
    task_ids = [t.id for t, _ in rows if t.id is not None]
    services: dict[int, tuple[str, int | None]] = {}
    if service_ids:
        query = (
            select(Service.id, Service.name, Category.notification_type)
            .join(Category, col(Category.id) == col(Service.category_id), isouter=True)
            .where(col(Service.id).in_(service_ids))
        )
        services = {
            sid: (name, kind) for sid, name, kind in session.exec(query).all() if sid is not None
        }
    units: dict[int, Unit] = {}
    if unit_ids:
        units = {
            u.id: u
            for u in session.exec(select(Unit).where(col(Unit.id).in_(unit_ids))).all()
            if u.id is not None
        }
    checked_in: set[int] = set()
    if task_ids:
        query_visits = (
            select(FieldVisit.task_id)
            .where(col(FieldVisit.task_id).in_(task_ids))
            .where(FieldVisit.user_id == user_id)
            .where(col(FieldVisit.checkout_at).is_(None))
        )
        checked_in = set(session.exec(query_visits).all())
    items = []
    for task, request in rows:
        name, kind = services.get(request.service_id or 0, (None, None))
        latitude, longitude = request.latitude, request.longitude
        unit = units.get(request.unit_id or 0)
        if latitude is None and unit is not None:
            latitude, longitude = unit.latitude, unit.longitude
        personal = task.user_id == user_id
        available = personal or (task.user_id is None and task.group_id in member.groups)
        items.append(
            WorkItem(
                task=task,
                request=request,
                service=name,
                notification_type=kind,
                latitude=latitude,
                longitude=longitude,
                personal=personal,
                available=available,
                in_checkin=task.id in checked_in,
            )
        )
    return items


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine) on a spherical Earth of mean radius."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def open_visit(*, session: Session, user_id: int, task_id: int | None = None) -> FieldVisit | None:
    """The user's check-in not yet checked out: on `task_id`, or anywhere."""
    query = (
        select(FieldVisit)
        .where(FieldVisit.user_id == user_id)
        .where(col(FieldVisit.checkout_at).is_(None))
    )
    if task_id is not None:
        query = query.where(FieldVisit.task_id == task_id)
    return session.exec(query).first()


def last_position(*, session: Session, user_id: int) -> tuple[float, float, datetime] | None:
    query = (
        select(LocationPoint)
        .where(LocationPoint.user_id == user_id)
        .order_by(col(LocationPoint.at).desc())
    )
    point = session.exec(query).first()
    return (point.latitude, point.longitude, point.at) if point is not None else None
