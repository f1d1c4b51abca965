"""Two callhub processes sharing a real redis-server (and one SQLite store)."""

from __future__ import annotations

import asyncio

from support import Agent, RedisServer, Server, pbx


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


async def test_redis_restart_loses_no_pop(
    pair: tuple[Server, Server], redis_server: RedisServer, agents: list[Agent]
):
    a, b = pair
    agent = await Agent(a, "agente").login("3002")
    agents.append(agent)
    tab = await agent.tab()
    await pbx(b, "novaSolicitacao", cpf="52998224725", ramal="3002")
    await tab.wait_for("Maria da Silva")

    redis_server.kill()
    # Published while Redis is down: stored, answered, and not lost.
    r = await pbx(b, "novaSolicitacao", cpf="11144477735", ramal="3002")
    assert r.status_code == 200 and r.json()["delivered"] == 0
    await asyncio.sleep(0.3)
    redis_server.start()

    await tab.wait_for("João Pereira", timeout=10)
    r = await pbx(b, "novaSolicitacao", cpf="39053344705", ramal="3002")
    assert r.status_code == 200
    await tab.wait_for("Ana Souza", timeout=10)
