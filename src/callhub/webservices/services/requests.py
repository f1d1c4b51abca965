"""Requests and their occurrences: /services/request/*, occurrence/getNotSynchronized,
addServiceRequest (JSON and XML). The same store the telephony webservices and the agent's
screens use; a change here refreshes the request wherever an agent's tab shows it."""

from __future__ import annotations

from sqlmodel import Session

from callhub import i18n
from callhub.store import access, api, catalog, itsm, requests, tasks
from callhub.store.catalog import ServiceItem
from callhub.store.models import (
    ServiceRequest,
    Urgency,
)
from callhub.store.requests import RequestError
from callhub.webservices.services.errors import rule_error
from callhub.webservices.services.framework import ApiError, Call, operation
from callhub.webservices.services.references import (
    claim_origin,
    contact_email,
    contact_phone,
    contract_for,
    group_for,
    requester_for,
    service_for,
    unknown_reference,
)
from callhub.webservices.services.schemas import (
    AddServiceRequestIn,
    AddServiceRequestOut,
    ByUserIn,
    ContactIn,
    CreateIn,
    NotSynchronizedIn,
    RequestOut,
    RequestRef,
    RequestsOut,
    RequestWithLogs,
    ServiceIn,
    SimpleSource,
    SourceRequest,
    UpdateIn,
    UpdateStatusIn,
)
from callhub.webservices.services.shapes import aware, find_request, logs_of, request_out

N_ = i18n.N_
LIST_LIMIT = 1000
TAG = "request"


def _create(
    call: Call,
    session: Session,
    src: SourceRequest | SimpleSource,
    *,
    service: ServiceItem | None,
    synchronize: bool,
    prefix: str,
) -> ServiceRequest:
    if src.numberOrigin:
        claim_origin(call, session, src.numberOrigin, prefix + "numberOrigin")
    requester = requester_for(session, src.userID, src.contact, synchronize, prefix)
    contract_id = contract_for(session, src.contractID, prefix + "contractID")
    group_id = None
    parent_id = None
    if isinstance(src, SourceRequest):
        group_id = group_for(session, src.groupId, prefix + "groupId")
        if src.linkedNumber is not None:
            # Linked only to a request the caller may see (store/access.py).
            if requests.get_request(
                session=session, number=src.linkedNumber
            ) is None or not access.may_see(
                session=session, scope=call.requests_scope(session), request_id=src.linkedNumber
            ):
                raise unknown_reference(prefix + "linkedNumber", src.linkedNumber)
            parent_id = src.linkedNumber
    assert requester.id is not None
    created = requests.create_request(
        session=session,
        requester_id=requester.id,
        description=src.description,
        service=service,
        urgency=Urgency(src.urgency or "M"),
        type_=src.type,
        parent_id=parent_id,
        user_id=call.user_id,
        note=f"Solicitação registrada pela API ({call.origin_platform})",
        impact=src.impact or "M",
        group_id=group_id,
        contract_id=contract_id,
    )
    assert created.id is not None
    if src.numberOrigin:
        api.put_key(
            session=session,
            platform=call.origin_platform,
            object="request",
            from_key=src.numberOrigin,
            to_key=str(created.id),
        )
    return created


CREATE_EXAMPLE = {
    "sessionID": "…",
    "messageID": "msg-0001",
    "synchronize": True,
    "sourceRequest": {
        "numberOrigin": "ERP-123",
        "type": "I",
        "description": "Impressora do 3º andar não imprime",
        "userID": "maria.souza",
        "contact": {
            "name": "Maria Souza",
            "phoneNumber": "+55 11 98765-4321",
            "email": "maria@example.com",
        },
        "service": {
            "code": "IMP",
            "name": "Impressão",
            "category": {"code": "INFRA", "name": "Infraestrutura"},
        },
        "urgency": "H",
        "impact": "M",
    },
}


@operation(
    "request/create",
    model=CreateIn,
    answer=RequestOut,
    summary=N_(
        "Registra uma solicitação (incidente ou requisição) e devolve a solicitação gravada"
    ),
    tag=TAG,
    example=CREATE_EXAMPLE,
)
def create(call: Call, body: CreateIn, session: Session) -> RequestOut:
    src = body.sourceRequest
    service = service_for(session, src.service, body.synchronize, "sourceRequest.")
    created = _create(
        call, session, src, service=service, synchronize=body.synchronize, prefix="sourceRequest."
    )
    return request_out(call, session, created)


