"""At the customer's site: check-in (or why it was denied) and check-out."""

from __future__ import annotations

from sqlmodel import Session

from callhub.store import field as field_work
from callhub.store import tasks
from callhub.store.models import (
    Status,
    TaskKind,
)
from callhub.webservices.services.framework import ApiError, Call
from callhub.webservices.services.mobile.common import (
    N_,
    STATUS_BY_ID,
    WHERE,
    km_text,
    mobile,
    moment_of,
    own_task,
    site_of,
    write_note,
)
from callhub.webservices.services.mobile.schemas import (
    CheckinIn,
    CheckoutIn,
    DeniedIn,
    VisitOut,
)
from callhub.webservices.services.schemas import Empty
from callhub.webservices.services.shapes import (
    status_of,
)
from callhub.webservices.services.support import SESSION


@mobile(
    "v2/notification/checkin",
    model=CheckinIn,
    answer=VisitOut,
    summary=N_("Check-in no local da tarefa: posição e hora; a solicitação volta a andamento"),
    example={**SESSION, "taskId": 4, **WHERE, "startTime": 1795000000000},
)
def checkin(call: Call, body: CheckinIn, session: Session) -> VisitOut:
    at = moment_of(call, body.startTime, "startTime")
    item = own_task(call, session, body.taskId, kind=TaskKind.execution)
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
    visit = field_work.check_in(
        session=session,
        task=task,
        user_id=call.user_id,
        at=at,
        latitude=body.latitude,
        longitude=body.longitude,
    )
    text = call.t(N_("Check-in de %(name)s"), name=call.user.name)
    site = site_of(session, request)
    if site is not None:
        text += " " + call.t(N_("em %(site)s"), site=site)
    if item.latitude is not None and item.longitude is not None:
        away = tasks.distance_km(body.latitude, body.longitude, item.latitude, item.longitude)
        text += " " + call.t(N_("(a %(km)s km do local)"), km=km_text(away))
    write_note(
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
    at = moment_of(call, body.dateTime, "dateTime")
    item = own_task(call, session, body.taskId, kind=TaskKind.execution)
    reason = field_work.denied_reason(session=session, reason_id=body.reasonId)
    if reason is None:
        raise ApiError(
            "INVALID_VALUE",
            N_("%(field)s %(value)s não é um motivo de check-in negado (veja v2/deniedReasons)."),
            field="reasonId",
            value=body.reasonId,
        )
    assert call.user is not None
    field_work.deny_check_in(
        session=session,
        task=item.task,
        user_id=call.user_id,
        reason=reason,
        at=at,
        latitude=body.latitude,
        longitude=body.longitude,
    )
    write_note(
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
    item = own_task(call, session, body.taskId, kind=TaskKind.execution)
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
        justification = field_work.checkout_justification(
            session=session, justification_id=body.solution, status_id=body.status
        )
        if justification is None:
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
    departure = field_work.check_out(
        session=session,
        visit=visit,
        task=task,
        status=status,
        justification=justification,
        solution=body.descSolution,
        latitude=body.latitude,
        longitude=body.longitude,
    )
    text = call.t(
        N_("Check-out de %(name)s após %(minutes)s min: %(status)s"),
        name=call.user.name,
        minutes=departure.minutes,
        status=status_of(call, status).name,
    )
    if justification is not None:
        text += f" — {justification.description}"
    if body.descSolution:
        text += f": {body.descSolution}"
    if body.comments:
        text += f" ({body.comments})"
    write_note(
        call,
        session,
        request,
        text,
        status=status,
        reason=justification.description if justification is not None else None,
        at=visit.checkout_at,
        elapsed_minutes=departure.minutes,
    )
    assert visit.id is not None
    return VisitOut(number=request.id, id=visit.id)
