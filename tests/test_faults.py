"""Faults real deployments see: Redis restarting under load, a callhub process restarting,
PostgreSQL restarting. (A stalled tab: tests/ws/test_live_pops.py.)"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets

from support import (
    PBX55_TOKEN,
    PBX_TOKEN,
    Agent,
    AppServer,
    Cluster,
    PostgresServer,
    RedisServer,
    Server,
    Tab,
    api_call,
    http_client,
    pbx,
    run_sync,
    until_ready,
)

MARK = re.compile(r"Fila <strong>(L\d+)<")


def markers(frames: list[str]) -> set[str]:
    """The pops (by queue name) that reached a tab as a screen of their own."""
    found = set()
    for frame in frames:
        m = MARK.search(frame)
        if m:
            found.add(m.group(1))
    return found


async def drain(tab: Tab, wanted: set[str], timeout: float) -> set[str]:
    """Read the tab until every wanted pop is there or the time is up; what is missing."""
    deadline = time.monotonic() + timeout
    with contextlib.suppress(TimeoutError):
        while not wanted <= markers(tab.frames):
            await tab.next(timeout=max(0.01, deadline - time.monotonic()))
    return wanted - markers(tab.frames)


@pytest.mark.redis
async def test_redis_killed_under_steady_load_loses_no_pop(
    pair: tuple[Server, Server], redis_server: RedisServer, agents: list[Agent]
) -> None:
    a, b = pair
    agent = await Agent(a, "agente").login("3100")
    agents.append(agent)
    tab = await agent.tab()
    sent: list[str] = []
    stop = asyncio.Event()

    async def steady_load() -> None:
        # 20 pops a second into process b; the tab is on process a.
        async with http_client(base_url=b.url, timeout=10, headers={"token": PBX_TOKEN}) as c:
            n = 0
            while not stop.is_set():
                fila = f"L{n:04d}"
                r = await c.get(
                    "/webservices/telefonia/novaSolicitacao",
                    params={"cpf": "52998224725", "ramal": "3100", "fila": fila},
                )
                assert r.status_code == 200, r.text  # stored and answered, Redis or not
                sent.append(fila)
                n += 1
                await asyncio.sleep(0.05)

    load = asyncio.create_task(steady_load())
    try:
        await asyncio.sleep(0.5)
        redis_server.kill()
        await asyncio.sleep(1.0)  # pops keep coming while Redis is down
        during = set(sent)
        redis_server.start()
        # Within 2 s of Redis coming back, the tab has every pop made while it was down.
        missing = await drain(tab, during, timeout=2.0)
        assert not missing, f"{len(missing)} pops not resynced: {sorted(missing)[:5]}"
        await asyncio.sleep(0.5)
    finally:
        stop.set()
        await load
    assert len(sent) > 20
    missing = await drain(tab, set(sent), timeout=5.0)
    assert not missing, sorted(missing)[:5]


@pytest.mark.redis
async def test_a_restarted_process_sends_its_tabs_elsewhere_and_they_catch_up(
    pair: tuple[Server, Server], agents: list[Agent]
) -> None:
    a, b = pair
    agent = await Agent(a, "agente").login("3101")
    agents.append(agent)
    tab = await agent.tab()
    await pbx(b, "novaSolicitacao", cpf="52998224725", ramal="3101", fila="L0001")
    first = await tab.wait_for("L0001")
    seen = int(first.split('data-seq="')[1].split('"')[0])

    a.stop()  # a deploy restarts process a: its tabs are told to come back (1012)
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await tab.next(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
    for fila in ("L0002", "L0003"):
        r = await pbx(b, "novaSolicitacao", cpf="11144477735", ramal="3101", fila=fila)
        assert r.status_code == 200 and r.json()["delivered"] == 0

    # The tab reconnects to the other process (the load balancer's choice), from where it was.
    again = await agent.tab(after=seen, server=b)
    recent, newest = again.frames[0], await again.next()
    # Both missed pops are listed, and the newest is on screen.
    assert f'id="pop-item-{seen + 1}"' in recent and f'id="pop-item-{seen + 2}"' in recent
    assert "L0003" in newest and "João Pereira" in newest
    await pbx(b, "novaSolicitacao", cpf="39053344705", ramal="3101", fila="L0004")
    await again.wait_for("L0004")

    a.start()  # process a is back and serves the same extension
    other = await agent.tab(after=seen, server=a)
    assert f'id="pop-item-{seen + 3}"' in other.frames[0]
    await pbx(a, "novaSolicitacao", cpf="52998224725", ramal="3101", fila="L0005")
    await other.wait_for("L0005")
    await again.wait_for("L0005")


@pytest.fixture
def pg_cluster(
    postgres: PostgresServer, postgres_template: str, tmp_path: Path
) -> Iterator[Cluster]:
    url = run_sync(postgres.new_database(template=postgres_template))
    c = Cluster(tmp_path, url)
    try:
        yield c
    finally:
        c.stop()
        if postgres.proc is None:
            postgres.start()
        run_sync(postgres.drop_database(url))


@pytest.mark.postgresql
async def test_postgresql_restart_fails_cleanly_then_recovers(
    pg_cluster: Cluster, postgres: PostgresServer, agents: list[Agent]
) -> None:
    server: AppServer = pg_cluster.server()
    agent = await Agent(server, "agente").login("3102")
    agents.append(agent)
    tab = await agent.tab()
    await pbx(server, "novaSolicitacao", cpf="52998224725", ramal="3102", fila="L0001")
    await tab.wait_for("L0001")

    postgres.stop(signal.SIGINT)  # fast shutdown: every connection is cut
    r = await pbx(server, "novaSolicitacao", cpf="52998224725", ramal="3102", fila="L0002")
    assert r.status_code == 503 and r.headers["retry-after"] == "2", r.text
    async with http_client(base_url=server.url, timeout=10) as c:
        login = {"userName": "tecnico", "password": "callhub-demo", "platform": "android"}
        api = await c.post("/services/v2/login", json=login)
        assert api.status_code == 503
        assert api.json()["error"]["code"] == "UNAVAILABLE"  # still the API's envelope
    page = await agent.http.get("/atendimento")
    assert page.status_code == 503 and "Banco de dados indisponível" in page.text
    async with http_client(base_url=server.url, timeout=10) as c:
        ready = await c.get("/readyz")
        assert ready.status_code == 503 and ready.text.startswith("database:"), ready.text
        assert (await c.get("/healthz")).status_code == 200

    postgres.start()  # back, on the same address; callhub is not restarted
    await until_ready(server)
    r = await pbx(server, "novaSolicitacao", cpf="52998224725", ramal="3102", fila="L0003")
    assert r.status_code == 200 and r.json()["delivered"] == 1
    await tab.wait_for("L0003")  # the tab stayed open through it all
    assert (await agent.http.get("/atendimento")).status_code == 200
    await api_call(
        server,
        "v2/login",
        {"userName": "tecnico", "password": "callhub-demo", "platform": "android"},
    )


@pytest.mark.above_the_store
async def test_a_client_that_hangs_up_mid_body_costs_no_error(
    server: AppServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A PBX (or anything) that drops the connection while sending its body: nothing is
    stored, and the server logs no error for it."""
    caplog.set_level(logging.INFO)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(
        b"POST /integrations/55pbx HTTP/1.1\r\nHost: callhub\r\ntoken: "
        + PBX55_TOKEN.encode()
        + b"\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n"
        + b'{"call_id": "cut-short", '
    )
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    deadline = time.monotonic() + 5
    while not any("went away" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline, [r.getMessage() for r in caplog.records]
        await asyncio.sleep(0.01)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    async with http_client(base_url=server.url, timeout=5) as c:  # and it still serves
        assert (await c.get("/healthz")).text == "ok"
