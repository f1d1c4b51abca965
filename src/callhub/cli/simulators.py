"""callhub simulate 55pbx and callhub uscall-sim: PBXs played against a callhub."""

from __future__ import annotations

import argparse
import asyncio
import sys


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
