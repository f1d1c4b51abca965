"""What the ITSM API reads and writes beyond the agent's screens: requesters by login,
services by code, filtered request lists, occurrences with categories, reference lists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, exists, func, or_
from sqlmodel import Session, col, select

from callhub.store import access
from callhub.store.catalog import ServiceItem, service_item
from callhub.store.models import (
    Category,
    Contract,
    DeniedReason,
    Justification,
    Occurrence,
    Phone,
    Requester,
    Service,
    ServiceRequest,
    SyncMark,
    Unit,
    User,
)


def requester_by_login(*, session: Session, login: str) -> Requester | None:
    return session.exec(select(Requester).where(Requester.login == login)).first()


def first_phone(*, session: Session, requester_id: int) -> str | None:
    query = select(Phone.number).where(Phone.requester_id == requester_id).order_by(col(Phone.id))
    return session.exec(query.limit(1)).first()


@dataclass(frozen=True)
class ServiceRow:
    service: Service
    category: Category | None

    def item(self) -> ServiceItem:
        return service_item(self.service, self.category)


def service_row(*, session: Session, service_id: int) -> ServiceRow | None:
    service = session.get(Service, service_id)
    if service is None:
        return None
    category = session.get(Category, service.category_id) if service.category_id else None
    return ServiceRow(service, category)


def service_by_code(*, session: Session, code: str) -> Service | None:
    """By its code; a code of digits with no service of that code is the service's number."""
    found = session.exec(select(Service).where(Service.code == code)).first()
    if found is None and code.isdigit() and len(code) < 12:
        found = session.get(Service, int(code))
    return found


def service_by_name(*, session: Session, name: str) -> Service | None:
    return session.exec(select(Service).where(Service.name == name)).first()


@dataclass(frozen=True)
class Named:
    """A reference given by code, by name, or both."""

    code: str | None
    name: str | None


def find_or_add_service(
    *, session: Session, service: Named, category: Named | None, add: bool
) -> Service | None:
    """The service an integrator names, by code first, then by name; None when unknown.

    With `add` (the integrator's `synchronize`), an unknown service is added in its
    category (found, or added too), and one found by name takes the code given when it
    has none."""
    found = service_by_code(session=session, code=service.code) if service.code else None
    if found is None and service.name:
        found = service_by_name(session=session, name=service.name)
        if found is not None and service.code and found.code is None and add:
            found.code = service.code
            session.add(found)
    if found is None and add:
        found = Service(code=service.code, name=service.name or service.code or "")
        owner = _find_or_add_category(session, category) if category is not None else None
        found.category_id = owner.id if owner is not None else None
        session.add(found)
        session.flush()
    return found


def _find_or_add_category(session: Session, given: Named) -> Category | None:
    if not (given.code or given.name):
        return None
    found = category_by_code(session=session, code=given.code, name=given.name)
    if found is None:
        found = Category(code=given.code, name=given.name or given.code or "")
        session.add(found)
        session.flush()
    return found


def has_contract(*, session: Session, contract_id: int) -> bool:
    return session.get(Contract, contract_id) is not None


def category_by_code(*, session: Session, code: str | None, name: str | None) -> Category | None:
    if code:
        found = session.exec(select(Category).where(Category.code == code)).first()
        if found is None and code.isdigit() and len(code) < 12:
            found = session.get(Category, int(code))
        if found is not None:
            return found
    if name:
        return session.exec(select(Category).where(Category.name == name)).first()
    return None


@dataclass(frozen=True)
class RequestFilter:
    requester_id: int
    description: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    service_ids: Sequence[int] | None = None
    contract_ids: Sequence[int] | None = None
    statuses: Sequence[str] | None = None
    group_ids: Sequence[int] | None = None
    # Whose requests may be listed (store/access.py); None: anyone's.
    scope: access.RequestScope | None = None


