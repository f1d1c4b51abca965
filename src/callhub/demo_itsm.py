"""The demo's ITSM API side: groups with their permissions, an integration user, contracts
and units, service and category codes, requester logins and a named query."""

from __future__ import annotations

from sqlmodel import Session, col, select

from callhub.store import api, catalog, itsm, requests, tasks, users
from callhub.store.models import (
    Category,
    Contract,
    Requester,
    Role,
    Service,
    ServiceRequest,
    Unit,
    User,
)

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
AURORA_CNPJ = "45723914000119"
TECHNICIANS = (("tecnico", "Téo Técnico"), ("tecnica", "Lia Técnica"), ("lider", "Lúcia Líder"))
# The field day's requests: (description, service code, unit, technician or None for the
# team's list). The purchase waits for APROV's approval before anyone executes it.
FIELD_REQUESTS = (
    ("Sem sinal de rede na recepção", "REDE", "Sede Paulista", None),
    ("Impressora atolando papel no caixa", "IMP", "Filial Centro", "tecnico"),
    ("Instalar ponto de rede na sala 12", "REDE", "Escritório Botafogo", "tecnica"),
    ("Compra de notebook para a equipe de vendas", "COMPRA", "Sede Paulista", None),
)
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
    mobile = [name for name in everything if name.startswith("mobile/")]
    # Approvers read their lists and decide; they do no field work.
    approvals = [
        name
        for name in mobile
        if name.startswith("mobile/notification/")
        or name.rsplit("/", 1)[-1].startswith("get")
        or name.endswith(("/update", "/buscaSolicitacao"))
    ]
    for username, name in (("integracao", "Integração ERP"), *TECHNICIANS):
        if users.find_user(session=session, username=username) is None:
            users.create_user(
                session=session, username=username, password=password, role=Role.agent, name=name
            )
    for acronym, name, operations, members in (
        ("N1", "Atendimento nível 1", REQUEST_OPERATIONS, ["agente", "agente2", "supervisor"]),
        (
            "CAMPO",
            "Atendimento de campo",
            FIELD_OPERATIONS + mobile,
            ["agente", "tecnico", "tecnica", "*lider"],
        ),
        ("APROV", "Aprovadores de compras", approvals, ["lider", "supervisor"]),
        ("INTEGRACAO", "Integrações", everything, ["integracao", "admin"]),
    ):
        group = api.save_group(session=session, acronym=acronym, name=name)
        assert group.id is not None
        if acronym == "INTEGRACAO":  # the ERP's: it sees every request, and is the ERP
            api.set_all_requests(session=session, group_id=group.id, value=True)
            api.set_platforms(session=session, group_id=group.id, platforms=["ERP"])
        if not api.permissions_of(session=session, group_id=group.id):
            api.set_permissions(session=session, group_id=group.id, operations=operations)
        for member in members:
            username = member.lstrip("*")
            user = session.exec(select(User).where(User.username == username)).first()
            if user is not None and user.id is not None:
                api.add_member(
                    session=session,
                    group_id=group.id,
                    user_id=user.id,
                    leader=member.startswith("*"),
                )
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
    # The service desk's requests are the first level's (the API shows a group its own).
    first_level = _group_id(session, "N1")
    ungrouped = select(ServiceRequest).where(col(ServiceRequest.group_id).is_(None))
    for request in session.exec(ungrouped):
        request.group_id = first_level
        session.add(request)
    session.flush()
    seed_field(session)
    seed_field(session)


def seed_field(session: Session) -> None:
    """The field team's demo: a customer with sites, requests in the team's work list
    (one the team's, two given to technicians) and a purchase awaiting approval."""
    if itsm.requester_by_login(session=session, login="lojas.aurora") is not None:
        return
    purchase = catalog.ensure_service(
        session=session, name="Compra de equipamento", category="Compras", sla_minutes=2880
    )
    purchase.code = "COMPRA"
    purchase.approval_group_id = _group_id(session, "APROV")
    session.add(purchase)
    category = session.exec(select(Category).where(Category.name == "Compras")).one()
    category.code, category.notification_type = "COMPRAS", 1
    session.add(category)
    requester = Requester(name="Rede de Lojas Aurora", login="lojas.aurora", cnpj=AURORA_CNPJ)
    session.add(requester)
    session.flush()
    team = _group_id(session, "CAMPO")
    for description, code, site, technician in FIELD_REQUESTS:
        service = itsm.service_by_code(session=session, code=code)
        unit = session.exec(select(Unit).where(Unit.description == site)).one()
        request = requests.create_request(
            session=session,
            requester_id=requester.id or 0,
            description=description,
            service=catalog.get_service(session=session, service_id=service.id or 0)
            if service is not None
            else None,
            note="Solicitação de demonstração (campo)",
        )
        request.group_id, request.contract_id, request.unit_id = team, unit.contract_id, unit.id
        session.add(request)
        session.flush()
        tasks.follow(session=session, request=request)
        if technician is not None:
            task = tasks.current_task(session=session, request_id=request.id or 0)
            user = users.find_user(session=session, username=technician)
            assert task is not None and user is not None
            task.user_id = user.id
            session.add(task)
    session.flush()


def _group_id(session: Session, acronym: str) -> int | None:
    group = api.group_by_acronym(session=session, acronym=acronym)
    return group.id if group is not None else None
