"""What the processes serving tabs share: messages between them, and what they coordinate.

Chosen by the URL scheme of `CALLHUB_BROKER_URL`: `memory://` (the default: one process,
publishing is a function call into the hub) or `redis://` (many processes, on one or
many hosts). See `base` for the two interfaces and what `delivered` means.
"""

from __future__ import annotations

from callhub.broker.base import (
    Broker,
    BrokerUnavailable,
    Coordination,
    Messaging,
    OnMessage,
    OnReconnect,
)
from callhub.broker.memory import memory_broker

__all__ = [
    "Broker",
    "BrokerUnavailable",
    "Coordination",
    "Messaging",
    "OnMessage",
    "OnReconnect",
    "create_broker",
    "memory_broker",
]


def create_broker(url: str | None) -> Broker:
    """The broker `url` names (settings.BROKER_SCHEMES; checked by Settings.check)."""
    if not url or url.startswith("memory://"):
        return memory_broker()
    if url.startswith(("redis://", "rediss://", "unix://")):
        from callhub.broker.redis import redis_broker  # the embedded default never needs it

        return redis_broker(url)
    raise ValueError(f"unsupported broker URL {url!r}: use memory:// or redis://")
