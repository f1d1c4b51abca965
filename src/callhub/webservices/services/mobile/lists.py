"""The work list in other orders (by distance, newest, oldest), the people and teams a
leader sees, justifications, the location track, one task refreshed."""

from __future__ import annotations

import math

from sqlmodel import Session

from callhub.store import api, itsm, tasks
from callhub.store import field as field_work
from callhub.store.tasks import WorkItem
from callhub.webservices.services.framework import Call
from callhub.webservices.services.mobile.common import (
    LIST_EXAMPLE,
    N_,
    PAGE,
    WHERE,
    filtered_work,
    first_numbers,
    fold,
    mobile,
    moment_of,
    notifications_of,
    visible_task,
)
from callhub.webservices.services.mobile.schemas import (
    Colaborador,
    ColaboradoresOut,
    CoordinatesListIn,
    Equipe,
    EquipeOut,
    Grupo,
    GruposOut,
    JustificationsIn,
    Justificativa,
    JustificativasOut,
    LocationIn,
    NewestIn,
    NotificationsOut,
    NumberRef,
    OldestIn,
    PagedNotificationsOut,
    Paging,
    TaskRef,
)
from callhub.webservices.services.schemas import Authed, SuccessOut
from callhub.webservices.services.shapes import (
    find_request,
)
from callhub.webservices.services.support import SESSION


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
    items = filtered_work(call, session, body)

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
        notifications=notifications_of(call, chosen),
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
    task = visible_task(call, session, body.taskId)
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
    task = visible_task(call, session, body.taskId)
    group = api.get_group(session=session, group_id=task.group_id)
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
        group = api.get_group(session=session, group_id=group_id)
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
                filtroDescricaoJustificativa=fold(j.description),
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
    items = [
        i for i in filtered_work(call, session, body) if (i.request.id or 0) > body.newestNumber
    ]
    items.sort(key=lambda i: (i.request.id or 0, i.task.id or 0))
    return NotificationsOut(notifications=notifications_of(call, first_numbers(items, PAGE)))


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
        for i in filtered_work(call, session, body)
        if not body.oldestNumber or (i.request.id or 0) < body.oldestNumber
    ]
    items.sort(key=lambda i: (-(i.request.id or 0), i.task.id or 0))
    return NotificationsOut(notifications=notifications_of(call, first_numbers(items, PAGE)))


@mobile(
    "v2/notification/location",
    model=LocationIn,
    answer=SuccessOut,
    summary=N_("A posição do técnico, a cada locationInterval minutos (o trajeto do dia)"),
    example={**SESSION, **WHERE, "dateTime": 1795000000000},
)
def location(call: Call, body: LocationIn, session: Session) -> SuccessOut:
    field_work.track(
        session=session,
        user_id=call.user_id,
        latitude=body.latitude,
        longitude=body.longitude,
        at=moment_of(call, body.dateTime, "dateTime"),
    )
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
    return NotificationsOut(notifications=notifications_of(call, items))