@operation(
    "request/getById",
    model=RequestRef,
    answer=RequestOut,
    summary=N_("Uma solicitação pelo número do callhub (number) ou da plataforma (numberOrigin)"),
    tag=TAG,
    example={"sessionID": "…", "numberOrigin": "ERP-123"},
)
def get_by_id(call: Call, body: RequestRef, session: Session) -> RequestOut:
    found = find_request(call, session, body.number, body.numberOrigin)
    return request_out(call, session, found)


def _filtered(call: Call, body: ByUserIn, session: Session) -> list[ServiceRequest]:
    requester = itsm.requester_by_login(session=session, login=body.userID)
    if requester is None or requester.id is None:
        raise ApiError(
            "NOT_FOUND",
            N_("%(field)s %(value)s não existe."),
            404,
            field="userID",
            value=body.userID,
        )
    service_ids = None
    if body.service:
        service = itsm.service_by_code(session=session, code=body.service)
        service_ids = [service.id or 0] if service else []
    contracts = list(body.contractList) if body.contractList is not None else None
    if body.contractID is not None:
        contracts = [*(contracts or []), body.contractID]
    statuses = list(body.statusList) if body.statusList is not None else None
    if body.status is not None:
        statuses = [*(statuses or []), body.status]
    groups = None
    if body.groupList is not None:
        groups = [
            g.id or 0
            for a in body.groupList
            if (g := api.group_by_acronym(session=session, acronym=a)) is not None
        ]
    start, end = aware(call, body.startDate), aware(call, body.endDate)
    where = itsm.RequestFilter(
        requester_id=requester.id,
        description=body.description or None,
        start=start,
        end=end,
        service_ids=service_ids,
        contract_ids=contracts,
        statuses=statuses,
        group_ids=groups,
        scope=call.requests_scope(session),
    )
    return itsm.find_requests(session=session, where=where, limit=LIST_LIMIT)


def _listed(
    call: Call, session: Session, found: list[ServiceRequest], all_attributes: bool
) -> RequestsOut:
    listed = []
    for request in found:
        item = RequestWithLogs(**dict(request_out(call, session, request)))
        if all_attributes:
            item.occurrences = logs_of(call, session, [request.id or 0], None)
        listed.append(item)
    return RequestsOut(amount=len(listed), requests=listed)


@operation(
    "request/getByUser",
    model=ByUserIn,
    answer=RequestsOut,
    summary=N_("As solicitações de um solicitante (userID), com filtros"),
    tag=TAG,
    example={"sessionID": "…", "userID": "maria.souza", "statusList": ["InProgress"]},
)
def get_by_user(call: Call, body: ByUserIn, session: Session) -> RequestsOut:
    return _listed(call, session, _filtered(call, body, session), body.allAttributes)


@operation(
    "request/getNotSynchronized",
    model=NotSynchronizedIn,
    answer=RequestsOut,
    summary=N_("Como getByUser, só as alteradas desde a última sincronização desta plataforma"),
    tag=TAG,
    example={"sessionID": "…", "userID": "maria.souza", "synchronize": True},
)
def get_not_synchronized(call: Call, body: NotSynchronizedIn, session: Session) -> RequestsOut:
    found = _filtered(call, body, session)
    platform = call.origin_platform
    seen = api.marks(
        session=session, platform=platform, object="request", item_ids=[r.id or 0 for r in found]
    )
    changed = [r for r in found if r.id not in seen or r.updated_at > seen[r.id]]
    if body.synchronize and changed:
        api.mark(
            session=session,
            platform=platform,
            object="request",
            item_ids=[r.id or 0 for r in changed],
        )
    return _listed(call, session, changed, body.allAttributes)


def _apply_contact(session: Session, request: ServiceRequest, contact: ContactIn) -> list[str]:
    requester = catalog.get_requester(session=session, requester_id=request.requester_id)
    assert requester is not None
    changed = catalog.update_contact(
        session=session,
        requester=requester,
        name=contact.name,
        email=contact_email(contact, "request.contact"),
        phone=contact_phone(contact, "request.contact"),
    )
    fields = {"name": "contact.name", "email": "contact.email", "phone": "contact.phoneNumber"}
    return [fields[what] for what in changed]


