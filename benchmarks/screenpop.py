"""Screen pops, PBX request to fragment on the agent's tab: callhub against the bare floor.

For each target it opens TABS websockets through the real login (AGENTS agents, each on
its own extension, with TABS/AGENTS tabs each), then fires PBX requests, alternately
`novaSolicitacao` (GET) and 55pbx start records (POST), each for one extension, in one of
a few queues and with a unique IVR path, and notes when the first tab of that extension
receives the fragment naming that path. Phases: a short warm-up, each fixed rate
(`--rates`), then saturation (`--concurrency` requests in flight, each sent when the
previous one was answered).

Targets:
- `floor`: benchmarks/floor.py, a Starlette app that sends the PBX request's query string
  or body straight to the extension's sockets: no login, store, broker or template.
- `embedded`: one callhub process on SQLite and the in-process broker.
- `postgresql`: one callhub process on PostgreSQL (its default durability: fsync and
  synchronous commit on) and the in-process broker.
- `redis`: two callhub processes on PostgreSQL and Redis, as callhub scales out; every
  agent has a tab on each, and PBX requests alternate between them.

Prints, per target and phase, p50/p99/max latency and the pops/s sustained (55pbx pushes
and telefonia requests together and apart), the longest event-loop stall of callhub's
servers and the pops they committed together (both from their /metrics), the servers'
resident memory per tab, and the ratios to the floor. The tabs are read by a separate
process with a minimal websocket reader, so that the client costs the servers as little
CPU as it can; all of it shares the machine's cores with the servers.

    .venv/bin/python benchmarks/screenpop.py                       # all four targets
    .venv/bin/python benchmarks/screenpop.py --targets floor embedded --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import multiprocessing as mp
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from argon2 import PasswordHasher
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from callhub.store.engine import Store  # noqa: E402
from callhub.store.models import Role, User  # noqa: E402
from support import (  # noqa: E402
    PASSWORD,
    PBX55_TOKEN,
    PBX_TOKEN,
    Cluster,
    PostgresServer,
    RedisServer,
    Server,
    free_port,
    http_client,
    seed,
    web_login,
)

BENCH_DIR = Path(__file__).resolve().parent
FIRST_RAMAL = 5000
# Each pop's key travels as the call's IVR path, which callhub's screen shows as
# "URA <strong>KEY<"; the floor relays the request as it came.
MARK = b"URA <strong>"
KEY = re.compile(rb"q\d+x")
QUEUES = ("Suporte", "Financeiro", "Vendas", "Ouvidoria", "Cobrança", "Retenção")
TARGETS = ("floor", "embedded", "postgresql", "redis")


# -- the tabs' side: a minimal websocket reader in a process of its own --------------------


class RawTab(asyncio.Protocol):
    """A websocket client that only reads: parse frames, note the first arrival of each
    pop's key, answer pings. Far cheaper per frame than a general client."""

    def __init__(self, request: bytes, arrivals: dict[bytes, float], counts: list[int]) -> None:
        self.request = request
        self.arrivals = arrivals
        self.counts = counts  # [frames received, tabs that got their first frame]
        self.buf = bytearray()
        self.upgraded = False
        self.frames = 0
        self.transport: asyncio.Transport | None = None
        self.failed: str | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.failed is None:
            self.failed = f"closed: {exc!r}"

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        buf = self.buf
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                self.failed = bytes(buf[: buf.find(b"\r\n")]).decode(errors="replace")
                assert self.transport is not None
                self.transport.close()
                return
            del buf[: end + 4]
            self.upgraded = True
        while len(buf) >= 2:
            length, start = buf[1] & 0x7F, 2
            if length == 126:
                if len(buf) < 4:
                    return
                length, start = int.from_bytes(buf[2:4], "big"), 4
            elif length == 127:
                if len(buf) < 10:
                    return
                length, start = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < start + length:
                return
            opcode = buf[0] & 0x0F
            payload = bytes(buf[start : start + length])
            del buf[: start + length]
            if opcode == 0x9:  # ping: pong, masked with a zero key (the payload unchanged)
                assert self.transport is not None and length < 126
                self.transport.write(bytes([0x8A, 0x80 | length]) + b"\0\0\0\0" + payload)
            elif opcode == 0x8:
                self.failed = f"close frame {payload[:2].hex()}"
            elif opcode in (0x0, 0x1, 0x2):
                self.frame(payload, now)

    def frame(self, payload: bytes, now: float) -> None:
        self.frames += 1
        self.counts[0] += 1
        if self.frames == 1:
            self.counts[1] += 1
        at = payload.find(MARK)
        if at >= 0:
            at += len(MARK)
            key = payload[at : payload.find(b"<", at)]
        else:
            found = KEY.search(payload)
            if found is None:
                return
            key = found.group()
        if key not in self.arrivals:
            self.arrivals[key] = now


