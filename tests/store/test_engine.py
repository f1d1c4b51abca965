"""The store's engine: SQLite's write-ahead log checkpointed off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from sqlalchemy import text
from sqlmodel import Session

from callhub.store.engine import Store


def _write_rows(session: Session) -> None:
    session.execute(text("CREATE TABLE filler (id INTEGER PRIMARY KEY, body TEXT)"))
    for n in range(300):
        session.execute(text("INSERT INTO filler (body) VALUES (:b)"), {"b": "x" * 4000 + str(n)})
    session.commit()


def _autocheckpoint(session: Session) -> int:
    return int(session.execute(text("PRAGMA wal_autocheckpoint")).scalar_one())


async def test_the_servers_store_checkpoints_in_the_background(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    store = Store(f"sqlite+aiosqlite:///{path}", background_checkpoints=True)
    try:
        # No commit copies the log into the database: the pages stay in the log...
        assert await store.run(_autocheckpoint) == 0
        await store.run(_write_rows)
        before = path.stat().st_size
        assert Path(f"{path}-wal").stat().st_size > 300 * 4000
        # ...until the background checkpoint (in a thread) moves them.
        task = asyncio.create_task(store.checkpoints(every=0.05))
        try:
            for _ in range(100):
                await asyncio.sleep(0.05)
                if path.stat().st_size > before + 300 * 4000:
                    break
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        assert path.stat().st_size > before + 300 * 4000
        rows = await store.run(
            lambda s: s.execute(text("SELECT count(*) FROM filler")).scalar_one()
        )
        assert rows == 300
    finally:
        await store.dispose()


async def test_other_stores_keep_sqlites_own_checkpoints(tmp_path: Path) -> None:
    store = Store(f"sqlite+aiosqlite:///{tmp_path / 'plain.db'}")
    try:
        assert await store.run(_autocheckpoint) == 1000
        # Nothing to run for them: it returns at once.
        await asyncio.wait_for(store.checkpoints(every=0.01), 1)
    finally:
        await store.dispose()
