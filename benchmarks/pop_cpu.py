"""A pop's CPU, in-process: callhub's own cost per PBX request, without sockets or clients.

Builds the app on a fresh SQLite database with the demo data, attaches two tabs per
extension whose sockets take every frame at once, and calls the app's ASGI entry with
telefonia (`novaSolicitacao`) and 55pbx requests, each for its own extension. Prints the
CPU time per request of each kind, then of the two in turn with CONCURRENCY in flight
(what group commit shares), each the least of a few rounds. With --profile, the top
functions of the mixed run (cProfile).

    .venv/bin/python benchmarks/pop_cpu.py
    .venv/bin/python benchmarks/pop_cpu.py --requests 4000 --profile 30
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from starlette.websockets import WebSocketState  # noqa: E402

from callhub import metrics  # noqa: E402
from callhub.app import create_app  # noqa: E402
from callhub.appstate import state_of  # noqa: E402
from callhub.settings import Settings  # noqa: E402
from callhub.ws.tab import Tab  # noqa: E402
from support import PBX55_TOKEN, PBX_TOKEN, SECRET, seed  # noqa: E402

EXTENSIONS = 200
CONCURRENCY = 16


class Socket:
    """A websocket that takes every frame at once, as a fast client's does."""

    frames = 0
    application_state = WebSocketState.CONNECTED

    async def send_text(self, data: str) -> None:
        Socket.frames += 1

    async def close(self, code: int = 1000) -> None:
        self.application_state = WebSocketState.DISCONNECTED


async def call(app: Any, method: str, path: str, query: str, body: bytes, token: str) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [
            (b"host", b"bench"),
            (b"token", token.encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def telefonia(n: int) -> tuple[str, str, str, bytes, str]:
    query = urlencode(
        {"cpf": "52998224725", "ramal": 5000 + n % EXTENSIONS, "fila": "Suporte", "ura": f"k{n}"}
    )
    return ("GET", "/webservices/telefonia/novaSolicitacao", query, b"", PBX_TOKEN)


def pbx55(n: int) -> tuple[str, str, str, bytes, str]:
    body = {
        "call_id": f"bench-{n}-{time.monotonic_ns()}",
        "branch_mask": 5000 + n % EXTENSIONS,
        "call_type": "receptivo",
        "call_date": "2026-11-20 10:00:00",
        "call_number": "987654321",
        "call_area_code": "11",
        "call_country_code": "55",
        "call_queue": "Suporte",
        "call_ura": f"k{n}",
        "call_time_waiting": 12,
    }
    return ("POST", "/integrations/55pbx", "", json.dumps(body).encode(), PBX55_TOKEN)


async def run(app: Any, make: Any, count: int, concurrency: int) -> float:
    """CPU seconds per request."""
    done = 0

    async def caller(start: int) -> None:
        nonlocal done
        for n in range(start, count, concurrency):
            status = await call(app, *make(n))
            assert status == 200, status
            done += 1

    started = time.process_time()
    await asyncio.gather(*(caller(i) for i in range(concurrency)))
    return (time.process_time() - started) / done


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3, help="each line's figure: the least")
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    parser.add_argument("--sort", default="tottime", help="cProfile's order: tottime, cumulative")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="callhub-popcpu-"))
    url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    await seed(url)
    os.environ.update(
        CALLHUB_DATABASE_URL=url,
        CALLHUB_SECRET_KEY=SECRET,
        CALLHUB_PBX_TOKEN=PBX_TOKEN,
        CALLHUB_PBX55_TOKEN=PBX55_TOKEN,
    )
    app = create_app(Settings.from_env())
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await inbox.put({"type": "lifespan.startup"})
    life = asyncio.create_task(app({"type": "lifespan", "state": {}}, inbox.get, outbox.put))
    started = await outbox.get()
    assert started["type"] == "lifespan.startup.complete", started
    hub = state_of(app).hub
    for n in range(EXTENSIONS):
        for _ in range(2):
            tab = Tab(
                Socket(),  # type: ignore[arg-type]
                user_id=1,
                user_name="bench",
                can_execute=True,
                locale="pt_BR",
                ramal=str(5000 + n),
                limit=256,
                timeout=5,
            )
            await hub.attach(tab)
            tab.caught_up(0)
    gc.collect()
    await run(app, telefonia, 200, 1)  # warm-up: statements, templates
    await run(app, pbx55, 200, 1)
    # The least of a few rounds: this machine's neighbours add to a round, never take away.
    one = min([await run(app, telefonia, args.requests, 1) for _ in range(args.rounds)])
    push = min([await run(app, pbx55, args.requests, 1) for _ in range(args.rounds)])
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()

    def mixed(n: int) -> tuple[str, str, str, bytes, str]:
        return pbx55(n) if n % 2 else telefonia(n)

    both = min([await run(app, mixed, args.requests, CONCURRENCY) for _ in range(args.rounds)])
    if profiler:
        profiler.disable()
    print(f"{EXTENSIONS} extensions, 2 tabs each, {args.requests} requests per line")
    print(f"telefonia novaSolicitacao, one at a time: {1e6 * one:.0f} µs CPU per pop")
    print(f"55pbx start push, one at a time:          {1e6 * push:.0f} µs CPU per pop")
    print(f"both in turn, {CONCURRENCY} in flight:            {1e6 * both:.0f} µs CPU per pop")
    print(f"frames written to tabs: {Socket.frames}")
    batches = metrics.POP_BATCH.collect()[0].samples
    count = next(s.value for s in batches if s.name.endswith("_count"))
    total = next(s.value for s in batches if s.name.endswith("_sum"))
    print(f"commits: {count:.0f}, {total / max(count, 1):.1f} units of work each on average")
    if profiler:
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.profile)
    await inbox.put({"type": "lifespan.shutdown"})
    await life


if __name__ == "__main__":
    # The event loop the server runs on (uvicorn takes uvloop when it is installed).
    try:
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())
