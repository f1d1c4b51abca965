"""Coordination on Redis: presence (each process's tab counts, with a heartbeat), the
leases, shared values and counters, across processes and hosts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

from callhub.broker.base import BrokerUnavailable, Coordination
from callhub.broker.redis_link import RedisLink, unavailable

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("callhub.broker")

# Take the lease when free, renew it when ours: one round trip, no race between the two.
_LEAD = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

# Give the lease up only if ours: another process may hold it already.
_RESIGN = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisCoordination(Coordination):
    heartbeat_seconds = 5.0

    def __init__(self, link: RedisLink) -> None:
        self.link = link
        self._tabs: dict[str, int] = {}
        self._heartbeat: asyncio.Task[None] | None = None
        self._lead_script: Any = None

    def _redis(self) -> Redis:
        if self.link.redis is None:
            raise BrokerUnavailable("Redis not connected")
        return self.link.redis

    async def connect(self) -> None:
        redis = await self.link.connect()
        self._lead_script = redis.register_script(_LEAD)
        await self.beat()
        self._heartbeat = asyncio.create_task(self._beat_forever(), name="callhub-broker-beat")

    async def disconnect(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._heartbeat
        if self.link.redis is not None:
            with contextlib.suppress(Exception):
                pipe = self.link.redis.pipeline(transaction=False)
                for channel in self._tabs:
                    pipe.hdel(self.link.tabs_key(channel), self.link.process_id)
                pipe.zrem(self.link.procs_key, self.link.process_id)
                await pipe.execute()
        self._tabs.clear()
        await self.link.aclose()

    async def beat(self) -> None:
        """This process is alive, with these tabs (after a Redis restart too)."""
        link = self.link
        pipe = self._redis().pipeline(transaction=False)
        pipe.zadd(link.procs_key, {link.process_id: time.time()})
        pipe.zremrangebyscore(link.procs_key, 0, time.time() - 10 * link.process_ttl_seconds)
        for channel, count in self._tabs.items():
            pipe.hset(link.tabs_key(channel), link.process_id, count)
        await pipe.execute()

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            try:
                await self.beat()
            except Exception as exc:  # the listener handles reconnection
                log.debug("heartbeat failed: %s", exc)

    async def set_tabs(self, channel: str, count: int) -> None:
        if count > 0:
            self._tabs[channel] = count
        else:
            self._tabs.pop(channel, None)
        if self.link.redis is None:
            return
        key = self.link.tabs_key(channel)
        with contextlib.suppress(Exception):  # rewritten by the next heartbeat
            if count > 0:
                await self.link.redis.hset(key, self.link.process_id, count)
            else:
                await self.link.redis.hdel(key, self.link.process_id)

    async def tab_counts(self, channels: list[str]) -> dict[str, int]:
        with unavailable():
            pipe = self._redis().pipeline(transaction=False)
            pipe.zrangebyscore(self.link.procs_key, self.link.live_since(), "+inf")
            for channel in channels:
                pipe.hgetall(self.link.tabs_key(channel))
            alive, *counts = await pipe.execute()
        live = set(alive)
        return {
            channel: sum(int(n) for proc, n in per_proc.items() if proc in live)
            for channel, per_proc in zip(channels, counts, strict=True)
        }

    async def lead(self, name: str, ttl_seconds: float) -> bool:
        if self._lead_script is None:
            raise BrokerUnavailable("Redis not connected")
        with unavailable():
            key = f"{self.link.prefix}:lead:{name}"
            args = [self.link.process_id, int(ttl_seconds * 1000)]
            return bool(await self._lead_script(keys=[key], args=args))

    async def resign(self, name: str) -> None:
        with unavailable():
            key = f"{self.link.prefix}:lead:{name}"
            await self._redis().eval(_RESIGN, 1, key, self.link.process_id)

    async def put(self, key: str, value: str, ttl_seconds: float) -> None:
        name = f"{self.link.prefix}:value:{key}"
        with unavailable():
            await self._redis().set(name, value, px=int(ttl_seconds * 1000))

    async def get(self, key: str) -> str | None:
        with unavailable():
            value = await self._redis().get(f"{self.link.prefix}:value:{key}")
        return None if value is None else str(value)

    async def count(self, key: str, ttl_seconds: float, add: int = 1) -> int:
        name = f"{self.link.prefix}:count:{key}"
        with unavailable():
            redis = self._redis()
            if not add:
                return int(await redis.get(name) or 0)
            pipe = redis.pipeline(transaction=True)
            pipe.set(name, 0, nx=True, px=int(ttl_seconds * 1000))
            pipe.incrby(name, add)
            return int((await pipe.execute())[1])

    async def forget(self, key: str) -> None:
        with unavailable():
            await self._redis().delete(f"{self.link.prefix}:count:{key}")
