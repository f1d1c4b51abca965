"""The pipeline's store step: pops waiting together share one commit, a failing unit of
work fails alone, and nothing is published before its commit returns, in commit order."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from callhub import pipeline as pipeline_module
from callhub import units
from callhub.broker import Broker, memory_broker
from callhub.fragments import Fragments
from callhub.pipeline import BATCH_SECONDS, Pipeline
from callhub.protocol import Message, Pop, extension_channel
from callhub.screenpop import CallContext, PopResult, new_request_pop
from callhub.settings import Settings
from callhub.store.engine import Store
from callhub.templating import Renderer
from callhub.units import Stored
from callhub.ws.hub import Hub
from support import PostgresServer, run_sync


class Counting(Store):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.units = 0

    async def run(self, work: Any) -> Any:
        self.units += 1
        return await super().run(work)


def pop_for(ivr: str, fail: bool = False) -> Any:
    def work(session: Session) -> Stored[PopResult]:
        result = new_request_pop(
            session=session, ctx=CallContext(ramal="2001", document="52998224725", ivr=ivr)
        )
        if fail:
            raise ValueError(f"{ivr} refused after storing its pop")
        return Stored(result, pops=[result.pop])

    return work


@pytest.mark.sqlite
async def test_pops_share_a_commit_and_one_failing_fails_alone(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # Time enough for the whole batch, however slow the machine (the time budget that
    # splits a long batch has a test of its own, below).
    monkeypatch.setattr(pipeline_module, "BATCH_SECONDS", 60.0)
    path = tmp_path / "callhub.db"
    shutil.copyfile(sqlite_template, path)
    store = Counting(f"sqlite+aiosqlite:///{path}")
    broker = memory_broker()
    renderer = Renderer()
    fragments = Fragments(renderer)
    hub = Hub(broker=broker, renders=fragments)
    pipeline = Pipeline(
        store=store, broker=broker, hub=hub, fragments=fragments, settings=Settings()
    )
    reader = sqlite3.connect(path)
    published: list[tuple[int, str, int]] = []

    def on_message(channel: str, message: Message) -> int:
        assert isinstance(message, Pop)
        # Published only once committed: another connection sees the pop already.
        stored = reader.execute("SELECT count(*) FROM screen_pop WHERE seq = ?", (message.seq,))
        published.append((message.seq, message.payload["call"]["ivr"], stored.fetchone()[0]))
        return 1

    broker.messaging.bind(on_message)
    await broker.messaging.subscribe(extension_channel("2001"))
    await broker.coordination.set_tabs(extension_channel("2001"), 1)  # the tab the hub reports
    try:
        names = ["a", "b", "bad", "c", "d"]
        results = await asyncio.gather(
            *(pipeline.run(pop_for(n, fail=n == "bad")) for n in names),
            return_exceptions=True,
        )
        units = store.units  # before the delivery counts are written, 50 ms on
    finally:
        await pipeline.aclose()
        await store.dispose()
        reader.close()

    failed = results[names.index("bad")]
    assert isinstance(failed, ValueError)
    done = [r for r in results if not isinstance(r, BaseException)]
    assert [d.value.pop.payload["call"]["ivr"] for d in done] == ["a", "b", "c", "d"]
    assert all(d.delivered == 1 for d in done)
    # One batch: the first try failed on "bad", the second committed the four others.
    assert units == 2
    assert [ivr for _seq, ivr, _n in published] == ["a", "b", "c", "d"]
    assert all(n == 1 for _seq, _ivr, n in published)
    seqs = [seq for seq, _ivr, _n in published]
    assert seqs == sorted(seqs)
    with sqlite3.connect(path) as db:
        kept = db.execute("SELECT payload FROM screen_pop WHERE payload LIKE '%\"bad\"%'")
        assert kept.fetchall() == [], "the failing unit's pop was stored"


@pytest.mark.sqlite
async def test_on_sqlite_a_long_batch_commits_in_parts_and_lets_the_loop_run_between(
    sqlite_template: Path, tmp_path: Path
):
    """SQLite's work holds the event loop: a batch stops taking units of work once its
    time is up, commits, publishes, and lets everything else run before the rest."""
    path = tmp_path / "callhub.db"
    shutil.copyfile(sqlite_template, path)
    store = Counting(f"sqlite+aiosqlite:///{path}")
    broker = memory_broker()
    fragments = Fragments(Renderer())
    hub = Hub(broker=broker, renders=fragments)
    pipeline = Pipeline(
        store=store, broker=broker, hub=hub, fragments=fragments, settings=Settings()
    )
    ticks = 0
    seen: list[tuple[str, int]] = []

    async def other_work() -> None:  # a request or a tab, waiting for its turn
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    def on_message(channel: str, message: Message) -> int:
        assert isinstance(message, Pop)
        seen.append((message.payload["call"]["ivr"], ticks))
        return 1

    def slow(ivr: str) -> Any:
        quick = pop_for(ivr)

        def work(session: Session) -> Stored[PopResult]:
            time.sleep(2 * BATCH_SECONDS / 3)  # three of these fill a batch's time
            return quick(session)

        return work

    broker.messaging.bind(on_message)
    await broker.messaging.subscribe(extension_channel("2001"))
    await broker.coordination.set_tabs(extension_channel("2001"), 1)  # the tab the hub reports
    ticker = asyncio.create_task(other_work())
    try:
        names = [f"k{n}" for n in range(9)]
        results = await asyncio.gather(*(pipeline.run(slow(n)) for n in names))
        commits = store.units
    finally:
        ticker.cancel()
        await pipeline.aclose()
        await store.dispose()

    assert [r.value.pop.payload["call"]["ivr"] for r in results] == names
    assert [ivr for ivr, _ticks in seen] == names, "published out of order"
    assert commits >= 3, commits  # 9 units of 2/3 of the time each: 2 or 3 per commit
    # Other work ran while pops still waited: the loop was not held for the whole batch.
    assert seen[0][1] < seen[-1][1]


@pytest.fixture
def postgres_url(postgres: PostgresServer, postgres_template: str) -> Iterator[str]:
    url = run_sync(postgres.new_database(template=postgres_template))
    yield url
    run_sync(postgres.drop_database(url))


def pipeline_on(store: Store) -> tuple[Pipeline, Broker]:
    broker = memory_broker()
    fragments = Fragments(Renderer())
    hub = Hub(broker=broker, renders=fragments)
    pipeline = Pipeline(
        store=store, broker=broker, hub=hub, fragments=fragments, settings=Settings()
    )
    return pipeline, broker


def shards(count: int) -> list[str]:
    """`count` extensions that go to different writers."""
    found: dict[int, str] = {}
    for n in range(3000, 4000):
        found.setdefault(hash(str(n)) % pipeline_module.WRITERS, str(n))
    assert len(found) >= count
    return list(found.values())[:count]


@pytest.mark.postgresql
async def test_on_postgresql_writers_commit_side_by_side_and_each_extension_keeps_its_order(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
):
    store = Store(postgres_url)
    pipeline, broker = pipeline_on(store)
    batches = {"now": 0, "most": 0}
    run_batch = units.run_batch

    def counted(*args: Any) -> Any:  # the batches being written at once
        batches["now"] += 1
        batches["most"] = max(batches["most"], batches["now"])
        try:
            return run_batch(*args)
        finally:
            batches["now"] -= 1

    monkeypatch.setattr(units, "run_batch", counted)
    ramals = shards(3)
    published: dict[str, list[tuple[int, str]]] = {r: [] for r in ramals}

    def on_message(channel: str, message: Message) -> int:
        assert isinstance(message, Pop)
        published[message.ramal].append((message.seq, message.payload["call"]["ivr"]))
        return 1

    def pop_at(ramal: str, ivr: str) -> Any:
        def work(session: Session) -> Stored[PopResult]:
            # The server takes a while over it: the other writers' round trips go meanwhile.
            session.connection().exec_driver_sql("SELECT pg_sleep(0.05)")
            result = new_request_pop(
                session=session, ctx=CallContext(ramal=ramal, document="52998224725", ivr=ivr)
            )
            return Stored(result, pops=[result.pop])

        return work

    broker.messaging.bind(on_message)
    for ramal in ramals:
        await broker.messaging.subscribe(extension_channel(ramal))
    try:
        sent = [(r, f"{r}-{n}") for n in range(4) for r in ramals]
        for ramal, ivr in sent:  # one by one, each in its own batch
            asyncio.get_running_loop().call_soon(
                lambda r=ramal, i=ivr: pipeline.spawn(pipeline.run(pop_at(r, i), ramal=r))
            )
            await asyncio.sleep(0.002)
        deadline = time.monotonic() + 20
        while sum(len(p) for p in published.values()) < len(sent):
            assert time.monotonic() < deadline, published
            await asyncio.sleep(0.01)
    finally:
        await pipeline.aclose()
        await store.dispose()

    assert batches["most"] >= 2, "the extensions' pops were committed one batch at a time"
    for ramal in ramals:
        ivrs = [ivr for _seq, ivr in published[ramal]]
        assert ivrs == [f"{ramal}-{n}" for n in range(4)], ivrs
        seqs = [seq for seq, _ivr in published[ramal]]
        assert seqs == sorted(seqs), f"{ramal}'s pops published out of seq order"


@pytest.mark.postgresql
async def test_on_postgresql_two_writers_that_deadlock_both_commit(postgres_url: str):
    """Two batches taking the same rows in opposite orders: PostgreSQL fails one of them
    as a deadlock, and that batch runs again instead of failing its requests."""
    store = Store(postgres_url)
    pipeline, _broker = pipeline_on(store)
    first, second = shards(2)

    def lock(ids: tuple[int, int]) -> Any:
        def work(session: Session) -> Stored[int]:
            connection = session.connection()
            connection.exec_driver_sql(f"UPDATE requester SET name = name WHERE id = {ids[0]}")
            connection.exec_driver_sql("SELECT pg_sleep(0.3)")  # the other takes its first row
            connection.exec_driver_sql(f"UPDATE requester SET name = name WHERE id = {ids[1]}")
            return Stored(ids[0])

        return work

    try:
        results = await asyncio.wait_for(
            asyncio.gather(
                pipeline.run(lock((1, 2)), ramal=first),
                pipeline.run(lock((2, 1)), ramal=second),
            ),
            30,
        )
    finally:
        await pipeline.aclose()
        await store.dispose()
    assert [r.value for r in results] == [1, 2]
