"""/mobile/*: the field-service app's API, served from the same store as everything else.

A technician's work list is the open tasks of store/tasks.py: personal ones, the team's
unassigned ones and, for a team's leader, the team's tasks given to others. Check-in and
check-out, denied check-ins, approvals and the location track are stored; every change
to a request is committed with its occurrence, and the agents' screens and the wall
board follow at once (Call.changed_requests).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from callhub import i18n
from callhub.store import api, catalog, itsm, requests, tasks
from callhub.store.models import (
    OPEN_TASK,
    CheckinDenial,
    DeniedReason,
    FieldVisit,
    Group,
    Justification,
    LocationPoint,
    Occurrence,
    ServiceRequest,
    Status,
    Task,
    TaskKind,
    TaskStatus,
    Unit,
    User,
    utcnow,
)
from callhub.store.tasks import WorkItem
from callhub.webservices.services.framework import ApiError, Call, operation
from callhub.webservices.services.mobile_schemas import (
    AssignIn,
    AttendIn,
    CheckinIn,
    CheckoutIn,
    Colaborador,
    ColaboradoresOut,
    CoordinatesListIn,
    CountedNotificationsOut,
    DeniedIn,
    Equipe,
    EquipeOut,
    FeedbackIn,
    Grupo,
    GruposOut,
    JustificationsIn,
    Justificativa,
    JustificativasOut,
    ListIn,
    LocationIn,
    NewestIn,
    NewIn,
    Notification,
    NotificationsOut,
    NumberOut,
    NumberRef,
    OldestIn,
    PagedNotificationsOut,
    Paging,
    ReasonDesc,
    SearchIn,
    TaskDetail,
    TaskDetailOut,
    TaskReasonsOut,
    TaskRef,
    UpdateInfoIn,
    VisitOut,
)
from callhub.webservices.services.schemas import Authed, Empty, SuccessOut
from callhub.webservices.services.shapes import (
    LIST_LIMIT,
    find_request,
    local,
    status_of,
    task_name,
)
from callhub.webservices.services.support import SESSION, V2_STATUS

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


def _moment(call: Call, millis: int | None, field: str) -> datetime:
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


def _end_sla(call: Call, deadline: datetime | None) -> str | None:
    if deadline is None:
        return None
    shape = "%m/%d/%Y %H:%M" if call.language == "en" else "%d/%m/%Y %H:%M"
    return local(call, deadline).strftime(shape)


def _time_left(deadline: datetime | None, now: datetime) -> tuple[int, int]:
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


def _service_name(call: Call, name: str | None) -> str:
    return name or call.t(N_("Sem serviço"))


def notification(call: Call, item: WorkItem, now: datetime) -> Notification:
    task, request = item.task, item.request
    assert task.id is not None and request.id is not None
    minutes, flag = _time_left(request.deadline, now)
    return Notification(
        number=request.id,
        taskId=task.id,
        type=_type_of(item),
        date=local(call, request.opened_at).strftime("%d/%m/%Y"),
        endSLA=_end_sla(call, request.deadline),
        timeSLA=minutes,
        timeFlag=flag,
        task=call.t(task_name(task.kind)),
        service=_service_name(call, item.service),
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


def _filtered(call: Call, session: Session, body: ListIn) -> list[WorkItem]:
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


def _answer(call: Call, items: list[WorkItem]) -> list[Notification]:
    now = utcnow()
    return [notification(call, i, now) for i in items[:LIST_LIMIT]]


def _first_numbers(items: list[WorkItem], count: int) -> list[WorkItem]:
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


def _task(
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
        task = session.get(Task, task_id)
        if task is None:
            raise _unknown_task(task_id, field)
        if task.status not in OPEN_TASK:
            raise _closed_task(task_id, field)
        raise _not_yours(
            N_("A tarefa %(value)s não está na sua lista de trabalho."), task_id, field
        )
    item = found[0]
    if execute and not item.available:
        raise _not_yours(N_("A tarefa %(value)s é de outro membro da equipe."), task_id, field)
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


def _visible_task(call: Call, session: Session, task_id: int) -> Task:
    """A task the caller may read, open or finished: the caller's, or its teams'."""
    task = session.get(Task, task_id)
    if task is None:
        raise _unknown_task(task_id, "taskId")
    member = tasks.membership(session=session, user_id=call.user_id)
    if task.user_id != call.user_id and task.group_id not in member.groups:
        raise _not_yours(
            N_("A tarefa %(value)s não está na sua lista de trabalho."), task_id, "taskId"
        )
    return task


def _take(call: Call, item: WorkItem, started: datetime) -> None:
    """The task becomes the caller's, in service from `started`."""
    task = item.task
    task.user_id = call.user_id
    task.status = TaskStatus.in_service
    if task.started_at is None:
        task.started_at = started


