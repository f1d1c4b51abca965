"""The pop pipeline: every screen a tab shows comes through here, whatever started it.

    parse     each source's own: webservices/telefonia.py, adapters/pbx55/parse.py,
              an agent's form (views/agent.py), the ITSM and mobile APIs
    identify  screenpop.py: who called (one statement), which screen
    store     `Pipeline.run`: the source's unit of work, in a transaction shared with
              the pops waiting beside it (group commit); nothing goes further before
              the commit returns. On PostgreSQL several writers commit side by side,
              an extension's pops always through the same one, in order
    render    fragments.py: once per variant the tabs need (language, permission)
    publish   the broker, in commit order: the in-process broker hands the message over,
              Redis carries it, fragments included, to the other processes
    fan out   ws/hub.py: each tab of the extension gets its variant's frame

A tab that (re)opens catches up from the store (`catch_up`), and after a broker outage
every tab is offered what was published meanwhile (`resync`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlmodel import Session

from callhub import metrics, units
from callhub.broker import Broker, BrokerUnavailable
from callhub.fragments import Fragments
from callhub.protocol import (
    AgentState,
    BoardWake,
    CallEnded,
    Message,
    Pop,
    Screen,
    TabMessage,
    channel_of,
)
from callhub.screenpop import request_view
from callhub.settings import Settings
from callhub.store import pops
from callhub.store.engine import Store
from callhub.store.models import ScreenPop
from callhub.units import Failed, Job, Published, Stored, Work
from callhub.ws.hub import Hub
from callhub.ws.tab import Tab

log = logging.getLogger("callhub.pipeline")

T = TypeVar("T")
DELIVERY_BATCH_SECONDS = 0.05
# How long a request's refresh waits for more changes to the same requests.
REFRESH_COALESCE_SECONDS = 0.05
# Units of work one commit takes at most.
BATCH_LIMIT = 64
# Where the store runs on the event loop (SQLite), one commit's units of work hold it for
# about this long at most: past it, the batch commits what it has, and the rest wait their
# turn behind the requests and tabs that arrived meanwhile.
BATCH_SECONDS = 0.004
# Where the store waits on a database server (PostgreSQL), this many writers commit side by
# side, each with its own connection: one waits for its round trips while the others send
# theirs. Units of work for one extension always go to the same writer, so that its pops
# are committed and published in the order of their seqs.
WRITERS = 4
# Two writers' batches that take the same rows in opposite orders (a call whose pushes name
# different extensions) may deadlock: PostgreSQL fails one, which runs again.
CONFLICT_RETRIES = 3


@dataclass
class _Writer:
    """One writer's queue of units of work, and its task while it has any."""

    waiting: list[Job] = field(default_factory=list)
    task: asyncio.Task[None] | None = None


