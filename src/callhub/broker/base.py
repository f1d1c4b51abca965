"""The broker's two interfaces: messaging between processes, and what they coordinate.

- `Messaging`: a message published on a channel ("ext:<ramal>", "board"…) reaches every
  process subscribed to it, through the one listener its hub bound; the answer to a
  publish is `delivered`.
- `Coordination`: presence (how many tabs each live process serves on each channel), a
  lease only one process holds at a time, values and counters every process shares.

`delivered` means the same with every implementation: the tabs open on the message's
channel, across the live processes that share the broker, when it was published (from
the presence each process reports). It is what the PBX is told, and whether a brand-new
tab replays a pop.
"""

from __future__ import annotations

import os
import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable

from callhub.protocol import Message

# Called from the broker's single listener for every message; returns the tabs it reached.
OnMessage = Callable[[str, Message], int]
# Called after the broker lost its connection and subscribed again: time to resync tabs.
OnReconnect = Callable[[], Awaitable[None]]


class BrokerUnavailable(RuntimeError):
    pass


def new_process_id() -> str:
    """This process, among those sharing a broker."""
    return f"{os.getpid()}-{uuid.uuid4().hex[:8]}"


class Messaging(ABC):
    def __init__(self) -> None:
        self._on_message: OnMessage = lambda _c, _m: 0
        self._on_reconnect: OnReconnect | None = None
        self.reconnects = 0

    def bind(self, on_message: OnMessage, on_reconnect: OnReconnect | None = None) -> None:
        """The listener every message received goes to, and what runs after a reconnect."""
        self._on_message = on_message
        self._on_reconnect = on_reconnect

    @abstractmethod
    async def connect(self) -> None: ...

    @abstractmethod
    async def disconnect(self) -> None: ...

    @abstractmethod
    async def subscribe(self, channel: str) -> None: ...

    @abstractmethod
    async def unsubscribe(self, channel: str) -> None: ...

    @abstractmethod
    async def publish(self, message: Message) -> int:
        """Send on the message's channel (`protocol.channel_of`) to every subscriber, in the
        order published; return `delivered`. Raises BrokerUnavailable."""

    @abstractmethod
    async def ping(self) -> None:
        """Raise BrokerUnavailable unless messages can be published and received now."""


class Coordination(ABC):
    @abstractmethod
    async def connect(self) -> None: ...

    @abstractmethod
    async def disconnect(self) -> None: ...

    @abstractmethod
    async def set_tabs(self, channel: str, count: int) -> None:
        """Report how many tabs this process serves on `channel` (0: none)."""

    @abstractmethod
    async def tab_counts(self, channels: list[str]) -> dict[str, int]:
        """How many tabs the live processes serve on each of `channels`, in all."""

    @abstractmethod
    async def lead(self, name: str, ttl_seconds: float) -> bool:
        """Take or keep the lease `name` for this process; False while another holds it."""

    @abstractmethod
    async def resign(self, name: str) -> None:
        """Give up the lease `name` if this process holds it: another takes it on its next
        try, not when the lease would have run out."""

    @abstractmethod
    async def put(self, key: str, value: str, ttl_seconds: float) -> None:
        """Keep a value every process can read (the wall board's latest state)."""

    @abstractmethod
    async def get(self, key: str) -> str | None: ...

    @abstractmethod
    async def count(self, key: str, ttl_seconds: float, add: int = 1) -> int:
        """Add to a counter every process shares (it expires `ttl_seconds` after it was
        started); its new value. `add=0` reads it."""

    @abstractmethod
    async def forget(self, key: str) -> None:
        """Drop a counter."""


class Broker:
    """The two, as one process uses them: connected and closed together."""

    def __init__(
        self, messaging: Messaging, coordination: Coordination, *, shared: bool, process_id: str
    ) -> None:
        self.messaging = messaging
        self.coordination = coordination
        # Whether other processes may share it (they render for tabs of their own).
        self.shared = shared
        self.process_id = process_id

    async def connect(self) -> None:
        await self.coordination.connect()
        await self.messaging.connect()

    async def disconnect(self) -> None:
        await self.messaging.disconnect()
        await self.coordination.disconnect()

    async def ping(self) -> None:
        await self.messaging.ping()
