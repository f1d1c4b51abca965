"""The technician's work list: tasks listed and counted, one task's detail and its
reasons, feedback on a task, a new request."""

from __future__ import annotations

from sqlmodel import Session

from callhub.store import field as field_work
from callhub.store import itsm, tasks
from callhub.store.models import (
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
    both_versions,
    end_sla,
    filtered_work,
    mobile,
    notifications_of,
    own_task,
    service_label,
    site_of,
    time_left,
    visible_task,
    write_note,
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
    item = own_task(call, session, body.taskId, kind=TaskKind.approval)
    reason = None
    if body.reasonId is not None:
        reason = field_work.approval_reason(session=session, reason_id=body.reasonId)
        if reason is None:
            raise ApiError(
                "INVALID_VALUE",
                N_("%(field)s %(value)s não é um motivo de aprovação (veja getReasons)."),
                field="reasonId",
                value=body.reasonId,
            )
    elif body.feedback == 0:
        raise ApiError("REQUIRED", N_("Campo obrigatório: %(field)s."), field="reasonId")
    request = item.request
    field_work.decide(
        session=session,
        task=item.task,
        user_id=call.user_id,
        approved=bool(body.feedback),
        reason_id=body.reasonId,
        comment=body.comments,
    )
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
        write_note(call, session, request, text, reason=reason.description if reason else None)
        # Approved: the execution task now enters the executing team's list.
        tasks.follow(session=session, request=request)
    else:
        write_note(
            call,
            session,
            request,
            text,
            status=Status.canceled,
            reason=reason.description if reason else None,
        )
    return Empty()


def _detail(call: Call, session: Session, task: Task) -> TaskDetailOut:
    request = field_work.request_of(session=session, task=task)
    assert request.id is not None and task.id is not None
    service = None
    if request.service_id is not None:
        row = itsm.service_row(session=session, service_id=request.service_id)
        service = row.service.name if row is not None else None
    minutes, _flag = time_left(request.deadline, utcnow())
    return TaskDetailOut(
        site=site_of(session, request),
        notification=TaskDetail(
            number=request.id,
            taskId=task.id,
            task=call.t(task_name(task.kind)),
            service=service_label(call, service),
            description=request.description,
            status=status_of(call, request.status).name,
            taskStatus=call.t(TASK_STATUS_LABELS.get(TaskStatus(task.status), task.status)),
            endSLA=end_sla(call, request.deadline),
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
    return _detail(call, session, visible_task(call, session, body.taskId))


@both_versions(
    "getByUser",
    model=ListIn,
    answer=CountedNotificationsOut,
    summary=N_("A lista de trabalho: tarefas pessoais e das equipes, com o prazo de cada uma"),
    example=LIST_EXAMPLE,
)
def get_by_user(call: Call, body: ListIn, session: Session) -> CountedNotificationsOut:
    items = filtered_work(call, session, body)
    return CountedNotificationsOut(amount=len(items), notifications=notifications_of(call, items))


@mobile(
    "notification/getReasons",
    model=TaskRef,
    answer=TaskReasonsOut,
    summary=N_("Os motivos que um aprovador pode dar"),
    example={**SESSION, "taskId": 7},
)
def get_reasons(call: Call, body: TaskRef, session: Session) -> TaskReasonsOut:
    visible_task(call, session, body.taskId)
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
    assert call.user is not None
    created = field_work.open_on_site(
        session=session,
        user=call.user,
        description=body.description,
        latitude=body.latitude,
        longitude=body.longitude,
        note=call.t(N_("Registrada no local pelo aplicativo de campo")),
    )
    assert created.id is not None
    call.changed_requests.add(created.id)
    return NumberOut(number=created.id)
