"""Pub/sub between the processes that serve tabs: in-process by default, Redis across hosts.

One small interface, chosen by URL scheme. A broker delivers a message published on a
channel ("ext:<ramal>") to every process subscribed to it; the process's hub hands it to
its tabs. The broker also answers how many tabs a message reached (the `delivered` the
PBX sees), from the tab counts each process reports for its channels.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from callhub import metrics
from callhub.protocol import Message, channel_of, decode, encode

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import PubSub

log = logging.getLogger("callhub.broker")

# Called from the broker's single listener for every message; returns the tabs it reached.
OnMessage = Callable[[str, Message], int]
# Called after the broker lost its connection and subscribed again: time to resync tabs.
OnReconnect = Callable[[], Awaitable[None]]


class BrokerUnavailable(RuntimeError):
    pass


class Broker(ABC):
    def __init__(self) -> None:
        self._on_message: OnMessage = lambda _c, _m: 0
        self._on_reconnect: OnReconnect | None = None
        self.reconnects = 0
        # This process, among those sharing the broker.
        self.process_id = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        # Whether other processes may share it (they render for tabs of their own).
        self.shared = False

    def bind(self, on_message: OnMessage, on_reconnect: OnReconnect | None = None) -> None:
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
        """Send on the message's channel (`protocol.channel_of`) to every subscriber; return
        the number of tabs that have the channel open."""

    @abstractmethod
    async def set_tabs(self, channel: str, count: int) -> None:
        """Report how many tabs this process serves on `channel`."""

    @abstractmethod
    async def tab_counts(self, channels: list[str]) -> dict[str, int]:
        """How many tabs all live processes serve on each of `channels`."""

    @abstractmethod
    async def lead(self, name: str, ttl_seconds: float) -> bool:
        """Take or keep the lease `name` for this process; False while another holds it."""

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

    @abstractmethod
    async def ping(self) -> None:
        """Raise BrokerUnavailable unless messages can be published and received now."""


class MemoryBroker(Broker):
    """One process: publishing is a function call into the hub."""

    def __init__(self) -> None:
        super().__init__()
        self._channels: set[str] = set()
        self._values: dict[str, str] = {}
        self._tabs: dict[str, int] = {}
        self._counters: dict[str, tuple[int, float]] = {}

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
        if channel not in self._channels:
            return 0
        return self._on_message(channel, message)

    async def set_tabs(self, channel: str, count: int) -> None:
        if count > 0:
            self._tabs[channel] = count
        else:
            self._tabs.pop(channel, None)

    async def tab_counts(self, channels: list[str]) -> dict[str, int]:
        return {c: self._tabs.get(c, 0) for c in channels}

    async def lead(self, name: str, ttl_seconds: float) -> bool:
        return True  # one process: it always leads

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

    async def ping(self) -> None:
        pass


# Take the lease when free, renew it when ours: one round trip, no race between the two.
_LEAD = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

# PUBLISH, then add up the tab counts of the live processes serving the channel: one round trip.
_PUBLISH_AND_COUNT = """
redis.call('PUBLISH', KEYS[1], ARGV[1])
local fields = redis.call('HGETALL', KEYS[2])
local total = 0
for i = 1, #fields, 2 do
  local seen = redis.call('ZSCORE', KEYS[3], fields[i])
  if seen and tonumber(seen) >= tonumber(ARGV[2]) then
    total = total + tonumber(fields[i + 1])
  end