def _note(
    call: Call,
    session: Session,
    request: ServiceRequest,
    text: str,
    *,
    status: Status | None = None,
    reason: str | None = None,
    at: datetime | None = None,
) -> Occurrence:
    """The request's occurrence for what the technician did; with `status`, the change of
    status is that occurrence (the workflow's rules apply)."""
    assert request.id is not None
    if status is not None and status != request.status:
        if not requests.can_change(request.status, status):
            raise ApiError(
                "INVALID_TRANSITION",
                N_(
                    "Uma solicitação em %(current)s não pode passar a %(value)s (veja getWorkflow)."
                ),
                409,
                field="status",
                current=status_of(call, request.status).name,
                value=status_of(call, status).name,
            )
        occurrence = requests.change_status(
            session=session, request=request, status=status, user_id=call.user_id, description=text
        )
    else:
        occurrence = requests.add_occurrence(
            session=session, request=request, user_id=call.user_id, description=text
        )
    occurrence.origin = "PERSONALLY"
    occurrence.reason = reason
    occurrence.occurred_at = at
    session.add(occurrence)
    session.flush()
    call.changed_requests.add(request.id)
    return occurrence


def _track(call: Call, session: Session, latitude: float, longitude: float, at: datetime) -> None:
    session.add(LocationPoint(user_id=call.user_id, latitude=latitude, longitude=longitude, at=at))


def _site(session: Session, request: ServiceRequest) -> str | None:
    """Where the request is: its unit's name, else its own position."""
    unit = session.get(Unit, request.unit_id) if request.unit_id else None
    if unit is not None:
        return unit.description
    if request.latitude is not None and request.longitude is not None:
        return f"{request.latitude:.5f}, {request.longitude:.5f}"
    return None


