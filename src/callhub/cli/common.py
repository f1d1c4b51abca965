"""What the commands share: a store opened for one piece of work, then closed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from callhub.settings import Settings
from callhub.store.engine import Store

T = TypeVar("T")


def with_store(settings: Settings, work: Callable[[Store], Awaitable[T]]) -> T:
    async def run() -> T:
        store = Store(settings.database_url)
        try:
            await store.migrate()
            return await work(store)
        finally:
            await store.dispose()

    return asyncio.run(run())