@dataclass(frozen=True)
class TabSpec:
    port: int
    path: str
    cookie: str | None


def handshake(spec: TabSpec) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {spec.path} HTTP/1.1",
        f"Host: 127.0.0.1:{spec.port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
    ]
    if spec.cookie:
        lines.append(f"Cookie: {spec.cookie}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def tabs_process(specs: list[TabSpec], ready: Any, stop: Any, out: Any) -> None:
    async def run() -> None:
        loop = asyncio.get_running_loop()
        arrivals: dict[bytes, float] = {}
        counts = [0, 0]
        tabs: list[RawTab] = []
        gate = asyncio.Semaphore(64)

        async def connect(spec: TabSpec) -> None:
            async with gate:
                tab = RawTab(handshake(spec), arrivals, counts)
                await loop.create_connection(lambda: tab, "127.0.0.1", spec.port)
                tabs.append(tab)

        await asyncio.gather(*(connect(s) for s in specs))
        deadline = time.monotonic() + 60
        while counts[1] < len(specs):
            failed = [t.failed for t in tabs if t.failed]
            if failed or time.monotonic() > deadline:
                out.put({"error": f"{counts[1]} of {len(specs)} tabs opened; {failed[:3]}"})
                return
            await asyncio.sleep(0.05)
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.05)
        closed = sum(1 for t in tabs if t.failed)
        for tab in tabs:
            if tab.transport is not None:
                tab.transport.abort()
        out.put({"arrivals": arrivals, "frames": counts[0], "closed": closed})

    asyncio.run(run())


# -- the PBX's side ---------------------------------------------------------------------


class RawPbx:
    """Keep-alive HTTP/1.1 requests over raw streams: a client far cheaper than the server."""

    def __init__(self, port: int, connections: int) -> None:
        self.port = port
        self.connections = connections
        self.pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue()
        )

    async def open(self) -> None:
        for _ in range(self.connections):
            self.pool.put_nowait(await asyncio.open_connection("127.0.0.1", self.port))

    async def send(self, path: str, body: bytes | None, token: str) -> int:
        reader, writer = await self.pool.get()
        head = f"{'POST' if body else 'GET'} {path} HTTP/1.1\r\nHost: bench\r\ntoken: {token}\r\n"
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        request = (head + "\r\n").encode() + (body or b"")
        try:
            for attempt in range(2):
                try:
                    writer.write(request)
                    answer = await reader.readuntil(b"\r\n\r\n")
                    break
                except (asyncio.IncompleteReadError, ConnectionError):
                    # The server closed an idle keep-alive connection: open another, once.
                    writer.close()
                    if attempt:
                        raise
                    reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            length = 0
            for line in answer.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            return int(answer.split(b" ", 2)[1])
        finally:
            self.pool.put_nowait((reader, writer))

    def close(self) -> None:
        while not self.pool.empty():
            self.pool.get_nowait()[1].close()