@operation(
    "request/update",
    model=UpdateIn,
    answer=RequestOut,
    summary=N_("Altera uma solicitação (só os campos enviados); registra uma ocorrência"),
    tag=TAG,
    example={
        "sessionID": "…",
        "request": {"numberOrigin": "ERP-123", "urgency": "L", "description": "Já imprime, lenta"},
    },
)
def update(call: Call, body: UpdateIn, session: Session) -> RequestOut:
    change = body.request
    found = find_request(call, session, change.number, change.numberOrigin, prefix="request.")
    assert found.id is not None
    changed: list[str] = []
    if change.type is not None and change.type != found.type:
        found.type = change.type
        changed.append("type")
    if change.description is not None and change.description != found.description:
        found.description = change.description
        changed.append("description")
    if change.urgency is not None and change.urgency != found.urgency:
        found.urgency = change.urgency
        changed.append("urgency")
    if change.impact is not None and change.impact != found.impact:
        found.impact = change.impact
        changed.append("impact")
    if change.contractID is not None and change.contractID != found.contract_id:
        found.contract_id = contract_for(session, change.contractID, "request.contractID")
        changed.append("contractID")
    if change.groupId is not None:
        group_id = group_for(session, change.groupId, "request.groupId")
        if group_id != found.group_id:
            found.group_id = group_id
            changed.append("groupId")
    if change.service is not None:
        service = service_for(session, change.service, body.synchronize, "request.")
        if service is not None and service.id != found.service_id:
            found.service_id = service.id
            found.deadline = requests.deadline_for(found.opened_at, service)
            changed.append("service")
    if change.contact is not None:
        changed += _apply_contact(session, found, change.contact)
    if changed:
        requests.add_occurrence(
            session=session,
            request=found,
            user_id=call.user_id,
            description="Alterada pela API: " + ", ".join(changed),
            origin="OTHERS",
        )
        if "groupId" in changed or "service" in changed:
            tasks.follow(session=session, request=found)
    if change.status is not None and change.status.code != found.status:
        _change_status(call, session, found, change.status.code, change.status.details, "request.")
    if changed or change.status is not None:
        call.changed_requests.add(found.id)
    return request_out(call, session, found)


def _change_status(
    call: Call,
    session: Session,
    found: ServiceRequest,
    code: str,
    details: str | None,
    prefix: str,
) -> None:
    try:
        requests.change_status(
            session=session,
            request=found,
            status=code,
            user_id=call.user_id,
            description=details or "Situação alterada pela API",
        )
    except RequestError as exc:
        field = prefix + "status.code" if exc.field == "status" else None
        raise rule_error(exc, field=field) from None


@operation(
    "request/updateStatus",
    model=UpdateStatusIn,
    answer=RequestOut,
    summary=N_("Muda a situação (InProgress, Suspended, Canceled, Resolved, Reopened, Closed)"),
    tag=TAG,
    example={
        "sessionID": "…",
        "number": 1,
        "status": {"code": "Resolved", "details": "Toner trocado"},
    },
)
def update_status(call: Call, body: UpdateStatusIn, session: Session) -> RequestOut:
    found = find_request(call, session, body.number, body.numberOrigin)
    assert found.id is not None
    _change_status(call, session, found, body.status.code, body.status.details, "")
    call.changed_requests.add(found.id)
    return request_out(call, session, found)


# -- the simpler create --------------------------------------------------------------------


def _add_service_request(
    call: Call, body: AddServiceRequestIn, session: Session
) -> AddServiceRequestOut:
    src = body.serviceRequestSource
    service = None
    if src.service:
        service = service_for(session, ServiceIn(code=src.service), False, "serviceRequestSource.")
    created = _create(
        call, session, src, service=service, synchronize=False, prefix="serviceRequestSource."
    )
    return AddServiceRequestOut(serviceRequestDest=request_out(call, session, created))


SIMPLE_EXAMPLE = {
    "sessionID": "…",
    "serviceRequestSource": {
        "numberOrigin": "ERP-124",
        "description": "Novo acesso ao sistema de RH",
        "userID": "maria.souza",
        "service": "IMP",
    },
}

for _name in ("addServiceRequest", "xml/addServiceRequest"):
    operation(
        _name,
        model=AddServiceRequestIn,
        answer=AddServiceRequestOut,
        summary=N_("Registra uma requisição de serviço (forma simples; userID já cadastrado)"),
        tag=TAG,
        xml=_name.startswith("xml/"),
        example=SIMPLE_EXAMPLE,
    )(_add_service_request)
