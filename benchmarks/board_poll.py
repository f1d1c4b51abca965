"""One wall-board poll over a large call history: how long the event loop is held.

Fills a fresh store (SQLite; with --postgresql, also a durable PostgreSQL started on
loopback) with CALLS calls made today across 20 queues and 200 extensions, then runs
the board's poll (callhub's own records, as without USCall) ROUNDS times in-process and
prints, per poll: the wall time, the event loop's own CPU time (the thread running the
loop; on SQLite the reads run in another thread), and the longest stall a 1 ms ticker
on the loop saw while the poll ran.

    .venv/bin/python benchmarks/board_poll.py
    .venv/bin/python benchmarks/board_poll.py --calls 100000 --postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from sqlalchemy import insert  # noqa: E402
from sqlmodel import Session  # noqa: E402

from callhub.board.poller import BoardPoller  # noqa: E402
from callhub.broker import memory_broker  # noqa: E402
from callhub.settings import Settings  # noqa: E402
from callhub.store.engine import Store  # noqa: E402
from callhub.store.models import Call  # noqa: E402
from support import PostgresServer, seed  # noqa: E402

STATUSES = ("ATENDIDA", "ABANDONO", "ATENDIDA", "ATENDIDA", None)


async def fill(url: str, calls: int) -> None:
    await seed(url)
    now = datetime.now(UTC)
    start = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(hours=3)
    rnd = random.Random(7)

    def work(session: Session) -> None:
        table = Call.__table__  # type: ignore[attr-defined]
        rows = []
        for n in range(calls):
            at = min(now, start + timedelta(seconds=n * 0.3))
            rows.append(
                {
                    "source": "55pbx",
                    "external_id": f"hist-{n}",
                    "ramal": str(5000 + n % 200),
                    "number": f"+5511{rnd.randrange(10**8, 10**9)}",
                    "queue": f"Fila {n % 20}",
                    "status": STATUSES[n % len(STATUSES)],
                    "direction": "receptive" if n % 7 else "active",
                    "started_at": at,
                    "ended_at": at + timedelta(seconds=60) if n % 50 else None,
                    "talk_seconds": rnd.randrange(0, 600),
                    "wait_seconds": rnd.randrange(0, 120),
                    "start_seen_at": at,
                    "end_seen_at": at + timedelta(seconds=60) if n % 50 else None,
                }
            )
            if len(rows) == 5000:
                session.execute(insert(table), rows)
                rows = []
        if rows:
            session.execute(insert(table), rows)
        session.commit()

    store = Store(url)
    try:
        await store.run(work)
    finally:
        await store.dispose()


async def measure(name: str, url: str, rounds: int) -> None:
    store = Store(url)
    poller = BoardPoller(
        broker=memory_broker(), store=store, settings=Settings(board_poll_seconds=2), link=None
    )
    longest = 0.0

    async def ticker() -> None:
        nonlocal longest
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + 0.001
            await asyncio.sleep(0.001)
            longest = max(longest, loop.time() - due)

    try:
        await poller.build()  # warm: statements, the reader's connection
        walls, loop_cpu, stalls = [], [], []
        for _ in range(rounds):
            # The loop's own CPU, with nothing else on it.
            wall, cpu = time.perf_counter(), time.thread_time()
            await poller.build()
            loop_cpu.append(time.thread_time() - cpu)
            walls.append(time.perf_counter() - wall)
            # The longest stall, seen by a ticker that wants the loop every millisecond.
            tick = asyncio.create_task(ticker())
            await asyncio.sleep(0.01)
            longest = 0.0
            await poller.build()
            stalls.append(longest)
            tick.cancel()
        print(
            f"{name}: poll {1000 * statistics.median(walls):.1f} ms wall (median), "
            f"event loop's CPU {1000 * statistics.median(loop_cpu):.2f} ms (median), "
            f"longest loop stall {1000 * max(stalls):.2f} ms ({rounds} polls)"
        )
    finally:
        await store.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--postgresql", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="callhub-boardpoll-"))
    url = f"sqlite+aiosqlite:///{tmp / 'callhub.db'}"
    await fill(url, args.calls)
    await measure(f"SQLite, {args.calls} calls", url, args.rounds)
    if args.postgresql:
        postgres = PostgresServer(durable=True)
        postgres.start()
        try:
            pg_url = await postgres.new_database()
            await fill(pg_url, args.calls)
            await measure(f"PostgreSQL, {args.calls} calls", pg_url, args.rounds)
        finally:
            postgres.remove()


if __name__ == "__main__":
    asyncio.run(main())
