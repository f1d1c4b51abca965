"""PBX-request-to-fragment latency of screen pops, through the real login and websocket.

Starts callhub under uvicorn (embedded: SQLite and the in-process broker) on loopback,
logs in AGENTS agents, each on its own extension with TABS/AGENTS tabs, then fires
`novaSolicitacao` at fixed rates and prints p50/p99 of the time from sending the PBX
request to the fragment arriving in a tab of that extension.

    .venv/bin/python benchmarks/screenpop.py --tabs 1000 --rates 100 500 --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import websockets
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from callhub.store import users  # noqa: E402
from callhub.store.engine import Store  # noqa: E402
from callhub.store.models import Role  # noqa: E402
from support import PASSWORD, Cluster  # noqa: E402


async def make_agents(url: str, count: int) -> None:
    def work(session: Session) -> None:
        for i in range(count):
            users.create_user(
                session=session, username=f"bench{i}", password=PASSWORD, role=Role.agent
            )
        session.commit()

    store = Store(url)
    await store.run(work)
    await store.dispose()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tabs", type=int, default=1000)
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--rates", type=int, nargs="+", default=[100, 500])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()

    from support import seed

    tmp = Path(tempfile.mkdtemp(prefix="callhub-bench-"))
    url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    await seed(url)
    await make_agents(url, args.agents)
    cluster = Cluster(tmp, url, extra_env={"CALLHUB_LOG_LEVEL": "warning"})
    server = cluster.server()
    arrivals: dict[str, float] = {}
    sockets = []
    try:
        per_agent = max(1, args.tabs // args.agents)
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            for i in range(args.agents):
                http.cookies.clear()
                await http.post("/login", data={"username": f"bench{i}", "password": PASSWORD})
                await http.post("/atendimento/ramal", data={"ramal": str(5000 + i)})
                cookie = f"callhub_session={http.cookies.get('callhub_session')}"
                for _ in range(per_agent):
                    ws = await websockets.connect(
                        server.ws_url, additional_headers={"Cookie": cookie}, compression=None
                    )
                    await ws.recv()
                    sockets.append(ws)

        async def reader(ws: websockets.ClientConnection) -> None:
            async for frame in ws:
                text = str(frame)
                start = text.find("Fila <strong>")
                if start >= 0:
                    key = text[start + 13 : text.find("<", start + 13)]
                    arrivals.setdefault(key, time.perf_counter())

        readers = [asyncio.create_task(reader(ws)) for ws in sockets]
        print(f"{len(sockets)} tabs on {args.agents} extensions; server pid {server.proc.pid}")
        token = cluster.servers[0].env["CALLHUB_PBX_TOKEN"]
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as pbx:
            for rate in args.rates:
                sent: dict[str, float] = {}
                total = int(rate * args.seconds)
                tasks = []
                t0 = time.perf_counter()

                async def fire(key: str, ramal: int, sent: dict[str, float] = sent) -> None:
                    sent[key] = time.perf_counter()
                    r = await pbx.get(
                        "/webservices/telefonia/novaSolicitacao",
                        params={"cpf": "52998224725", "ramal": ramal, "fila": key},
                        headers={"token": token},
                    )
                    r.raise_for_status()

                for n in range(total):
                    due = t0 + n / rate
                    delay = due - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    key = f"r{rate}n{n}"
                    tasks.append(asyncio.create_task(fire(key, 5000 + n % args.agents)))
                await asyncio.gather(*tasks)
                await asyncio.sleep(1.0)
                elapsed = time.perf_counter() - t0
                lat = [(arrivals[k] - sent[k]) * 1000 for k in sent if k in arrivals]
                lost = len(sent) - len(lat)
                print(
                    f"rate {rate}/s: {len(lat)} pops, p50 {statistics.median(lat):.2f} ms, "
                    f"p99 {pct(lat, 99):.2f} ms, max {max(lat):.2f} ms, not arrived {lost}, "
                    f"achieved {len(sent) / (elapsed - 1.0):.0f}/s"
                )
        for task in readers:
            task.cancel()
        rss = Path(f"/proc/{server.proc.pid}/status").read_text()
        vm = [line for line in rss.splitlines() if line.startswith("VmRSS")]
        print(f"server {vm[0] if vm else ''} with {len(sockets)} tabs")
    finally:
        for ws in sockets:
            ws.transport.abort()
        cluster.stop()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(main())
