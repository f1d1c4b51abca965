"""What the field-service operations share: the two decorators that register them, the
answers' building blocks, the task lookups and the errors."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from callhub import i18n
from callhub.store import field as field_work
from callhub.store import requests, tasks
from callhub.store.models import (
    OPEN_TASK,
    Occurrence,
    ServiceRequest,
    Status,
    Task,
    TaskKind,
    TaskStatus,
    utcnow,
)
from callhub.store.requests import RequestError
from callhub.store.tasks import WorkItem
from callhub.webservices.services.errors import rule_error
from callhub.webservices.services.framework import ApiError, Call, operation
from callhub.webservices.services.mobile.schemas import (
    ListIn,
    Notification,
)
from callhub.webservices.services.shapes import (
    LIST_LIMIT,
    local,
    status_of,
    task_name,
)
from callhub.webservices.services.support import SESSION
from callhub.webservices.services.v2 import V2_STATUS

N_ = i18n.N_
# getNewest and getOldest answer this many requests' tasks at a time.
PAGE = 20
# A device clock this far ahead of the server's is a wrong clock, not a time.
FUTURE_SLACK = timedelta(hours=1)
TASK_STATUS_LABELS = {
    TaskStatus.open: N_("Disponível"),
    TaskStatus.in_service: N_("Em atendimento"),
    TaskStatus.done: N_("Concluída"),
    TaskStatus.canceled: N_("Cancelada"),
}
STATUS_BY_ID = dict(V2_STATUS)
WHERE = {"latitude": -23.5614, "longitude": -46.6559}


def mobile(name: str, **kwargs: Any) -> Callable[[Any], Any]:
    """An operation of the field app, served at /mobile/<name>."""
    return operation("mobile/" + name, root="/", tag="mobile", **kwargs)


def both_versions(name: str, **kwargs: Any) -> Callable[[Any], Any]:
    """An operation the app calls at /mobile/notification/<name> and at
    /mobile/v2/notification/<name> alike."""

    def register(work: Any) -> Any:
        mobile("notification/" + name, **kwargs)(work)
        return mobile("v2/notification/" + name, **kwargs)(work)

    return register


# -- what the answers are made of -------------------------------------------------------


def moment_of(call: Call, millis: int | None, field: str) -> datetime:
    """A time the app sent (epoch ms), or now when it sent none."""
    now = utcnow()
    if millis is None:
        return now
    moment = datetime.fromtimestamp(millis / 1000, UTC)
    if moment > now + FUTURE_SLACK:
        raise ApiError(
            "INVALID_VALUE",
            N_("%(field)s está no futuro (confira o relógio do aparelho)."),
            field=field,
        )
    return moment


def end_sla(call: Call, deadline: datetime | None) -> str | None:
    if deadline is None:
        return None
    shape = "%m/%d/%Y %H:%M" if call.language == "en" else "%d/%m/%Y %H:%M"
    return local(call, deadline).strftime(shape)


def time_left(deadline: datetime | None, now: datetime) -> tuple[int, int]:
    """(minutes left until the deadline, negative when past; timeFlag 0 on time, 1 under
    an hour left, 2 overdue). A request without a deadline is on time."""
    if deadline is None:
        return 0, 0
    minutes = math.floor((deadline - now).total_seconds() / 60)
    return minutes, 2 if minutes < 0 else 1 if minutes < 60 else 0


def _type_of(item: WorkItem) -> int:
    if item.request.status == Status.suspended:
        return 6
    if item.notification_type is not None:
        return item.notification_type
    return 4 if item.request.type == "I" else 5


def service_label(call: Call, name: str | None) -> str:
    return name or call.t(N_("Sem serviço"))


def notification(call: Call, item: WorkItem, now: datetime) -> Notification:
    task, request = item.task, item.request
    assert task.id is not None and request.id is not None
    minutes, flag = time_left(request.deadline, now)
    return Notification(
        number=request.id,
        taskId=task.id,
        type=_type_of(item),
        date=local(call, request.opened_at).strftime("%d/%m/%Y"),
        endSLA=end_sla(call, request.deadline),
        timeSLA=minutes,
        timeFlag=flag,
        task=call.t(task_name(task.kind)),
        service=service_label(call, item.service),
        waiting=1 if item.available else 0,
        typeRequest=1 if task.kind == TaskKind.approval else 0,
        personal=item.personal,
        inService=task.status == TaskStatus.in_service,
        inCheckin=1 if item.in_checkin else 0,
        latitude=item.latitude,
        longitude=item.longitude,
        contract=request.contract_id,
        unit=request.unit_id,
        priorityorder=task.priority_order,
    )


def filtered_work(call: Call, session: Session, body: ListIn) -> list[WorkItem]:
    items = tasks.work_list(session=session, user_id=call.user_id)
    if body.onlyApproval:
        items = [i for i in items if i.task.kind == TaskKind.approval]
    if body.notificationType:
        items = [i for i in items if _type_of(i) == body.notificationType]
    far = datetime.max.replace(tzinfo=UTC)
    if body.ordem == 1:
        items.sort(key=lambda i: (-(i.request.id or 0), i.task.id or 0))
    elif body.ordem == 2:
        items.sort(key=lambda i: (i.request.id or 0, i.task.id or 0))
    else:
        items.sort(
            key=lambda i: (
                i.task.priority_order or 10_000,
                i.request.deadline or far,
                i.request.id or 0,
                i.task.id or 0,
            )
        )
    return items


def notifications_of(call: Call, items: list[WorkItem]) -> list[Notification]:
    now = utcnow()
    return [notification(call, i, now) for i in items[:LIST_LIMIT]]


def first_numbers(items: list[WorkItem], count: int) -> list[WorkItem]:
    """The items of the first `count` requests, in the given order (a page never splits a
    request's tasks, so the next page starts where this one ends)."""
    numbers: list[int] = []
    kept = []
    for item in items:
        number = item.request.id or 0
        if number not in numbers:
            if len(numbers) == count:
                break
            numbers.append(number)
        kept.append(item)
    return kept


def own_task(
    call: Call,
    session: Session,
    task_id: int,
    *,
    field: str = "taskId",
    kind: TaskKind | None = None,
    execute: bool = True,
) -> WorkItem:
    """The caller's open task `task_id`, one the caller may execute unless `execute` is
    False (a leader following the team's task may read it)."""
    found = tasks.work_list(session=session, user_id=call.user_id, task_ids=[task_id])
    if not found:
        task = field_work.get_task(session=session, task_id=task_id)
        if task is None:
            raise unknown_task(task_id, field)
        if task.status not in OPEN_TASK:
            raise closed_task(task_id, field)
        raise not_yours(N_("A tarefa %(value)s não está na sua lista de trabalho."), task_id, field)
    item = found[0]
    if execute and not item.available:
        raise not_yours(N_("A tarefa %(value)s é de outro membro da equipe."), task_id, field)
    if kind is not None and item.task.kind != kind:
        raise ApiError(
            "WRONG_TASK",
            N_("A tarefa %(value)s é de aprovação, não de execução.")
            if kind == TaskKind.execution
            else N_("A tarefa %(value)s não é de aprovação."),
            409,
            field=field,
            value=task_id,
        )
    return item


def visible_task(call: Call, session: Session, task_id: int) -> Task:
    """A task the caller may read, open or finished: the caller's, or its teams'."""
    task = field_work.get_task(session=session, task_id=task_id)
    if task is None:
        raise unknown_task(task_id, "taskId")
    member = tasks.membership(session=session, user_id=call.user_id)
    if task.user_id != call.user_id and task.group_id not in member.groups:
        raise not_yours(
            N_("A tarefa %(value)s não está na sua lista de trabalho."), task_id, "taskId"
        )
    return task


def write_note(
    call: Call,
    session: Session,
    request: ServiceRequest,
    text: str,
    *,
    status: Status | None = None,
    reason: str | None = None,
    at: datetime | None = None,
    elapsed_minutes: int | None = None,
) -> Occurrence:
    """The request's occurrence for what the technician did; with `status`, the change of
    status is that occurrence (the workflow's rules apply)."""
    assert request.id is not None
    changes = status is not None and status != request.status
    try:
        occurrence = requests.add_occurrence(
            session=session,
            request=request,
            user_id=call.user_id,
            description=text,
            status=status if changes else None,
            origin="PERSONALLY",
            reason=reason,
            occurred_at=at,
            elapsed_minutes=elapsed_minutes,
        )
    except RequestError as exc:
        raise rule_error(exc, status_name=lambda code: status_of(call, code).name) from None
    call.changed_requests.add(request.id)
    return occurrence


def site_of(session: Session, request: ServiceRequest) -> str | None:
    """Where the request is: its unit's name, else its own position."""
    unit = field_work.unit_of(session=session, request=request)
    if unit is not None:
        return unit.description
    if request.latitude is not None and request.longitude is not None:
        return f"{request.latitude:.5f}, {request.longitude:.5f}"
    return None


def km_text(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


def unknown_task(task_id: int, field: str) -> ApiError:
    return ApiError(
        "NOT_FOUND", N_("Nenhuma tarefa com %(field)s %(value)s."), 404, field=field, value=task_id
    )


def closed_task(task_id: int, field: str) -> ApiError:
    return ApiError(
        "TASK_CLOSED", N_("A tarefa %(value)s já foi encerrada."), 409, field=field, value=task_id
    )


def not_yours(message: str, value: int, field: str) -> ApiError:
    return ApiError("NOT_YOUR_TASK", message, 403, field=field, value=value)


def not_leader(message: str, value: int, field: str) -> ApiError:
    return ApiError("NOT_LEADER", message, 403, field=field, value=value)


def fold(text: str) -> str:
    """Lower case without accents, so "manutencao" finds "Manutenção"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# What the work list's examples send.
LIST_EXAMPLE = {**SESSION, "notificationType": 0, "onlyApproval": 0, "ordem": 0}
