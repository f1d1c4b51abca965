"""The tabs this process serves, by extension, and the fan-out of pops to them.

Every message reaches the hub through the broker's single listener (`on_message`), is
rendered once per (language, permission) and offered to each tab's bounded queue. A tab
whose queue is full, or whose socket does not take a frame within the send timeout, is
closed with 1013 and reconnects; on reconnect it asks for what it has not seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from sqlmodel import Session
from starlette.websockets import WebSocket

from callhub import metrics
from callhub.broker import Broker, BrokerUnavailable
from callhub.screenpop import pop_message, request_view
from callhub.settings import Settings
from callhub.store import catalog, pops
from callhub.store.engine import Store
from callhub.store.models import ScreenPop
from callhub.views.templating import Renderer

log = logging.getLogger("callhub.hub")

CLOSE_NORMAL = 1000
CLOSE_SERVICE_RESTART = 1012  # htmx's ws extension reconnects on 1006, 1011, 1012, 1013
CLOSE_TRY_AGAIN = 1013
DELIVERY_BATCH_SECONDS = 0.05
BOARD_CHANNEL = "board"
# Requests changed somewhere: the process polling the board refreshes its counts.
BOARD_WAKE_CHANNEL = "board:wake"


def channel_of(ramal: str) -> str:
    return f"ext:{ramal}"


class Tab:
    """One open agent tab: its socket, its bounded send queue, the pops it has seen."""

    __slots__ = (
        "ws",
        "user_id",
        "user_name",
        "can_execute",
        "locale",
        "ramal",
        "queue",
        "seen",
        "_seen_order",
        "max_seq",
        "floor",
        "closing",
    )

    def __init__(
        self,
        ws: WebSocket,
        *,
        user_id: int,
        user_name: str,
        can_execute: bool,
        locale: str,
        ramal: str,
        queue_size: int,
    ) -> None:
        self.ws = ws
        self.user_id = user_id
        self.user_name = user_name
        self.can_execute = can_execute
        self.locale = locale
        self.ramal = ramal
        # (pop seq or None, frame, when the PBX request that made it arrived, or None)
        self.queue: asyncio.Queue[tuple[int | None, str, float | None] | None] = asyncio.Queue(
            queue_size
        )
        self.seen: set[int] = set()
        self._seen_order: deque[int] = deque()
        self.max_seq = 0
        # Queued pops at or below this were already sent in the catch-up snapshot.
        self.floor = 0
        # (close code, last frame) once the tab must go; the sender acts on it.
        self.closing: tuple[int, str | None] | None = None

    def mark_seen(self, seq: int) -> bool:
        """False when the pop was already sent to this tab."""
        if seq in self.seen:
            return False
        self.seen.add(seq)
        self._seen_order.append(seq)
        if len(self._seen_order) > 512:
            self.seen.discard(self._seen_order.popleft())
        self.max_seq = max(self.max_seq, seq)
        return True

    def offer(self, seq: int | None, html: str, at: float | None = None) -> bool:
        if self.closing is not None:
            return False
        try:
            self.queue.put_nowait((seq, html, at))
            return True
        except asyncio.QueueFull:
            # Too slow to keep up: drop it; it reconnects and catches up from the store.
            self.close_soon(CLOSE_TRY_AGAIN)
            return False

    def close_soon(self, code: int, last_frame: str | None = None) -> None:
        if self.closing is None:
            self.closing = (code, last_frame)
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)


class Hub:
    def __init__(
        self, *, broker: Broker, store: Store, renderer: Renderer, settings: Settings
    ) -> None:
        self.broker = broker
        self.store = store
        self.renderer = renderer
        self.settings = settings
        self.tabs: dict[str, set[Tab]] = {}
        # Wall board tabs, all on the one "board" channel.
        self.board_tabs: set[Tab] = set()
        # Whether the board offers USCall's actions (monitor, hang up).
        self.board_actions = settings.uscall
        self.services: list[catalog.ServiceItem] = []
        self._background: set[asyncio.Task[Any]] = set()
        # Delivery counts waiting to be written (seq -> tabs reached), in batches.
        self._deliveries: dict[int, int] = {}
        self._writing_deliveries = False
        # Set by the app to the board poller's wake(): requests changed somewhere.
        self.board_wake: Callable[[], None] | None = None
        broker.bind(self.on_message, self.resync)

    # -- tabs -------------------------------------------------------------------------

    async def attach(self, tab: Tab) -> None:
        tabs = self.tabs.setdefault(tab.ramal, set())
        first = not tabs
        tabs.add(tab)
        metrics.TABS.labels("agent").inc()
        if first:
            await self.broker.subscribe(channel_of(tab.ramal))
        await self.broker.set_tabs(channel_of(tab.ramal), len(tabs))

    async def detach(self, tab: Tab) -> None:
        tabs = self.tabs.get(tab.ramal)
        if tabs is None or tab not in tabs:
            return
        tabs.discard(tab)
        metrics.TABS.labels("agent").dec()
        await self.broker.set_tabs(channel_of(tab.ramal), len(tabs))
        if not tabs:
            del self.tabs[tab.ramal]
            await self.broker.unsubscribe(channel_of(tab.ramal))

    async def attach_board(self, tab: Tab) -> None:
        first = not self.board_tabs
        self.board_tabs.add(tab)
        metrics.TABS.labels("board").inc()
        if first:
            await self.broker.subscribe(BOARD_CHANNEL)

    async def detach_board(self, tab: Tab) -> None:
        if tab not in self.board_tabs:
            return
        self.board_tabs.discard(tab)
        metrics.TABS.labels("board").dec()
        if not self.board_tabs:
            await self.broker.unsubscribe(BOARD_CHANNEL)

    def render_board(self, locale: str, message: dict[str, Any]) -> str:
        return self.renderer.render(
            "fragments/board_update.html",
            locale,
            layout=message["layout"],
            queues=message["queues"],
            agents=message["agents"],
            requests=message.get("requests"),
            meta=message["meta"],
            actions=self.board_actions,
            interval=self.settings.board_poll_seconds,
        )

    async def refresh_services(self) -> None:
        self.services = await self.store.run(lambda s: catalog.list_services(session=s))

    # -- rendering --------------------------------------------------------------------

    def render_pop(
        self, seq: int, payload: dict[str, Any], *, locale: str, can_execute: bool, listed: bool
    ) -> str:
        return self.renderer.render(
            "fragments/pop.html",
            locale,
            seq=seq,
            pop=payload,
            services=self.services,
            can_execute=can_execute,
            listed=listed,
        )

    def _render_for(
        self, tabs: Iterable[Tab], template: str, **context: Any
    ) -> dict[tuple[str, bool], str]:
        out: dict[tuple[str, bool], str] = {}
        for tab in tabs:
            key = (tab.locale, tab.can_execute)
            if key not in out:
                out[key] = self.renderer.render(
                    template, tab.locale, can_execute=tab.can_execute, **context
                )
        return out

    # -- messages from the broker ----------------------------------------------------

    def on_message(self, channel: str, data: str) -> int:
        if channel == BOARD_CHANNEL:
            return self._fan_out_board(json.loads(data))
        if channel == BOARD_WAKE_CHANNEL:
            if self.board_wake is not None:
                self.board_wake()
            return 0
        if not channel.startswith("ext:"):
            return 0
        tabs = self.tabs.get(channel[4:])
        if not tabs:
            return 0
        message = json.loads(data)
        kind = message.get("t")
        if kind == "pop":
            return self._fan_out_pop(tabs, message)
        if kind == "moved":
            self._extension_moved(tabs, message)
        elif kind == "screen":
            # A pop's screen changed (in another tab of the agent): refresh it where shown.
            rendered = self._render_for(
                tabs,
                "fragments/screen_update.html",
                screen_id=f"screen-{message['seq']}",
                seq=message["seq"],
                pop=message["payload"],
                services=self.services,
                errors={},
                form={},
                notice=None,
            )
            for tab in tabs:
                tab.offer(None, rendered[(tab.locale, tab.can_execute)])
        elif kind == "agentstate":
            # The USCall agent on this extension changed state (from the board's poller).
            rendered = self._render_for(
                tabs, "fragments/agent_state.html", me=message.get("row"), oob=True
            )
            for tab in tabs:
                tab.offer(None, rendered[(tab.locale, tab.can_execute)])
        elif kind == "callend":
            # The PBX reported the end of a call shown on this extension.
            rendered = self._render_for(
                tabs,
                "fragments/call_state.html",
                call={"id": message["call_id"], "ended": message["ended"]},
                oob=True,
            )
            for tab in tabs:
                tab.offer(None, rendered[(tab.locale, tab.can_execute)])
        return 0

    def _fan_out_board(self, message: dict[str, Any]) -> int:
        rendered: dict[str, str] = {}
        for tab in list(self.board_tabs):
            html = rendered.get(tab.locale)
            if html is None:
                html = rendered[tab.locale] = self.render_board(tab.locale, message)
            tab.offer(None, html)
        return len(self.board_tabs)

    def _fan_out_pop(self, tabs: set[Tab], message: dict[str, Any]) -> int:
        seq = int(message["seq"])
        at = message.get("at")
        rendered: dict[tuple[str, bool], str] = {}
        reached = 0
        for tab in list(tabs):
            if not tab.mark_seen(seq):
                continue
            key = (tab.locale, tab.can_execute)
            html = rendered.get(key)
            if html is None:
                html = rendered[key] = self.render_pop(
                    seq,
                    message["payload"],
                    locale=tab.locale,
                    can_execute=tab.can_execute,
                    listed=True,
                )
            if tab.offer(seq, html, at):
                reached += 1
        return reached

    def _extension_moved(self, tabs: set[Tab], message: dict[str, Any]) -> None:
        to_user = message.get("to_user")
        for tab in list(tabs):
            if tab.user_id == to_user:
                continue
            notice = self.renderer.render(
                "fragments/moved.html",
                tab.locale,
                ramal=tab.ramal,
                to_name=message.get("to_name"),
                same_user=tab.user_id == message.get("from_user"),
            )
            tab.close_soon(CLOSE_NORMAL, notice)

    # -- publishing ------------------------------------------------------------------

    async def publish_pop(self, pop: ScreenPop) -> int:
        """Publish a stored pop; the number of tabs it reached now (0 when none, or no broker)."""
        assert pop.seq is not None
        # Timed from the PBX request that made it (or from now, for a pop of the poller).
        message = {**pop_message(pop), "at": metrics.RECEIVED_AT.get() or time.time()}
        try:
            delivered = await self.broker.publish(
                channel_of(pop.ramal), json.dumps(message, separators=(",", ":"))
            )
        except BrokerUnavailable as exc:
            log.warning("pop %s stored but not published: %s", pop.pop_id, exc)
            return 0
        metrics.POPS_PUBLISHED.inc()
        if delivered:
            self._note_delivered(pop.seq, delivered)
        return delivered

    async def requests_changed(self, numbers: Iterable[int]) -> int:
        """A request changed outside the agent's screen (the ITSM API): refresh every pop
        that shows it, stored (a reload shows it) and live in the tabs. Returns how many."""
        wanted = list(numbers)
        horizon = max(self.settings.pop_window_seconds, self.settings.session_max_age)

        def work(session: Session) -> list[tuple[str, int, dict[str, Any]]]:
            shown = pops.pops_showing(session=session, request_ids=wanted, window_seconds=horizon)
            views: dict[int, dict[str, Any]] = {}
            changed = []
            for pop in shown:
                assert pop.seq is not None and pop.request_id is not None
                if pop.request_id not in views:
                    views[pop.request_id] = request_view(session=session, number=pop.request_id)
                payload = {**pop.payload, "request": views[pop.request_id]}
                pops.update_payload(session=session, seq=pop.seq, payload=payload)
                changed.append((pop.ramal, pop.seq, payload))
            session.commit()
            return changed

        changed = await self.store.run(work)
        for ramal, seq, payload in changed:
            await self.publish(ramal, {"t": "screen", "seq": seq, "payload": payload})
        await self.board_changed()
        return len(changed)

    async def board_changed(self) -> None:
        """Requests changed: whichever process polls the wall board refreshes its counts."""
        try:
            await self.broker.publish(BOARD_WAKE_CHANNEL, "1")
        except BrokerUnavailable as exc:
            log.warning("wall board not woken: %s", exc)

    async def publish(self, ramal: str, message: dict[str, Any]) -> None:
        try:
            await self.broker.publish(channel_of(ramal), json.dumps(message))
        except BrokerUnavailable as exc:
            log.warning("message for extension %s not published: %s", ramal, exc)

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

    # -- catching up -----------------------------------------------------------------

    async def start_after(self, ramal: str) -> int:
        """Where a brand-new tab starts: after what some tab of the extension already got."""
        window = self.settings.pop_window_seconds
        return await self.store.run(
            lambda s: pops.last_delivered_seq(session=s, ramal=ramal, window_seconds=window)
        )

    async def catch_up(self, tab: Tab, after: int) -> list[str]:
        """The frames a tab that (re)opens needs: the recent list, and the newest unseen pop."""
        window = self.settings.pop_window_seconds

        def work(session: Session) -> tuple[list[ScreenPop], list[ScreenPop]]:
            recent = pops.recent_pops(session=session, ramal=tab.ramal, window_seconds=window)
            unseen = [p for p in recent if p.seq is not None and p.seq > after]
            # Shown now: a brand-new tab of the agent need not replay them.
            undelivered = {p.seq: 1 for p in unseen if p.delivered == 0 and p.seq is not None}
            if undelivered:
                pops.mark_delivered(session=session, marks=undelivered)
                session.commit()
            return recent, unseen

        recent, unseen = await self.store.run(work)
        frames = [
            self.renderer.render(
                "fragments/recent.html",
                tab.locale,
                pops=[(p.seq, p.payload) for p in reversed(recent)],
                max_seq=max([after] + [p.seq or 0 for p in recent]),
            )
        ]
        tab.max_seq = max(tab.max_seq, after)
        for p in recent:
            assert p.seq is not None
            tab.mark_seen(p.seq)
            tab.floor = max(tab.floor, p.seq)
        if unseen:
            newest = unseen[-1]
            assert newest.seq is not None
            frames.append(
                self.render_pop(
                    newest.seq,
                    newest.payload,
                    locale=tab.locale,
                    can_execute=tab.can_execute,
                    listed=False,
                )
            )
        return frames

    async def resync(self) -> None:
        """After a broker outage: offer each tab the pops published while it was cut off."""
        window = self.settings.pop_window_seconds
        for ramal, tabs in list(self.tabs.items()):
            if not tabs:
                continue
            missed = await self.store.run(
                functools.partial(
                    _pops_after, ramal=ramal, after=min(t.max_seq for t in tabs), window=window
                )
            )
            for pop in missed:
                self._fan_out_pop(tabs, pop_message(pop))

    async def close_all(self, code: int = CLOSE_SERVICE_RESTART) -> None:
        for tabs in [*self.tabs.values(), self.board_tabs]:
            for tab in list(tabs):
                tab.close_soon(code)
        for task in list(self._background):
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(task, 2)


def _pops_after(session: Session, *, ramal: str, after: int, window: int) -> list[ScreenPop]:
    return pops.pops_after(session=session, ramal=ramal, after=after, window_seconds=window)
