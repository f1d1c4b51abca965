"""The demo's ITSM API side: groups with their permissions, an integration user, contracts
and units, service and category codes, requester logins and a named query."""

from __future__ import annotations

from sqlmodel import Session, select

from callhub.store import api, users
from callhub.store.models import Category, Contract, Requester, Role, Service, Unit, User

SERVICE_CODES = {
    "Acesso à rede": "REDE",
    "Impressora": "IMP",
    "Senha e acesso": "SENHA",
    "Informação sobre solicitação": "INFO",
}
CATEGORY_CODES = {"Infraestrutura": "INFRA", "Contas": "CONTAS", "Atendimento": "ATEND"}
LOGINS = {
    "52998224725": "maria.silva",
    "11144477735": "joao.pereira",
    "39053344705": "ana.souza",
}
CONTRACTS = [
    (
        "Contrato de suporte — Matriz",
        [("Sede Paulista", -23.5614, -46.6559), ("Filial Centro", -23.5475, -46.6361)],
    ),
    ("Contrato de suporte — Rio", [("Escritório Botafogo", -22.9519, -43.1840)]),
]
REQUEST_OPERATIONS = [
    "request/create",
    "request/getById",
    "request/getByUser",
    "request/getNotSynchronized",
    "request/update",
    "request/updateStatus",
    "request/createOccurrence",
    "request/listOccurrences",
    "occurrence/getNotSynchronized",
    "addServiceRequest",
    "xml/addServiceRequest",
    "v2/getWorkflow",
]
FIELD_OPERATIONS = [
    "request/getById",
    "request/listOccurrences",
    "request/createOccurrence",
    "v2/contracts",
    "v2/units",
    "v2/status",
    "v2/deniedReasons",
    "v2/coordinates",
    "v2/device/disassociate",
    "v2/getWorkflow",
]
QUERY = (
    "solicitacoesPorSituacao",
    "Quantas solicitações há em cada situação, abertas desde uma data (:desde, ISO 8601)",
    "SELECT status, COUNT(*) AS quantidade FROM service_request "
    "WHERE opened_at >= :desde GROUP BY status ORDER BY status",
)

OPERATION = (
    "anotarSolicitacao",
    "Registra uma anotação (:texto) na solicitação :numero",
    "INSERT INTO occurrence (request_id, created_at, description, category, origin) "
    "VALUES (:numero, CURRENT_TIMESTAMP, :texto, 'Information', 'OTHERS')",
)


def seed_itsm(session: Session, *, password: str) -> None:
    from callhub.webservices.services import REGISTRY

    everything = [name for name, op in REGISTRY.items() if op.session_required]
    integration = users.find_user(session=session, username="integracao")
    if integration is None:
        integration = users.create_user(
            session=session,
            username="integracao",
            password=password,
            role=Role.agent,
            name="Integração ERP",
        )
    for acronym, name, operations, members in (
        ("N1", "Atendimento nível 1", REQUEST_OPERATIONS, ["agente", "agente2", "supervisor"]),
        ("CAMPO", "Atendimento de campo", FIELD_OPERATIONS, ["agente"]),
        ("INTEGRACAO", "Integrações", everything, ["integracao", "admin"]),
    ):
        group = api.save_group(session=session, acronym=acronym, name=name)
        assert group.id is not None
        if not api.permissions_of(session=session, group_id=group.id):
            api.set_permissions(session=session, group_id=group.id, operations=operations)
        for username in members:
            user = session.exec(select(User).where(User.username == username)).first()
            if user is not None and user.id is not None:
                api.add_member(session=session, group_id=group.id, user_id=user.id)
    for service in session.exec(select(Service)).all():
        if service.code is None and service.name in SERVICE_CODES:
            service.code = SERVICE_CODES[service.name]
            session.add(service)
    for category in session.exec(select(Category)).all():
        if category.code is None and category.name in CATEGORY_CODES:
            category.code = CATEGORY_CODES[category.name]
            session.add(category)
    for requester in session.exec(select(Requester)).all():
        if requester.login is None and requester.cpf in LOGINS:
            requester.login = LOGINS[requester.cpf]
            session.add(requester)
    if session.exec(select(Contract)).first() is None:
        for description, units in CONTRACTS:
            contract = Contract(description=description)
            session.add(contract)
            session.flush()
            for unit, latitude, longitude in units:
                session.add(
                    Unit(
                        contract_id=contract.id or 0,
                        description=unit,
                        latitude=latitude,
                        longitude=longitude,
                    )
                )
    if api.named_query(session=session, name=QUERY[0]) is None:
        api.save_named_query(
            session=session, name=QUERY[0], kind="query", description=QUERY[1], sql=QUERY[2]
        )
    if api.named_query(session=session, name=OPERATION[0]) is None:
        api.save_named_query(
            session=session,
            name=OPERATION[0],
            kind="operation",
            description=OPERATION[1],
            sql=OPERATION[2],
        )
    session.flush()
