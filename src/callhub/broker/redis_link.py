"""What the Redis broker's two sides share: the URL, this process's id, the key names,
the command connection, and how a failure to reach Redis is said."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from callhub.broker.base import BrokerUnavailable, new_process_id

if TYPE_CHECKING:
    from redis.asyncio import Redis


class RedisLink:
    """What both sides share: the URL, this process's id, the key names, the command
    connection."""

    # A process whose heartbeat is older than this is gone: its tabs no longer count.
    process_ttl_seconds = 15.0

    def __init__(self, url: str, *, prefix: str = "callhub") -> None:
        self.url = url
        self.prefix = prefix
        self.process_id = new_process_id()
        self.redis: Redis | None = None

    @property
    def procs_key(self) -> str:
        return f"{self.prefix}:procs"

    def tabs_key(self, channel: str) -> str:
        return f"{self.prefix}:tabs:{channel}"

    def wire(self, channel: str) -> str:
        return f"{self.prefix}:{channel}"

    def live_since(self) -> float:
        return time.time() - self.process_ttl_seconds

    def client(self, **options: Any) -> Redis:
        from redis.asyncio import Redis  # lazy: the embedded default never needs it

        return Redis.from_url(self.url, decode_responses=True, socket_connect_timeout=2, **options)

    async def connect(self) -> Redis:
        if self.redis is None:
            self.redis = self.client(socket_timeout=5)
            try:
                await self.redis.ping()
            except Exception as exc:
                self.redis = None
                raise BrokerUnavailable(f"Redis at {self.url} is not reachable: {exc}") from exc
        return self.redis

    async def aclose(self) -> None:
        if self.redis is not None:
            with contextlib.suppress(Exception):
                await self.redis.aclose()
            self.redis = None


@contextlib.contextmanager
def unavailable() -> Iterator[None]:
    """Any failure to reach Redis, said as the broker's BrokerUnavailable."""
    try:
        yield
    except BrokerUnavailable:
        raise
    except Exception as exc:
        raise BrokerUnavailable(str(exc)) from exc
