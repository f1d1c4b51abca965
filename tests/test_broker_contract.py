"""The broker's contract, the same cases against both implementations: the in-process one
(`memory://`) and Redis (a real redis-server), where two brokers stand for two processes.

With one process (memory) the sender is the receiver; with Redis they are two brokers,
as two processes would have.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from callhub.broker import Broker, BrokerUnavailable, create_broker
from callhub.protocol import Message, Pop, extension_channel
from support import RedisServer


@dataclass
class Pair:
    sender: Broker
    receiver: Broker
    received: list[tuple[str, Message]]


@pytest.fixture(params=["memory", "redis"])
async def pair(request: pytest.FixtureRequest) -> AsyncIterator[Pair]:
    if request.param == "memory":
        one = create_broker("memory://")
        made = [one]
        pair = Pair(one, one, [])
    else:
        url = request.getfixturevalue("redis_server").url
        made = [create_broker(url), create_broker(url)]
        pair = Pair(made[0], made[1], [])

    def on_message(channel: str, message: Message) -> int:
        pair.received.append((channel, message))
        return 1

    pair.receiver.messaging.bind(on_message)
    for broker in made:
        await broker.connect()
    try:
        yield pair
    finally:
        for broker in made:
            await broker.disconnect()


async def until(check: Callable[[], Any], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def pop(seq: int, ramal: str = "4001") -> Pop:
    return Pop(seq, ramal, f"p{seq}", {"n": seq}, 0.0)


async def test_messages_reach_the_subscribed_listener_in_the_order_published(pair: Pair):
    channel = extension_channel("4001")
    await pair.receiver.messaging.subscribe(channel)
    await asyncio.gather(*(pair.sender.messaging.publish(pop(n)) for n in range(50)))
    await until(lambda: len(pair.received) == 50)
    assert [c for c, _m in pair.received] == [channel] * 50
    assert [m.seq for _c, m in pair.received if isinstance(m, Pop)] == list(range(50))
    assert isinstance(pair.received[0][1], Pop) and pair.received[0][1].payload == {"n": 0}


async def test_a_channel_not_subscribed_or_no_longer_gets_nothing(pair: Pair):
    await pair.receiver.messaging.subscribe(extension_channel("4001"))
    await pair.sender.messaging.publish(pop(1, "4002"))  # nobody listens to 4002
    await pair.sender.messaging.publish(pop(2, "4001"))
    await until(lambda: len(pair.received) == 1)
    await pair.receiver.messaging.unsubscribe(extension_channel("4001"))
    await pair.sender.messaging.publish(pop(3, "4001"))
    await pair.sender.messaging.publish(pop(4, "4002"))
    await asyncio.sleep(0.2)  # what would arrive, has arrived: Redis delivers in order
    assert [m.seq for _c, m in pair.received if isinstance(m, Pop)] == [2]


async def test_delivered_is_the_tabs_open_on_the_channel_across_processes(pair: Pair):
    channel = extension_channel("4001")
    await pair.receiver.messaging.subscribe(channel)
    await pair.receiver.coordination.set_tabs(channel, 3)
    expected = 3
    if pair.sender is not pair.receiver:
        await pair.sender.coordination.set_tabs(channel, 2)  # the other process's tabs count
        expected = 5
    assert await pair.sender.messaging.publish(pop(1)) == expected
    assert await pair.sender.coordination.tab_counts([channel, "ext:9"]) == {
        channel: expected,
        "ext:9": 0,
    }
    await pair.receiver.coordination.set_tabs(channel, 0)
    assert await pair.sender.messaging.publish(pop(2)) == expected - 3


async def test_shared_values_and_counters_and_a_counter_expires(pair: Pair):
    a, b = pair.sender.coordination, pair.receiver.coordination
    await a.put("board", '{"queues": []}', 30)
    assert await b.get("board") == '{"queues": []}'
    assert await b.get("nothing") is None
    assert [await a.count("tries", 0.3), await b.count("tries", 0.3)] == [1, 2]
    assert await a.count("tries", 0.3, add=0) == 2  # read only
    assert await b.count("tries", 0.3, add=-1) == 1
    await asyncio.sleep(0.4)
    assert await a.count("tries", 0.3) == 1  # expired: a new window
    await b.forget("tries")
    assert await a.count("tries", 30, add=0) == 0


async def test_a_lease_has_one_holder_at_a_time(pair: Pair):
    a, b = pair.sender.coordination, pair.receiver.coordination
    assert await a.lead("poller", 0.3)
    assert await a.lead("poller", 0.3)  # kept by its holder
    if pair.sender is pair.receiver:
        return  # one process: it always leads
    assert not await b.lead("poller", 0.3)
    await asyncio.sleep(0.4)  # the holder stopped renewing it
    assert await b.lead("poller", 0.3)
    assert not await a.lead("poller", 0.3)
    await a.resign("poller")  # not a's: b keeps it
    assert not await a.lead("poller", 30)
    await b.resign("poller")  # given up: free at once, long before it would run out
    assert await a.lead("poller", 30)


async def test_after_redis_restarts_the_listener_resubscribes_and_presence_returns(
    redis_server: RedisServer,
):
    sender, receiver = create_broker(redis_server.url), create_broker(redis_server.url)
    received: list[int] = []
    resynced = asyncio.Event()

    def on_message(channel: str, message: Message) -> int:
        if isinstance(message, Pop):
            received.append(message.seq)
        return 1

    async def on_reconnect() -> None:
        resynced.set()

    receiver.messaging.bind(on_message, on_reconnect)
    await sender.connect()
    await receiver.connect()
    channel = extension_channel("4001")
    try:
        await receiver.messaging.subscribe(channel)
        await receiver.coordination.set_tabs(channel, 2)
        redis_server.kill()
        with pytest.raises(BrokerUnavailable):
            await sender.messaging.publish(pop(1))
        with pytest.raises(BrokerUnavailable):
            await receiver.ping()
        redis_server.start()  # empty: no subscriptions, no presence
        await asyncio.wait_for(resynced.wait(), 10)
        assert receiver.messaging.reconnects == 1
        # Subscribed again, and its tabs reported again, without waiting for a heartbeat.
        assert await sender.coordination.tab_counts([channel]) == {channel: 2}
        assert await sender.messaging.publish(pop(2)) == 2
        await until(lambda: received == [2])
    finally:
        await sender.disconnect()
        await receiver.disconnect()