def find_requests(*, session: Session, where: RequestFilter, limit: int) -> list[ServiceRequest]:
    query = select(ServiceRequest).where(ServiceRequest.requester_id == where.requester_id)
    if where.description:
        pattern = "%" + where.description.replace("%", r"\%").replace("_", r"\_") + "%"
        query = query.where(
            func.lower(col(ServiceRequest.description)).like(pattern.lower(), escape="\\")
        )
    if where.start is not None:
        query = query.where(col(ServiceRequest.opened_at) >= where.start)
    if where.end is not None:
        query = query.where(col(ServiceRequest.opened_at) <= where.end)
    if where.service_ids is not None:
        query = query.where(col(ServiceRequest.service_id).in_(where.service_ids))
    if where.contract_ids is not None:
        query = query.where(col(ServiceRequest.contract_id).in_(where.contract_ids))
    if where.statuses is not None:
        query = query.where(col(ServiceRequest.status).in_(where.statuses))
    if where.group_ids is not None:
        query = query.where(col(ServiceRequest.group_id).in_(where.group_ids))
    if where.scope is not None:
        query = query.where(access.visible(where.scope))
    return list(session.exec(query.order_by(col(ServiceRequest.id)).limit(limit)).all())


def occurrences(
    *,
    session: Session,
    request_ids: Sequence[int],
    categories: Sequence[str] | None,
    limit: int,
) -> list[tuple[Occurrence, str | None]]:
    """Occurrences with the login of who wrote them, oldest first."""
    query = (
        select(Occurrence, User.username)
        .join(User, col(User.id) == col(Occurrence.user_id), isouter=True)
        .where(col(Occurrence.request_id).in_(request_ids))
    )
    if categories is not None:
        wanted = [c for c in categories if c != "Information"]
        condition: ColumnElement[bool] = col(Occurrence.category).in_(wanted)
        if "Information" in categories:
            # Notes written on the agent's screen have no category: they are information.
            condition = or_(condition, col(Occurrence.category).is_(None))
        query = query.where(condition)
    query = query.order_by(col(Occurrence.created_at), col(Occurrence.id)).limit(limit)
    return [(o, name) for o, name in session.exec(query).all()]


def unsynchronized_occurrences(
    *,
    session: Session,
    platform: str,
    scope: access.RequestScope,
    request_id: int | None,
    categories: Sequence[str] | None,
    limit: int,
) -> list[tuple[Occurrence, str | None]]:
    """Occurrences the platform has not been sent yet (no `SyncMark`), of the requests
    `scope` may see (of one, with `request_id`), oldest first, with who wrote them."""
    query = (
        select(Occurrence, User.username)
        .join(User, col(User.id) == col(Occurrence.user_id), isouter=True)
        .where(
            ~exists()
            .where(col(SyncMark.platform) == platform)
            .where(col(SyncMark.object) == "occurrence")
            .where(col(SyncMark.item_id) == col(Occurrence.id))
        )
        .where(
            exists().where(
                col(ServiceRequest.id) == col(Occurrence.request_id), access.visible(scope)
            )
        )
    )
    if request_id is not None:
        query = query.where(Occurrence.request_id == request_id)
    if categories is not None:
        query = query.where(col(Occurrence.category).in_(categories))
    rows = session.exec(query.order_by(col(Occurrence.id)).limit(limit)).all()
    return [(o, name) for o, name in rows]


def contracts(*, session: Session) -> list[Contract]:
    query = select(Contract).where(col(Contract.active).is_(True)).order_by(col(Contract.id))
    return list(session.exec(query).all())


def units(*, session: Session, contract_id: int | None, unit_id: int | None) -> list[Unit]:
    query = select(Unit)
    if contract_id is not None:
        query = query.where(Unit.contract_id == contract_id)
    if unit_id is not None:
        query = query.where(Unit.id == unit_id)
    return list(session.exec(query.order_by(col(Unit.id))).all())


def justifications(*, session: Session, approval: bool | None = False) -> list[Justification]:
    """Active justifications: a status change's (the default), an approver's, or all (None)."""
    query = select(Justification).where(col(Justification.active).is_(True))
    if approval is not None:
        query = query.where(col(Justification.approval).is_(approval))
    return list(session.exec(query.order_by(col(Justification.id))).all())


def denied_reasons(*, session: Session) -> list[DeniedReason]:
    query = select(DeniedReason).where(col(DeniedReason.active).is_(True))
    return list(session.exec(query.order_by(col(DeniedReason.id))).all())
