"""Requests (incidents and service requests) and their history of occurrences."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from callhub.store import tasks
from callhub.store.catalog import ServiceItem
from callhub.store.models import (
    IN_PROGRESS,
    Occurrence,
    Requester,
    Service,
    ServiceRequest,
    Status,
    Urgency,
    User,
    utcnow,
)


class RequestError(ValueError):
    """A change the rules do not allow. `code` names the rule (each interface says it its
    own way: the agent's form, the ITSM API, the field app), `field` what was wrong,
    `values` what the message quotes (the statuses concerned, say)."""

    def __init__(self, code: str, field: str, message: str, **values: str) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
        self.values = values


# An occurrence's text: never empty, at most this long.
MAX_DESCRIPTION = 4000


@dataclass(frozen=True)
class HistoryItem:
    at: datetime
    user: str | None
    description: str
    status_from: str | None
    status_to: str | None


# The request workflow: from each status, where it may go. Canceled and Closed are final.
TRANSITIONS: dict[Status, tuple[Status, ...]] = {
    Status.in_progress: (Status.suspended, Status.resolved, Status.canceled),
    Status.reopened: (Status.suspended, Status.resolved, Status.canceled),
    Status.suspended: (Status.in_progress, Status.resolved, Status.canceled),
    Status.resolved: (Status.closed, Status.reopened),
    Status.canceled: (),
    Status.closed: (),
}


def can_change(current: str, to: str) -> bool:
    try:
        return Status(to) in TRANSITIONS[Status(current)]
    except ValueError:
        return False


def deadline_for(opened_at: datetime, service: ServiceItem | None) -> datetime | None:
    if service is None or service.sla_minutes is None:
        return None
    return opened_at + timedelta(minutes=service.sla_minutes)


def create_request(
    *,
    session: Session,
    requester_id: int,
    description: str,
    service: ServiceItem | None,
    urgency: Urgency = Urgency.medium,
    type_: str = "I",
    parent_id: int | None = None,
    user_id: int | None = None,
    note: str,
    impact: str = "M",
    group_id: int | None = None,
    contract_id: int | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
) -> ServiceRequest:
    """A new request, in progress, with its first occurrence (`note`) and its task in the
    executing group's list (or the approvers')."""
    now = utcnow()
    request = ServiceRequest(
        type=type_,
        description=description,
        requester_id=requester_id,
        service_id=service.id if service else None,
        urgency=urgency,
        opened_at=now,
        updated_at=now,
        deadline=deadline_for(now, service),
        parent_id=parent_id,
        opened_by=user_id,
        status=Status.in_progress,
        impact=impact,
        group_id=group_id,
        contract_id=contract_id,
        latitude=latitude,
        longitude=longitude,
    )
    session.add(request)
    session.flush()
    assert request.id is not None
    session.add(
        Occurrence(
            request_id=request.id,
            user_id=user_id,
            description=note,
            status_to=Status.in_progress,
            created_at=now,
        )
    )
    session.flush()
    tasks.follow(session=session, request=request)
    return request


def get_request(*, session: Session, number: int) -> ServiceRequest | None:
    return session.get(ServiceRequest, number)


def _checked(description: str) -> str:
    text = description.strip()
    if not text:
        raise RequestError("EMPTY_DESCRIPTION", "description", "an occurrence needs a text")
    if len(text) > MAX_DESCRIPTION:
        raise RequestError(
            "DESCRIPTION_TOO_LONG",
            "description",
            f"at most {MAX_DESCRIPTION} characters",
            max=str(MAX_DESCRIPTION),
        )
    return description


def add_occurrence(
    *,
    session: Session,
    request: ServiceRequest,
    user_id: int | None,
    description: str,
    status: Status | str | None = None,
    origin: str | None = None,
    reason: str | None = None,
    occurred_at: datetime | None = None,
    category: str | None = None,
    elapsed_minutes: int | None = None,
) -> Occurrence:
    """Something that happened to the request, as its history keeps it; with `status`, a
    change of status, under the workflow's rules (TRANSITIONS). Every occurrence, whatever
    the interface, is written here. Raises RequestError."""
    assert request.id is not None
    occurrence = Occurrence(
        request_id=request.id,
        user_id=user_id,
        description=_checked(description),
        origin=origin,
        reason=reason,
        occurred_at=occurred_at,
        category=category,
        elapsed_minutes=elapsed_minutes,
    )
    if status is not None:
        target = _target(request, status)
        occurrence.status_from = request.status
        occurrence.status_to = target
        request.status = target
    request.updated_at = occurrence.created_at
    session.add(occurrence)
    session.add(request)
    session.flush()
    if status is not None:
        tasks.follow(session=session, request=request)
    return occurrence


def _target(request: ServiceRequest, status: Status | str) -> Status:
    """The status a request may go to now, or the rule that forbids it."""
    try:
        target = Status(status)
    except ValueError:
        raise RequestError(
            "UNKNOWN_STATUS", "status", f"unknown status {status!r}", value=str(status)
        ) from None
    if target == request.status:
        raise RequestError(
            "NO_CHANGE", "status", "the request already has this status", value=target.value
        )
    if not can_change(request.status, target):
        raise RequestError(
            "INVALID_TRANSITION",
            "status",
            f"a request {request.status} cannot become {target}",
            current=str(request.status),
            value=target.value,
        )
    return target


def change_status(
    *,
    session: Session,
    request: ServiceRequest,
    status: Status | str,
    user_id: int | None,
    description: str,
    origin: str | None = None,
    reason: str | None = None,
    occurred_at: datetime | None = None,
) -> Occurrence:
    """The request's status changed, under the workflow's rules. Raises RequestError."""
    return add_occurrence(
        session=session,
        request=request,
        user_id=user_id,
        description=description,
        status=status,
        origin=origin,
        reason=reason,
        occurred_at=occurred_at,
    )


def history(*, session: Session, number: int, latest: int | None = None) -> list[HistoryItem]:
    """The request's occurrences, oldest first: all of them, or the `latest` few."""
    query = (
        select(Occurrence, User.name)
        .join(User, col(Occurrence.user_id) == col(User.id), isouter=True)
        .where(Occurrence.request_id == number)
        .order_by(col(Occurrence.created_at).desc(), col(Occurrence.id).desc())
    )
    if latest is not None:
        query = query.limit(latest)
    rows = list(session.exec(query).all())
    return [
        HistoryItem(o.created_at, name, o.description, o.status_from, o.status_to)
        for o, name in reversed(rows)
    ]


