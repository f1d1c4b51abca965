"""`callhub poll`: the wall board's poller (and its USCall link) in a process of its own.

Every web process runs the poller too, and a lease in Redis lets one poll at a time; a
dedicated poller process (the Procfile's `poller`) simply takes the lease first and keeps
the web processes free for tabs and PBX requests. When it stops, a web process takes over
within a lease period.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from callhub.adapters.uscall.link import USCallLink
from callhub.board.poller import BoardPoller
from callhub.broker import create_broker
from callhub.protocol import BOARD_WAKE, BoardWake, Message
from callhub.settings import ConfigError, Settings
from callhub.store.engine import Store

log = logging.getLogger("callhub.poller")


async def run_poller(settings: Settings, stop: asyncio.Event | None = None) -> None:
    settings.check()
    if not settings.shared_broker:
        raise ConfigError(
            "callhub poll publishes the board to the web processes through Redis: "
            "set CALLHUB_BROKER_URL=redis://… (without it, the web process polls by itself)"
        )
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    store = Store(settings.database_url)
    broker = create_broker(settings.broker_url)
    link = USCallLink(settings) if settings.uscall else None
    poller = BoardPoller(broker=broker, store=store, settings=settings, link=link)
    try:
        await store.migrate()
        await broker.connect()

        def on_message(_channel: str, message: Message) -> int:
            if isinstance(message, BoardWake):
                poller.wake()
            return 0

        broker.messaging.bind(on_message)
        await broker.messaging.subscribe(BOARD_WAKE)
        if link is not None:
            link.start()
        poller.start()
        log.info("board poller running (every %.1f s)", settings.board_poll_seconds)
        await stop.wait()
    finally:
        await poller.aclose()
        if link is not None:
            await link.aclose()
        await broker.disconnect()
        await store.dispose()