end
return total
"""


class RedisBroker(Broker):
    """Many processes: one SUBSCRIBE connection and one listener task per process."""

    heartbeat_seconds = 5.0
    process_ttl_seconds = 15.0
    max_backoff_seconds = 1.0

    def __init__(self, url: str, *, prefix: str = "callhub") -> None:
        super().__init__()
        self.url = url
        self.prefix = prefix
        self.shared = True
        self._channels: set[str] = set()
        self._tabs: dict[str, int] = {}
        self._redis: Redis | None = None
        self._sub_redis: Redis | None = None
        self._pubsub: PubSub | None = None
        self._listener: asyncio.Task[None] | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._script: Any = None
        self._lead_script: Any = None
        self._connected = asyncio.Event()
        self._outbox: list[tuple[Message, asyncio.Future[int]]] = []
        self._flusher: asyncio.Task[None] | None = None

    @property
    def _procs_key(self) -> str:
        return f"{self.prefix}:procs"

    def _tabs_key(self, channel: str) -> str:
        return f"{self.prefix}:tabs:{channel}"

    def _wire(self, channel: str) -> str:
        return f"{self.prefix}:{channel}"

    async def connect(self) -> None:
        from redis.asyncio import Redis  # lazy: the embedded default never needs it
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        options: dict[str, Any] = {"decode_responses": True, "socket_connect_timeout": 2}
        self._redis = Redis.from_url(self.url, socket_timeout=5, **options)
        # The subscriber must never reconnect behind our back: a silent reconnect would
        # skip the resync of the tabs, and pops published in the gap would wait for a reload.
        self._sub_redis = Redis.from_url(self.url, retry=Retry(NoBackoff(), 0), **options)
        self._script = self._redis.register_script(_PUBLISH_AND_COUNT)
        self._lead_script = self._redis.register_script(_LEAD)
        try:
            await self._redis.ping()
        except Exception as exc:
            raise BrokerUnavailable(f"Redis at {self.url} is not reachable: {exc}") from exc
        self._pubsub = self._sub_redis.pubsub(ignore_subscribe_messages=True)
        # A pubsub connection needs one subscription before it can listen.
        await self._pubsub.subscribe(self._wire("_process:" + self.process_id))
        self._connected.set()
        await self._beat()
        self._listener = asyncio.create_task(self._listen(), name="callhub-broker-listener")
        self._heartbeat = asyncio.create_task(self._beat_forever(), name="callhub-broker-beat")

    async def disconnect(self) -> None:
        for task in (self._listener, self._heartbeat):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self._redis is not None:
            with contextlib.suppress(Exception):
                pipe = self._redis.pipeline(transaction=False)
                for channel in self._tabs:
                    pipe.hdel(self._tabs_key(channel), self.process_id)
                pipe.zrem(self._procs_key, self.process_id)
                await pipe.execute()
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        for client in (self._sub_redis, self._redis):
            if client is not None:
                with contextlib.suppress(Exception):
                    await client.aclose()
        self._channels.clear()
        self._tabs.clear()

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)
        if self._pubsub is not None and self._connected.is_set():
            with contextlib.suppress(Exception):  # the listener resubscribes after a reconnect
                await self._pubsub.subscribe(self._wire(channel))

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        if self._pubsub is not None and self._connected.is_set():
            with contextlib.suppress(Exception):
                await self._pubsub.unsubscribe(self._wire(channel))

    async def publish(self, message: Message) -> int:
        """Pipelined: messages published while a pipeline is out go together in the next
        (one round trip for all of them, in the order given); a message published alone
        goes at once."""
        done = asyncio.get_running_loop().create_future()
        self._outbox.append((message, done))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush(), name="callhub-broker-publish")
        result: int = await done
        return result

    async def _flush(self) -> None:
        try:
            while self._outbox:
                batch, self._outbox = self._outbox, []
                try:
                    counts = await self._publish_all([message for message, _ in batch])
                except Exception as exc:
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(BrokerUnavailable(str(exc)))
                    continue
                for (_, done), count in zip(batch, counts, strict=True):
                    if not done.done():
                        done.set_result(count)
        finally:
            self._flusher = None

    async def _publish_all(self, messages: list[Message]) -> list[int]:
        """One round trip: each message published, and the tabs that have its channel."""
        from redis.exceptions import NoScriptError

        assert self._redis is not None and self._script is not None
        since = time.time() - self.process_ttl_seconds
        for attempt in range(2):
            pipe = self._redis.pipeline(transaction=False)
            for message in messages:
                channel = channel_of(message)
                keys = [self._wire(channel), self._tabs_key(channel), self._procs_key]
                # By its digest: the script object would ask Redis first whether it has
                # the script, a round trip more per pipeline.
                pipe.evalsha(self._script.sha, len(keys), *keys, encode(message), since)
            try:
                return [int(n) for n in await pipe.execute()]
            except NoScriptError:
                # A restarted Redis has forgotten it (and, for the same reason, ran none of
                # the batch): loaded again, the batch is sent again.
                if attempt:
                    raise
                await self._redis.script_load(_PUBLISH_AND_COUNT)
        raise AssertionError("unreachable")

    async def set_tabs(self, channel: str, count: int) -> None:
        if count > 0:
            self._tabs[channel] = count
        else:
            self._tabs.pop(channel, None)
        if self._redis is None or not self._connected.is_set():
            return
        with contextlib.suppress(Exception):  # rewritten by the next heartbeat
            if count > 0:
                await self._redis.hset(self._tabs_key(channel), self.process_id, count)
            else:
                await self._redis.hdel(self._tabs_key(channel), self.process_id)

    async def tab_counts(self, channels: list[str]) -> dict[str, int]:
        assert self._redis is not None
        try:
            pipe = self._redis.pipeline(transaction=False)
            pipe.zrangebyscore(self._procs_key, time.time() - self.process_ttl_seconds, "+inf")
            for channel in channels:
                pipe.hgetall(self._tabs_key(channel))
            alive, *counts = await pipe.execute()
        except Exception as exc:
            raise BrokerUnavailable(str(exc)) from exc
        live = set(alive)
        return {
            channel: sum(int(n) for proc, n in per_proc.items() if proc in live)
            for channel, per_proc in zip(channels, counts, strict=True)
        }

    async def lead(self, name: str, ttl_seconds: float) -> bool:
        assert self._lead_script is not None
        try:
            key = f"{self.prefix}:lead:{name}"
            args = [self.process_id, int(ttl_seconds * 1000)]
            return bool(await self._lead_script(keys=[key], args=args))
        except Exception as exc:
            raise BrokerUnavailable(str(exc)) from exc

    async def put(self, key: str, value: str, ttl_seconds: float) -> None:
        assert self._redis is not None
        try:
            await self._redis.set(f"{self.prefix}:value:{key}", value, px=int(ttl_seconds * 1000))
        except Exception as exc:
            raise BrokerUnavailable(str(exc)) from exc

    async def get(self, key: str) -> str | None:
        assert self._redis is not None
        try:
            value = await self._redis.get(f"{self.prefix}:value:{key}")
        except Exception as exc:
            raise BrokerUnavailable(str(exc)) from exc
        return None if value is None else str(value)

    async def count(self, key: str, ttl_seconds: float, add: int = 1) -> int:
        assert self._redis is not None
        name = f"{self.prefix}:count:{key}"
        try:
            if not add:
                return int(await self._redis.get(name) or 0)
            pipe = self._redis.pipeline(transaction=True)
            pipe.set(name, 0, nx=True, px=int(ttl_seconds * 1000))
            pipe.incrby(name, add)
            return int((await pipe.execute())[1])
        except Exception as exc:
            raise BrokerUnavailable(str(exc)) from exc

    async def forget(self, key: str) -> None:
        assert self._redis is not None
        try:
            await self._redis.delete(f"{self.prefix}:count:{key}")
        except Exception as exc:
            raise BrokerUnavailable(str(exc)) from exc

    async def ping(self) -> None:
        if self._redis is None or not self._connected.is_set():
            raise BrokerUnavailable("Redis subscription not connected")
        try:
            await self._redis.ping()
        except Exception as exc:
            raise BrokerUnavailable(f"Redis does not answer: {exc}") from exc

    async def _beat(self) -> None:
        assert self._redis is not None
        pipe = self._redis.pipeline(transaction=False)
        pipe.zadd(self._procs_key, {self.process_id: time.time()})
        pipe.zremrangebyscore(self._procs_key, 0, time.time() - 10 * self.process_ttl_seconds)
        for channel, count in self._tabs.items():
            pipe.hset(self._tabs_key(channel), self.process_id, count)
        await pipe.execute()

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            try:
                await self._beat()
            except Exception as exc:  # the listener handles reconnection
                log.debug("heartbeat failed: %s", exc)

    async def _listen(self) -> None:
        backoff = 0.05
        while True:
            try:
                if not self._connected.is_set():
                    await self._resubscribe()
                    backoff = 0.05
                    self.reconnects += 1
                    metrics.BROKER_RECONNECTS.inc()
                    log.warning("Redis reconnected; %d channels resubscribed", len(self._channels))
                    if self._on_reconnect is not None:
                        try:
                            await self._on_reconnect()
                        except Exception:
                            log.exception("resync after reconnect failed")
                assert self._pubsub is not None
                async for msg in self._pubsub.listen():
                    if msg.get("type") != "message":
                        continue
                    channel = msg["channel"][len(self.prefix) + 1 :]
                    try:
                        self._on_message(channel, decode(msg["data"]))
                    except Exception:
                        log.exception("hub failed on a message for %s", channel)
                raise ConnectionError("the Redis subscription ended")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._connected.is_set():
                    log.warning("Redis connection lost (%s); reconnecting", exc)
                self._connected.clear()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_seconds)

    async def _resubscribe(self) -> None:
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        assert self._sub_redis is not None
        self._pubsub = self._sub_redis.pubsub(ignore_subscribe_messages=True)
        await self._pubsub.subscribe(
            self._wire("_process:" + self.process_id),
            *(self._wire(c) for c in self._channels),
        )
        self._connected.set()
        await self._beat()


def create_broker(url: str | None) -> Broker:
    if not url or url.startswith("memory://"):
        return MemoryBroker()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBroker(url)
    raise ValueError(f"unsupported broker URL {url!r}: use memory:// or redis://")
