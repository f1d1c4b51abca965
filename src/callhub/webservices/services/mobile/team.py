"""The team: a leader assigns and a technician takes a task, its information updated,
the work list searched."""

from __future__ import annotations

from sqlmodel import Session, select

from callhub.store import tasks
from callhub.store.models import (
    OPEN_TASK,
    ServiceRequest,
    Status,
    Task,
    TaskKind,
    TaskStatus,
    Unit,
    User,
)
from callhub.store.tasks import WorkItem
from callhub.webservices.services.framework import ApiError, Call
from callhub.webservices.services.mobile.common import (
    LIST_EXAMPLE,
    N_,
    WHERE,
    _answer,
    _closed_task,
    _filtered,
    _fold,
    _moment,
    _not_leader,
    _not_yours,
    _note,
    _take,
    _track,
    _unknown_task,
    mobile,
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
