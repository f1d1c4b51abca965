"""callhub serve | poll | demo | createuser | import-requesters | migrate | simulate | uscall-sim"""

from __future__ import annotations

import argparse
import asyncio
import csv
import functools
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from sqlmodel import Session

from callhub import provisioning
from callhub.identity import DocKind, normalise_phone, parse_document
from callhub.settings import ConfigError, Settings
from callhub.store import catalog, requests, users
from callhub.store.engine import Store
from callhub.store.models import Role, Urgency
from callhub.store.params import CHILD_SERVICE, set_parameter

T = TypeVar("T")


def _with_store(settings: Settings, work: Callable[[Store], Awaitable[T]]) -> T:
    async def run() -> T:
        store = Store(settings.database_url)
        try:
            await store.migrate()
            return await work(store)
        finally:
            await store.dispose()

    return asyncio.run(run())


# What uvicorn reads of one websocket message before it closes the socket (1009); the
# app itself closes a tab's socket past ws.endpoints.MAX_MESSAGE_BYTES.
WS_MAX_BYTES = 64 * 1024


def serve(host: str, port: int, workers: int | None = None) -> None:
    import uvicorn

    # X-Forwarded-For only from the proxies named in CALLHUB_TRUSTED_PROXIES: any other
    # client could claim any address (and slip past the per-address login limit).
    trusted = Settings.from_env().trusted_proxies
    uvicorn.run(
        "callhub.app:app",
        host=host,
        port=port,
        workers=workers,
        ws_per_message_deflate=False,  # compression costs latency and ~64 KiB per tab
        ws_max_size=WS_MAX_BYTES,  # tabs send small control messages only
        proxy_headers=bool(trusted),
        forwarded_allow_ips=list(trusted) or None,
        log_level=os.environ.get("CALLHUB_LOG_LEVEL", "info"),
        timeout_graceful_shutdown=5,
    )


# -- createuser ------------------------------------------------------------------------


def createuser(settings: Settings, args: argparse.Namespace) -> int:
    if len(args.password) < 8:
        print("error: --password must have at least 8 characters", file=sys.stderr)
        return 2

    def save(session: Session) -> None:
        users.create_user(
            session=session,
            username=args.username,
            password=args.password,
            role=Role(args.role),
            name=args.name,
            can_execute=args.can_execute,
        )
        session.commit()

    _with_store(settings, lambda store: store.run(save))
    print(f"user {args.username} ({args.role}{', can execute' if args.can_execute else ''}) saved")
    return 0


def end_sessions(settings: Settings, args: argparse.Namespace) -> int:
    def end(session: Session) -> bool:
        user = users.find_user(session=session, username=args.username)
        if user is None or user.id is None:
            return False
        users.end_sessions(session=session, user_id=user.id)
        session.commit()
        return True

    if not _with_store(settings, lambda store: store.run(end)):
        print(f"error: no user {args.username!r}", file=sys.stderr)
        return 2
    print(f"every session of {args.username} ended")
    return 0


# -- import-requesters -------------------------------------------------------------------


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def check_row(
    row: dict[str, str | None],
) -> tuple[str | None, tuple[str, str, str | None, str | None]]:
    """(why the row is rejected, or None; the cleaned cpf, name, email, phone)."""
    cpf = (row.get("cpf") or "").strip()
    name = (row.get("name") or "").strip()
    email = (row.get("email") or "").strip() or None
    phone_raw = (row.get("phone") or "").strip()
    document = parse_document(cpf)
    if document.kind is DocKind.missing:
        return "cpf is empty", ("", name, email, None)
    if not document.valid:
        return f"cpf {cpf!r} fails its check digits", ("", name, email, None)
    if not name:
        return "name is empty", (document.digits, name, email, None)
    if len(name) > 160:
        return "name is longer than 160 characters", (document.digits, name, email, None)
    if email is not None and ("@" not in email or len(email) > 254 or " " in email):
        return f"email {email!r} is not an address", (document.digits, name, email, None)
    phone = normalise_phone(phone_raw) if phone_raw else None
    if phone_raw and phone is None:
        return f"phone {phone_raw!r} is not a phone number", (document.digits, name, email, None)
    return None, (document.digits, name, email, phone)