def _km(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


def _unknown_task(task_id: int, field: str) -> ApiError:
    return ApiError(
        "NOT_FOUND", N_("Nenhuma tarefa com %(field)s %(value)s."), 404, field=field, value=task_id
    )


def _closed_task(task_id: int, field: str) -> ApiError:
    return ApiError(
        "TASK_CLOSED", N_("A tarefa %(value)s já foi encerrada."), 409, field=field, value=task_id
    )


def _not_yours(message: str, value: int, field: str) -> ApiError:
    return ApiError("NOT_YOUR_TASK", message, 403, field=field, value=value)


def _not_leader(message: str, value: int, field: str) -> ApiError:
    return ApiError("NOT_LEADER", message, 403, field=field, value=value)


# -- the work list ----------------------------------------------------------------------

LIST_EXAMPLE = {**SESSION, "notificationType": 0, "onlyApproval": 0, "ordem": 0}


@mobile(
    "notification/feedback",
    model=FeedbackIn,
    answer=Empty,
    summary=N_("Aprova (1) ou reprova (0) uma solicitação: a decisão, o motivo e o comentário"),
    example={
        **SESSION,
        "taskId": 7,
        "feedback": 1,
        "reasonId": 8,
        "comments": "Dentro do orçamento",
    },
)
def feedback(call: Call, body: FeedbackIn, session: Session) -> Empty:
    item = _task(call, session, body.taskId, kind=TaskKind.approval)
    reason = None
    if body.reasonId is not None:
        reason = session.get(Justification, body.reasonId)
        if reason is None or not reason.approval or not reason.active:
            raise ApiError(
                "INVALID_VALUE",
                N_("%(field)s %(value)s não é um motivo de aprovação (veja getReasons)."),
                field="reasonId",
                value=body.reasonId,
            )
    elif body.feedback == 0:
        raise ApiError("REQUIRED", N_("Campo obrigatório: %(field)s."), field="reasonId")
    task, request = item.task, item.request
    task.decision = "approved" if body.feedback else "rejected"
    task.reason_id = body.reasonId
    task.comment = body.comments
    task.decided_by = call.user_id
    task.user_id = call.user_id
    task.status = TaskStatus.done
    task.finished_at = utcnow()
    session.add(task)
    session.flush()
    assert call.user is not None
    text = (
        call.t(N_("Aprovada por %(name)s"), name=call.user.name)
        if body.feedback
        else call.t(N_("Reprovada por %(name)s"), name=call.user.name)
    )
    if reason is not None:
        text += f": {reason.description}"
    if body.comments:
        text += f" — {body.comments}"
    if body.feedback:
        _note(call, session, request, text, reason=reason.description if reason else None)
        # Approved: the execution task now enters the executing team's list.
        tasks.follow(session=session, request=request)
    else:
        _note(
            call,
            session,
            request,
            text,
            status=Status.canceled,
            reason=reason.description if reason else None,
        )
    return Empty()


def _detail(call: Call, session: Session, task: Task) -> TaskDetailOut:
    request = session.get(ServiceRequest, task.request_id)
    assert request is not None and request.id is not None and task.id is not None
    service = None
    if request.service_id is not None:
        row = itsm.service_row(session=session, service_id=request.service_id)
        service = row.service.name if row is not None else None
    minutes, _flag = _time_left(request.deadline, utcnow())
    return TaskDetailOut(
        site=_site(session, request),
        notification=TaskDetail(
            number=request.id,
            taskId=task.id,
            task=call.t(task_name(task.kind)),
            service=_service_name(call, service),
            description=request.description,
            status=status_of(call, request.status).name,
            taskStatus=call.t(TASK_STATUS_LABELS.get(TaskStatus(task.status), task.status)),
            endSLA=_end_sla(call, request.deadline),
            timeSLA=minutes,
            typeRequest=1 if task.kind == TaskKind.approval else 0,
        ),
    )


@both_versions(
    "getById",
    model=TaskRef,
    answer=TaskDetailOut,
    summary=N_("Uma tarefa: solicitação, serviço, descrição, situações e prazo"),
    example={**SESSION, "taskId": 4},
)
def get_by_id(call: Call, body: TaskRef, session: Session) -> TaskDetailOut:
    return _detail(call, session, _visible_task(call, session, body.taskId))


@both_versions(
    "getByUser",
    model=ListIn,
    answer=CountedNotificationsOut,
    summary=N_("A lista de trabalho: tarefas pessoais e das equipes, com o prazo de cada uma"),
    example=LIST_EXAMPLE,
)
def get_by_user(call: Call, body: ListIn, session: Session) -> CountedNotificationsOut:
    items = _filtered(call, session, body)
    return CountedNotificationsOut(amount=len(items), notifications=_answer(call, items))


@mobile(
    "notification/getReasons",
    model=TaskRef,
    answer=TaskReasonsOut,
    summary=N_("Os motivos que um aprovador pode dar"),
    example={**SESSION, "taskId": 7},
)
def get_reasons(call: Call, body: TaskRef, session: Session) -> TaskReasonsOut:
    _visible_task(call, session, body.taskId)
    reasons = [
        ReasonDesc(id=j.id or 0, desc=j.description)
        for j in itsm.justifications(session=session, approval=True)
    ]
    return TaskReasonsOut(amount=len(reasons), reasons=reasons)


@mobile(
    "notification/new",
    model=NewIn,
    answer=NumberOut,
    summary=N_("Registra uma solicitação no local onde o técnico está; a tarefa é dele"),
    example={**SESSION, "description": "Cabo de rede rompido na recepção", **WHERE},
)
def new(call: Call, body: NewIn, session: Session) -> NumberOut:
    user = call.user
    assert user is not None
    requester = itsm.requester_by_login(session=session, login=user.username)
    if requester is None:
        requester = catalog.create_requester_without_document(
            session=session, name=user.name, email=None, phones=[]
        )
        requester.login = user.username
        session.add(requester)
    assert requester.id is not None
    created = requests.create_request(
        session=session,
        requester_id=requester.id,
        description=body.description,
        service=None,
        user_id=call.user_id,
        note=call.t(N_("Registrada no local pelo aplicativo de campo")),
    )
    assert created.id is not None
    member = tasks.membership(session=session, user_id=call.user_id)
    created.group_id = min(member.groups) if member.groups else None
    created.latitude, created.longitude = body.latitude, body.longitude
    session.add(created)
    session.flush()
    tasks.follow(session=session, request=created)
    task = tasks.current_task(session=session, request_id=created.id)
    assert task is not None
    task.user_id = call.user_id
    session.add(task)
    _track(call, session, body.latitude, body.longitude, utcnow())
    call.changed_requests.add(created.id)
    return NumberOut(number=created.id)


# -- the team ---------------------------------------------------------------------------


def _leads(call: Call, session: Session, group_id: int | None) -> bool:
    member = tasks.membership(session=session, user_id=call.user_id)
    return group_id is not None and group_id in member.led


def _user_named(session: Session, login: str) -> User | None:
    return session.exec(select(User).where(User.username == login)).first()


@mobile(
    "v2/notification/atribuicoesEquipesSolicitacoes",
    model=AssignIn,
    answer=Empty,
    summary=N_(
        "O líder distribui as tarefas da equipe: cada taskId a um membro (userName), "
        "ou de volta à equipe (null)"
    ),
    example={**SESSION, "result": [{"taskId": 6, "userName": "tecnico"}]},
)
def assign(call: Call, body: AssignIn, session: Session) -> Empty:
    assert call.user is not None
    for n, given in enumerate(body.result):
        where = f"result[{n}]."
        task = session.get(Task, given.taskId)
        if task is None:
            raise _unknown_task(given.taskId, where + "taskId")
        if task.status not in OPEN_TASK:
            raise _closed_task(given.taskId, where + "taskId")
        if not _leads(call, session, task.group_id):
            raise _not_leader(
                N_("Só o líder da equipe da tarefa %(value)s pode distribuí-la."),
                given.taskId,
                where + "taskId",
            )
        assignee = None
        if given.userName:
            assignee = _user_named(session, given.userName)
            member = (
                tasks.membership(session=session, user_id=assignee.id)
                if assignee is not None and assignee.id is not None
                else None
            )
            if assignee is None or member is None or task.group_id not in member.groups:
                raise ApiError(
                    "NOT_A_MEMBER",
                    N_("%(value)s não é membro da equipe da tarefa."),
                    409,
                    field=where + "userName",
                    value=given.userName,
                )
        assert task.id is not None
        new_user = assignee.id if assignee is not None else None
        if new_user == task.user_id:
            continue
        if task.user_id is not None and tasks.open_visit(
            session=session, task_id=task.id, user_id=task.user_id
        ):
            raise ApiError(
                "CHECKED_IN",
                N_("A tarefa %(value)s está em check-in: aguarde o check-out."),
                409,
                field=where + "taskId",
                value=given.taskId,
            )
        task.user_id = new_user
        task.status = TaskStatus.open
        session.add(task)
        request = session.get(ServiceRequest, task.request_id)
        assert request is not None
        text = (
            call.t(
                N_("Tarefa atribuída a %(member)s por %(leader)s"),
                member=assignee.name,
                leader=call.user.name,
            )
            if assignee is not None
            else call.t(N_("Tarefa devolvida à equipe por %(leader)s"), leader=call.user.name)
        )
        _note(call, session, request, text)
    return Empty()


@mobile(
    "v2/notification/attendRequest",
    model=AttendIn,
    answer=SuccessOut,
    summary=N_("Início do atendimento de uma solicitação (a tarefa passa a ser do técnico)"),
    example={**SESSION, "number": 4, **WHERE, "dateTime": 1795000000000},
)
def attend(call: Call, body: AttendIn, session: Session) -> SuccessOut:
    at = _moment(call, body.dateTime, "dateTime")
    request = find_request(call, session, body.number, None, scoped=False)
    items = [
        i
        for i in tasks.work_list(session=session, user_id=call.user_id)
        if i.request.id == body.number and i.task.kind == TaskKind.execution and i.available
    ]
    if not items:
        raise _not_yours(
            N_("A solicitação %(value)s não está na sua lista de trabalho."), body.number, "number"
        )
    _take(call, items[0], at)
    session.add(items[0].task)
    _track(call, session, body.latitude, body.longitude, at)
    assert call.user is not None
    _note(
        call,
        session,
        request,
        call.t(N_("Atendimento iniciado por %(name)s"), name=call.user.name),
        status=Status.in_progress if request.status == Status.suspended else None,
        at=at,
    )
    return SuccessOut(success=True)


@mobile(
    "v2/notification/atualizaInformacoesSolicitacoes",
    model=UpdateInfoIn,
    answer=Empty,
    summary=N_(
        "O líder atualiza o local (latitude, longitude, unitID) e a ordem de atendimento "
        "(priorityorder) das solicitações da equipe"
    ),
    example={**SESSION, "result": [{"number": 5, "priorityorder": 1}]},
)
def update_info(call: Call, body: UpdateInfoIn, session: Session) -> Empty:
    assert call.user is not None
    for n, given in enumerate(body.result):
        where = f"result[{n}]."
        request = find_request(call, session, given.number, None, prefix=where, scoped=False)
        assert request.id is not None
        task = tasks.current_task(session=session, request_id=request.id)
        if task is None or not _leads(call, session, task.group_id):
            raise _not_leader(
                N_("Só o líder da equipe da solicitação %(value)s pode alterá-la."),
                given.number,
                where + "number",
            )
        if (given.latitude is None) != (given.longitude is None):
            raise ApiError(
                "REQUIRED",
                N_("Informe latitude e longitude juntas."),
                field=where + ("longitude" if given.longitude is None else "latitude"),
            )
        changed = []
        if given.unitID is not None and given.unitID != request.unit_id:
            unit = session.get(Unit, given.unitID)
            if unit is None or (
                request.contract_id is not None and unit.contract_id != request.contract_id
            ):
                raise ApiError(
                    "INVALID_VALUE",
                    N_("%(field)s %(value)s não é uma unidade do contrato da solicitação."),
                    field=where + "unitID",
                    value=given.unitID,
                )
            request.unit_id, request.contract_id = unit.id, unit.contract_id
            changed.append(call.t(N_("unidade %(name)s"), name=unit.description))
        if given.latitude is not None and given.longitude is not None:
            request.latitude, request.longitude = given.latitude, given.longitude
            changed.append(
                call.t(N_("local %(lat).5f, %(lon).5f"), lat=given.latitude, lon=given.longitude)
            )
        if given.priorityorder is not None and given.priorityorder != task.priority_order:
            task.priority_order = given.priorityorder
            session.add(task)
            changed.append(call.t(N_("ordem de atendimento %(n)s"), n=given.priorityorder))
        if changed:
            session.add(request)
            _note(
                call,
                session,
                request,
                call.t(
                    N_("Atualizada por %(leader)s: %(what)s"),
                    leader=call.user.name,
                    what=", ".join(changed),
                ),
            )
    return Empty()


def _matches(item: WorkItem, words: list[str]) -> bool:
    text = _fold(f"{item.request.id} {item.request.description} {item.service or ''}")
    return all(w in text for w in words)


def _fold(text: str) -> str:
    """Lower case without accents, so "manutencao" finds "Manutenção"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@mobile(
    "v2/notification/buscaSolicitacao",
    model=SearchIn,
    answer=NotificationsOut,
    summary=N_(
        "Busca na lista de trabalho por texto (número, descrição, serviço); com "
        "newestNumber, só as solicitações mais novas que ele"
    ),
    example={**LIST_EXAMPLE, "newestNumber": 0, "textoBusca": "rede"},
)
def search(call: Call, body: SearchIn, session: Session) -> NotificationsOut:
    words = _fold(body.textoBusca).split()
    items = [
        i
        for i in _filtered(call, session, body)
        if (i.request.id or 0) > body.newestNumber and _matches(i, words)
    ]
    return NotificationsOut(notifications=_answer(call, items))


# -- at the customer's site -------------------------------------------------------------


@mobile(
    "v2/notification/checkin",
    model=CheckinIn,
    answer=VisitOut,
    summary=N_("Check-in no local da tarefa: posição e hora; a solicitação volta a andamento"),
    example={**SESSION, "taskId": 4, **WHERE, "startTime": 1795000000000},
)
def checkin(call: Call, body: CheckinIn, session: Session) -> VisitOut:
    at = _moment(call, body.startTime, "startTime")
    item = _task(call, session, body.taskId, kind=TaskKind.execution)
    task, request = item.task, item.request
    assert task.id is not None and request.id is not None and call.user is not None
    if item.in_checkin:
        raise ApiError(
            "CHECKED_IN",
            N_("Você já fez check-in na tarefa %(value)s."),
            409,
            field="taskId",
            value=body.taskId,
        )
    elsewhere = tasks.open_visit(session=session, user_id=call.user_id)
    if elsewhere is not None:
        raise ApiError(
            "CHECKED_IN_ELSEWHERE",
            N_("Faça antes o check-out da solicitação %(number)s."),
            409,
            field="taskId",
            number=elsewhere.request_id,
        )
    _take(call, item, at)
    session.add(task)
    visit = FieldVisit(
        task_id=task.id,
        request_id=request.id,
        user_id=call.user_id,
        checkin_at=at,
        checkin_latitude=body.latitude,
        checkin_longitude=body.longitude,
    )
    session.add(visit)
    _track(call, session, body.latitude, body.longitude, at)
    text = call.t(N_("Check-in de %(name)s"), name=call.user.name)
    site = _site(session, request)
    if site is not None:
        text += " " + call.t(N_("em %(site)s"), site=site)
    if item.latitude is not None and item.longitude is not None:
        away = tasks.distance_km(body.latitude, body.longitude, item.latitude, item.longitude)
        text += " " + call.t(N_("(a %(km)s km do local)"), km=_km(away))
    _note(
        call,
        session,
        request,
        text,
        status=Status.in_progress if request.status == Status.suspended else None,
        at=at,
    )
    assert visit.id is not None
    return VisitOut(number=request.id, id=visit.id)


@mobile(
    "v2/notification/checkin/denied",
    model=DeniedIn,
    answer=Empty,
    summary=N_("Check-in não realizado, com o motivo (v2/deniedReasons)"),
    example={**SESSION, "taskId": 8, **WHERE, "dateTime": 1795000000000, "reasonId": 1},
)
def checkin_denied(call: Call, body: DeniedIn, session: Session) -> Empty:
    at = _moment(call, body.dateTime, "dateTime")
    item = _task(call, session, body.taskId, kind=TaskKind.execution)
    reason = session.get(DeniedReason, body.reasonId)
    if reason is None or not reason.active:
        raise ApiError(
            "INVALID_VALUE",
            N_("%(field)s %(value)s não é um motivo de check-in negado (veja v2/deniedReasons)."),
            field="reasonId",
            value=body.reasonId,
        )
    assert item.task.id is not None and call.user is not None
    session.add(
        CheckinDenial(
            task_id=item.task.id,
            user_id=call.user_id,
            reason_id=body.reasonId,
            latitude=body.latitude,
            longitude=body.longitude,
            at=at,
        )
    )
    _track(call, session, body.latitude, body.longitude, at)
    _note(
        call,
        session,
        item.request,
        call.t(
            N_("Check-in não realizado por %(name)s: %(reason)s"),
            name=call.user.name,
            reason=reason.description,
        ),
        reason=reason.description,
        at=at,
    )
    return Empty()


@mobile(
    "v2/notification/checkout",
    model=CheckoutIn,
    answer=VisitOut,
    summary=N_(
        "Check-out: a situação em que a solicitação fica (v2/status) e, para suspensa ou "
        "resolvida, a justificativa (solution) e a descrição (descSolution)"
    ),
    example={
        **SESSION,
        "taskId": 4,
        **WHERE,
        "status": 4,
        "solution": 7,
        "descSolution": "Cabo do switch trocado; rede normalizada",
    },
)
def checkout(call: Call, body: CheckoutIn, session: Session) -> VisitOut:
    item = _task(call, session, body.taskId, kind=TaskKind.execution)
    task, request = item.task, item.request
    assert task.id is not None and request.id is not None and call.user is not None
    visit = tasks.open_visit(session=session, task_id=task.id, user_id=call.user_id)
    if visit is None:
        raise ApiError(
            "NOT_CHECKED_IN",
            N_("Não há check-in seu aberto na tarefa %(value)s."),
            409,
            field="taskId",
            value=body.taskId,
        )
    status = STATUS_BY_ID[body.status]
    justification = None
    if body.solution is not None:
        justification = session.get(Justification, body.solution)
        if (
            justification is None
            or justification.approval
            or not justification.active
            or justification.status_id != body.status
        ):
            raise ApiError(
                "INVALID_VALUE",
                N_("%(field)s %(value)s não é uma justificativa desta situação (veja v2/status)."),
                field="solution",
                value=body.solution,
            )
    if status in (Status.suspended, Status.resolved):
        if justification is None:
            raise ApiError("REQUIRED", N_("Campo obrigatório: %(field)s."), field="solution")
        if not body.descSolution:
            raise ApiError("REQUIRED", N_("Campo obrigatório: %(field)s."), field="descSolution")
    now = utcnow()
    visit.checkout_at = now
    visit.checkout_latitude, visit.checkout_longitude = body.latitude, body.longitude
    visit.status_to = status
    visit.justification_id = body.solution
    visit.solution = body.descSolution
    session.add(visit)
    # Leaving the site: the task stays the technician's, no longer in service.
    task.status = TaskStatus.open
    session.add(task)
    _track(call, session, body.latitude, body.longitude, now)
    minutes = max(0, math.floor((now - visit.checkin_at).total_seconds() / 60))
    text = call.t(
        N_("Check-out de %(name)s após %(minutes)s min: %(status)s"),
        name=call.user.name,
        minutes=minutes,
        status=status_of(call, status).name,
    )
    if justification is not None:
        text += f" — {justification.description}"
    if body.descSolution:
        text += f": {body.descSolution}"
    if body.comments:
        text += f" ({body.comments})"
    occurrence = _note(
        call,
        session,
        request,
        text,
        status=status,
        reason=justification.description if justification is not None else None,
        at=now,
    )
    occurrence.elapsed_minutes = minutes
    session.add(occurrence)
    assert visit.id is not None
    return VisitOut(number=request.id, id=visit.id)


# -- lists in other orders ----------------------------------------------------------------


@mobile(
    "v2/notification/getByCoordinates",
    model=CoordinatesListIn,
    answer=PagedNotificationsOut,
    summary=N_(
        "A lista de trabalho da mais próxima à mais distante do ponto dado (distância "
        "sobre a Terra), em páginas (pager.page a partir de 1, pager.size)"
    ),
    example={**LIST_EXAMPLE, **WHERE, "pager": {"page": 1, "size": 10}},
)
def by_coordinates(call: Call, body: CoordinatesListIn, session: Session) -> PagedNotificationsOut:
    items = _filtered(call, session, body)

    def away(item: WorkItem) -> tuple[int, float, int, int]:
        if item.latitude is None or item.longitude is None:
            return (1, 0.0, item.request.id or 0, item.task.id or 0)
        km = tasks.distance_km(body.latitude, body.longitude, item.latitude, item.longitude)
        return (0, km, item.request.id or 0, item.task.id or 0)

    items.sort(key=away)
    size, page = body.pager.size, body.pager.page
    total = len(items)
    chosen = items[(page - 1) * size : page * size]
    return PagedNotificationsOut(
        notifications=_answer(call, chosen),
        paging=Paging(
            page=page, size=size, totalElements=total, totalPages=math.ceil(total / size)
        ),
    )


@mobile(
    "v2/notification/getColaborador",
    model=TaskRef,
    answer=ColaboradoresOut,
    summary=N_("Quem pode receber a tarefa: os membros da equipe, com a última posição de cada um"),
    example={**SESSION, "taskId": 5},
)
def get_colaborador(call: Call, body: TaskRef, session: Session) -> ColaboradoresOut:
    task = _visible_task(call, session, body.taskId)
    return ColaboradoresOut(colaboradores=_people(call, session, task.group_id))


def _people(call: Call, session: Session, group_id: int | None) -> list[Colaborador]:
    """The team's members; where each was last seen only for the team's leaders (who hand
    out its work), and each member's own."""
    if group_id is None:
        return []
    leads = group_id in tasks.membership(session=session, user_id=call.user_id).led
    out = []
    for user, leader in api.members_of(session=session, group_id=group_id):
        if not user.active or user.id is None:
            continue
        seen = leads or user.id == call.user_id
        where = tasks.last_position(session=session, user_id=user.id) if seen else None
        out.append(
            Colaborador(
                idColaborador=user.id,
                login=user.username,
                nome=user.name,
                lider=leader,
                latitude=where[0] if where else None,
                longitude=where[1] if where else None,
                posicaoEm=int(where[2].timestamp() * 1000) if where else None,
            )
        )
    return out


@mobile(
    "v2/notification/getEquipeColaborador",
    model=TaskRef,
    answer=EquipeOut,
    summary=N_("A equipe responsável pela tarefa e seus membros"),
    example={**SESSION, "taskId": 5},
)
def get_equipe(call: Call, body: TaskRef, session: Session) -> EquipeOut:
    task = _visible_task(call, session, body.taskId)
    group = session.get(Group, task.group_id) if task.group_id else None
    if group is None or group.id is None:
        return EquipeOut(equipe=None)
    return EquipeOut(
        equipe=Equipe(
            idGrupo=group.id,
            sigla=group.acronym,
            nome=group.name,
            colaboradores=_people(call, session, group.id),
        )
    )


@mobile(
    "v2/notification/getGruposLiderados",
    model=Authed,
    answer=GruposOut,
    summary=N_("As equipes que o usuário lidera"),
    example=SESSION,
)
def get_led(call: Call, body: Authed, session: Session) -> GruposOut:
    member = tasks.membership(session=session, user_id=call.user_id)
    out = []
    for group_id in sorted(member.led):
        group = session.get(Group, group_id)
        if group is not None and group.id is not None:
            count = len(api.members_of(session=session, group_id=group.id))
            out.append(Grupo(idGrupo=group.id, sigla=group.acronym, nome=group.name, membros=count))
    return GruposOut(grupos=out)


def _yes(flag: bool) -> str:
    return "S" if flag else "N"


@mobile(
    "v2/notification/getJustificativas",
    model=JustificationsIn,
    answer=JustificativasOut,
    summary=N_(
        "Todas as justificativas: de suspensão, cancelamento, solução e aprovação "
        "(lista de referência: dispensa sessionID)"
    ),
    session_required=False,
    example={},
)
def get_justificativas(call: Call, body: JustificationsIn, session: Session) -> JustificativasOut:
    return JustificativasOut(
        justificativas=[
            Justificativa(
                idJustificativa=j.id or 0,
                descricaoJustificativa=j.description,
                suspensao=_yes(j.status_id == 2),
                situacao="A" if j.active else "I",
                complementoJustificativa=None,
                filtroDescricaoJustificativa=_fold(j.description),
                viagem=_yes(j.travel),
                aprovacao=_yes(j.approval),
                deleted="N",
                status=j.status_id,
            )
            for j in itsm.justifications(session=session, approval=None)
        ]
    )


@mobile(
    "v2/notification/getNewest",
    model=NewestIn,
    answer=NotificationsOut,
    summary=N_(
        "As solicitações mais novas que newestNumber, das mais antigas para as mais novas, "
        "20 por vez (0: desde o começo)"
    ),
    example={**LIST_EXAMPLE, "newestNumber": 0},
)
def get_newest(call: Call, body: NewestIn, session: Session) -> NotificationsOut:
    items = [i for i in _filtered(call, session, body) if (i.request.id or 0) > body.newestNumber]
    items.sort(key=lambda i: (i.request.id or 0, i.task.id or 0))
    return NotificationsOut(notifications=_answer(call, _first_numbers(items, PAGE)))


@mobile(
    "v2/notification/getOldest",
    model=OldestIn,
    answer=NotificationsOut,
    summary=N_(
        "As solicitações mais antigas que oldestNumber, das mais novas para as mais antigas, "
        "20 por vez (0: a partir da mais nova)"
    ),
    example={**LIST_EXAMPLE, "oldestNumber": 0},
)
def get_oldest(call: Call, body: OldestIn, session: Session) -> NotificationsOut:
    items = [
        i
        for i in _filtered(call, session, body)
        if not body.oldestNumber or (i.request.id or 0) < body.oldestNumber
    ]
    items.sort(key=lambda i: (-(i.request.id or 0), i.task.id or 0))
    return NotificationsOut(notifications=_answer(call, _first_numbers(items, PAGE)))


@mobile(
    "v2/notification/location",
    model=LocationIn,
    answer=SuccessOut,
    summary=N_("A posição do técnico, a cada locationInterval minutos (o trajeto do dia)"),
    example={**SESSION, **WHERE, "dateTime": 1795000000000},
)
def location(call: Call, body: LocationIn, session: Session) -> SuccessOut:
    _track(call, session, body.latitude, body.longitude, _moment(call, body.dateTime, "dateTime"))
    return SuccessOut(success=True)


@mobile(
    "v2/notification/update",
    model=NumberRef,
    answer=NotificationsOut,
    summary=N_(
        "As tarefas de uma solicitação na lista de trabalho, como estão agora (vazia: "
        "saiu da lista)"
    ),
    example={**SESSION, "number": 5},
)
def update(call: Call, body: NumberRef, session: Session) -> NotificationsOut:
    find_request(call, session, body.number, None, scoped=False)
    items = [
        i
        for i in tasks.work_list(session=session, user_id=call.user_id)
        if i.request.id == body.number
    ]
    return NotificationsOut(notifications=_answer(call, items))