class Pipeline:
    def __init__(
        self,
        *,
        store: Store,
        broker: Broker,
        hub: Hub,
        fragments: Fragments,
        settings: Settings,
    ) -> None:
        self.store = store
        self.broker = broker
        self.hub = hub
        self.fragments = fragments
        self.settings = settings
        self._writers = [_Writer() for _ in range(1 if store.on_loop else WRITERS)]
        self._background: set[asyncio.Task[Any]] = set()
        # Delivery counts waiting to be written (seq -> tabs reached), in batches.
        self._deliveries: dict[int, int] = {}
        self._writing_deliveries = False
        # Requests changed by the APIs, waiting for their screens' refresh (coalesced).
        self._changed: set[int] = set()
        self._refreshing = False
        broker.messaging.bind(hub.on_message, self.resync)

    # -- store, render, publish ---------------------------------------------------------

    async def run(self, work: Work[T], *, ramal: str | None = None) -> Published[T]:
        """Store `work` (committed with the pops waiting beside it), then render and
        publish what it stored, in commit order. `ramal`: the extension whose pops `work`
        may store, when it is known before (its pops keep their order). Raises what `work`
        raised; a failing unit of work never fails the others of its batch."""
        at = metrics.RECEIVED_AT.get() or time.time()
        job = Job(work, at, asyncio.get_running_loop().create_future())
        writers = self._writers
        writer = writers[hash(ramal) % len(writers) if ramal and len(writers) > 1 else 0]
        writer.waiting.append(job)
        if writer.task is None:
            writer.task = asyncio.create_task(self._write(writer), name="callhub-pop-writer")
        result: Published[T] = await job.done
        return result

    async def _write(self, writer: _Writer) -> None:
        """A writer: takes every unit of work waiting for it, commits them together."""
        waiting = writer.waiting
        try:
            while waiting:
                # One turn of the loop first: requests that arrived with these join them.
                await asyncio.sleep(0)
                batch = waiting[:BATCH_LIMIT]
                del waiting[:BATCH_LIMIT]
                try:
                    await self._commit_and_publish(batch, waiting)
                except Exception as exc:  # the database itself failed: every job learns it
                    for job in batch:
                        if not job.done.done():
                            job.done.set_exception(exc)
        finally:
            writer.task = None

    async def _commit_and_publish(self, batch: list[Job], waiting: list[Job]) -> None:
        """The one place that commits pops and then publishes them."""
        budget = BATCH_SECONDS if self.store.on_loop else None
        retries = 0
        while batch:
            try:
                outcomes = await self.store.run(lambda s: units.run_batch(s, batch, budget))
                break
            except Failed as failed:
                if units.conflict(failed.error) and retries < CONFLICT_RETRIES:
                    retries += 1
                    continue  # two writers' batches crossed: this one runs again
                if units.database_down(failed.error):
                    raise failed.error from None
                # That job's own error: the others run again without it.
                failing = batch.pop(failed.index).done
                if not failing.done():  # its request may have gone meanwhile
                    failing.set_exception(failed.error)
        else:
            return
        # What the time budget left out goes first in the next batch, in order.
        waiting[:0] = batch[len(outcomes) :]
        batch = batch[: len(outcomes)]
        metrics.POP_BATCH.observe(len(batch))
        for index, (job, stored) in enumerate(zip(batch, outcomes, strict=True)):
            if index:
                # Each pop renders and fans out in its own turn of the loop: a large batch
                # never holds up the requests and tabs waiting meanwhile for all of it.
                await asyncio.sleep(0)
            published = await self._publish_stored(stored, job.at)
            if not job.done.done():
                job.done.set_result(published)

    async def _publish_stored(self, stored: Stored[Any], at: float) -> Published[Any]:
        delivered = 0
        sent: list[Pop] = []
        for pop in stored.pops:
            assert pop.seq is not None
            message = Pop(pop.seq, pop.ramal, pop.pop_id, pop.payload, at)
            reached = await self.publish(message)
            metrics.POPS_PUBLISHED.inc()
            if reached:
                self._note_delivered(pop.seq, reached)
            delivered += reached
            sent.append(message)
        for other in stored.messages:
            await self.publish(other)
        return Published(stored.value, sent, delivered)

    async def publish(self, message: Message) -> int:
        """Render for the variants the extension's tabs need (in every process), then
        publish: the number of tabs it reached (0 when the broker is down: a tab catches up
        from the store)."""
        if isinstance(message, Pop | Screen | CallEnded | AgentState):
            self.fragments.fill(message, self.hub.variants(message.ramal))
        try:
            return await self.broker.messaging.publish(message)
        except BrokerUnavailable as exc:
            log.warning("%s for %s stored but not published: %s", type(message).__name__,
                        channel_of(message), exc)  # fmt: skip
            return 0

    async def board_changed(self) -> None:
        """Requests changed: whichever process polls the wall board refreshes its counts."""
        try:
            await self.broker.messaging.publish(BoardWake())
        except BrokerUnavailable as exc:
            log.warning("wall board not woken: %s", exc)

    async def requests_changed(self, numbers: Iterable[int]) -> int:
        """Requests changed outside the agent's screen (the ITSM or mobile API): every pop
        that shows one is refreshed, stored (a reload shows it) and live. How many.

        Coalesced: changes that arrive while a refresh waits or runs join the next one, so
        twenty quick writes to one request send its screen a few times, not twenty."""
        self._changed.update(numbers)
        if self._refreshing:
            return 0  # the refresh under way takes them
        self._refreshing = True
        try:
            refreshed = 0
            while self._changed:
                await asyncio.sleep(REFRESH_COALESCE_SECONDS)
                wanted, self._changed = sorted(self._changed), set()
                refreshed += await self._refresh(wanted)
            return refreshed
        finally:
            self._refreshing = False

    async def _refresh(self, wanted: list[int]) -> int:
        horizon = max(self.settings.pop_window_seconds, self.settings.session_max_age)

        def work(session: Session) -> Stored[int]:
            shown = pops.pops_showing(session=session, request_ids=wanted, window_seconds=horizon)
            views: dict[int, dict[str, Any]] = {}
            screens: list[TabMessage] = []
            for pop in shown:
                assert pop.seq is not None and pop.request_id is not None
                if pop.request_id not in views:
                    views[pop.request_id] = request_view(session=session, number=pop.request_id)
                payload = {**pop.payload, "request": views[pop.request_id]}
                pops.update_payload(session=session, seq=pop.seq, payload=payload)
                screens.append(Screen(pop.seq, pop.ramal, payload))
            return Stored(len(screens), messages=screens)

        changed = await self.run(work)
        await self.board_changed()
        return changed.value

    # -- delivery counts ----------------------------------------------------------------

    def _note_delivered(self, seq: int, delivered: int) -> None:
        """Record that a pop reached tabs: written in batches, off the pop's path.

        The count only decides whether a brand-new tab replays the pop; losing the last
        batch in a crash at worst shows a pop once more.
        """
        self._deliveries[seq] = max(delivered, self._deliveries.get(seq, 0))
        if not self._writing_deliveries:
            self._writing_deliveries = True
            self.spawn(self._write_deliveries())

    async def _write_deliveries(self) -> None:
        try:
            while self._deliveries:
                await asyncio.sleep(DELIVERY_BATCH_SECONDS)
                batch, self._deliveries = self._deliveries, {}

                def work(session: Session, batch: dict[int, int] = batch) -> None:
                    pops.mark_delivered(session=session, marks=batch)
                    session.commit()

                await self.store.run(work)
        finally:
            self._writing_deliveries = False

    def spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task failed", exc_info=task.exception())

    async def aclose(self) -> None:
        writing = [w.task for w in self._writers if w.task is not None]
        for task in [*self._background, *writing]:
            try:
                await asyncio.wait_for(task, 2)
            except (Exception, asyncio.CancelledError):
                pass

    # -- catching up --------------------------------------------------------------------

    async def start_after(self, tab: Tab) -> int:
        """Where a brand-new tab starts: after what some tab of the extension already got."""
        window = self.settings.pop_window_seconds
        return await self.store.run(
            lambda s: pops.last_delivered_seq(
                session=s, ramal=tab.ramal, holder=tab.user_id, window_seconds=window
            )
        )

    async def catch_up(self, tab: Tab, after: int) -> tuple[list[str], int]:
        """The frames a tab that (re)opens needs (the recent list, and the newest unseen
        pop), and the highest pop seq they cover."""
        window = self.settings.pop_window_seconds

        def work(session: Session) -> tuple[list[ScreenPop], list[ScreenPop]]:
            recent = pops.recent_pops(
                session=session, ramal=tab.ramal, holder=tab.user_id, window_seconds=window
            )
            unseen = [p for p in recent if p.seq is not None and p.seq > after]
            # Shown now: a brand-new tab of the agent need not replay them.
            undelivered = {p.seq: 1 for p in unseen if p.delivered == 0 and p.seq is not None}
            if undelivered:
                pops.mark_delivered(session=session, marks=undelivered)
                session.commit()
            return recent, unseen

        recent, unseen = await self.store.run(work)
        upto = max([after] + [p.seq or 0 for p in recent])
        frames = [
            self.fragments.recent(
                [(p.seq or 0, p.payload) for p in reversed(recent)],
                locale=tab.locale,
                max_seq=upto,
            )
        ]
        if unseen:
            newest = unseen[-1]
            frames.append(
                self.fragments.pop(
                    newest.seq or 0,
                    newest.payload,
                    locale=tab.locale,
                    can_execute=tab.can_execute,
                    listed=False,
                )
            )
        return frames, upto

    async def resync(self) -> None:
        """After a broker outage: offer each tab the pops published while it was cut off."""
        window = self.settings.pop_window_seconds
        for ramal, tabs in list(self.hub.tabs.items()):
            if not tabs:
                continue
            after = min(t.seen for t in tabs)
            holder = next(iter(tabs)).user_id  # an extension's tabs are its holder's (Moved)

            def missed(
                session: Session, ramal: str = ramal, after: int = after, holder: int = holder
            ) -> list[Any]:
                return pops.pops_after(
                    session=session, ramal=ramal, holder=holder, after=after, window_seconds=window
                )

            for pop in await self.store.run(missed):
                message = Pop(pop.seq, pop.ramal, pop.pop_id, pop.payload, time.time())
                self.fragments.fill(message, self.hub.local_variants(ramal))
                self.hub.on_message(channel_of(message), message)
