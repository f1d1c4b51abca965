"""The tabs this process serves, by extension, and the fan-out of messages to them.

Every message reaches the hub through the broker's single listener (`on_message`) with
its fragments already rendered by the publisher, one per variant (language, permission);
the hub writes the variant's frame to each tab of the extension, in the same loop turn.

How a frame reaches one tab, and what a tab whose socket is backed up costs: ws/tab.py.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable
from typing import Any, Protocol

from callhub import metrics
from callhub.broker import Broker, BrokerUnavailable
from callhub.protocol import (
    BOARD,
    BoardChanges,
    BoardWake,
    Message,
    Moved,
    Pop,
    TabMessage,
    TabVariants,
    extension_channel,
    ramal_of,
    variant_key,
    variant_of,
)
from callhub.ws.tab import CLOSE_NORMAL, CLOSE_SERVICE_RESTART, Tab, finish_pending

log = logging.getLogger("callhub.hub")


class Renders(Protocol):
    """What the hub asks of the views: a fragment nobody rendered for this variant."""

    def fragment(self, message: TabMessage, locale: str, can_execute: bool) -> str: ...

    def board(self, changes: dict[str, Any], locale: str, *, tv: bool = False) -> str: ...


# After the last tab arrived, how long before its objects leave the cyclic collector.
SETTLE_SECONDS = 1.0
# A pop allocates hundreds of short-lived containers: at the default threshold (700) the
# collector's youngest generation ran a few times per pop, 5% of a busy server's CPU
# (py-spy on benchmarks/screenpop.py). At 10,000 it runs a fourteenth as often, each pass
# well under a millisecond; cycles are still collected, a little later.
GC_THRESHOLDS = (10_000, 10, 10)


def settle() -> None:
    """Move what lives now out of the cyclic garbage collector's reach (gc.freeze).

    A tab's objects live as long as the tab, and a full collection scans every object it
    tracks: with thousands of tabs that held the event loop for hundreds of milliseconds.
    Frozen objects are never scanned; a closed tab's are freed all the same, by reference
    counting, as long as they form no cycles (tests/ws/test_soak.py checks that none do).
    What is garbage already is collected first, while the young objects are few. The
    youngest generation is collected less often from then on (GC_THRESHOLDS).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


