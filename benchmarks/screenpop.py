"""PBX-request-to-fragment latency of screen pops, through the real login and websocket.

`--source telefonia` (default) calls `novaSolicitacao`; `--source 55pbx` pushes 55pbx
start records (JSON, `POST /integrations/55pbx`), each popping the agent's screen.

Starts callhub under uvicorn (embedded: SQLite and the in-process broker) on loopback,
logs AGENTS agents in, each on its own extension, and opens TABS websockets spread over
them from a separate process (so that reading frames does not steal the PBX client's
time). The PBX side sends `novaSolicitacao` over keep-alive HTTP/1.1 connections at fixed
rates; each pop carries a unique queue name, and the time from sending the request to the
first tab of that extension receiving the fragment is the latency. Prints p50, p99 and
max per rate, the rate achieved, and the server's resident memory per tab.

    .venv/bin/python benchmarks/screenpop.py --tabs 1000 --rates 100 500 --seconds 10
    .venv/bin/python benchmarks/screenpop.py --source 55pbx --rates 100 300 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import websockets
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from callhub.store import users  # noqa: E402
from callhub.store.engine import Store  # noqa: E402
from callhub.store.models import Role  # noqa: E402
from support import PASSWORD, PBX55_TOKEN, PBX_TOKEN, Cluster, seed  # noqa: E402

MARK = "Fila <strong>"


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


async def login_all(base: str, agents: int) -> list[str]:
    cookies = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        for i in range(agents):
            http.cookies.clear()
            r = await http.post("/login", data={"username": f"bench{i}", "password": PASSWORD})
            assert r.status_code == 303, r.text
            await http.post("/atendimento/ramal", data={"ramal": str(5000 + i)})
            cookies.append(f"callhub_session={http.cookies.get('callhub_session')}")
    return cookies


def tabs_process(
    ws_url: str, cookies: list[str], tabs: int, ready: mp.Event, stop: mp.Event, out: mp.Queue
) -> None:  # type: ignore[type-arg]
    async def run() -> None:
        arrivals: dict[str, float] = {}
        sockets = []
        for n in range(tabs):
            ws = await websockets.connect(
                ws_url,
                additional_headers={"Cookie": cookies[n % len(cookies)]},
                compression=None,
                max_queue=None,
            )
            await ws.recv()
            sockets.append(ws)

        async def reader(ws: websockets.ClientConnection) -> None:
            async for frame in ws:
                now = time.perf_counter()
                text = str(frame)
                start = text.find(MARK)
                if start >= 0:
                    key = text[start + len(MARK) : text.find("<", start + len(MARK))]
                    arrivals.setdefault(key, now)

        tasks = [asyncio.create_task(reader(ws)) for ws in sockets]
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.1)
        for task in tasks:
            task.cancel()
        for ws in sockets:
            ws.transport.abort()
        out.put(arrivals)

    asyncio.run(run())


class RawPbx:
    """Keep-alive HTTP/1.1 GETs over raw streams: a client far cheaper than the server."""

    def __init__(self, port: int, connections: int) -> None:
        self.port = port
        self.pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue()
        )
        self.connections = connections

    async def open(self) -> None:
        for _ in range(self.connections):
            self.pool.put_nowait(await asyncio.open_connection("127.0.0.1", self.port))

    async def get(self, path: str, body: bytes | None = None, token: str = PBX_TOKEN) -> int:
        reader, writer = await self.pool.get()
        head = f"{'POST' if body else 'GET'} {path} HTTP/1.1\r\nHost: bench\r\ntoken: {token}\r\n"
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        request = (head + "\r\n").encode() + (body or b"")
        try:
            for attempt in range(2):
                try:
                    writer.write(request)
                    head = await reader.readuntil(b"\r\n\r\n")
                    break
                except (asyncio.IncompleteReadError, ConnectionError):
                    # The server closed an idle keep-alive connection: open another, once.
                    writer.close()
                    if attempt:
                        raise
                    reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            return status
        finally:
            self.pool.put_nowait((reader, writer))

    def close(self) -> None:
        while not self.pool.empty():
            self.pool.get_nowait()[1].close()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tabs", type=int, default=1000)
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--rates", type=int, nargs="+", default=[100, 500])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--source", choices=["telefonia", "55pbx"], default="telefonia")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="callhub-bench-"))
    url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    await seed(url)
    await make_agents(url, args.agents)
    cluster = Cluster(tmp, url, extra_env={"CALLHUB_TAB_QUEUE_SIZE": "256"})
    server = cluster.server()
    assert server.proc is not None
    ctx = mp.get_context("spawn")
    ready, stop, out = ctx.Event(), ctx.Event(), ctx.Queue()
    try:
        cookies = await login_all(server.url, args.agents)
        idle_rss = rss_kib(server.proc.pid)
        proc = ctx.Process(
            target=tabs_process, args=(server.ws_url, cookies, args.tabs, ready, stop, out)
        )
        proc.start()
        while not ready.is_set():
            await asyncio.sleep(0.1)
        tabs_rss = rss_kib(server.proc.pid)
        print(
            f"{args.tabs} tabs on {args.agents} extensions; server RSS {idle_rss} KiB idle, "
            f"{tabs_rss} KiB with the tabs ({(tabs_rss - idle_rss) / args.tabs:.1f} KiB/tab)"
        )
        pbx = RawPbx(server.port, args.connections)
        await pbx.open()
        sent: dict[str, float] = {}
        plan: list[tuple[int, list[str]]] = []
        for rate in args.rates:
            keys: list[str] = []
            total = int(rate * args.seconds)
            t0 = time.perf_counter()
            tasks = []

            async def fire(key: str, ramal: int) -> None:
                if args.source == "55pbx":
                    body = json.dumps(
                        {
                            "call_id": key,
                            "branch_mask": ramal,
                            "call_type": "receptivo",
                            "call_date": "2026-11-20 10:00:00",
                            "call_number": "987654321",
                            "call_area_code": "11",
                            "call_country_code": "55",
                            "call_queue": key,
                            "call_time_waiting": 12,
                        }
                    ).encode()
                    sent[key] = time.perf_counter()
                    status = await pbx.get("/integrations/55pbx", body, PBX55_TOKEN)
                else:
                    query = urlencode({"cpf": "52998224725", "ramal": ramal, "fila": key})
                    sent[key] = time.perf_counter()
                    status = await pbx.get(f"/webservices/telefonia/novaSolicitacao?{query}")
                assert status == 200, status

            for n in range(total):
                delay = t0 + n / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                key = f"r{rate}n{n}"
                keys.append(key)
                tasks.append(asyncio.create_task(fire(key, 5000 + n % args.agents)))
            await asyncio.gather(*tasks)
            elapsed = time.perf_counter() - t0
            plan.append((rate, keys))
            print(f"rate {rate}/s: sent {total} in {elapsed:.2f} s ({total / elapsed:.0f}/s)")
            await asyncio.sleep(2.0)
        pbx.close()
        stop.set()
        arrivals: dict[str, float] = out.get(timeout=60)
        proc.join(30)
        for rate, keys in plan:
            lat = [(arrivals[k] - sent[k]) * 1000 for k in keys if k in arrivals]
            missing = len(keys) - len(lat)
            print(
                f"rate {rate}/s with {args.tabs} tabs: p50 {statistics.median(lat):.2f} ms, "
                f"p99 {pct(lat, 99):.2f} ms, max {max(lat):.2f} ms; "
                f"{len(lat)} pops arrived, {missing} missing"
            )
    finally:
        stop.set()
        cluster.stop()


if __name__ == "__main__":
    asyncio.run(main())
