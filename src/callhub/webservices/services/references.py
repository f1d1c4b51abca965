"""What a request's body refers to, looked up or created: the requester (by CPF,
e-mail or phone), the service and its category, the contract, the group; and the
integrator's own number for it (numberOrigin), claimed once."""

from __future__ import annotations

from sqlmodel import Session

from callhub import i18n
from callhub.identity import EMAIL, normalise_phone
from callhub.store import api, catalog, itsm
from callhub.store.catalog import ServiceItem
from callhub.store.models import Requester
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
    return catalog.create_requester_without_document(
        session=session, name=name, email=email, phones=[phone] if phone else [], login=user_id
    )


def service_for(
    session: Session, given: ServiceIn | None, synchronize: bool, prefix: str
) -> ServiceItem | None:
    if given is None or not (given.code or given.name):
        return None
    category = given.category
    found = itsm.find_or_add_service(
        session=session,
        service=itsm.Named(given.code, given.name),
        category=itsm.Named(category.code, category.name) if category is not None else None,
        add=synchronize,
    )
    if found is None:
        field = prefix + "service" + (".code" if given.code else ".name")
        raise unknown_reference(field, given.code or given.name)
    assert found.id is not None
    row = itsm.service_row(session=session, service_id=found.id)
    assert row is not None
    return row.item()


def contract_for(session: Session, contract_id: int | None, field: str) -> int | None:
    if contract_id is not None and not itsm.has_contract(session=session, contract_id=contract_id):
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
