"""Requesters (with their phones) and the service catalogue."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from callhub.identity import DocKind, Document
from callhub.store.models import Category, Phone, Requester, Service


@dataclass(frozen=True)
class RequesterCard:
    """What a screen shows of a requester: read in one statement on the pop's hot path."""

    id: int
    name: str
    cpf: str | None
    cnpj: str | None
    email: str | None
    phones: tuple[str, ...]


@functools.cache
def _card_statements() -> dict[str, Any]:
    """Built once: composing a statement costs more than SQLite takes to run it."""
    r = Requester.__table__  # type: ignore[attr-defined]
    p = Phone.__table__  # type: ignore[attr-defined]
    card = (
        sa_select(r.c.id, r.c.name, r.c.cpf, r.c.cnpj, r.c.email, p.c.number)
        .select_from(r.outerjoin(p, p.c.requester_id == r.c.id))
        .order_by(p.c.id)
    )
    return {"id": card.where(r.c.id == bindparam("key"))}


def _card(session: Session, by: str, key: object) -> RequesterCard | None:
    rows = session.execute(_card_statements()[by], {"key": key}).all()
    if not rows:
        return None
    first = rows[0]
    return RequesterCard(
        id=first.id,
        name=first.name,
        cpf=first.cpf,
        cnpj=first.cnpj,
        email=first.email,
        phones=tuple(row.number for row in rows if row.number is not None),
    )


def card_by_id(*, session: Session, requester_id: int) -> RequesterCard | None:
    return _card(session, "id", requester_id)


@dataclass(frozen=True)
class ServiceItem:
    id: int
    name: str
    category: str | None
    sla_minutes: int | None


def requester_by_document(*, session: Session, document: Document) -> Requester | None:
    if document.kind is DocKind.cpf:
        query = select(Requester).where(Requester.cpf == document.digits)
    elif document.kind is DocKind.cnpj:
        query = select(Requester).where(Requester.cnpj == document.digits)
    else:
        return None
    return (session.exec(query)).first()


def phones_of(*, session: Session, requester_id: int) -> list[str]:
    table = Phone.__table__  # type: ignore[attr-defined]
    query = sa_select(table.c.number).where(table.c.requester_id == requester_id)
    return list(session.execute(query.order_by(table.c.id)).scalars().all())


def save_requester(
    *,
    session: Session,
    document: Document,
    name: str,
    email: str | None,
    phones: list[str],
) -> tuple[Requester, bool]:
    """Create or update the requester with this document. Returns (requester, created)."""
    requester = requester_by_document(session=session, document=document)
    created = requester is None
    if requester is None:
        requester = Requester(name=name)
        if document.kind is DocKind.cpf:
            requester.cpf = document.digits
        elif document.kind is DocKind.cnpj:
            requester.cnpj = document.digits
    requester.name = name
    requester.email = email or requester.email
    session.add(requester)
    session.flush()
    assert requester.id is not None
    add_phones(session=session, requester_id=requester.id, phones=phones)
    return requester, created


def create_requester_without_document(
    *, session: Session, name: str, email: str | None, phones: list[str], login: str | None = None
) -> Requester:
    """A requester known by name (and the API's `login`, when an integrator names one)."""
    requester = Requester(name=name, email=email, login=login)
    session.add(requester)
    session.flush()
    assert requester.id is not None
    add_phones(session=session, requester_id=requester.id, phones=phones)
    return requester


def get_requester(*, session: Session, requester_id: int) -> Requester | None:
    return session.get(Requester, requester_id)


def update_contact(
    *,
    session: Session,
    requester: Requester,
    name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
) -> list[str]:
    """The requester's name and e-mail replaced by those given, a phone number added.
    Returns what changed: "name", "email", "phone"."""
    assert requester.id is not None
    changed = []
    if name and name != requester.name:
        requester.name = name
        changed.append("name")
    if email and email != requester.email:
        requester.email = email
        changed.append("email")
    if phone:
        add_phones(session=session, requester_id=requester.id, phones=[phone])
        changed.append("phone")
    session.add(requester)
    return changed


def add_phones(*, session: Session, requester_id: int, phones: list[str]) -> None:
    known = set(phones_of(session=session, requester_id=requester_id))
    for e164 in phones:
        if e164 not in known:
            session.add(Phone(requester_id=requester_id, number=e164))
            known.add(e164)
    session.flush()


def _active_services() -> Any:
    return (
        select(Service, Category)
        .join(Category, col(Service.category_id) == col(Category.id), isouter=True)
        .where(col(Service.active).is_(True))
    )


def service_item(service: Service, category: Category | None) -> ServiceItem:
    own = service.sla_minutes
    return ServiceItem(
        id=service.id or 0,
        name=service.name,
        category=category.name if category is not None else None,
        sla_minutes=own if own is not None else (category.sla_minutes if category else None),
    )


def list_services(*, session: Session) -> list[ServiceItem]:
    query = _active_services().order_by(col(Service.name))
    return [service_item(s, c) for s, c in session.exec(query).all()]


def get_service(*, session: Session, service_id: int) -> ServiceItem | None:
    """An active service, by number (one row, not the whole catalogue)."""
    row = session.exec(_active_services().where(Service.id == service_id)).first()
    return service_item(*row) if row is not None else None


def ensure_service(
    *, session: Session, name: str, category: str, sla_minutes: int | None
) -> Service:
    cat = (session.exec(select(Category).where(Category.name == category))).first()
    if cat is None:
        cat = Category(name=category)
        session.add(cat)
        session.flush()
    service = (session.exec(select(Service).where(Service.name == name))).first()
    if service is None:
        service = Service(name=name, category_id=cat.id, sla_minutes=sla_minutes)
        session.add(service)
        session.flush()
    return service
