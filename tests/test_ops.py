"""What operators and load balancers use: /healthz, /readyz, /metrics, `callhub poll`."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from support import (
    PBX_TOKEN,
    SECRET,
    Agent,
    Cluster,
    RedisServer,
    Served,
    http_client,
    pbx,
    terminate,
    until_ready,
)


async def scrape(
    server: Served, **headers: str
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with http_client(base_url=server.url, timeout=5) as c:
        r = await c.get("/metrics", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


async def test_health_readiness_and_metrics(cluster: Cluster, agents: list[Agent]) -> None:
    server = cluster.server()
    async with http_client(base_url=server.url, timeout=5) as c:
        assert (await c.get("/healthz")).text == "ok"
        ready = await c.get("/readyz")
        assert (ready.status_code, ready.text) == (200, "ready")
    agent = await Agent(server, "agente").login("2010")
    agents.append(agent)
    tab = await agent.tab()
    r = await pbx(server, "novaSolicitacao", cpf="52998224725", ramal="2010", fila="Suporte")
    assert r.status_code == 200
    await tab.wait_for("Suporte")
    async with http_client(base_url=server.url, timeout=5) as c:
        bad = await c.get(
            "/webservices/telefonia/novaSolicitacao",
            params={"ramal": "2010"},
            headers={"token": "not-the-token"},
        )
        assert bad.status_code == 401
        refused = await c.get("/webservices/telefonia/novaSolicitacao", params={"ramal": "1"})
        assert refused.status_code == 401
        unknown = await c.get("/webservices/telefonia/nada", headers={"token": PBX_TOKEN})
        assert unknown.status_code == 404

    m = await scrape(server)
    assert m[("callhub_pops_published_total", ())] == 1
    assert m[("callhub_pops_delivered_total", ())] == 1
    assert m[("callhub_pop_latency_seconds_count", ())] == 1
    assert 0 < m[("callhub_pop_latency_seconds_sum", ())] < 5
    assert m[("callhub_connected_tabs", (("kind", "agent"),))] == 1
    assert m[("callhub_pbx_requests_total", (("outcome", "ok"), ("source", "telefonia")))] == 1
    assert m[("callhub_pbx_requests_total", (("outcome", "refused"), ("source", "telefonia")))] == 2
    bad_request = (("outcome", "bad_request"), ("source", "telefonia"))
    assert m[("callhub_pbx_requests_total", bad_request)] == 1
    assert m[("callhub_broker_reconnects_total", ())] == 0
    # The pop was committed by the pipeline's writer, alone in its batch.
    assert m[("callhub_pop_batch_size_count", ())] >= 1
    assert m[("callhub_pop_batch_size_sum", ())] >= 1
    # The server times its own event loop, all along (a timer every 20 ms).
    ticks = m[("callhub_event_loop_lag_seconds_count", ())]
    assert ticks > 0 and m[("callhub_event_loop_lag_seconds_sum", ())] >= 0
    deadline = time.monotonic() + 5
    while (await scrape(server))[("callhub_event_loop_lag_seconds_count", ())] <= ticks:
        assert time.monotonic() < deadline, "the event loop's lag is not measured any more"
        await asyncio.sleep(0.05)

    await tab.close()
    for _ in range(50):
        m = await scrape(server)
        if m[("callhub_connected_tabs", (("kind", "agent"),))] == 0:
            break
        await asyncio.sleep(0.1)
    assert m[("callhub_connected_tabs", (("kind", "agent"),))] == 0


async def test_metrics_token(cluster: Cluster) -> None:
    server = await cluster.app_server(CALLHUB_METRICS_TOKEN="scrape-me-0123")
    async with http_client(base_url=server.url, timeout=5) as c:
        assert (await c.get("/metrics")).status_code == 401
        wrong = await c.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
    await scrape(server, Authorization="Bearer scrape-me-0123")


@pytest.mark.redis
async def test_readiness_follows_redis_and_a_poller_process_runs(
    cluster: Cluster, redis_server: RedisServer, tmp_path: Path
) -> None:
    cluster.broker_url = redis_server.url
    server = cluster.server(CALLHUB_BOARD_POLL_SECONDS="0.3")
    async with http_client(base_url=server.url, timeout=5) as c:
        assert (await c.get("/readyz")).status_code == 200
        redis_server.kill()
        r = await c.get("/readyz")
        assert r.status_code == 503 and r.text.startswith("broker:"), r.text
        assert r.headers["retry-after"] == "2"
        assert (await c.get("/healthz")).status_code == 200  # alive, only not ready
        redis_server.start()
        await until_ready(server)
        m = await scrape(server)
        assert m[("callhub_broker_reconnects_total", ())] >= 1

    # `callhub poll` refuses to run without Redis, and runs beside the web process with it.
    env = {
        **os.environ,
        "CALLHUB_DATABASE_URL": cluster.database_url,
        "CALLHUB_SECRET_KEY": SECRET,
        "CALLHUB_PBX_TOKEN": PBX_TOKEN,
        "CALLHUB_BOARD_POLL_SECONDS": "0.3",
    }
    alone = subprocess.run(
        [sys.executable, "-m", "callhub.cli", "poll"], env=env, capture_output=True, timeout=60
    )
    assert alone.returncode == 2 and b"CALLHUB_BROKER_URL" in alone.stderr
    log = tmp_path / "poller.log"
    with log.open("wb") as out:
        poller = subprocess.Popen(
            [sys.executable, "-m", "callhub.cli", "poll"],
            env={**env, "CALLHUB_BROKER_URL": redis_server.url},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        for _ in range(200):
            if b"board poller running" in log.read_bytes() or poller.poll() is not None:
                break
            await asyncio.sleep(0.05)
        assert poller.poll() is None, log.read_text()
    finally:
        terminate(poller)
    assert poller.returncode == 0, log.read_text()  # SIGTERM: a clean stop
