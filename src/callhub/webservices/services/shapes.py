"""Stored rows as the contract's answers, and the lookups every request operation shares."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from callhub import i18n
from callhub.i18n import STATUS_LABELS
from callhub.store import access, api, catalog, itsm, requests, tasks, users
from callhub.store.models import (
    Occurrence,
    ServiceRequest,
    Status,
    TaskKind,
)
from callhub.webservices.services.framework import ApiError, Call
from callhub.webservices.services.schemas import (
    CodeName,
    ContactOut,
    OccurrenceOut,
    RequestOut,
    ServiceOut,
    TaskOut,
)

N_ = i18n.N_
FINAL = (Status.canceled, Status.closed)
LIST_LIMIT = 1000
CODES = frozenset(s.value for s in Status)


def task_name(kind: str) -> str:
    """A task's name, to translate: what the person it is assigned to does."""
    return N_("Aprovar solicitação") if kind == TaskKind.approval else N_("Atender solicitação")


def local(call: Call, moment: datetime) -> datetime:
    return moment.astimezone(call.settings.zone)


def aware(call: Call, moment: datetime | None) -> datetime | None:
    """A date the caller sent: without a zone, it is the site's (CALLHUB_TIMEZONE)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=call.settings.zone)


def iso(call: Call, moment: datetime | None) -> str | None:
    return local(call, moment).isoformat(timespec="seconds") if moment is not None else None


def status_of(call: Call, code: str) -> CodeName:
    label = STATUS_LABELS.get(Status(code)) if code in CODES else None
    return CodeName(code=code, name=call.t(label) if label else code)


def request_out(call: Call, session: Session, request: ServiceRequest) -> RequestOut:
    assert request.id is not None
    requester = catalog.get_requester(session=session, requester_id=request.requester_id)
    assert requester is not None
    row = (
        itsm.service_row(session=session, service_id=request.service_id)
        if request.service_id
        else None
    )
    group = api.get_group(session=session, group_id=request.group_id)
    origin = api.from_keys(
        session=session, platform=call.origin_platform, object="request", to_keys=[str(request.id)]
    ).get(str(request.id))
    sla = row.item().sla_minutes if row is not None else None
    service = None
    if row is not None:
        category = None
        if row.category is not None:
            category = CodeName(
                code=row.category.code or str(row.category.id), name=row.category.name
            )
        service = ServiceOut(
            code=row.service.code or str(row.service.id), name=row.service.name, category=category
        )
    status = status_of(call, request.status)
    task = None
    current = tasks.current_task(session=session, request_id=request.id)
    if current is not None and current.id is not None:
        assignee = (
            users.get_user(session=session, user_id=current.user_id) if current.user_id else None
        )
        task_group = api.get_group(session=session, group_id=current.group_id)
        task = TaskOut(
            number=current.id,
            name=call.t(task_name(current.kind)),
            startDateTime=iso(call, current.started_at or current.created_at) or "",
            status=status,
            userId=assignee.username if assignee else None,
            groupId=task_group.acronym if task_group else None,
        )
    return RequestOut(
        number=request.id,
        numberOrigin=origin,
        type=request.type,
        description=request.description,
        userID=requester.login,
        contact=ContactOut(
            name=requester.name,
            phoneNumber=itsm.first_phone(session=session, requester_id=requester.id or 0),
            email=requester.email,
        ),
        contractID=request.contract_id,
        service=service,
        urgency=request.urgency,
        impact=request.impact,
        groupId=group.acronym if group else None,
        startDateTime=iso(call, request.opened_at) or "",
        startSLA=iso(call, request.opened_at) if sla is not None else None,
        endSLA=iso(call, request.deadline),
        deadline=iso(call, request.deadline),
        status=status,
        currentTask=task,
        definedSLA=sla is not None,
        linkedNumber=request.parent_id,
    )


def occurrence_out(
    call: Call, session: Session, occurrence: Occurrence, login: str | None
) -> OccurrenceOut:
    assert occurrence.id is not None
    platform = call.origin_platform
    own = api.from_keys(
        session=session, platform=platform, object="occurrence", to_keys=[str(occurrence.id)]
    )
    of_request = api.from_keys(
        session=session,
        platform=platform,
        object="request",
        to_keys=[str(occurrence.request_id)],
    )
    when = local(call, occurrence.occurred_at or occurrence.created_at)
    return OccurrenceOut(
        number=occurrence.id,
        numberOrigin=own.get(str(occurrence.id)),
        description=occurrence.description,
        date=when.strftime("%d/%m/%Y"),
        hour=when.strftime("%H:%M"),
        origin=occurrence.origin or "OTHERS",
        category={"code": occurrence.category or "Information"},
        userID=login,
        elapsedTime=occurrence.elapsed_minutes,
        reason=occurrence.reason,
        task=call.t(N_("Atender solicitação")),
        requestNumber=occurrence.request_id,
        requestNumberOrigin=of_request.get(str(occurrence.request_id)),
    )


def find_request(
    call: Call,
    session: Session,
    number: int | None,
    number_origin: str | None,
    *,
    prefix: str = "",
    origin_field: str = "numberOrigin",
    number_field: str = "number",
    scoped: bool = True,
) -> ServiceRequest:
    """The request a call names, by callhub's number or by the platform's own: one the
    caller may see (store/access.py), else NOT_FOUND as for a number that does not exist.
    `scoped=False`: the field API, which checks the caller's task itself."""
    if number is None and number_origin is None:
        raise ApiError(
            "REQUIRED",
            N_("Informe %(field)s ou %(other)s."),
            field=prefix + number_field,
            other=prefix + origin_field,
        )
    if number is None:
        assert number_origin is not None
        key = api.to_key(
            session=session, platform=call.origin_platform, object="request", from_key=number_origin
        )
        if key is None:
            raise ApiError(
                "NOT_FOUND",
                N_("Nenhuma solicitação com %(field)s %(value)s."),
                404,
                field=prefix + origin_field,
                value=number_origin,
            )
        number = int(key)
    found = requests.get_request(session=session, number=number)
    if found is not None and scoped:
        scope = call.requests_scope(session)
        if not access.may_see(session=session, scope=scope, request_id=number):
            found = None
    if found is None:
        raise ApiError(
            "NOT_FOUND",
            N_("Nenhuma solicitação com %(field)s %(value)s."),
            404,
            field=prefix + (number_field if number_origin is None else origin_field),
            value=number if number_origin is None else number_origin,
        )
    return found


def logs_of(
    call: Call, session: Session, request_ids: list[int], categories: list[str] | None
) -> list[OccurrenceOut]:
    rows = itsm.occurrences(
        session=session, request_ids=request_ids, categories=categories, limit=LIST_LIMIT
    )
    return [occurrence_out(call, session, o, login) for o, login in rows]
