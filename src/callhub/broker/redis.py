"""Many processes, on one or many hosts (`redis://`): Redis carries the messages and keeps
what they coordinate (redis_coordination.py; what both share, redis_link.py).

Each process has one connection for commands (publishes, presence, leases, values,
counters) and one that only listens (SUBSCRIBE), with one listener task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from callhub import metrics
from callhub.broker.base import Broker, BrokerUnavailable, Messaging
from callhub.broker.redis_coordination import RedisCoordination
from callhub.broker.redis_link import RedisLink
from callhub.protocol import Message, channel_of, decode, encode

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import PubSub

log = logging.getLogger("callhub.broker")

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


class RedisMessaging(Messaging):
    max_backoff_seconds = 1.0

    def __init__(self, link: RedisLink, presence: RedisCoordination) -> None:
        super().__init__()
        self.link = link
        self._presence = presence
        self._channels: set[str] = set()
        self._sub_redis: Redis | None = None
        self._pubsub: PubSub | None = None
        self._listener: asyncio.Task[None] | None = None
        self._script: Any = None
        self._connected = asyncio.Event()
        self._outbox: list[tuple[Message, asyncio.Future[int]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        redis = await self.link.connect()
        self._script = redis.register_script(_PUBLISH_AND_COUNT)
        # The subscriber must never reconnect behind our back: a silent reconnect would
        # skip the resync of the tabs, and pops published in the gap would wait for a reload.
        self._sub_redis = self.link.client(retry=Retry(NoBackoff(), 0))
        self._pubsub = self._sub_redis.pubsub(ignore_subscribe_messages=True)
        # A pubsub connection needs one subscription before it can listen.
        await self._pubsub.subscribe(self.link.wire("_process:" + self.link.process_id))
        self._connected.set()
        self._listener = asyncio.create_task(self._listen(), name="callhub-broker-listener")

    async def disconnect(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        if self._sub_redis is not None:
            with contextlib.suppress(Exception):
                await self._sub_redis.aclose()
        self._channels.clear()

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)
        if self._pubsub is not None and self._connected.is_set():
            with contextlib.suppress(Exception):  # the listener resubscribes after a reconnect
                await self._pubsub.subscribe(self.link.wire(channel))

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        if self._pubsub is not None and self._connected.is_set():
            with contextlib.suppress(Exception):
                await self._pubsub.unsubscribe(self.link.wire(channel))

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

        redis = self.link.redis
        if redis is None or self._script is None:
            raise BrokerUnavailable("Redis not connected")
        link = self.link
        since = link.live_since()
        for attempt in range(2):
            pipe = redis.pipeline(transaction=False)
            for message in messages:
                channel = channel_of(message)
                keys = [link.wire(channel), link.tabs_key(channel), link.procs_key]
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
                await redis.script_load(_PUBLISH_AND_COUNT)
        raise AssertionError("unreachable")

    async def ping(self) -> None:
        if self.link.redis is None or not self._connected.is_set():
            raise BrokerUnavailable("Redis subscription not connected")
        try:
            await self.link.redis.ping()
        except Exception as exc:
            raise BrokerUnavailable(f"Redis does not answer: {exc}") from exc

    async def _listen(self) -> None:
        backoff = 0.05
        prefix = len(self.link.prefix) + 1
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
                    channel = msg["channel"][prefix:]
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
            self.link.wire("_process:" + self.link.process_id),
            *(self.link.wire(c) for c in self._channels),
        )
        self._connected.set()
        # A restarted Redis knows nothing of this process: its presence is written again.
        await self._presence.beat()


def redis_broker(url: str, *, prefix: str = "callhub") -> Broker:
    link = RedisLink(url, prefix=prefix)
    coordination = RedisCoordination(link)
    return Broker(
        RedisMessaging(link, coordination),
        coordination,
        shared=True,
        process_id=link.process_id,
    )
