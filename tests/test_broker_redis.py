"""Two callhub processes sharing a real redis-server (and one SQLite store)."""

from __future__ import annotations

import asyncio
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from callhub.broker import create_broker
from callhub.protocol import Pop, extension_channel
from support import Agent, RedisServer, Served, Server, http_client, pbx, until_ready


async def test_pop_crosses_processes(pair: tuple[Server, Server], agents: list[Agent]):
    a, b = pair
    agent = await Agent(a, "agente").login("3001")
    agents.append(agent)
    tab_a = await agent.tab()
    tab_b = await agent.tab(server=b)
    r = await pbx(b, "novaSolicitacao", cpf="52998224725", ramal="3001")
    assert r.status_code == 200 and r.json()["delivered"] == 2
    await tab_a.wait_for("Maria da Silva")
    await tab_b.wait_for("Maria da Silva")


async def test_redis_restart_loses_no_pop_on_either_tab_of_the_extension(
    pair: tuple[Server, Server], redis_server: RedisServer, agents: list[Agent]
):
    """The agent has a tab on each process; Redis restarts between two pops. Each tab gets
    every pop once: the one published while Redis was down, and the next."""
    a, b = pair
    agent = await Agent(a, "agente").login("3002")
    agents.append(agent)
    tabs = [await agent.tab(), await agent.tab(server=b)]
    await pbx(b, "novaSolicitacao", cpf="52998224725", ramal="3002")
    for tab in tabs:
        await tab.wait_for("Maria da Silva")

    redis_server.kill()
    for server in pair:  # both processes know Redis is gone
        await until_ready(server, False)
    # Published while Redis is down: stored, answered, and not lost.
    r = await pbx(b, "novaSolicitacao", cpf="11144477735", ramal="3002")
    assert r.status_code == 200 and r.json()["delivered"] == 0
    redis_server.start()

    for server in pair:
        await until_ready(server, True)
    r = await pbx(b, "novaSolicitacao", cpf="39053344705", ramal="3002")
    assert r.status_code == 200
    for tab in tabs:
        await tab.wait_for("Ana Souza", timeout=10)
        screens = [f for f in tab.frames if 'id="pop-area"' in f]
        assert ["Maria da Silva" in f for f in screens] == [True, False, False]
        assert ["João Pereira" in f for f in screens] == [False, True, False]


async def test_the_storing_process_renders_for_the_other_processes_tabs(
    pair: tuple[Server, Server], agents: list[Agent]
):
    """A pop stored by the process that has no tab of the extension reaches the tabs of
    the other process rendered already, in their language: they only forward it."""
    a, b = pair
    agent = Agent(a, "agente")
    agent.http.headers["Accept-Language"] = "en"  # the session's language, from the login
    await agent.login("3003")
    agents.append(agent)
    english = await agent.tab()
    before = await rendered_on_arrival(a)
    r = await pbx(b, "novaSolicitacao", cpf="52998224725", ramal="3003", ura="7-1")
    assert r.status_code == 200 and r.json()["delivered"] == 1
    frame = await english.wait_for("7-1")
    assert "New request" in frame and "Maria da Silva" in frame
    assert await rendered_on_arrival(a) == before


async def rendered_on_arrival(server: Served) -> float:
    async with http_client(base_url=server.url, timeout=5) as c:
        text = (await c.get("/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "callhub_fragments_rendered_on_arrival_total":
                return sample.value
    raise AssertionError("callhub_fragments_rendered_on_arrival_total not exported")


async def test_publishes_waiting_together_share_one_round_trip_and_keep_their_order(
    redis_server: RedisServer,
):
    """Two brokers as two processes: what one publishes while a pipeline is out goes in
    the next one, in order, each publish answered with the tabs that have its channel."""
    sender, receiver = create_broker(redis_server.url), create_broker(redis_server.url)
    received: list[int] = []
    arrived = asyncio.Event()

    def on_message(channel: str, message: Any) -> int:
        received.append(message.seq)
        if len(received) == 200:
            arrived.set()
        return 0

    receiver.messaging.bind(on_message)
    await sender.connect()
    await receiver.connect()
    try:
        channel = extension_channel("4001")
        await receiver.messaging.subscribe(channel)
        await receiver.coordination.set_tabs(channel, 3)
        redis = sender.messaging.link.redis  # type: ignore[attr-defined]
        real_pipeline = redis.pipeline
        round_trips = 0

        def counting_pipeline(*args: Any, **kwargs: Any) -> Any:
            nonlocal round_trips
            round_trips += 1
            return real_pipeline(*args, **kwargs)

        redis.pipeline = counting_pipeline
        counts = await asyncio.gather(
            *(sender.messaging.publish(Pop(seq, "4001", f"p{seq}", {}, 0.0)) for seq in range(200))
        )
        await asyncio.wait_for(arrived.wait(), 5)
        assert counts == [3] * 200
        assert received == list(range(200))
        # The first goes alone (a script Redis has not seen costs one retry); the rest
        # waited for it and went together.
        assert round_trips <= 4, round_trips
    finally:
        await sender.disconnect()
        await receiver.disconnect()