class Pbx:
    """PBX requests for the target's processes, in turn; the send time of each pop's key."""

    def __init__(self, ports: list[int], connections: int, agents: int) -> None:
        self.clients = [RawPbx(port, connections) for port in ports]
        self.agents = agents
        self.sent: dict[bytes, float] = {}
        # The keys sent as 55pbx pushes (the others went to novaSolicitacao).
        self.pushes: set[bytes] = set()
        self.errors: list[str] = []
        self.count = 0
        self.serial = itertools.count()

    def new_key(self) -> str:
        return f"q{next(self.serial)}x"

    async def open(self) -> None:
        for client in self.clients:
            await client.open()

    async def fire(self, key: str) -> None:
        """One pop: novaSolicitacao and 55pbx in turn, the extensions in turn."""
        n = self.count
        self.count += 1
        client = self.clients[n % len(self.clients)]
        ramal = FIRST_RAMAL + n % self.agents
        if n % 2:
            body = json.dumps(
                {
                    "call_id": key,
                    "branch_mask": ramal,
                    "call_type": "receptivo",
                    "call_date": "2026-11-20 10:00:00",
                    "call_number": "987654321",
                    "call_area_code": "11",
                    "call_country_code": "55",
                    "call_queue": QUEUES[n % len(QUEUES)],
                    "call_ura": key,
                    "call_time_waiting": 12,
                }
            ).encode()
            self.pushes.add(key.encode())
            self.sent[key.encode()] = time.perf_counter()
            status = await client.send("/integrations/55pbx", body, PBX55_TOKEN)
        else:
            query = urlencode(
                {"cpf": "52998224725", "ramal": ramal, "fila": QUEUES[n % len(QUEUES)], "ura": key}
            )
            self.sent[key.encode()] = time.perf_counter()
            status = await client.send(
                f"/webservices/telefonia/novaSolicitacao?{query}", None, PBX_TOKEN
            )
        if status != 200 and len(self.errors) < 5:
            self.errors.append(f"{key}: HTTP {status}")

    def close(self) -> None:
        for client in self.clients:
            client.close()


# -- targets ----------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@dataclass
class Target:
    name: str
    ports: list[int]
    pids: list[int]
    tabs: list[TabSpec]
    stop: Callable[[], Awaitable[None]]

    def rss(self) -> int:
        return sum(rss_kib(pid) for pid in self.pids)


