"""The agent tab's websocket: authenticate, catch up, then stream pops until it goes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from callhub import i18n, metrics
from callhub.board.model import Board, changes
from callhub.broker import BrokerUnavailable
from callhub.store import users
from callhub.store.models import Role, User
from callhub.ws.hub import BOARD_CHANNEL, CLOSE_TRY_AGAIN, Hub, Tab

log = logging.getLogger("callhub.ws")

CLOSE_POLICY = 1008


def origin_allowed(ws: WebSocket) -> bool:
    """Browsers always send Origin on a websocket; it must be this very site."""
    origin = ws.headers.get("origin")
    if origin is None:
        return True  # not a browser (tests, tools); the session cookie still gates it
    host = ws.headers.get("host", "")
    return urlsplit(origin).netloc == host


def _session_user_id(ws: WebSocket) -> int | None:
    user_id = ws.session.get("user_id") if "session" in ws.scope else None
    return user_id if isinstance(user_id, int) and origin_allowed(ws) else None


def _tab(ws: WebSocket, hub: Hub, user: User, ramal: str) -> Tab:
    locale = ws.session.get("locale") or i18n.negotiate(ws.headers.get("accept-language"))
    assert user.id is not None
    return Tab(
        ws,
        user_id=user.id,
        user_name=user.name,
        can_execute=user.can_execute,
        locale=locale if locale in i18n.AVAILABLE else i18n.DEFAULT,
        ramal=ramal,
        queue_size=hub.settings.tab_queue_size,
    )


async def _serve(
    ws: WebSocket,
    tab: Tab,
    first_frames: Callable[[], Awaitable[list[str]]],
    detach: Callable[[Tab], Awaitable[None]],
) -> None:
    """Send the first frames, then stream the tab's queue until either side goes."""
    timeout: float = ws.app.state.hub.settings.tab_send_timeout
    receiver = asyncio.create_task(_receive_until_closed(ws, tab))
    try:
        for frame in await first_frames():
            await _send(ws, frame, timeout)
        await _stream(ws, tab, timeout)
    except (WebSocketDisconnect, OSError, RuntimeError, TimeoutError, BrokerUnavailable) as exc:
        log.debug("tab on %r gone: %r", tab.ramal, exc)
        if isinstance(exc, TimeoutError):
            await _close(ws, CLOSE_TRY_AGAIN)
    finally:
        receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await receiver
        await detach(tab)


async def agent_socket(ws: WebSocket) -> None:
    hub: Hub = ws.app.state.hub
    user_id = _session_user_id(ws)
    if user_id is None:
        await ws.close(code=CLOSE_POLICY)
        return
    user, extension = await hub.store.run(
        lambda s: (
            users.get_user(session=s, user_id=user_id),
            users.extension_of(session=s, user_id=user_id),
        )
    )
    if user is None or not user.active or extension is None:
        await ws.close(code=CLOSE_POLICY)
        return
    after_raw = ws.query_params.get("after", "")
    await ws.accept()
    tab = _tab(ws, hub, user, extension.ramal)
    await hub.attach(tab)

    async def first_frames() -> list[str]:
        after = int(after_raw) if after_raw.isdigit() else await hub.start_after(tab.ramal)
        return await hub.catch_up(tab, after)

    await _serve(ws, tab, first_frames, hub.detach)


async def board_socket(ws: WebSocket) -> None:
    """A wall board tab: the whole board at once, then the rows that change."""
    hub: Hub = ws.app.state.hub
    user_id = _session_user_id(ws)
    if user_id is None:
        await ws.close(code=CLOSE_POLICY)
        return
    user = await hub.store.run(lambda s: users.get_user(session=s, user_id=user_id))
    if user is None or not user.active or user.role not in (Role.supervisor, Role.admin):
        await ws.close(code=CLOSE_POLICY)
        return
    await ws.accept()
    tab = _tab(ws, hub, user, "")
    await hub.attach_board(tab)

    async def first_frames() -> list[str]:
        raw = await hub.broker.get(BOARD_CHANNEL)
        if raw is None:
            return []
        return [hub.render_board(tab.locale, changes(None, Board.from_json(raw)))]

    await _serve(ws, tab, first_frames, hub.detach_board)


async def _stream(ws: WebSocket, tab: Tab, timeout: float) -> None:
    while True:
        item = await tab.queue.get()
        if tab.closing is not None:
            code, last_frame = tab.closing
            if last_frame is not None:
                with contextlib.suppress(Exception):
                    await _send(ws, last_frame, timeout)
            await _close(ws, code)
            return
        if item is None:
            continue
        seq, html, at = item
        if seq is not None and seq <= tab.floor:
            continue
        await _send(ws, html, timeout)
        if seq is not None:
            metrics.POPS_DELIVERED.inc()
            if at is not None:
                metrics.POP_LATENCY.observe(time.time() - at)


async def _send(ws: WebSocket, frame: str, timeout: float) -> None:
    async with asyncio.timeout(timeout):
        await ws.send_text(frame)


async def _close(ws: WebSocket, code: int) -> None:
    if ws.application_state == WebSocketState.CONNECTED:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(1):
                await ws.close(code=code)


async def _receive_until_closed(ws: WebSocket, tab: Tab) -> None:
    """Tabs send nothing we need; reading notices the disconnect and wakes the sender."""
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
    finally:
        tab.close_soon(1000)