async def import_requesters(store: Store, path: Path) -> ImportReport:
    report = ImportReport()
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = {"cpf", "name", "email", "phone"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: missing columns {', '.join(sorted(missing))}")
        seen: dict[str, int] = {}
        for line, row in enumerate(reader, start=2):
            problem, (cpf, name, email, phone) = check_row(row)
            if problem is None and cpf in seen:
                problem = f"cpf repeats line {seen[cpf]}"
            if problem is not None:
                report.rejected.append((line, problem))
                continue
            seen[cpf] = line
            created = await store.run(functools.partial(_save_row, cpf, name, email, phone))
            if created:
                report.created += 1
            else:
                report.updated += 1
    return report


def import_requesters_cmd(settings: Settings, args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        print(f"error: {path} is not a file", file=sys.stderr)
        return 2
    try:
        report = _with_store(settings, lambda s: import_requesters(s, path))
    except (ValueError, UnicodeDecodeError, csv.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line, why in report.rejected:
        print(f"line {line}: rejected: {why}")
    print(f"{report.created} created, {report.updated} updated, {len(report.rejected)} rejected")
    return 0 if not report.rejected else 1


# -- demo --------------------------------------------------------------------------------

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


def _save_row(cpf: str, name: str, email: str | None, phone: str | None, session: Session) -> bool:
    """One row, one transaction: a bad row spoils none."""
    _requester, created = catalog.save_requester(
        session=session,
        document=parse_document(cpf),
        name=name,
        email=email,
        phones=[phone] if phone else [],
    )
    session.commit()
    return created


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

    token, token55 = _with_store(settings, work)
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
        log_level = os.environ.get("CALLHUB_LOG_LEVEL", "info")
        sim_server = uvicorn.Server(
            uvicorn.Config(sim.app(), host=host, port=sim_port, access_log=False)
        )
        app_server = uvicorn.Server(
            uvicorn.Config(
                "callhub.app:app",
                host=host,
                port=port,
                ws_per_message_deflate=False,
                ws_max_size=WS_MAX_BYTES,
                log_level=log_level,
                timeout_graceful_shutdown=5,
            )
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


def simulate(args: argparse.Namespace) -> int:
    from urllib.parse import urlsplit

    from callhub.adapters.pbx55.simulator import Plan, Simulator

    if not args.token:
        print("error: --token (or CALLHUB_PBX55_TOKEN) is required", file=sys.stderr)
        return 2
    to = args.to
    if urlsplit(to).path in ("", "/"):
        to = to.rstrip("/") + "/integrations/55pbx"
    try:
        low, high = (float(x) for x in args.talk.split("-", 1))
    except ValueError:
        print("error: --talk must be MIN-MAX seconds, e.g. 8-40", file=sys.stderr)
        return 2
    ramais = [r.strip() for r in args.ramais.split(",") if r.strip()]
    if not ramais or not all(r.isdigit() for r in ramais) or args.calls_per_minute <= 0:
        print("error: --ramais needs extension numbers; --calls-per-minute > 0", file=sys.stderr)
        return 2
    plan = Plan(
        to=to,
        token=args.token,
        calls_per_minute=args.calls_per_minute,
        extensions=ramais,
        talk=(low, max(low, high)),
        count=args.count,
        seed=args.seed,
    )

    async def run() -> int:
        sim = Simulator(plan, log=lambda line: print(line, flush=True))
        try:
            stats = await sim.run()
        finally:
            await sim.aclose()
        print(
            f"{stats.calls} calls, {stats.pushes} pushes ({stats.failed} failed), "
            f"{stats.popped} pops; statuses {stats.statuses}"
        )
        return 1 if stats.failed else 0

    try:
        return asyncio.run(run())
    except KeyboardInterrupt:
        return 130


def uscall_sim(args: argparse.Namespace) -> int:
    import secrets

    import uvicorn

    from callhub.adapters.uscall.simulator.server import SimConfig, Simulator
    from callhub.adapters.uscall.wsdl import PATH

    token = args.token or secrets.token_urlsafe(24)
    sim = Simulator(
        SimConfig(
            token=token,
            calls_per_minute=args.calls_per_minute,
            callhub_url=args.callhub,
            callhub_token=args.callhub_token,
            logged_in=args.logged_in,
            seed=args.seed,
        )
    )
    base = f"http://{args.host}:{args.port}"
    print(
        f"""
USCall UC simulator on {base}

  WSDL:   {base}{PATH}?wsdl
  Token:  {token}
  Agents: 101..106 (password senha<number>, e.g. 101 / senha101); extensions 2000..2009;
          queues 900 Suporte N1, 901 Financeiro, 902 Comercial
  Rings:  {args.callhub or "(no callhub: pass --callhub URL --callhub-token T)"}

  Point callhub at it:
  CALLHUB_USCALL_WSDL='{base}{PATH}?wsdl' CALLHUB_USCALL_TOKEN='{token}' callhub serve
""",
        flush=True,
    )
    uvicorn.run(sim.app(), host=args.host, port=args.port, log_level="warning")
    return 0


def uscall_import_cdr(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import date
    from zoneinfo import ZoneInfo

    from callhub.adapters.uscall.cdr import ImportReport as CdrReport
    from callhub.adapters.uscall.cdr import import_cdrs
    from callhub.adapters.uscall.client import USCallClient, USCallError

    if not settings.uscall:
        print("error: set CALLHUB_USCALL_WSDL and CALLHUB_USCALL_TOKEN", file=sys.stderr)
        return 2
    try:
        first = date.fromisoformat(args.date_from)
        last = date.fromisoformat(args.date_to or args.date_from)
    except ValueError:
        print("error: --from and --to are dates, YYYY-MM-DD", file=sys.stderr)
        return 2
    if last < first or (last - first).days > 366:
        print("error: --to must be on or after --from, at most a year later", file=sys.stderr)
        return 2
    tty = sys.stderr.isatty()

    def progress(done: int, total: int, report: CdrReport) -> None:
        bar = "#" * (30 * done // total)
        line = f"[{bar:<30}] {done}/{total} days, {report.records} records ({report.new} new)"
        print(
            ("\r" + line) if tty else line,
            end="" if tty and done < total else "\n",
            file=sys.stderr,
            flush=True,
        )

    async def work(store: Store) -> CdrReport:
        assert settings.uscall_wsdl and settings.uscall_token
        client = await USCallClient.connect(
            settings.uscall_wsdl,
            settings.uscall_token,
            timeout=max(settings.uscall_timeout, 30),
            verify_tls=settings.uscall_verify_tls,
            zone=ZoneInfo(settings.timezone),
        )
        try:
            return await import_cdrs(
                client=client,
                store=store,
                first=first,
                last=last,
                zone=ZoneInfo(settings.timezone),
                progress=progress,
            )
        finally:
            await client.aclose()

    try:
        report = _with_store(settings, work)
    except USCallError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"{report.records} call records from {first} to {last}: {report.new} new, "
        f"{report.linked} linked to requests"
    )
    return 0


# -- entry point -------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="callhub", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the web app under uvicorn")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    p.add_argument("--workers", type=int, default=None)

    p = sub.add_parser("demo", help="create demo data, print how to use it, and serve")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    p.add_argument("--no-serve", action="store_true", help="only create the demo data")
    p.add_argument(
        "--no-uscall", action="store_true", help="without the simulated USCall PBX beside it"
    )

    p = sub.add_parser("createuser", help="create or update a user")
    p.add_argument("username")
    p.add_argument("--password", required=True)
    p.add_argument("--role", choices=[r.value for r in Role], default=Role.agent.value)
    p.add_argument("--name", default=None)
    p.add_argument("--can-execute", action="store_true", help="may execute requests")

    provisioning.add_parser(sub)

    p = sub.add_parser(
        "end-sessions", help="log a user out everywhere: every session cookie issued is revoked"
    )
    p.add_argument("username")

    p = sub.add_parser("import-requesters", help="import requesters from a CSV file")
    p.add_argument("file", help="CSV with columns cpf,name,email,phone")

    sub.add_parser("migrate", help="apply the database migrations and exit")
    sub.add_parser(
        "poll", help="run the wall board's poller (USCall) on its own, beside web processes"
    )

    p = sub.add_parser("simulate", help="play a PBX's calls against a callhub")
    p.add_argument("pbx", choices=["55pbx"])
    p.add_argument(
        "--to",
        default="http://127.0.0.1:8000/integrations/55pbx",
        help="callhub's push URL (a bare http://host:port gets /integrations/55pbx)",
    )
    p.add_argument("--token", default=os.environ.get("CALLHUB_PBX55_TOKEN"))
    p.add_argument("--calls-per-minute", type=float, default=6.0)
    p.add_argument("--ramais", default="2001,2002", help="extensions, comma separated")
    p.add_argument("--count", type=int, default=None, help="stop after this many calls")
    p.add_argument("--talk", default="8-40", help="seconds of conversation, MIN-MAX")
    p.add_argument("--seed", type=int, default=None, help="repeat the same calls")

    p = sub.add_parser("uscall", help="USCall UC: import its call records")
    uscall_sub = p.add_subparsers(dest="uscall_command", required=True)
    q = uscall_sub.add_parser("import-cdr", help="import call records (cdrSearch), idempotent")
    q.add_argument("--from", dest="date_from", required=True, help="first day, YYYY-MM-DD")
    q.add_argument("--to", dest="date_to", default=None, help="last day (default: --from)")

    p = sub.add_parser("uscall-sim", help="serve a simulated USCall UC PBX (SOAP)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8090)
    p.add_argument("--token", default=os.environ.get("CALLHUB_USCALL_TOKEN"))
    p.add_argument("--calls-per-minute", type=float, default=0.0, help="callers arriving")
    p.add_argument("--callhub", default=None, help="callhub's URL, rung when a call rings")
    p.add_argument("--callhub-token", default=os.environ.get("CALLHUB_PBX_TOKEN"))
    p.add_argument("--logged-in", type=int, default=4, help="agents logged in at start")
    p.add_argument("--seed", type=int, default=None, help="repeat the same traffic")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        os.environ["CALLHUB_DEMO"] = "1"
    try:
        settings = Settings.from_env()
        if args.command == "serve":
            settings.check()
            if (args.workers or 1) > 1 and not settings.shared_broker:
                # Each worker would keep its own tabs, and miss the pops stored by the others.
                raise ConfigError(
                    "--workers above 1 needs a broker the workers share:"
                    " set CALLHUB_BROKER_URL=redis://host:6379/0"
                )
            serve(args.host, args.port, args.workers)
            return 0
        if args.command == "demo":
            return demo(settings, args)
        if args.command == "createuser":
            return createuser(settings, args)
        if args.command == "end-sessions":
            return end_sessions(settings, args)
        if args.command == "group":
            return provisioning.group_command(
                lambda work: _with_store(settings, lambda store: store.run(work)), args
            )
        if args.command == "import-requesters":
            return import_requesters_cmd(settings, args)
        if args.command == "simulate":
            return simulate(args)
        if args.command == "uscall":
            return uscall_import_cdr(settings, args)
        if args.command == "uscall-sim":
            return uscall_sim(args)
        if args.command == "poll":
            from callhub.board.process import run_poller

            logging.basicConfig(
                level=os.environ.get("CALLHUB_LOG_LEVEL", "info").upper(),
                format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            )
            asyncio.run(run_poller(settings))
            return 0
        if args.command == "migrate":
            _with_store(settings, lambda s: asyncio.sleep(0))
            print("schema is up to date")
            return 0
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":
    sys.exit(main())
