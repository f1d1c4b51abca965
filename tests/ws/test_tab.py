"""A tab's writes: straight to the socket while it keeps up, a backlog only while it is
backed up, and what arrives while the tab catches up from the store."""

from __future__ import annotations

import asyncio

from starlette.websockets import WebSocketState

from callhub.ws.tab import CLOSE_TRY_AGAIN, Tab


class Socket:
    """A websocket whose sends may be held back, as a full socket buffer holds them."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.open = asyncio.Event()
        self.open.set()
        self.closed: int | None = None
        self.application_state = WebSocketState.CONNECTED

    async def send_text(self, data: str) -> None:
        await self.open.wait()
        self.sent.append(data)

    async def close(self, code: int = 1000) -> None:
        self.closed = code
        self.application_state = WebSocketState.DISCONNECTED


def tab(socket: Socket, limit: int = 4, timeout: float = 5.0) -> Tab:
    return Tab(
        socket,  # type: ignore[arg-type]
        user_id=1,
        user_name="Ana",
        can_execute=True,
        locale="pt_BR",
        ramal="2001",
        limit=limit,
        timeout=timeout,
    )


async def until(condition: object, timeout: float = 2.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.001)


async def test_what_arrives_during_the_catch_up_follows_it_unless_it_covered_it():
    socket = Socket()
    t = tab(socket)  # a new tab waits for its catch-up before anything is written
    assert t.write("pop 5", seq=5) and t.write("notice") and t.write("pop 9", seq=9)
    assert t.write("pop 9", seq=9)  # twice (a resync): sent once all the same
    assert socket.sent == [] and t.seen == 0  # not seen yet: the catch-up may not cover them
    socket.sent.append("recent list up to 7")  # the catch-up frames, sent by the endpoint
    t.caught_up(7)
    await until(lambda: t.backlog is None)
    assert socket.sent == ["recent list up to 7", "notice", "pop 9"]
    assert not t.write("pop 9 again", seq=9) and not t.write("pop 6", seq=6)
    assert t.write("pop 10", seq=10)  # caught up: written at once, no task
    assert socket.sent[-1] == "pop 10" and t.backlog is None


async def test_a_backed_up_socket_gets_a_backlog_then_a_full_one_is_closed():
    socket = Socket()
    t = tab(socket, limit=3)
    t.caught_up(0)
    assert t.write("a", seq=1) and socket.sent == ["a"] and t.backlog is None
    socket.open.clear()  # the socket stops taking frames
    assert t.write("b", seq=2)  # started, then left to a task
    assert t.backlog is not None
    assert t.write("c", seq=3) and t.write("d", seq=4) and t.write("e", seq=5)
    assert not t.write("f", seq=6)  # a fourth waiting frame: too far behind
    await until(lambda: socket.closed is not None)
    assert socket.closed == CLOSE_TRY_AGAIN and t.closing
    assert not t.write("g", seq=7)


async def test_a_backlog_drains_in_order_when_the_socket_takes_frames_again():
    socket = Socket()
    t = tab(socket, limit=10)
    t.caught_up(0)
    socket.open.clear()
    for n in range(1, 6):
        assert t.write(f"pop {n}", seq=n)
    socket.open.set()
    await until(lambda: t.backlog is None)
    assert socket.sent == [f"pop {n}" for n in range(1, 6)]
    assert t.write("pop 6", seq=6) and socket.sent[-1] == "pop 6"


async def test_a_frame_that_does_not_leave_in_time_closes_the_tab():
    socket = Socket()
    t = tab(socket, timeout=0.05)
    t.caught_up(0)
    socket.open.clear()
    assert t.write("stuck", seq=1)
    await until(lambda: t.closing)
    socket.open.set()  # the close itself may go now
    await until(lambda: socket.closed is not None)
    assert socket.closed == CLOSE_TRY_AGAIN
