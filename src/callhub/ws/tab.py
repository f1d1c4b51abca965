"""One tab's socket, and how frames reach it.

A tab has no queue and no task of its own while its socket keeps up: a frame is written
straight to the socket. Only a tab whose socket is backed up gets a backlog and a task
that drains it; a backlog over the limit, or a frame that does not leave within the send
timeout, closes the tab with 1013, and it reconnects and catches up from the store.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Coroutine, Generator
from typing import Any

from starlette.websockets import WebSocket, WebSocketState

from callhub import metrics

log = logging.getLogger("callhub.hub")

CLOSE_NORMAL = 1000
CLOSE_SERVICE_RESTART = 1012  # htmx's ws extension reconnects on 1006, 1011, 1012, 1013
CLOSE_TRY_AGAIN = 1013
# Why a tab's reader was cancelled: its socket took nothing, not even the close frame.
DROPPED = "callhub: tab dropped"


class _Resume:
    """A coroutine started by hand that stopped to wait: a task awaits the rest of it."""

    __slots__ = ("coro", "waiting")

    def __init__(self, coro: Coroutine[Any, Any, None], waiting: Any) -> None:
        self.coro = coro
        self.waiting = waiting

    def __await__(self) -> Generator[Any, Any, None]:
        waiting = self.waiting
        while True:
            try:
                sent = yield waiting
            except BaseException as exc:
                try:
                    waiting = self.coro.throw(exc)
                except StopIteration:
                    return
            else:
                try:
                    waiting = self.coro.send(sent)
                except StopIteration:
                    return


class Tab:
    """One open tab: its socket, who it is for, and how far it has seen."""

    __slots__ = (
        "ws",
        "user_id",
        "user_name",
        "can_execute",
        "locale",
        "ramal",
        "view",
        "seen",
        "backlog",
        "closing",
        "catching_up",
        "limit",
        "timeout",
        "reader",
        "_sender",
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
        limit: int,
        timeout: float,
    ) -> None:
        self.ws = ws
        self.user_id = user_id
        self.user_name = user_name
        self.can_execute = can_execute
        self.locale = locale
        self.ramal = ramal
        # A wall board tab's layout: "" for the supervisor's board, "tv" for the TV view.
        self.view = ""
        # The highest pop seq this tab has been sent: pops at or below it are not sent again.
        self.seen = 0
        # Frames waiting for the socket: (pop seq or 0, frame, arrival time or None).
        # None while the socket keeps up; an empty deque while the tab catches up.
        self.backlog: deque[tuple[int, str, float | None]] | None = deque()
        self.closing = False
        # Until the catch-up frames are out, pops wait without counting as seen: the
        # catch-up may not cover them.
        self.catching_up = True
        self.limit = limit
        self.timeout = timeout
        # The task that reads the tab's socket (and detaches the tab when it ends).
        self.reader: asyncio.Task[Any] | None = None
        self._sender: asyncio.Task[None] | None = None

    # -- writing -------------------------------------------------------------------------

    def write(self, frame: str, seq: int = 0, at: float | None = None) -> bool:
        """Send a frame now, or queue it behind a backed-up socket; False when dropped."""
        if self.closing:
            return False
        if seq:
            if seq <= self.seen:
                return False
            if not self.catching_up:
                self.seen = seq
        if self.backlog is not None:
            if len(self.backlog) >= self.limit:
                # Too slow to keep up: it reconnects and catches up from the store.
                self.close(CLOSE_TRY_AGAIN)
                return False
            self.backlog.append((seq, frame, at))
            return True
        sending = self.ws.send_text(frame)
        try:
            waiting = sending.send(None)
        except StopIteration:
            _delivered(seq, at)
            return True
        except Exception as exc:  # the socket is gone; its reader detaches the tab
            log.debug("tab on %r gone: %r", self.ramal, exc)
            self.closing = True
            return False
        # The socket is backed up: this frame, and those after it, leave from a task.
        self.backlog = deque()
        self._sender = _keep(asyncio.create_task(self._drain(_Resume(sending, waiting), seq, at)))
        return True

    async def _drain(self, first: Awaitable[None] | None, seq: int, at: float | None) -> None:
        try:
            if first is not None:
                async with asyncio.timeout(self.timeout):
                    await first
                _delivered(seq, at)
            while self.backlog and not self.closing:
                seq, frame, at = self.backlog.popleft()
                async with asyncio.timeout(self.timeout):
                    await self.ws.send_text(frame)
                _delivered(seq, at)
            self.backlog = None
        except TimeoutError:
            self.close(CLOSE_TRY_AGAIN)
        except Exception as exc:
            log.debug("tab on %r gone: %r", self.ramal, exc)
            self.closing = True
        finally:
            self._sender = None

    def caught_up(self, upto: int) -> None:
        """The catch-up frames are sent, covering pops up to `upto`: what arrived meanwhile
        follows, but the pops they covered (and any pop twice)."""
        self.catching_up = False
        self.seen = max(self.seen, upto)
        waiting, self.backlog = self.backlog or deque(), deque()
        for seq, frame, at in waiting:
            if seq:
                if seq <= self.seen:
                    continue
                self.seen = seq
            self.backlog.append((seq, frame, at))
        if self.backlog:
            self._sender = _keep(asyncio.create_task(self._drain(None, 0, None)))
        else:
            self.backlog = None

    def close(self, code: int, last_frame: str | None = None) -> None:
        """Close the tab soon (its reader then detaches it); the frame, if any, goes first."""
        if self.closing:
            return
        self.closing = True
        if self._sender is not None:
            self._sender.cancel()
        _keep(asyncio.get_running_loop().create_task(self._close(code, last_frame)))

    async def _close(self, code: int, last_frame: str | None) -> None:
        ws = self.ws
        if ws.application_state != WebSocketState.CONNECTED:
            return
        try:
            async with asyncio.timeout(self.timeout):
                if last_frame is not None:
                    await ws.send_text(last_frame)
                await ws.close(code=code)
        except Exception as exc:
            # A socket that takes nothing takes no close frame either (the server waits
            # for it to drain first), and its reader waits for a message that never
            # comes: stop the reader, and the server ends the connection. The browser
            # gets what was buffered, then the end, and reconnects and catches up.
            log.debug("tab on %r not closed in time: %r", self.ramal, exc)
            if self.reader is not None and not self.reader.done():
                self.reader.cancel(DROPPED)


# Tabs' senders and closings: referenced until they end (the loop keeps only weak ones).
_TASKS: set[asyncio.Task[None]] = set()


def _keep(task: asyncio.Task[None]) -> asyncio.Task[None]:
    _TASKS.add(task)
    task.add_done_callback(_TASKS.discard)
    return task


def _delivered(seq: int, at: float | None) -> None:
    if seq:
        metrics.POPS_DELIVERED.inc()
        if at is not None:
            metrics.POP_LATENCY.observe(time.time() - at)


async def finish_pending(timeout: float) -> None:
    """Wait, `timeout` seconds at most, for the drains and closes under way."""
    if _TASKS:
        await asyncio.wait(list(_TASKS), timeout=timeout)
