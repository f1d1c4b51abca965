"""The agent tab's websocket: authenticate, catch up, then stream pops until it goes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import urlsplit

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from callhub import i18n
from callhub.store import users
from callhub.ws.hub import CLOSE_TRY_AGAIN, Hub, Tab

log = logging.getLogger("callhub.ws")

CLOSE_POLICY = 1008


def origin_allowed(ws: WebSocket) -> bool:
    """Browsers always send Origin on a websocket; it must be this very site."""
    origin = ws.headers.get("origin")
    if origin is None:
        return True  # not a browser (tests, tools); the session cookie still gates it
    host = ws.headers.get("host", "")
    return urlsplit(origin).netloc == host


async def agent_socket(ws: WebSocket) -> None:
    hub: Hub = ws.app.state.hub
    user_id = ws.session.get("user_id") if "session" in ws.scope else None
    if not isinstance(user_id, int) or not origin_allowed(ws):
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
    locale = ws.session.get("locale") or i18n.negotiate(ws.headers.get("accept-language"))
    after_raw = ws.query_params.get("after", "")
    await ws.accept()
    tab = Tab(
        ws,
        user_id=user_id,
        user_name=user.name,
        can_execute=user.can_execute,
        locale=locale if locale in i18n.AVAILABLE else i18n.DEFAULT,
        ramal=extension.ramal,
        queue_size=hub.settings.tab_queue_size,
    )
    await hub.attach(tab)
    receiver = asyncio.create_task(_receive_until_closed(ws, tab))
    try:
        after = int(after_raw) if after_raw.isdigit() else await hub.start_after(tab.ramal)
        for frame in await hub.catch_up(tab, after):
            await _send(ws, frame, hub.settings.tab_send_timeout)
        await _stream(ws, tab, hub.settings.tab_send_timeout)
    except (WebSocketDisconnect, OSError, RuntimeError, TimeoutError) as exc:
        log.debug("tab on %s gone: %r", tab.ramal, exc)
        if isinstance(exc, TimeoutError):
            await _close(ws, CLOSE_TRY_AGAIN)
    finally:
        receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await receiver
        await hub.detach(tab)


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
        seq, html = item
        if seq is not None and seq <= tab.floor:
            continue
        await _send(ws, html, timeout)


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
