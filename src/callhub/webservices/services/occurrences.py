"""Occurrences: request/createOccurrence, request/listOccurrences and
occurrence/getNotSynchronized."""

from __future__ import annotations

from datetime import datetime, time

from sqlmodel import Session

from callhub import i18n
from callhub.store import api, itsm, requests
from callhub.store.models import ServiceRequest
from callhub.store.requests import RequestError

# Registered after the request operations, so the document lists request/create first.
from callhub.webservices.services import requests as _requests  # noqa: F401
from callhub.webservices.services.errors import rule_error
from callhub.webservices.services.framework import ApiError, Call, operation
from callhub.webservices.services.schemas import (
    CreateOccurrenceIn,
    ListOccurrencesIn,
    LogsOut,
    OccurrenceOut,
    OccurrenceRef,
    OccurrencesNotSynchronizedIn,
)
from callhub.webservices.services.shapes import find_request, logs_of, occurrence_out

N_ = i18n.N_
LIST_LIMIT = 1000
TAG = "request"


def _request_of(call: Call, session: Session, body: OccurrenceRef) -> ServiceRequest:
    return find_request(
        call,
        session,
        body.requestNumber,
        body.requestNumberOrigin,
        number_field="requestNumber",
        origin_field="requestNumberOrigin",
    )


DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")


def _occurred_at(call: Call, date: str | None, hour: str | None) -> datetime | None:
    if not date and not hour:
        return None
    zone = call.settings.zone
    day = datetime.now(zone).date()
    if date:
        for fmt in DATE_FORMATS:
            try:
                day = datetime.strptime(date, fmt).date()
                break
            except ValueError:
                continue
        else:
            raise ApiError(
                "INVALID_VALUE",
                N_("Data inválida em %(field)s (dd/mm/aaaa)."),
                field="occurrence.date",
            )
    at = time(0, 0)
    if hour:
        try:
            at = datetime.strptime(hour, "%H:%M").time()
        except ValueError:
            raise ApiError(
                "INVALID_VALUE", N_("Hora inválida em %(field)s (HH:MM)."), field="occurrence.hour"
            ) from None
    return datetime.combine(day, at, tzinfo=zone)


@operation(
    "request/createOccurrence",
    model=CreateOccurrenceIn,
    answer=OccurrenceOut,
    summary=N_("Registra uma ocorrência (anotação) numa solicitação"),
    tag=TAG,
    example={
        "sessionID": "…",
        "requestNumberOrigin": "ERP-123",
        "occurrence": {
            "numberOrigin": "OC-9",
            "description": "Técnico a caminho",
            "date": "23/11/2026",
            "hour": "14:30",
            "category": {"code": "Execution"},
            "origin": "FONE_FAX",
        },
    },
)
def create_occurrence(call: Call, body: CreateOccurrenceIn, session: Session) -> OccurrenceOut:
    found = _request_of(call, session, body)
    assert found.id is not None
    given = body.occurrence
    platform = call.origin_platform
    if given.numberOrigin and api.to_key(
        session=session, platform=platform, object="occurrence", from_key=given.numberOrigin
    ):
        raise ApiError(
            "DUPLICATE",
            N_("%(field)s %(value)s já foi registrada."),
            409,
            field="occurrence.numberOrigin",
            value=given.numberOrigin,
        )
    try:
        occurrence = requests.add_occurrence(
            session=session,
            request=found,
            user_id=call.user_id,
            description=given.description,
            category=given.category.code if given.category else None,
            reason=given.reason,
            origin=given.origin or "OTHERS",
            occurred_at=_occurred_at(call, given.date, given.hour),
            elapsed_minutes=given.elapsedTime,
        )
    except RequestError as exc:
        raise rule_error(exc, field="occurrence." + exc.field) from None
    assert occurrence.id is not None
    if given.numberOrigin:
        api.put_key(
            session=session,
            platform=platform,
            object="occurrence",
            from_key=given.numberOrigin,
            to_key=str(occurrence.id),
        )
    call.changed_requests.add(found.id)
    return occurrence_out(call, session, occurrence, call.user.username if call.user else None)


@operation(
    "request/listOccurrences",
    model=ListOccurrencesIn,
    answer=LogsOut,
    summary=N_("As ocorrências de uma solicitação, da mais antiga à mais nova"),
    tag=TAG,
    example={"sessionID": "…", "requestNumber": 1, "categoryList": ["Execution"]},
)
def list_occurrences(call: Call, body: ListOccurrencesIn, session: Session) -> LogsOut:
    found = _request_of(call, session, body)
    logs = logs_of(call, session, [found.id or 0], body.categoryList)
    return LogsOut(amount=len(logs), logs=logs)


@operation(
    "occurrence/getNotSynchronized",
    model=OccurrencesNotSynchronizedIn,
    answer=LogsOut,
    summary=N_(
        "Ocorrências que esta plataforma ainda não recebeu (de uma solicitação, ou de todas)"
    ),
    tag=TAG,
    example={"sessionID": "…", "requestNumberOrigin": "ERP-123", "synchronize": True},
)
def occurrences_not_synchronized(
    call: Call, body: OccurrencesNotSynchronizedIn, session: Session
) -> LogsOut:
    platform = call.origin_platform
    request_id = None
    if body.requestNumber is not None or body.requestNumberOrigin is not None:
        request_id = _request_of(call, session, body).id
    rows = itsm.unsynchronized_occurrences(
        session=session,
        platform=platform,
        scope=call.requests_scope(session),
        request_id=request_id,
        categories=body.categoryList,
        limit=LIST_LIMIT,
    )
    if body.synchronize and rows:
        api.mark(
            session=session,
            platform=platform,
            object="occurrence",
            item_ids=[o.id or 0 for o, _ in rows],
        )
    logs = [occurrence_out(call, session, o, login) for o, login in rows]
    return LogsOut(amount=len(logs), logs=logs)
