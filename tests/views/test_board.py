"""The wall board through a real server: fed by the USCall simulator, or by callhub alone."""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis

from callhub.adapters.uscall import USCallClient
from support import (
    USCALL_TOKEN,
    Agent,
    Cluster,
    RedisServer,
    Server,
    Tab,
    USCallSim,
    board_tab,
    pbx,
    push55,
)


def row(frame: str, row_id: str) -> str:
    found = re.search(rf'<tr id="{row_id}".*?</tr>', frame, re.S)
    return found.group(0) if found else ""


def latest_row(tab: Tab, row_id: str) -> str:
    """The row as the page shows it now: its newest version in the frames received."""
    for frame in reversed(tab.frames):
        found = row(frame, row_id)
        if found:
            return found
    return ""


async def wait_row(tab: Tab, row_id: str, *texts: str, timeout: float = 8.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        found = latest_row(tab, row_id)
        if found and all(t in found for t in texts):
            return found
        await tab.next(max(0.01, deadline - time.monotonic()))


# A queue's row, cell by cell (fragments/board.html), so that a figure is read in its column.
QUEUE_COLUMNS = (
    "waiting",
    "longest",
    "logged_in",
    "available",
    "busy",
    "paused",
    "received",
    "answered",
    "abandoned",
    "in_progress",
    "service_level",
    "abandon_rate",
)


def cells(row_html: str, columns: tuple[str, ...]) -> dict[str, str]:
    found = re.findall(r"<td[^>]*>(.*?)</td>", row_html, re.S)
    return dict(zip(columns, (re.sub(r"<[^>]+>", "", c).strip() for c in found), strict=False))


async def wait_queue(tab: Tab, row_id: str, timeout: float = 8.0, **expected: str) -> str:
    """Until the queue's row shows each expected figure in its own column."""
    deadline = time.monotonic() + timeout
    while True:
        found = latest_row(tab, row_id)
        shown = cells(found, QUEUE_COLUMNS)
        if found and all(shown.get(k) == v for k, v in expected.items()):
            return found
        try:
            await tab.next(max(0.01, deadline - time.monotonic()))
        except TimeoutError:
            raise AssertionError(f"{row_id} shows {shown}, not {expected}") from None


async def wait_frame(tab: Tab, check: object, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        frame = await tab.next(max(0.01, deadline - time.monotonic()))
        if check(frame):  # type: ignore[operator]
            return frame


async def test_the_board_follows_the_pbx(
    cluster: Cluster, uscall_sim: USCallSim, pbx: USCallClient, agents: list[Agent]
) -> None:
    server = await cluster.app_server(**uscall_sim.env())
    supervisor = await Agent(server, "supervisor").login()
    agents.append(supervisor)
    page = await supervisor.http.get("/painel")
    assert page.status_code == 200 and 'ws-connect="/ws/painel"' in page.text
    tab = await board_tab(supervisor)

    # Agent 104 starts logged in to queue 901 and idle.
    found = await wait_row(tab, "a-104", "Disponível")
    assert "Diego Rocha" in found and "2004" in found

    await pbx.start_pause("104", "2")
    await wait_row(tab, "a-104", "Em pausa", "Banheiro")
    await wait_queue(tab, "q-901", logged_in="1", available="0", paused="1")

    await uscall_sim.arrive("901", "11987654321", talk="2", patience="60")
    queue = await wait_queue(tab, "q-901", waiting="1")
    assert "data-since" in queue  # the longest wait counts up in the page

    await pbx.end_pause("104")
    busy = await wait_row(tab, "a-104", "Em ligação")
    assert "(11) 98765-4321" in busy
    await wait_queue(tab, "q-901", waiting="0")
    # Answered, and recorded: received 1, answered 1, within the 20 s target.
    await wait_queue(
        tab, "q-901", received="1", answered="1", abandoned="0", service_level="100%", timeout=10
    )
    await wait_row(tab, "a-104", "Disponível", timeout=10)

    # Only what changed travels: once nothing changes, each round sends the board's meta
    # line (when it was read) and no row.
    await wait_frame(tab, lambda f: 'id="board-meta"' in f and "<tr" not in f)
    quiet = await tab.next(3)
    assert 'id="board-meta"' in quiet and "<tr" not in quiet


async def test_monitor_and_hang_up_from_the_board(
    cluster: Cluster, uscall_sim: USCallSim, pbx: USCallClient, agents: list[Agent]
) -> None:
    server = await cluster.app_server(**uscall_sim.env())
    supervisor = await Agent(server, "supervisor").login()
    agents.append(supervisor)
    await pbx.agent_login("101", "2001", hashlib.md5(b"senha101").hexdigest())
    await pbx.start_call("outbound", "2001", "11987654321", "1")
    tab = await board_tab(supervisor)
    found = await wait_row(tab, "a-101", "Em ligação")
    assert 'hx-post="/painel/monitorar"' in found
    while latest_row(tab, "a-101").count("data-since") < 2:  # answered: talk time counts
        await tab.next()

    r = await supervisor.http.post(
        "/painel/monitorar", data={"agente": "101", "ramal_origem": "2100", "tipo": "escuta"}
    )
    assert r.status_code == 200 and "Monitoria (escuta)" in r.text, r.text
    r = await supervisor.http.post(
        "/painel/monitorar", data={"agente": "101", "ramal_origem": "", "tipo": "escuta"}
    )
    assert r.status_code == 400 and "ramal_origem" in r.text
    r = await supervisor.http.post(
        "/painel/monitorar", data={"agente": "101", "ramal_origem": "2100", "tipo": "shout"}
    )
    assert r.status_code == 400 and "tipo" in r.text

    r = await supervisor.http.post("/painel/desligar", data={"agente": "101"})
    assert r.status_code == 200 and "desconectada" in r.text
    await wait_row(tab, "a-101", "Disponível")
    r = await supervisor.http.post("/painel/desligar", data={"agente": "101"})
    assert r.status_code == 502 and "Nenhuma ligação em curso" in r.text

    agent = await Agent(server, "agente").login("2001")
    agents.append(agent)
    assert (await agent.http.get("/painel")).status_code == 403
    assert (await agent.http.post("/painel/desligar", data={"agente": "101"})).status_code == 403


@pytest.mark.above_the_store
async def test_the_board_warns_while_uscall_is_unreachable_and_recovers(
    cluster: Cluster, uscall_sim: USCallSim, agents: list[Agent]
) -> None:
    server = await cluster.app_server(**uscall_sim.env())
    supervisor = await Agent(server, "supervisor").login()
    agents.append(supervisor)
    tab = await board_tab(supervisor)
    await wait_row(tab, "a-103", "Disponível")

    uscall_sim.stop()
    frame = await wait_frame(tab, lambda f: "USCall não responde" in f)
    assert "unreachable" in frame
    page = await supervisor.http.get("/painel")
    assert "USCall não responde" in page.text and 'id="a-103"' in page.text  # last rows kept

    uscall_sim.start()
    await wait_frame(tab, lambda f: 'id="board-meta"' in f and "USCall não responde" not in f)


@pytest.mark.above_the_store
async def test_a_wrong_token_is_surfaced_on_the_board(
    cluster: Cluster, uscall_sim: USCallSim, agents: list[Agent]
) -> None:
    server = await cluster.app_server(**uscall_sim.env(token="not-the-token"))
    supervisor = await Agent(server, "supervisor").login()
    agents.append(supervisor)
    tab = await board_tab(supervisor)
    await wait_frame(tab, lambda f: "Token inválido" in f)


async def configure_board(supervisor: Agent, queues: str, **thresholds: str) -> None:
    """The supervisor's board settings (/painel/ajustes), the defaults for what is not given."""
    form = {
        "filas": queues,
        "sl_warn": "80",
        "sl_bad": "60",
        "wait_warn": "30",
        "wait_bad": "60",
        "abandon_warn": "5",
        "abandon_bad": "10",
        **thresholds,
    }
    r = await supervisor.http.post("/painel/ajustes", data=form)
    assert r.status_code == 303, r.text


async def test_a_55pbx_only_site_has_a_board_too(cluster: Cluster, agents: list[Agent]) -> None:
    server = await cluster.app_server(CALLHUB_BOARD_POLL_SECONDS="0.3")
    agent = await Agent(server, "agente").login("2001")
    agents.append(agent)
    await agent.tab()
    supervisor = await Agent(server, "supervisor").login()
    agents.append(supervisor)
    # A threshold out of range is refused with its field named, and nothing is saved.
    r = await supervisor.http.post("/painel/ajustes", data={"filas": "X", "sl_warn": "120"})
    assert r.status_code == 422 and 'id="sl_warn-error"' in r.text, r.text
    form = (await supervisor.http.get("/painel/ajustes")).text
    assert re.search(r'<textarea id="filas" name="filas"[^>]*>([^<]*)<', form)[1] != "X"  # type: ignore[index]
    await configure_board(supervisor, "Suporte N1\nFinanceiro")
    tab = await board_tab(supervisor)
    await wait_row(tab, "a-r2001", "Disponível", "Ana Agente")
    # Configured queues are rows from the start, before any call.
    await wait_queue(tab, "q-Financeiro", received="0", service_level="—")

    base = {
        "call_id": "b-1",
        "call_type": "receptive",
        "call_queue": "Suporte N1",
        "branch_mask": "2001",
        "call_area_code": "11",
        "call_number": "987654321",
        "call_time_waiting": 8,
    }
    now = datetime.now(ZoneInfo("America/Sao_Paulo")).strftime("%Y-%m-%d %H:%M:%S")
    assert (await push55(server, {**base, "call_date": now})).status_code == 200
    busy = await wait_row(tab, "a-r2001", "Em ligação")
    assert "(11) 98765-4321" in busy
    # Ringing or talking, not yet answered nor abandoned: in progress, and received.
    await wait_queue(tab, "q-Suporte N1", received="1", answered="0", in_progress="1")
    end = {**base, "call_status": "atendida", "call_time": 30, "call_duration": 38}
    await push55(server, end)
    # No PBX says who waits; the call is answered within the target.
    queue = await wait_queue(
        tab,
        "q-Suporte N1",
        waiting="—",
        received="1",
        answered="1",
        in_progress="0",
        service_level="100%",
    )
    assert "lvl-ok" in queue and "lvl-bad" not in queue
    await wait_row(tab, "a-r2001", "Disponível")

    abandoned = {**base, "call_id": "b-2", "call_status": "abandonada", "call_time": 0}
    await push55(server, abandoned)
    # The figures add up: 2 received, 1 answered, 1 abandoned; 50% abandon is red (> 10%).
    queue = await wait_queue(
        tab, "q-Suporte N1", received="2", answered="1", abandoned="1", abandon_rate="50%"
    )
    assert re.search(r'<td class="num lvl-bad">50%</td>', queue), queue

    # A webservice pop reached the agent: answered. A queue named only in a pop is no row.
    await pbx(server, "novaSolicitacao", cpf="52998224725", ramal="2001", fila="Suporte N1")
    await pbx(server, "novaSolicitacao", cpf="52998224725", ramal="2001", fila="Teste")
    await wait_queue(tab, "q-Suporte N1", received="3", answered="2", abandoned="1")
    page = await supervisor.http.get("/painel")
    assert 'id="q-Suporte N1"' in page.text and 'id="q-Teste"' not in page.text

    # A supervisor's new threshold recolours the figure on the next round.
    await configure_board(supervisor, "Suporte N1", abandon_warn="30", abandon_bad="60")
    queue = await wait_queue(tab, "q-Suporte N1", abandon_rate="33%")
    await wait_frame(tab, lambda f: '<td class="num lvl-warn">33%</td>' in f)


@pytest.mark.above_the_store
@pytest.mark.redis
async def test_one_poller_across_processes_and_another_takes_over(
    cluster: Cluster, redis_server: RedisServer, uscall_sim: USCallSim, agents: list[Agent]
) -> None:
    cluster.broker_url = redis_server.url
    first = cluster.server(**uscall_sim.env())
    second = cluster.server(**uscall_sim.env())
    leader, survivor = await poller_of(redis_server, first, second)
    supervisor = await Agent(survivor, "supervisor").login()
    agents.append(supervisor)
    tab = await board_tab(supervisor)
    await wait_row(tab, "a-104", "Disponível")

    async def polls() -> int:
        requests = (await uscall_sim.state())["requests"]
        assert isinstance(requests, dict)
        return int(requests.get("agentStatus", 0))

    before, started = await polls(), time.monotonic()
    await asyncio.sleep(3)  # a measurement: how often the PBX is asked
    rate = (await polls() - before) / (time.monotonic() - started)
    assert rate < 1.5 / 0.3, f"{rate:.1f} agentStatus/s: more than one process polls"
    assert await poller_of(redis_server, first, second) == (leader, survivor)

    # The leader stops: it gives the lease up, and the other process takes the board over
    # on its next round, long before the lease (5 s) would have run out.
    leader.stop()
    before, deadline = await polls(), time.monotonic() + 2.5
    while await polls() == before:
        assert time.monotonic() < deadline, "nobody took the board over"
        await asyncio.sleep(0.05)
    pbx = await USCallClient.connect(uscall_sim.wsdl, USCALL_TOKEN)
    try:
        await pbx.start_pause("104", "2")
    finally:
        await pbx.aclose()
    await wait_row(tab, "a-104", "Em pausa", timeout=8)


async def poller_of(redis_server: RedisServer, *servers: Server) -> tuple[Server, Server]:
    """(the process that holds the wall board's lease, the other), once one holds it."""
    redis = Redis.from_url(redis_server.url, decode_responses=True)
    try:
        deadline = time.monotonic() + 10
        while (holder := await redis.get("callhub:lead:board-poller")) is None:
            assert time.monotonic() < deadline, "no process polls the board"
            await asyncio.sleep(0.05)
    finally:
        await redis.aclose()
    leaders = [s for s in servers if s.proc is not None and holder.startswith(f"{s.proc.pid}-")]
    assert len(leaders) == 1, holder
    return leaders[0], next(s for s in servers if s is not leaders[0])


@pytest.mark.sqlite
async def test_the_board_is_polled_only_while_one_is_open(sqlite_template, tmp_path):
    """Nobody watching, nothing read: the poll costs the loop nothing until a board opens,
    which wakes the poller at once; closing the last board stops it again."""
    import shutil

    from callhub.board.poller import BoardPoller
    from callhub.broker import memory_broker
    from callhub.protocol import BOARD
    from callhub.settings import Settings
    from callhub.store.engine import Store

    path = tmp_path / "callhub.db"
    shutil.copyfile(sqlite_template, path)
    store = Store(f"sqlite+aiosqlite:///{path}")
    broker = memory_broker()

    class Counting(BoardPoller):
        polls = 0

        async def poll_once(self):  # type: ignore[no-untyped-def]
            Counting.polls += 1
            return await super().poll_once()

    poller = Counting(
        broker=broker, store=store, settings=Settings(board_poll_seconds=0.2), link=None
    )
    poller.start()
    try:
        await asyncio.sleep(0.7)  # three rounds' time, and nobody watching
        assert Counting.polls == 0 and await broker.coordination.get(BOARD) is None
        await broker.coordination.set_tabs(BOARD, 1)  # a board opens (the hub reports it)
        poller.wake()
        deadline = time.monotonic() + 2
        while await broker.coordination.get(BOARD) is None:
            assert time.monotonic() < deadline, "the poller did not wake"
            await asyncio.sleep(0.01)
        assert Counting.polls >= 1
        await broker.coordination.set_tabs(BOARD, 0)
        await asyncio.sleep(0.3)  # a round in progress may finish
        after_close = Counting.polls
        await asyncio.sleep(0.7)
        assert Counting.polls == after_close
    finally:
        await poller.aclose()
        await store.dispose()
