"""The store's engine: one unit of work at a time, run where it is cheapest.

Store functions are plain synchronous SQLModel code taking a `Session`. `Store.run(work)`
runs a unit of work (several of them and a commit):

- SQLite: right on the event loop, with the C driver. A pop's whole transaction is well
  under a millisecond of CPU; handing it to a thread would add a hop each way and, under
  load, a fight for the GIL that costs more than the work (measured: 137 pops/s through a
  store thread, 188/s inline, on two cores). SQLite has a single writer anyway. The price:
  while another process holds the write lock (a CLI import beside the server), the loop
  waits for it, up to the busy timeout; one-row transactions keep that wait short. The
  server's store checkpoints the write-ahead log in a thread (`checkpoints`): otherwise
  the commit that happens to fill the log copies it and syncs the disk on the event loop,
  while every tab of the process waits.
- PostgreSQL: on the event loop through asyncpg, via SQLAlchemy's greenlet bridge
  (`AsyncSession.run_sync`), so the same functions serve both.

Migrations run at start, under an advisory lock on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sqlite3
import time
from collections.abc import Callable
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

T = TypeVar("T")
Work = Callable[[Session], T]


CHECKPOINT_SECONDS = 1.0
IDLE_CHECK_SECONDS = 1.0
log = logging.getLogger("callhub.store")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, *, autocheckpoint: bool) -> None:
    cur = dbapi_connection.cursor()
    # WAL lets readers in other processes run beside the one writer; NORMAL sync is
    # durable across process crashes, which is what a pop needs between "stored" and
    # "published".
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    if not autocheckpoint:
        cur.execute("PRAGMA wal_autocheckpoint=0")
    cur.close()


def _read_only(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA query_only=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _check_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """A pooled connection left idle a while is checked before use (PostgreSQL may have
    restarted meanwhile; a dead one is replaced). One in steady use is not: the check
    costs three round trips (asyncpg's ping opens a transaction), more than a pop's work.
    A connection that died while in steady use fails its unit of work, and the pool
    replaces every connection of that age."""
    since = record.info.get("idle_since")
    if since is None or time.monotonic() - since < IDLE_CHECK_SECONDS:
        return
    try:
        dbapi_connection.ping()
    except Exception as exc:
        raise DisconnectionError(str(exc)) from exc


def _sync_sqlite_url(url: str) -> str:
    return url.replace("sqlite+aiosqlite:", "sqlite:", 1)


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "callhub.store:migrations")
    return cfg


def _upgrade(connection: Connection) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


class Store:
    def __init__(self, url: str, *, background_checkpoints: bool = False) -> None:
        """`background_checkpoints`: SQLite's log is checkpointed by `checkpoints()`, which
        the owner runs, rather than by whichever commit fills it."""
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._sync: Engine | None = None
        self._reader: Engine | None = None
        self._async: AsyncEngine | None = None
        self._reads: AsyncEngine | None = None
        self.background_checkpoints = self.is_sqlite and background_checkpoints
        if self.is_sqlite:
            self._sync = create_engine(
                _sync_sqlite_url(url),
                connect_args={"timeout": 5, "check_same_thread": False},
                pool_size=1,
                max_overflow=0,
            )
            event.listen(
                self._sync,
                "connect",
                functools.partial(_sqlite_pragmas, autocheckpoint=not background_checkpoints),
            )
        else:
            # The most recently used connection first: in steady use, connections stay
            # warm and are never checked (see _check_if_idle).
            self._async = create_async_engine(
                url, pool_size=10, max_overflow=20, pool_use_lifo=True
            )
            event.listen(self._async.sync_engine, "checkin", _note_checkin)
            event.listen(self._async.sync_engine, "checkout", _check_if_idle)
            # Reads run outside a transaction: no BEGIN and ROLLBACK round trips.
            self._reads = self._async.execution_options(isolation_level="AUTOCOMMIT")

    @property
    def on_loop(self) -> bool:
        """Whether `run` does its work on the event loop (SQLite), holding it meanwhile."""
        return self._sync is not None

    @property
    def dialect(self) -> str:
        return "sqlite" if self.is_sqlite else "postgresql"

    async def run(self, work: Work[T]) -> T:
        """Run `work(session)`; it commits what it wants kept, the rest is rolled back."""
        if self._sync is not None:
            with Session(self._sync, expire_on_commit=False) as session:
                return work(session)
        assert self._async is not None
        async with AsyncSession(self._async, expire_on_commit=False) as session:
            return await session.run_sync(lambda sync: work(sync))  # type: ignore[arg-type]

    async def read(self, work: Work[T]) -> T:
        """Run a read that may take a while (the wall board's counts) where it does not
        hold up the event loop: on SQLite in a thread, on a read-only connection of its
        own (sqlite3 lets go of the GIL while it reads); on PostgreSQL on the loop, the
        server doing the work while the loop serves others, outside a transaction (each
        statement sees the latest commits; no BEGIN or ROLLBACK to wait for)."""
        if self._sync is None:
            assert self._reads is not None
            async with AsyncSession(self._reads) as session:
                return await session.run_sync(lambda sync: work(sync))  # type: ignore[arg-type]
        if self._reader is None:
            self._reader = create_engine(
                _sync_sqlite_url(self.url),
                connect_args={"timeout": 5, "check_same_thread": False},
                pool_size=2,
                max_overflow=0,
            )
            event.listen(self._reader, "connect", _read_only)
        reader = self._reader

        def in_thread() -> T:
            with Session(reader) as session:
                return work(session)

        return await asyncio.to_thread(in_thread)

    async def ping(self) -> None:
        """A round trip to the database (raises when it does not answer)."""
        await self.run(lambda session: session.connection().exec_driver_sql("SELECT 1"))

    async def checkpoints(self, every: float = CHECKPOINT_SECONDS) -> None:
        """Copy SQLite's write-ahead log into the database every so often, on a connection
        of its own in a thread (sqlite3 lets go of the GIL while it writes and syncs), so
        that the event loop never waits for the disk. Runs until cancelled."""
        if not self.background_checkpoints:
            return
        path = make_url(_sync_sqlite_url(self.url)).database
        if not path or path == ":memory:":
            return

        def checkpoint() -> None:
            conn = sqlite3.connect(path, timeout=5)
            try:
                # PASSIVE: copies what it can without waiting for readers or the writer.
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                conn.close()

        while True:
            await asyncio.sleep(every)
            try:
                await asyncio.to_thread(checkpoint)
            except sqlite3.Error as exc:
                log.warning("SQLite checkpoint failed (retried): %s", exc)

    async def migrate(self) -> None:
        """Bring the schema to the newest revision (safe at every start, by every process)."""
        if self._sync is not None:
            with self._sync.begin() as conn:
                _upgrade(conn)
            return
        assert self._async is not None
        async with self._async.begin() as conn:
            # Several processes may start at once: one migrates, the others wait.
            await conn.exec_driver_sql("SELECT pg_advisory_xact_lock(728121)")
            await conn.run_sync(_upgrade)

    async def dispose(self) -> None:
        for engine in (self._sync, self._reader):
            if engine is not None:
                engine.dispose()
        if self._async is not None:
            with contextlib.suppress(Exception):
                await self._async.dispose()
