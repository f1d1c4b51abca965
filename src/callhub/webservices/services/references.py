"""What a request's body refers to, looked up or created: the requester (by CPF,
e-mail or phone), the service and its category, the contract, the group; and the
integrator's own number for it (numberOrigin), claimed once."""

from __future__ import annotations

from sqlmodel import Session, select

from callhub import i18n
from callhub.identity import EMAIL, normalise_phone
from callhub.store import api, catalog, itsm
from callhub.store.catalog import ServiceItem
from callhub.store.models import (
    Category,
    Contract,
    Requester,
    Service,
)
from callhub.webservices.services.framework import ApiError, Call
from callhub.webservices.services.schemas import (
    ContactIn,
    ServiceIn,
)

N_ = i18n.N_


def unknown_reference(field: str, value: object) -> ApiError:
    return ApiError(
        "UNKNOWN_REFERENCE", N_("%(field)s %(value)s não existe."), 422, field=field, value=value
    )


def contact_phone(contact: ContactIn | None, field: str) -> str | None:
    if contact is None or not contact.phoneNumber:
        return None
    e164 = normalise_phone(contact.phoneNumber)
    if e164 is None:
        raise ApiError(
            "INVALID_VALUE", N_("Telefone inválido em %(field)s."), field=field + ".phoneNumber"
        )
    return e164


def contact_email(contact: ContactIn | None, field: str) -> str | None:
    if contact is None or not contact.email:
        return None
    if not EMAIL.match(contact.email):
        raise ApiError("INVALID_VALUE", N_("E-mail inválido em %(field)s."), field=field + ".email")
    return contact.email


def requester_for(
    session: Session, user_id: str, contact: ContactIn | None, synchronize: bool, prefix: str
) -> Requester:
    found = itsm.requester_by_login(session=session, login=user_id)
    phone = contact_phone(contact, prefix + "contact")
    email = contact_email(contact, prefix + "contact")
    if found is not None:
        return found
    if not synchronize:
        raise unknown_reference(prefix + "userID", user_id)
    name = (contact.name if contact and contact.name else None) or user_id
    requester = catalog.create_requester_without_document(
        session=session, name=name, email=email, phones=[phone] if phone else []
    )
    requester.login = user_id
    session.add(requester)
    session.flush()
    return requester


def service_for(
    session: Session, given: ServiceIn | None, synchronize: bool, prefix: str
) -> ServiceItem | None:
    if given is None or not (given.code or given.name):
        return None
    field = prefix + "service"
    found = None
    if given.code:
        found = itsm.service_by_code(session=session, code=given.code)
    if found is None and given.name:
        found = session.exec(select(Service).where(Service.name == given.name)).first()
        if found is not None and given.code and found.code is None and synchronize:
            found.code = given.code
            session.add(found)
    if found is None:
        if not synchronize:
            raise unknown_reference(
                field + (".code" if given.code else ".name"), given.code or given.name
            )
        found = Service(code=given.code, name=given.name or given.code or "")
        category = category_for(session, given, synchronize)
        found.category_id = category.id if category else None
        session.add(found)
        session.flush()
    assert found.id is not None
    row = itsm.service_row(session=session, service_id=found.id)
    assert row is not None
    return row.item()


def category_for(session: Session, given: ServiceIn, synchronize: bool) -> Category | None:
    if given.category is None or not (given.category.code or given.category.name):
        return None
    found = itsm.category_by_code(
        session=session, code=given.category.code, name=given.category.name
    )
    if found is None:
        found = Category(
            code=given.category.code, name=given.category.name or given.category.code or ""
        )
        session.add(found)
        session.flush()
    return found


def contract_for(session: Session, contract_id: int | None, field: str) -> int | None:
    if contract_id is not None and session.get(Contract, contract_id) is None:
        raise unknown_reference(field, contract_id)
    return contract_id


def group_for(session: Session, acronym: str | None, field: str) -> int | None:
    if not acronym:
        return None
    group = api.group_by_acronym(session=session, acronym=acronym)
    if group is None:
        raise unknown_reference(field, acronym)
    return group.id


def claim_origin(call: Call, session: Session, number_origin: str, field: str) -> None:
    taken = api.to_key(
        session=session, platform=call.origin_platform, object="request", from_key=number_origin
    )
    if taken is not None:
        raise ApiError(
            "DUPLICATE",
            N_("%(field)s %(value)s já é a solicitação %(number)s."),
            409,
            field=field,
            value=number_origin,
            number=taken,
        )
