"""callhub demo: demo data, then the server (with a simulated USCall beside it)."""

from __future__ import annotations

import argparse
import asyncio
import os

from sqlmodel import Session

from callhub.adapters.pbx55.simulator import QUEUES as PBX55_QUEUES
from callhub.cli.common import with_store
from callhub.cli.serve import options, serve
from callhub.identity import normalise_phone, parse_document
from callhub.settings import Settings
from callhub.store import board, catalog, requests, users
from callhub.store.board import BoardSettings
from callhub.store.engine import Store
from callhub.store.models import Role, Urgency
from callhub.store.params import CHILD_SERVICE, set_parameter

DEMO_PASSWORD = "callhub-demo"
DEMO_REQUESTERS = [
    ("52998224725", "Maria da Silva", "maria.silva@example.com", "+55 11 98765-4321"),
    ("11144477735", "João Pereira", "joao.pereira@example.com", "+55 21 3456-7890"),
    ("39053344705", "Ana Souza", "ana.souza@example.com", "+55 31 99876-5432"),
    (
        "11222333000181",
        "Padaria Pão Quente Ltda",
        "contato@paoquente.example.com",
        "+55 11 3333-4444",
    ),
]
DEMO_SERVICES = [
    ("Acesso à rede", "Infraestrutura", 240),
    ("Impressora", "Infraestrutura", 480),
    ("Senha e acesso", "Contas", 60),
    ("Informação sobre solicitação", "Atendimento", 30),
]


def seed_demo(session: Session) -> None:
    for username, name, role, can_execute in (
        ("agente", "Ana Agente", Role.agent, True),
        ("agente2", "Bruno Agente", Role.agent, False),
        ("supervisor", "Sara Supervisora", Role.supervisor, True),
        ("admin", "Administrador", Role.admin, True),
    ):
        users.create_user(
            session=session,
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            name=name,
            can_execute=can_execute,
        )
    services = {}
    for name, cat, sla in DEMO_SERVICES:
        services[name] = catalog.ensure_service(
            session=session, name=name, category=cat, sla_minutes=sla
        )
    set_parameter(
        session=session,
        number=CHILD_SERVICE,
        value=str(services["Informação sobre solicitação"].id),
    )
    for cpf, name, email, phone in DEMO_REQUESTERS:
        requester, created = catalog.save_requester(
            session=session,
            document=parse_document(cpf),
            name=name,
            email=email,
            phones=[p for p in [normalise_phone(phone)] if p],
        )
        if created and requester.cpf == "11144477735":
            for text, service in (
                ("Sem acesso à rede no 3º andar", "Acesso à rede"),
                ("Impressora do financeiro não imprime", "Impressora"),
            ):
                item = catalog.get_service(session=session, service_id=services[service].id or 0)
                requests.create_request(
                    session=session,
                    requester_id=requester.id or 0,
                    description=text,
                    service=item,
                    urgency=Urgency.high,
                    note="Solicitação de demonstração",
                )
        if created and requester.cpf == "39053344705":
            item = catalog.get_service(
                session=session, service_id=services["Senha e acesso"].id or 0
            )
            requests.create_request(
                session=session,
                requester_id=requester.id or 0,
                description="Troca de senha do sistema de RH",
                service=item,
                note="Solicitação de demonstração",
            )
    # The 55pbx simulator's queues are the wall board's rows (with USCall, its own too).
    board.save_board_settings(session=session, settings=BoardSettings(queues=list(PBX55_QUEUES)))
    from callhub.demo_itsm import seed_itsm

    seed_itsm(session, password=DEMO_PASSWORD)
    session.commit()


async def _demo_tokens(store: Store, settings: Settings) -> tuple[str, str]:
    from callhub.webservices.common import TokenStore

    # The store keeps digests only: a token generated earlier cannot be shown again, so
    # the demo shows the environment's, or a new one.
    return (
        await TokenStore(store, "pbx_token", settings.pbx_token).shown(),
        await TokenStore(store, "pbx55_token", settings.pbx55_token).shown(),
    )


def demo(settings: Settings, args: argparse.Namespace) -> int:
    async def work(store: Store) -> tuple[str, str]:
        await store.run(seed_demo)
        return await _demo_tokens(store, settings)

    token, token55 = with_store(settings, work)
    base = f"http://{args.host}:{args.port}"
    print(
        f"""
callhub demo is ready on {base}

  Agent:      {base}/login   user agente / password {DEMO_PASSWORD}  (can execute)
              user agente2 / password {DEMO_PASSWORD}  (cannot execute)
  Admin:      {base}/admin   user admin / password {DEMO_PASSWORD}
  ITSM API:   {base}/services/docs   (POST /services/login as integracao / {DEMO_PASSWORD})
  Log in as agente, register extension 2001, then pop a screen on it:

  curl -H 'token: {token}' '{base}/webservices/telefonia/novaSolicitacao?cpf=529.982.247-25&ramal=2001&numero=11987654321'
  curl -H 'token: {token}' '{base}/webservices/telefonia/visualizarSolicitacao?idSolicitacao=1&cpf=11144477735&ramal=2001'
  curl -H 'token: {token}' '{base}/webservices/telefonia/obterQtdeSolicitacoes?cpf=11144477735'

  Or let a simulated 55pbx ring extensions 2001 and 2002 (log in as agente2 on 2002):

  callhub simulate 55pbx --to {base}/integrations/55pbx --token {token55} --calls-per-minute 6
""",
        flush=True,
    )
    if args.no_serve:
        return 0
    if args.no_uscall or settings.uscall:
        serve(args.host, args.port)
        return 0
    return _serve_with_uscall_sim(args.host, args.port, token)


def _serve_with_uscall_sim(host: str, port: int, pbx_token: str) -> int:
    """The demo with a simulated USCall beside it: agents, queues and callers arriving."""
    import secrets

    import uvicorn

    from callhub.adapters.uscall.simulator.server import SimConfig, Simulator
    from callhub.adapters.uscall.wsdl import PATH

    sim_port = port + 90
    sim_token = secrets.token_urlsafe(24)
    os.environ["CALLHUB_USCALL_WSDL"] = f"http://{host}:{sim_port}{PATH}?wsdl"
    os.environ["CALLHUB_USCALL_TOKEN"] = sim_token
    sim = Simulator(
        SimConfig(
            token=sim_token,
            calls_per_minute=4,
            callhub_url=f"http://{host}:{port}",
            callhub_token=pbx_token,
        )
    )
    print(
        f"""  A simulated USCall UC PBX runs on http://{host}:{sim_port} (WSDL {PATH}?wsdl),
  with callers arriving in its queues about 4 times a minute. In the agent's tab, log in
  to the queue as USCall agent 101 / password senha101 (agentes 102..106: senha102..);
  calls then ring extension 2001 and pop. The wall board is at http://{host}:{port}/painel
  (user supervisor).
""",
        flush=True,
    )

    async def both() -> None:
        sim_server = uvicorn.Server(
            uvicorn.Config(sim.app(), host=host, port=sim_port, access_log=False)
        )
        app_server = uvicorn.Server(
            uvicorn.Config("callhub.app:app", host=host, port=port, **options(Settings.from_env()))
        )
        sim_task = asyncio.create_task(sim_server.serve())
        try:
            await app_server.serve()
        finally:
            sim_server.should_exit = True
            await sim_task

    try:
        asyncio.run(both())
    except KeyboardInterrupt:
        return 130
    return 0
