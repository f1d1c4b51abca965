"""Fixtures: real components on loopback (uvicorn running callhub, redis-server, PostgreSQL).

Every test that uses a database runs twice, on SQLite and on PostgreSQL (`database_url`
is parametrised; select one with `-m sqlite` or `-m postgresql`). The demo data is seeded
once per test process into a template (a file; a template database), and each test gets
its own copy.

Property tests (hypothesis) draw the same inputs on every run, so that CI's verdict
depends on the code alone; `scripts/explore` runs them with new inputs, many more of
them (`--hypothesis-profile=explore`).
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from callhub.adapters.uscall import USCallClient
from support import (
    USCALL_TOKEN,
    Agent,
    AppServer,
    Cluster,
    PostgresServer,
    RedisServer,
    Server,
    USCallSim,
    run_sync,
    seed,
)

# The default: the same examples every run, and no example database carried between runs.
settings.register_profile("repeatable", derandomize=True, database=None)
# scripts/explore: new examples on every run, and more of them.
settings.register_profile("explore", derandomize=False, max_examples=1000)
settings.load_profile("repeatable")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked above_the_store runs once, on SQLite: PostgreSQL would show the same.
    Tests marked long start first."""
    dropped = [
        item
        for item in items
        if item.get_closest_marker("above_the_store") and item.get_closest_marker("postgresql")
    ]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]
    # The long ones first: a worker that takes one last would run alone at the end.
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


DATABASES = [
    pytest.param("sqlite", marks=pytest.mark.sqlite),
    pytest.param("postgresql", marks=pytest.mark.postgresql),
]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    pg = PostgresServer()
    pg.start()
    try:
        yield pg
    finally:
        pg.remove()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "callhub.db"
    run_sync(seed(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres: PostgresServer) -> str:
    run_sync(postgres.execute("CREATE DATABASE callhub_template"))
    run_sync(seed(postgres.url("callhub_template")))
    return "callhub_template"


@pytest.fixture(params=DATABASES)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it, not even the schema."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    pg: PostgresServer = request.getfixturevalue("postgres")
    url = run_sync(pg.new_database())
    yield url
    run_sync(pg.drop_database(url))


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of this test's own, migrated and holding the demo data."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "callhub.db"
        shutil.copyfile(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    pg: PostgresServer = request.getfixturevalue("postgres")
    url = run_sync(pg.new_database(template=request.getfixturevalue("postgres_template")))
    yield url
    run_sync(pg.drop_database(url))


@pytest.fixture
async def cluster(tmp_path: Path, database_url: str) -> AsyncIterator[Cluster]:
    c = Cluster(tmp_path, database_url)
    try:
        yield c
    finally:
        await c.aclose()


@pytest.fixture
async def server(cluster: Cluster) -> AppServer:
    """callhub on the test's database, served in the test's loop (`cluster.server()` for
    one in a process of its own)."""
    return await cluster.app_server()


@pytest.fixture
def process_server(cluster: Cluster) -> Server:
    """callhub serve in a process of its own: for a test whose client blocks (a plain
    function, a subprocess), which would stop a server running in the test's loop."""
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
def pair(cluster: Cluster, redis_server: RedisServer) -> tuple[Server, Server]:
    """Two callhub processes sharing one store and one redis-server."""
    cluster.broker_url = redis_server.url
    return cluster.server(), cluster.server()


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
