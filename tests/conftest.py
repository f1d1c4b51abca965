"""Fixtures: real components on loopback (uvicorn running callhub, redis-server)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from callhub.adapters.uscall import USCallClient
from support import USCALL_TOKEN, Agent, Cluster, RedisServer, Server, USCallSim, seed


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'callhub.db'}"
    await seed(url)
    c = Cluster(tmp_path, url)
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture
async def server(cluster: Cluster) -> Server:
    return cluster.server()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed: run scripts/test, which installs it")
    r = RedisServer(tmp_path)
    r.start()
    try:
        yield r
    finally:
        r.kill()


@pytest.fixture
async def agents() -> AsyncIterator[list[Agent]]:
    made: list[Agent] = []
    yield made
    for a in made:
        await a.aclose()


@pytest.fixture
def uscall_sim(tmp_path: Path) -> Iterator[USCallSim]:
    sim = USCallSim(tmp_path)
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
async def pbx(uscall_sim: USCallSim) -> AsyncIterator[USCallClient]:
    """callhub's own USCall client, talking to the simulator."""
    client = await USCallClient.connect(uscall_sim.wsdl, USCALL_TOKEN, timeout=5)
    try:
        yield client
    finally:
        await client.aclose()
