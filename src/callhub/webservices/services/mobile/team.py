"""The team: a leader assigns and a technician takes a task, its information updated,
the work list searched."""

from __future__ import annotations

from sqlmodel import Session

from callhub.store import field as field_work
from callhub.store import tasks, users
from callhub.store.models import (
    OPEN_TASK,
    Status,
    TaskKind,
)
from callhub.store.tasks import WorkItem
from callhub.webservices.services.framework import ApiError, Call
from callhub.webservices.services.mobile.common import (
    LIST_EXAMPLE,
    N_,
    WHERE,
    closed_task,
    filtered_work,
    fold,
    mobile,
    moment_of,
    not_leader,
    not_yours,
    notifications_of,
    unknown_task,
    write_note,
)
from callhub.webservices.services.mobile.schemas import (
    AssignIn,
    AttendIn,
    NotificationsOut,
    SearchIn,
    UpdateInfoIn,
)
from callhub.webservices.services.schemas import Empty, SuccessOut
from callhub.webservices.services.shapes import (
    find_request,
)
from callhub.webservices.services.support import SESSION


def _leads(call: Call, session: Session, group_id: int | None) -> bool:
    member = tasks.membership(session=session, user_id=call.user_id)
    return group_id is not None and group_id in member.led


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
        task = field_work.get_task(session=session, task_id=given.taskId)
        if task is None:
            raise unknown_task(given.taskId, where + "taskId")
        if task.status not in OPEN_TASK:
            raise closed_task(given.taskId, where + "taskId")
        if not _leads(call, session, task.group_id):
            raise not_leader(
                N_("Só o líder da equipe da tarefa %(value)s pode distribuí-la."),
                given.taskId,
                where + "taskId",
            )
        assignee = None
        if given.userName:
            assignee = users.find_user(session=session, username=given.userName)
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
        field_work.assign(session=session, task=task, user_id=new_user)
        request = field_work.request_of(session=session, task=task)
        text = (
            call.t(
                N_("Tarefa atribuída a %(member)s por %(leader)s"),
                member=assignee.name,
                leader=call.user.name,
            )
            if assignee is not None
            else call.t(N_("Tarefa devolvida à equipe por %(leader)s"), leader=call.user.name)
        )
        write_note(call, session, request, text)
    return Empty()


@mobile(
    "v2/notification/attendRequest",
    model=AttendIn,
    answer=SuccessOut,
    summary=N_("Início do atendimento de uma solicitação (a tarefa passa a ser do técnico)"),
    example={**SESSION, "number": 4, **WHERE, "dateTime": 1795000000000},
)
def attend(call: Call, body: AttendIn, session: Session) -> SuccessOut:
    at = moment_of(call, body.dateTime, "dateTime")
    request = find_request(call, session, body.number, None, scoped=False)
    items = [
        i
        for i in tasks.work_list(session=session, user_id=call.user_id)
        if i.request.id == body.number and i.task.kind == TaskKind.execution and i.available
    ]
    if not items:
        raise not_yours(
            N_("A solicitação %(value)s não está na sua lista de trabalho."), body.number, "number"
        )
    field_work.take(session=session, task=items[0].task, user_id=call.user_id, started=at)
    field_work.track(
        session=session,
        user_id=call.user_id,
        latitude=body.latitude,
        longitude=body.longitude,
        at=at,
    )
    assert call.user is not None
    write_note(
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
            raise not_leader(
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
            unit = field_work.get_unit(session=session, unit_id=given.unitID)
            if unit is None or (
                request.contract_id is not None and unit.contract_id != request.contract_id
            ):
                raise ApiError(
                    "INVALID_VALUE",
                    N_("%(field)s %(value)s não é uma unidade do contrato da solicitação."),
                    field=where + "unitID",
                    value=given.unitID,
                )
            field_work.place(session=session, request=request, unit=unit)
            changed.append(call.t(N_("unidade %(name)s"), name=unit.description))
        if given.latitude is not None and given.longitude is not None:
            field_work.place(
                session=session, request=request, latitude=given.latitude, longitude=given.longitude
            )
            changed.append(
                call.t(N_("local %(lat).5f, %(lon).5f"), lat=given.latitude, lon=given.longitude)
            )
        if given.priorityorder is not None and given.priorityorder != task.priority_order:
            field_work.set_priority(session=session, task=task, order=given.priorityorder)
            changed.append(call.t(N_("ordem de atendimento %(n)s"), n=given.priorityorder))
        if changed:
            write_note(
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
    text = fold(f"{item.request.id} {item.request.description} {item.service or ''}")
    return all(w in text for w in words)


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
    words = fold(body.textoBusca).split()
    items = [
        i
        for i in filtered_work(call, session, body)
        if (i.request.id or 0) > body.newestNumber and _matches(i, words)
    ]
    return NotificationsOut(notifications=notifications_of(call, items))
