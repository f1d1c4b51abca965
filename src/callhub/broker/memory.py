"""One process (`memory://`, the default): publishing is a function call into the hub."""

from __future__ import annotations

import time

from callhub.broker.base import Broker, Coordination, Messaging, new_process_id
from callhub.protocol import Message, channel_of


class MemoryCoordination(Coordination):
    def __init__(self) -> None:
        self._tabs: dict[str, int] = {}
        self._values: dict[str, str] = {}
        self._counters: dict[str, tuple[int, float]] = {}

    async def connect(self) -> None:
        pass

    async def disconnect(self) -> None:
        self._tabs.clear()

    def tabs(self, channel: str) -> int:
        return self._tabs.get(channel, 0)

    async def set_tabs(self, channel: str, count: int) -> None:
        if count > 0:
            self._tabs[channel] = count
        else:
            self._tabs.pop(channel, None)

    async def tab_counts(self, channels: list[str]) -> dict[str, int]:
        return {c: self._tabs.get(c, 0) for c in channels}

    async def lead(self, name: str, ttl_seconds: float) -> bool:
        return True  # one process: it always leads

    async def resign(self, name: str) -> None:
        return None  # nobody else to hand it to

    async def put(self, key: str, value: str, ttl_seconds: float) -> None:
        self._values[key] = value

    async def get(self, key: str) -> str | None:
        return self._values.get(key)

    async def count(self, key: str, ttl_seconds: float, add: int = 1) -> int:
        now = time.monotonic()
        value, until = self._counters.get(key, (0, now + ttl_seconds))
        if until <= now:
            value, until = 0, now + ttl_seconds
        if add:
            self._counters[key] = (value + add, until)
        return value + add

    async def forget(self, key: str) -> None:
        self._counters.pop(key, None)


class MemoryMessaging(Messaging):
    def __init__(self, presence: MemoryCoordination) -> None:
        super().__init__()
        self._presence = presence
        self._channels: set[str] = set()

    async def connect(self) -> None:
        pass

    async def disconnect(self) -> None:
        self._channels.clear()

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)

    async def publish(self, message: Message) -> int:
        channel = channel_of(message)
        if channel in self._channels:
            self._on_message(channel, message)
        return self._presence.tabs(channel)

    async def ping(self) -> None:
        pass


def memory_broker() -> Broker:
    coordination = MemoryCoordination()
    return Broker(
        MemoryMessaging(coordination), coordination, shared=False, process_id=new_process_id()
    )
