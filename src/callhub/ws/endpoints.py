"""The agent tab's websocket: authenticate, catch up, then stream pops until it goes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlmodel import Session
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from callhub import i18n
from callhub.appstate import app_state
from callhub.board.model import Board, changes
from callhub.broker import BrokerUnavailable
from callhub.protocol import BOARD
from callhub.store import users
from callhub.store.models import Role, User
from callhub.ws.hub import Hub
from callhub.ws.tab import CLOSE_TRY_AGAIN, DROPPED, Tab

if TYPE_CHECKING:
    from callhub.fragments import Fragments
    from callhub.pipeline import Pipeline

log = logging.getLogger("callhub.ws")

CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
# Tabs only listen: what they may send (a ping, a control word) is small.
MAX_MESSAGE_BYTES = 4096


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


def _tab(ws: WebSocket, user: User | None, ramal: str) -> Tab | None:
    """The tab of an active user; None for anyone else. Keeps what the tab needs, not the
    user's row (it would live as long as the tab)."""
    if user is None or user.id is None or not users.session_current(user, ws.session):
        return None
    settings = app_state(ws).settings
    locale = ws.session.get("locale") or i18n.negotiate(ws.headers.get("accept-language"))
    return Tab(
        ws,
        user_id=user.id,
        user_name=user.name,
        can_execute=user.can_execute,
        locale=locale if locale in i18n.AVAILABLE else i18n.DEFAULT,
        ramal=ramal,
        limit=settings.tab_queue_size,
        timeout=settings.tab_send_timeout,
    )


async def _serve(
    ws: WebSocket,
    tab: Tab,
    first_frames: Callable[[], Awaitable[tuple[list[str], int]]],
    detach: Callable[[Tab], Awaitable[None]],
) -> None:
    """Send the first frames, then read until the tab goes; the hub writes to it meanwhile
    (what arrives before the first frames are out waits in the tab's backlog)."""
    tab.reader = asyncio.current_task()
    try:
        frames, upto = await first_frames()
        for frame in frames:
            await _send(ws, frame, tab.timeout)
        tab.caught_up(upto)
        while not tab.closing:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            if len(message.get("bytes") or message.get("text") or "") > MAX_MESSAGE_BYTES:
                await _close(ws, CLOSE_TOO_BIG)
                break
    except (WebSocketDisconnect, OSError, RuntimeError, TimeoutError, BrokerUnavailable) as exc:
        log.debug("tab on %r gone: %r", tab.ramal, exc)
        if isinstance(exc, TimeoutError):
            await _close(ws, CLOSE_TRY_AGAIN)
    except asyncio.CancelledError as exc:
        if exc.args != (DROPPED,):
            raise
        # The tab dropped its socket (Tab._close): this handler ends, and the server with
        # it ends the connection.
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
    finally:
        tab.reader = None
        await detach(tab)


async def agent_socket(ws: WebSocket) -> None:
    state = app_state(ws)
    hub: Hub = state.hub
    pipeline: Pipeline = state.pipeline
    user_id = _session_user_id(ws)
    if user_id is None:
        await ws.close(code=CLOSE_POLICY)
        return

    def holder(session: Session) -> tuple[User | None, str | None]:
        extension = users.extension_of(session=session, user_id=user_id)
        user = users.get_user(session=session, user_id=user_id)
        return user, extension.ramal if extension is not None else None

    user, ramal = await state.store.run(holder)
    tab = _tab(ws, user, ramal) if ramal is not None else None
    del user
    if tab is None:
        await ws.close(code=CLOSE_POLICY)
        return
    after_raw = ws.query_params.get("after", "")
    await ws.accept()
    await hub.attach(tab)

    async def first_frames() -> tuple[list[str], int]:
        after = int(after_raw) if after_raw.isdigit() else await pipeline.start_after(tab)
        # Pops published meanwhile wait in the tab's backlog; those the frames cover
        # (at or below what they return) are dropped from it.
        return await pipeline.catch_up(tab, after)

    await _serve(ws, tab, first_frames, hub.detach)


async def board_socket(ws: WebSocket) -> None:
    """A wall board tab: the whole board at once, then the rows that change."""
    state = app_state(ws)
    hub: Hub = state.hub
    user_id = _session_user_id(ws)
    if user_id is None:
        await ws.close(code=CLOSE_POLICY)
        return
    user = await state.store.run(lambda s: users.get_user(session=s, user_id=user_id))
    allowed = user is not None and user.role in (Role.supervisor, Role.admin)
    tab = _tab(ws, user, "") if allowed else None
    del user
    if tab is None:
        await ws.close(code=CLOSE_POLICY)
        return
    tab.view = "tv" if ws.query_params.get("tv") else ""
    await ws.accept()
    await hub.attach_board(tab)

    async def first_frames() -> tuple[list[str], int]:
        raw = await hub.broker.coordination.get(BOARD)
        if raw is None:
            return [], 0
        fragments: Fragments = state.pipeline.fragments
        whole = changes(None, Board.from_json(raw))
        return [fragments.board(whole, tab.locale, tv=tab.view == "tv")], 0

    await _serve(ws, tab, first_frames, hub.detach_board)


async def _send(ws: WebSocket, frame: str, timeout: float) -> None:
    async with asyncio.timeout(timeout):
        await ws.send_text(frame)


async def _close(ws: WebSocket, code: int) -> None:
    if ws.application_state == WebSocketState.CONNECTED:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(1):
                await ws.close(code=code)
