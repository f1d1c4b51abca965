"""Requests per second and latency of the ITSM API's request/create and request/getById,
and of the field app's getByCoordinates.

Starts callhub under uvicorn (embedded: SQLite, the in-process broker) on loopback with the
demo data, logs in once through /services/login, then for each operation:

- at a fixed rate (open loop, default 50/s): p50, p99 and max latency of each answer;
- at saturation (closed loop, CONCURRENCY callers back to back): requests/s sustained,
  with p50 and p99.

Every create carries its own numberOrigin (so each one writes a request, its opening
occurrence, its FROM-TO key and its execution record); getById asks for requests made
by the create runs, by number. Every create goes to the field team (groupId CAMPO), so
the technician's work list grows with the runs (to over a thousand open tasks by the
last): getByCoordinates, as that technician, orders the whole list by distance from a
random point and answers its first page of 20. Every answer is checked for error == null.

    .venv/bin/python benchmarks/services.py --seconds 10 --rate 50 --concurrency 8
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support import API_USER, PASSWORD, Cluster, seed  # noqa: E402

COUNTER = itertools.count(1)


def create_body(session: str) -> dict[str, Any]:
    n = next(COUNTER)
    return {
        "sessionID": session,
        "messageID": f"bench-{n}",
        "sourceRequest": {
            "numberOrigin": f"BENCH-{n}",
            "type": "I",
            "description": f"Chamado de carga {n}",
            "userID": "maria.silva",
            "service": {"code": "IMP"},
            "urgency": "M",
            "groupId": "CAMPO",
        },
    }


def nearby_body(session: str) -> dict[str, Any]:
    return {
        "sessionID": session,
        "latitude": random.uniform(-24.0, -22.0),
        "longitude": random.uniform(-47.0, -43.0),
        "pager": {"page": 1, "size": 20},
    }


PATHS = {
    "create": "/services/request/create",
    "getById": "/services/request/getById",
    "nearby": "/mobile/v2/notification/getByCoordinates",
}


class Runner:
    def __init__(self, base: str, session: str, field_session: str) -> None:
        self.http = httpx.AsyncClient(
            base_url=base, timeout=30, limits=httpx.Limits(max_connections=64)
        )
        self.session = session
        self.field_session = field_session
        self.numbers: list[int] = []
        self.listed = 0

    async def one(self, op: str) -> float:
        if op == "create":
            body = create_body(self.session)
        elif op == "nearby":
            body = nearby_body(self.field_session)
        else:
            body = {"sessionID": self.session, "number": random.choice(self.numbers)}
        started = time.perf_counter()
        r = await self.http.post(PATHS[op], json=body)
        took = time.perf_counter() - started
        data = r.json()
        if r.status_code != 200 or data["error"] is not None:
            raise RuntimeError(f"{op}: {r.status_code} {data['error']}")
        if op == "create":
            self.numbers.append(data["number"])
        elif op == "nearby":
            self.listed = data["paging"]["totalElements"]
        return took

    async def fixed_rate(self, op: str, rate: float, seconds: float) -> list[float]:
        latencies: list[float] = []
        tasks = []
        start = time.perf_counter()
        for i in range(int(rate * seconds)):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self.one(op)))
        for task in tasks:
            latencies.append(await task)
        return latencies

    async def saturate(
        self, op: str, concurrency: int, seconds: float
    ) -> tuple[int, float, list[float]]:
        latencies: list[float] = []
        deadline = time.perf_counter() + seconds

        async def caller() -> None:
            while time.perf_counter() < deadline:
                latencies.append(await self.one(op))

        start = time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(concurrency)))
        return len(latencies), time.perf_counter() - start, latencies


def ms(values: list[float], q: float) -> str:
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.1f} ms"


async def main(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="callhub-bench-"))
    url = f"sqlite+aiosqlite:///{tmp / 'callhub.db'}"
    await seed(url)
    cluster = Cluster(tmp, url)
    server = cluster.server(CALLHUB_LOG_LEVEL="warning")
    try:
        async with httpx.AsyncClient(base_url=server.url) as c:
            sessions = []
            for user in (API_USER, "tecnico"):
                r = await c.post(
                    "/services/v2/login",
                    json={"userName": user, "password": PASSWORD, "platform": "BENCH"},
                )
                sessions.append(r.json()["sessionID"])
        runner = Runner(server.url, *sessions)
        for _ in range(50):  # warm up, and something for getById to read
            await runner.one("create")
        print(f"callhub ITSM API on SQLite, {args.seconds:g} s per run")
        for op in ("create", "getById", "nearby"):
            fixed = await runner.fixed_rate(op, args.rate, args.seconds)
            print(
                f"  {op:8} at {args.rate:g}/s: p50 {ms(fixed, 0.5)}, "
                f"p99 {ms(fixed, 0.99)}, max {ms(fixed, 1.0)} ({len(fixed)} calls)"
            )
            count, took, latencies = await runner.saturate(op, args.concurrency, args.seconds)
            if op == "nearby":
                print(f"  (the technician's work list: {runner.listed} open tasks)")
            print(
                f"  {op:8} saturated ({args.concurrency} callers): "
                f"{count / took:.0f} req/s, "
                f"p50 {ms(latencies, 0.5)}, p99 {ms(latencies, 0.99)} "
                f"(mean {statistics.mean(latencies) * 1000:.1f} ms)"
            )
        await runner.http.aclose()
    finally:
        cluster.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--concurrency", type=int, default=8)
    asyncio.run(main(parser.parse_args()))
