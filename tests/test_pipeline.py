"""The pipeline's store step: pops waiting together share one commit, a failing unit of
work fails alone, and nothing is published before its commit returns, in commit order."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from callhub import pipeline as pipeline_module
from callhub.broker import MemoryBroker
from callhub.pipeline import BATCH_SECONDS, Pipeline, Stored
from callhub.protocol import Message, Pop, extension_channel
from callhub.screenpop import CallContext, PopResult, new_request_pop
from callhub.settings import Settings
from callhub.store.engine import Store
from callhub.views.fragments import Fragments
from callhub.views.templating import Renderer
from callhub.ws.hub import Hub


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
    broker = MemoryBroker()
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

    broker.bind(on_message)
    await broker.subscribe(extension_channel("2001"))
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
    broker = MemoryBroker()
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

    broker.bind(on_message)
    await broker.subscribe(extension_channel("2001"))
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
