"""At the customer's site: check-in (or why it was denied) and check-out."""

from __future__ import annotations

import math

from sqlmodel import Session

from callhub.store import tasks
from callhub.store.models import (
    CheckinDenial,
    DeniedReason,
    FieldVisit,
    Justification,
    Status,
    TaskKind,
    TaskStatus,
    utcnow,
)
from callhub.webservices.services.framework import ApiError, Call
from callhub.webservices.services.mobile.common import (
    N_,
    STATUS_BY_ID,
    WHERE,
    _km,
    _moment,
    _note,
    _site,
    _take,
    _task,
    _track,
    mobile,
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