class Hub:
    def __init__(self, *, broker: Broker, renders: Renders) -> None:
        self.broker = broker
        self.renders = renders
        self.tabs: dict[str, set[Tab]] = {}
        # Wall board tabs, all on the one "board" channel.
        self.board_tabs: set[Tab] = set()
        # Set by the app: the board poller's wake().
        self.board_wake: Callable[[], None] | None = None
        self._settling: asyncio.TimerHandle | None = None
        # What other processes' tabs need, by extension and process (TabVariants).
        self.elsewhere: dict[str, dict[str, set[tuple[str, bool]]]] = {}
        broker.messaging.bind(self.on_message)

    # -- tabs -------------------------------------------------------------------------

    def variants(self, ramal: str) -> set[tuple[str, bool]]:
        """The (language, permission) pairs the tabs on `ramal` need: this process's, and
        those other processes reported (through the broker)."""
        here = self.local_variants(ramal)
        for there in self.elsewhere.get(ramal, {}).values():
            here |= there
        return here

    def local_variants(self, ramal: str) -> set[tuple[str, bool]]:
        """The (language, permission) pairs this process's own tabs on `ramal` need."""
        return {(tab.locale, tab.can_execute) for tab in self.tabs.get(ramal, ())}

    async def _report_variants(self, ramal: str, before: set[tuple[str, bool]]) -> None:
        """Tell the other processes when the variants this process needs on `ramal`
        changed: they render them when they store a pop for it."""
        now = self.local_variants(ramal)
        if not self.broker.shared or now == before:
            return
        keys = sorted(variant_key(locale, can) for locale, can in now)
        try:
            await self.broker.messaging.publish(TabVariants(self.broker.process_id, ramal, keys))
        except BrokerUnavailable as exc:  # they render what they lack themselves meanwhile
            log.debug("variants of %s not reported: %s", ramal, exc)

    def _learn_variants(self, message: TabVariants) -> None:
        if message.process == self.broker.process_id:
            return
        known = self.elsewhere.setdefault(message.ramal, {})
        if message.variants:
            known[message.process] = {variant_of(key) for key in message.variants}
        else:
            known.pop(message.process, None)
            if not known:
                del self.elsewhere[message.ramal]

    def _settle_soon(self) -> None:
        """Once tabs stop arriving, keep their objects out of the cyclic collector."""
        if self._settling is not None:
            self._settling.cancel()
        self._settling = asyncio.get_running_loop().call_later(SETTLE_SECONDS, settle)

    async def attach(self, tab: Tab) -> None:
        self._settle_soon()
        before = self.local_variants(tab.ramal)
        tabs = self.tabs.setdefault(tab.ramal, set())
        first = not tabs
        tabs.add(tab)
        metrics.TABS.labels("agent").inc()
        channel = extension_channel(tab.ramal)
        if first:
            await self.broker.messaging.subscribe(channel)
        await self.broker.coordination.set_tabs(channel, len(tabs))
        await self._report_variants(tab.ramal, before)

    async def detach(self, tab: Tab) -> None:
        tab.closing = True
        tabs = self.tabs.get(tab.ramal)
        if tabs is None or tab not in tabs:
            return
        before = self.local_variants(tab.ramal)
        tabs.discard(tab)
        metrics.TABS.labels("agent").dec()
        channel = extension_channel(tab.ramal)
        await self.broker.coordination.set_tabs(channel, len(tabs))
        if not tabs:
            del self.tabs[tab.ramal]
            await self.broker.messaging.unsubscribe(channel)
        await self._report_variants(tab.ramal, before)

    async def attach_board(self, tab: Tab) -> None:
        self._settle_soon()
        first = not self.board_tabs
        self.board_tabs.add(tab)
        metrics.TABS.labels("board").inc()
        await self.broker.coordination.set_tabs(BOARD, len(self.board_tabs))
        if first:
            await self.broker.messaging.subscribe(BOARD)
            # The poller polls only while a board is open: it starts again now.
            await self.broker.messaging.publish(BoardWake())

    async def detach_board(self, tab: Tab) -> None:
        tab.closing = True
        if tab not in self.board_tabs:
            return
        self.board_tabs.discard(tab)
        metrics.TABS.labels("board").dec()
        await self.broker.coordination.set_tabs(BOARD, len(self.board_tabs))
        if not self.board_tabs:
            await self.broker.messaging.unsubscribe(BOARD)

    # -- fan-out -----------------------------------------------------------------------

    def on_message(self, channel: str, message: Message) -> int:
        """Hand a message to the tabs it is for; the number of tabs it reached."""
        if isinstance(message, BoardChanges):
            return self._fan_out_board(message)
        if isinstance(message, BoardWake):
            if self.board_wake is not None:
                self.board_wake()
            return 0
        if isinstance(message, TabVariants):
            self._learn_variants(message)
            return 0
        ramal = ramal_of(channel)
        tabs = self.tabs.get(ramal) if ramal is not None else None
        if not tabs:
            return 0
        if isinstance(message, Moved):
            self._extension_moved(tabs, message)
            return 0
        seq = message.seq if isinstance(message, Pop) else 0
        at = message.at if isinstance(message, Pop) else None
        reached = 0
        for tab in list(tabs):
            if seq and seq <= tab.seen:
                continue
            frame = message.fragments.get(variant_key(tab.locale, tab.can_execute))
            if frame is None:
                metrics.RENDERED_ON_ARRIVAL.inc()
                frame = self.renders.fragment(message, tab.locale, tab.can_execute)
            if tab.write(frame, seq, at):
                reached += 1
        return reached

    def _fan_out_board(self, message: BoardChanges) -> int:
        rendered: dict[tuple[str, str], str] = {}
        for tab in list(self.board_tabs):
            variant = (tab.locale, tab.view)
            html = rendered.get(variant)
            if html is None:
                html = rendered[variant] = self.renders.board(
                    message.changes, tab.locale, tv=tab.view == "tv"
                )
            tab.write(html)
        return len(self.board_tabs)

    def _extension_moved(self, tabs: set[Tab], message: Moved) -> None:
        for tab in list(tabs):
            if tab.user_id != message.to_user:
                tab.close(CLOSE_NORMAL, self.renders.fragment(message, tab.locale, False))

    async def close_all(self, code: int = CLOSE_SERVICE_RESTART) -> None:
        for tabs in [*self.tabs.values(), self.board_tabs]:
            for tab in list(tabs):
                tab.close(code)
        await finish_pending(timeout=2)