def history_count(*, session: Session, number: int) -> int:
    query = select(func.count()).select_from(Occurrence).where(Occurrence.request_id == number)
    return int(session.exec(query).one())


def in_progress_for_document(*, session: Session, cpf: str) -> tuple[int, int | None]:
    """(how many requests of this requester are in progress, the number when there is one)."""
    query = (
        select(func.count(), func.min(ServiceRequest.id))
        .select_from(ServiceRequest)
        .join(Requester, col(Requester.id) == col(ServiceRequest.requester_id))
        .where((Requester.cpf == cpf) | (Requester.cnpj == cpf))
        .where(col(ServiceRequest.status).in_([s.value for s in IN_PROGRESS]))
    )
    count, lowest = (session.exec(query)).one()
    return int(count), (int(lowest) if count == 1 and lowest is not None else None)


@dataclass(frozen=True)
class OpenRequest:
    """One of a caller's requests in progress, as the agent's card lists it."""

    number: int
    service: str | None
    status: str
    deadline: datetime | None
    description: str


def in_progress_of(*, session: Session, requester_id: int, limit: int = 10) -> list[OpenRequest]:
    """The requester's requests in progress, the most urgent deadline first (those with
    none last), at most `limit`."""
    query = (
        select(ServiceRequest, Service.name)
        .join(Service, col(Service.id) == col(ServiceRequest.service_id), isouter=True)
        .where(ServiceRequest.requester_id == requester_id)
        .where(col(ServiceRequest.status).in_([s.value for s in IN_PROGRESS]))
        .order_by(col(ServiceRequest.deadline).is_(None), col(ServiceRequest.deadline))
        .order_by(col(ServiceRequest.id).desc())
        .limit(limit)
    )
    return [
        OpenRequest(r.id or 0, name, r.status, r.deadline, r.description)
        for r, name in session.exec(query).all()
    ]


def children_of(*, session: Session, number: int) -> list[ServiceRequest]:
    query = select(ServiceRequest).where(ServiceRequest.parent_id == number)
    return list((session.exec(query.order_by(col(ServiceRequest.id)))).all())
