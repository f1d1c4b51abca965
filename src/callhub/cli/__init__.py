"""callhub serve | poll | demo | createuser | import-requesters | migrate | simulate | uscall-sim

One module per command; this one reads the command line and hands over."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from callhub import provisioning
from callhub.cli.common import with_store
from callhub.cli.demo import demo
from callhub.cli.importing import import_requesters_cmd
from callhub.cli.serve import serve
from callhub.cli.simulators import simulate, uscall_sim
from callhub.cli.uscall import uscall_import_cdr
from callhub.cli.users import createuser, end_sessions
from callhub.settings import ConfigError, Settings
from callhub.store.models import Role


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="callhub", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the web app under uvicorn")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    p.add_argument("--workers", type=int, default=None)
    p.add_argument(
        "--fd",
        type=int,
        default=None,
        help="serve on this already-listening socket (socket activation) instead of --port",
    )

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
            serve(args.host, args.port, args.workers, args.fd)
            return 0
        if args.command == "demo":
            return demo(settings, args)
        if args.command == "createuser":
            return createuser(settings, args)
        if args.command == "end-sessions":
            return end_sessions(settings, args)
        if args.command == "group":
            return provisioning.group_command(
                lambda work: with_store(settings, lambda store: store.run(work)), args
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
            with_store(settings, lambda s: asyncio.sleep(0))
            print("schema is up to date")
            return 0
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":
    sys.exit(main())
