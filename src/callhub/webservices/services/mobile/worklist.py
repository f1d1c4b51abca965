"""The technician's work list: tasks listed and counted, one task's detail and its
reasons, feedback on a task, a new request."""

from __future__ import annotations

from sqlmodel import Session

from callhub.store import catalog, itsm, requests, tasks
from callhub.store.models import (
    Justification,
    ServiceRequest,
    Status,
    Task,
    TaskKind,
    TaskStatus,
    utcnow,
)
from callhub.webservices.services.framework import ApiError, Call
from callhub.webservices.services.mobile.common import (
    LIST_EXAMPLE,
    N_,
    TASK_STATUS_LABELS,
    WHERE,
    _answer,
    _end_sla,
    _filtered,
    _note,
    _service_name,
    _site,
    _task,
    _time_left,
    _track,
    _visible_task,
    both_versions,
    mobile,
)
from callhub.webservices.services.mobile.schemas import (
    CountedNotificationsOut,
    FeedbackIn,
    ListIn,
    NewIn,
    NumberOut,
    ReasonDesc,
    TaskDetail,
    TaskDetailOut,
    TaskReasonsOut,
    TaskRef,
)
from callhub.webservices.services.schemas import Empty
from callhub.webservices.services.shapes import (
    status_of,
    task_name,
)
from callhub.webservices.services.support import SESSION


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