def tab_specs(
    ports: list[int],
    tabs: int,
    agents: int,
    path: Callable[[int], str],
    cookie: Callable[[int], str | None] = lambda agent: None,
) -> list[TabSpec]:
    """Tab i belongs to agent i % agents; an agent's tabs go to the processes in turn."""
    return [
        TabSpec(ports[(i // agents) % len(ports)], path(i % agents), cookie(i % agents))
        for i in range(tabs)
    ]


async def start_floor(tmp: Path, tabs: int, agents: int) -> Target:
    """The floor under the same uvicorn options as callhub's servers."""
    server = Server(
        free_port(), dict(os.environ), tmp / "floor.log", app="floor:app", app_dir=BENCH_DIR
    )
    await asyncio.to_thread(server.start)
    assert server.proc is not None

    async def stop() -> None:
        server.stop()

    specs = tab_specs([server.port], tabs, agents, lambda a: f"/ws?ramal={FIRST_RAMAL + a}")
    return Target("floor", [server.port], [server.proc.pid], specs, stop)


async def make_agents(url: str, count: int) -> None:
    """The agents, sharing one password hash made with light Argon2 parameters: logging in
    verifies it as usual (the parameters travel in the hash), in a millisecond instead of
    the default's 140, so that a thousand logins take seconds."""
    password_hash = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)

    def work(session: Session) -> None:
        for i in range(count):
            session.add(
                User(
                    username=f"bench{i}",
                    name=f"Agente {i}",
                    password_hash=password_hash,
                    role=Role.agent,
                    can_execute=True,
                )
            )
        session.commit()

    store = Store(url)
    try:
        await store.run(work)
    finally:
        await store.dispose()


async def login_all(ports: list[int], agents: int) -> list[str]:
    """Each agent logs in through the form and registers its extension."""
    cookies: list[str] = [""] * agents
    gate = asyncio.Semaphore(4)

    async def login(i: int) -> None:
        async with gate, http_client(base_url=f"http://127.0.0.1:{ports[i % len(ports)]}") as http:
            r = await web_login(http, f"bench{i}")
            assert r.status_code == 303, (r.status_code, r.text[:200])
            r = await http.post("/atendimento/ramal", data={"ramal": str(FIRST_RAMAL + i)})
            assert r.status_code in (200, 303), (r.status_code, r.text[:200])
            cookies[i] = f"callhub_session={http.cookies.get('callhub_session')}"

    await asyncio.gather(*(login(i) for i in range(agents)))
    return cookies


async def start_callhub(
    name: str, tmp: Path, tabs: int, agents: int, env: dict[str, str]
) -> Target:
    postgres = redis = None
    if name == "embedded":
        url = f"sqlite+aiosqlite:///{tmp / f'{name}.db'}"
    else:
        # PostgreSQL's own durability (fsync, synchronous commit): a pop survives a power cut.
        postgres = PostgresServer(durable=True)
        await asyncio.to_thread(postgres.start)
        url = await postgres.new_database()
    if name == "redis":
        redis = RedisServer(tmp)
        await asyncio.to_thread(redis.start)
    await seed(url)
    await make_agents(url, agents)
    cluster = Cluster(
        tmp,
        url,
        broker_url=redis.url if redis else None,
        extra_env={"CALLHUB_TAB_QUEUE_SIZE": "256", "CALLHUB_TAB_SEND_TIMEOUT": "5", **env},
    )
    servers = [await asyncio.to_thread(cluster.server) for _ in range(2 if redis else 1)]
    ports = [s.port for s in servers]

    async def stop() -> None:
        cluster.stop()
        if redis is not None:
            redis.kill()
        if postgres is not None:
            postgres.remove()

    try:
        cookies = await login_all(ports, agents)
    except BaseException:
        await stop()
        raise
    specs = tab_specs(ports, tabs, agents, lambda a: "/ws/atendimento", cookies.__getitem__)
    return Target(name, ports, [s.proc.pid for s in servers if s.proc], specs, stop)


# -- phases -----------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    keys: list[bytes] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0
    # The longest event-loop stall of the servers during the phase (ms, a bucket's bound).
    stall_ms: float = float("nan")
    # Units of work the servers committed together, on average (group commit).
    per_commit: float = float("nan")


async def fixed_rate(pbx: Pbx, phase: Phase, rate: float, seconds: float) -> None:
    tasks = []
    total = int(rate * seconds)
    phase.started = t0 = time.perf_counter()
    for n in range(total):
        delay = t0 + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        key = pbx.new_key()
        phase.keys.append(key.encode())
        tasks.append(asyncio.create_task(pbx.fire(key)))
    await asyncio.gather(*tasks)
    phase.ended = time.perf_counter()


async def saturate(pbx: Pbx, phase: Phase, concurrency: int, seconds: float) -> None:
    phase.started = time.perf_counter()
    until = phase.started + seconds

    async def caller() -> None:
        while time.perf_counter() < until:
            key = pbx.new_key()
            phase.keys.append(key.encode())
            await pbx.fire(key)

    await asyncio.gather(*(caller() for _ in range(concurrency)))
    phase.ended = time.perf_counter()


def profiler(pid: int, out: Path, seconds: float) -> subprocess.Popen[bytes]:
    """py-spy samples the server process during saturation (pip install py-spy)."""
    spy = Path(sys.executable).with_name("py-spy")
    return subprocess.Popen(
        [
            str(spy),
            "record",
            "-p",
            str(pid),
            "-d",
            str(max(1, int(seconds) - 1)),
            "-r",
            "200",
            "-f",
            "raw",
            "-g",
            "--nonblocking",
            "-o",
            str(out),
        ],  # fmt: skip
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def summarise(collapsed: Path, title: str, top: int) -> str:
    """The share of samples spent in (inclusive) and on (self) each function."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + n
        own[frames[-1]] = own.get(frames[-1], 0) + n
    lines = [f"profile of {title}: {total} samples"]
    ours = {f: n for f, n in inclusive.items() if "(callhub/" in f or ".html)" in f}
    for label, table in (("callhub's functions and templates, inclusive", ours), ("self", own)):
        lines.append(f"  {label}:")
        for frame, n in sorted(table.items(), key=lambda kv: -kv[1])[:top]:
            lines.append(f"    {100 * n / max(total, 1):5.1f}%  {frame}")
    return "\n".join(lines)


LAG_BUCKET = re.compile(
    rb'^callhub_event_loop_lag_seconds_bucket\{le="([^"]+)"\} ([0-9.e+]+)$', re.M
)


BATCHES = re.compile(rb"^callhub_pop_batch_size_(count|sum) ([0-9.e+]+)$", re.M)


async def lag_buckets(ports: list[int]) -> dict[float, float]:
    """The servers' event-loop lag histograms (cumulative counts by upper bound), summed,
    and under the keys -1 and -2 their commits and the units of work those committed."""
    total: dict[float, float] = {}
    for port in ports:
        async with http_client(base_url=f"http://127.0.0.1:{port}") as http:
            body = (await http.get("/metrics")).content
        for bound, count in LAG_BUCKET.findall(body):
            key = float(bound)
            total[key] = total.get(key, 0.0) + float(count)
        for kind, value in BATCHES.findall(body):
            key = -1.0 if kind == b"count" else -2.0
            total[key] = total.get(key, 0.0) + float(value)
    return total


def per_commit(before: dict[float, float], after: dict[float, float]) -> float:
    """Units of work per commit between two readings (group commit at work)."""
    commits = after.get(-1.0, 0.0) - before.get(-1.0, 0.0)
    return (after.get(-2.0, 0.0) - before.get(-2.0, 0.0)) / commits if commits else 0.0


def longest_stall(before: dict[float, float], after: dict[float, float]) -> float:
    """The upper bound (ms) of the lag bucket that holds the phase's longest stall."""
    inf = float("inf")
    if inf not in after:
        return float("nan")
    bounds = sorted(b for b in after if b != inf and b >= 0)
    total = after[inf] - before.get(inf, 0.0)
    # The counts are cumulative: the observations above bound b are total - count(b).
    longer = [b for b in bounds if total - (after[b] - before.get(b, 0.0)) > 0]
    if not longer:
        return 1000 * bounds[0]
    above = [b for b in bounds if b > longer[-1]]
    return 1000 * above[0] if above else inf


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


@dataclass
class Figures:
    p50: float
    p99: float
    max: float
    rate: float  # pops that reached a tab, per second of the phase
    missing: int


def figures(phase: Phase, sent: dict[bytes, float], arrivals: dict[bytes, float]) -> Figures:
    lat = [(arrivals[k] - sent[k]) * 1000 for k in phase.keys if k in arrivals]
    if not lat:
        return Figures(0, 0, 0, 0, len(phase.keys))
    last = max(arrivals[k] for k in phase.keys if k in arrivals)
    return Figures(
        statistics.median(lat),
        pct(lat, 99),
        max(lat),
        len(lat) / (last - phase.started),
        len(phase.keys) - len(lat),
    )


@dataclass
class Result:
    target: str
    tabs: int
    kib_per_tab: float
    phases: dict[str, Figures]
    frames: int
    closed: int
    errors: list[str]


async def run_target(name: str, args: argparse.Namespace, tmp: Path) -> Result:
    started = time.perf_counter()
    if name == "floor":
        target = await start_floor(tmp, args.tabs, args.agents)
    else:
        env = dict(item.split("=", 1) for item in args.env)
        target = await start_callhub(name, tmp, args.tabs, args.agents, env)
    ctx = mp.get_context("spawn")
    ready, stop, out = ctx.Event(), ctx.Event(), ctx.Queue()
    reader = ctx.Process(target=tabs_process, args=(target.tabs, ready, stop, out))
    pbx = Pbx(target.ports, args.connections, args.agents)
    phases: list[Phase] = []
    try:
        await asyncio.sleep(1.0)
        idle = target.rss()
        reader.start()
        while not ready.is_set():
            if not reader.is_alive() or not out.empty():
                raise RuntimeError(f"{name}: tabs did not open: {out.get(timeout=1)}")
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)
        kib_per_tab = (target.rss() - idle) / args.tabs
        print(
            f"{name}: {args.tabs} tabs on {args.agents} extensions open "
            f"({time.perf_counter() - started:.0f} s to set up); "
            f"{kib_per_tab:.1f} KiB per tab",
            flush=True,
        )
        await pbx.open()
        await fixed_rate(pbx, Phase("warm-up"), 100, 1.0)
        await asyncio.sleep(1.0)
        for rate in args.rates:
            phase = Phase(f"{rate}/s")
            lag_before = await lag_buckets(target.ports) if name != "floor" else {}
            await fixed_rate(pbx, phase, rate, args.seconds)
            if name != "floor":
                lag_after = await lag_buckets(target.ports)
                phase.stall_ms = longest_stall(lag_before, lag_after)
                phase.per_commit = per_commit(lag_before, lag_after)
            phases.append(phase)
            await asyncio.sleep(1.0)
        if args.concurrency:
            phase = Phase("saturation")
            spies = [profiler(pid, tmp / f"{name}-{pid}.txt", args.seconds) for pid in
                     target.pids] if args.profile else []  # fmt: skip
            pids = {"server": target.pids, "tabs": [reader.pid or 0], "pbx": [os.getpid()]}
            before = {k: sum(cpu_seconds(p) for p in v) for k, v in pids.items()}
            lag_before = await lag_buckets(target.ports) if name != "floor" else {}
            await saturate(pbx, phase, args.concurrency, args.seconds)
            if name != "floor":
                phase.per_commit = per_commit(lag_before, await lag_buckets(target.ports))
            busy = {
                k: (sum(cpu_seconds(p) for p in v) - before[k]) / (phase.ended - phase.started)
                for k, v in pids.items()
            }
            print(
                f"{name} saturation, CPU busy: "
                + ", ".join(f"{k} {100 * v:.0f}%" for k, v in busy.items()),
                flush=True,
            )
            for spy in spies:
                await asyncio.to_thread(spy.wait, 30)
            phases.append(phase)
            await asyncio.sleep(2.0)
        stop.set()
        report = await asyncio.to_thread(out.get, True, 120)
        if "error" in report:
            raise RuntimeError(report["error"])
    finally:
        stop.set()
        pbx.close()
        await asyncio.to_thread(reader.join, 30)
        if reader.is_alive():
            reader.kill()
        await target.stop()
    for pid in target.pids if args.profile and args.concurrency else []:
        print(summarise(tmp / f"{name}-{pid}.txt", f"{name} (pid {pid})", args.profile))
    result = Result(
        name,
        args.tabs,
        kib_per_tab,
        {p.name: figures(p, pbx.sent, report["arrivals"]) for p in phases},
        report["frames"],
        report["closed"],
        pbx.errors,
    )
    for phase in phases:
        for kind, keys in (
            ("both", phase.keys),
            ("55pbx", [k for k in phase.keys if k in pbx.pushes]),
            ("telefonia", [k for k in phase.keys if k not in pbx.pushes]),
        ):
            part = Phase(phase.name, keys, phase.started, phase.ended)
            f = figures(part, pbx.sent, report["arrivals"])
            stall = f"; longest loop stall <= {phase.stall_ms:g} ms" if (
                kind == "both" and phase.stall_ms == phase.stall_ms) else ""  # fmt: skip
            if kind == "both" and phase.per_commit == phase.per_commit:
                stall += f"; {phase.per_commit:.1f} pops per commit"
            print(
                f"{name} {phase.name} {kind}: p50 {f.p50:.2f} ms, p99 {f.p99:.2f} ms, "
                f"max {f.max:.1f} ms; {f.rate:.0f} pops/s reached a tab; "
                f"{f.missing} missing{stall}",
                flush=True,
            )
    if result.closed or result.errors:
        print(f"{name}: {result.closed} tabs closed by the server; errors {result.errors}")
    return result


def table(results: list[Result]) -> str:
    floor = next((r for r in results if r.target == "floor"), None)
    names = list(results[0].phases)
    head = ["target", "KiB/tab"] + [
        f"{n} {what}" for n in names for what in ("p50 ms", "p99 ms", "pops/s")
    ]
    rows = [head]
    for r in results:
        row = [r.target, f"{r.kib_per_tab:.1f}"]
        for n in names:
            f = r.phases[n]
            row += [f"{f.p50:.2f}", f"{f.p99:.2f}", f"{f.rate:.0f}"]
        rows.append(row)
        if floor is not None and r is not floor:
            ratio = ["  x floor", f"{r.kib_per_tab / max(floor.kib_per_tab, 0.1):.1f}x"]
            for n in names:
                f, b = r.phases[n], floor.phases[n]
                ratio += [
                    f"{f.p50 / b.p50:.1f}x" if b.p50 else "-",
                    f"{f.p99 / b.p99:.1f}x" if b.p99 else "-",
                    f"{f.rate / b.rate:.2f}x" if b.rate else "-",
                ]
            rows.append(ratio)
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--targets", nargs="+", choices=TARGETS, default=list(TARGETS))
    parser.add_argument("--tabs", type=int, default=2000)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--rates", type=int, nargs="+", default=[100, 500])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument(
        "--concurrency", type=int, default=16, help="requests in flight at saturation; 0: skip"
    )
    parser.add_argument("--connections", type=int, default=32, help="per server process")
    parser.add_argument(
        "--env", nargs="*", default=[], metavar="NAME=VALUE", help="for callhub's processes"
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="sample the servers with py-spy during saturation; print the top N functions",
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="callhub-bench-"))
    results = [await run_target(name, args, tmp) for name in args.targets]
    print()
    print(f"{args.tabs} tabs, {args.agents} extensions, {args.seconds:g} s per phase")
    print(table(results))


if __name__ == "__main__":
    asyncio.run(main())
