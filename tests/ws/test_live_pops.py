"""Pops end to end: uvicorn on loopback, httpx as the PBX, websockets as the agent's tab."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import pytest
import websockets

from callhub.store import requests
from callhub.store.models import ServiceRequest
from support import PBX_TOKEN, Agent, AppServer, Cluster, Served, Tab, http_client, pbx


async def test_pop_reaches_the_tab(server: AppServer, agents: list[Agent]):
    agent = await Agent(server, "agente").login("2001")
    agents.append(agent)
    tab = await agent.tab()
    r = await pbx(
        server,
        "novaSolicitacao",
        cpf="529.982.247-25",
        ramal="2001",
        numero="11987654321",
        callId="call-1",
        fila="Suporte",
        ura="1-3",
    )
    assert r.status_code == 200
    body = r.json()
    assert body["delivered"] == 1 and body["identified"] is True and body["cpfValid"] is True
    frame = await tab.wait_for("Maria da Silva")
    assert 'id="pop-area"' in frame and "Nova solicitação" in frame
    assert "Suporte" in frame and "1-3" in frame and "(11) 98765-4321" in frame
    await tab.close()


async def test_invalid_cpf_still_pops_unidentified(server: AppServer, agents: list[Agent]):
    agent = await Agent(server, "agente").login("2002")
    agents.append(agent)
    tab = await agent.tab()
    r = await pbx(
        server, "novaSolicitacao", cpf="123.456.789-00", ramal="2002", numero="1133334444"
    )
    body = r.json()
    assert body["cpfValid"] is False and body["identified"] is False and "warning" in body
    frame = await tab.wait_for("Solicitante sem identificação")
    assert "123.456.789-00" in frame and "(11) 3333-4444" in frame


async def test_caller_identified_by_phone(server: AppServer, agents: list[Agent]):
    agent = await Agent(server, "agente").login("2003")
    agents.append(agent)
    tab = await agent.tab()
    r = await pbx(server, "novaSolicitacao", ramal="2003", numero="(21) 3456-7890")
    assert r.json()["identified"] is True
    await tab.wait_for("João Pereira")


async def test_no_tab_then_register_within_window(server: AppServer, agents: list[Agent]):
    r = await pbx(server, "novaSolicitacao", cpf="39053344705", ramal="2004")
    assert r.json()["delivered"] == 0
    agent = await Agent(server, "agente").login("2004")
    agents.append(agent)
    tab = await agent.tab()
    assert "Ana Souza" in tab.frames[0]  # in the recent list
    frame = await tab.next()
    assert "Ana Souza" in frame and 'id="pop-area"' in frame


async def test_missed_pop_arrives_on_reconnect(server: AppServer, agents: list[Agent]):
    agent = await Agent(server, "agente").login("2005")
    agents.append(agent)
    tab = await agent.tab()
    await pbx(server, "novaSolicitacao", cpf="52998224725", ramal="2005")
    first = await tab.wait_for("Maria da Silva")
    seen = int(first.split('data-seq="')[1].split('"')[0])
    await tab.close()
    r = await pbx(server, "novaSolicitacao", cpf="11144477735", ramal="2005")
    assert r.json()["delivered"] == 0
    again = await agent.tab(after=seen)
    frame = await again.next()
    assert "João Pereira" in frame and "Maria da Silva" not in frame
    # A tab that has seen everything gets no replay.
    third = await agent.tab(after=seen + 1)
    with pytest.raises(TimeoutError):
        await third.next(timeout=0.5)


async def test_all_tabs_of_the_agent_get_the_pop(server: AppServer, agents: list[Agent]):
    agent = await Agent(server, "agente").login("2006")
    agents.append(agent)
    tabs = [await agent.tab() for _ in range(3)]
    r = await pbx(server, "novaSolicitacao", cpf="52998224725", ramal="2006")
    assert r.json()["delivered"] == 3
    for tab in tabs:
        await tab.wait_for("Maria da Silva")


async def test_registering_a_held_extension_moves_it(server: AppServer, agents: list[Agent]):
    first = await Agent(server, "agente").login("2007")
    second = await Agent(server, "agente2").login()
    agents.extend([first, second])
    old_tab = await first.tab()
    await second.http.post("/atendimento/ramal", data={"ramal": "2007"})
    frame = await old_tab.wait_for("Bruno Agente")
    assert 'id="notice"' in frame
    with pytest.raises(websockets.ConnectionClosedOK):
        await old_tab.next()
    new_tab = await second.tab()
    r = await pbx(server, "novaSolicitacao", cpf="52998224725", ramal="2007")
    assert r.json()["delivered"] == 1
    await new_tab.wait_for("Maria da Silva")
    page = await first.http.get("/atendimento")
    assert 'name="ramal"' in page.text  # the first agent must register again


async def test_taking_an_extension_over_does_not_take_its_callers(
    server: AppServer, agents: list[Agent]
):
    """agente2 takes 2011 while agente holds it: the caller agente had is in none of
    agente2's frames (the list, the replay) and their pop's number answers 404."""
    first = await Agent(server, "agente").login("2011")
    agents.append(first)
    tab = await first.tab()
    r = await pbx(server, "novaSolicitacao", cpf="52998224725", ramal="2011", ura="antes")
    await tab.wait_for("Maria da Silva")
    seq = int(tab.frames[-1].split('data-seq="')[1].split('"')[0])
    assert (await first.http.get(f"/atendimento/pops/{seq}")).status_code == 200
    second = await Agent(server, "agente2").login("2011")
    agents.append(second)
    taken = await second.tab(after=0)  # even asking for everything since the start
    assert "Maria da Silva" not in "".join(taken.frames)
    assert (await second.http.get(f"/atendimento/pops/{seq}")).status_code == 404
    refused = await second.http.post(
        "/atendimento/solicitantes",
        data={"seq": str(seq), "name": "Intruso", "cpf": "", "email": "", "phone": ""},
    )
    assert refused.status_code == 404
    r = await pbx(server, "novaSolicitacao", cpf="11144477735", ramal="2011", ura="depois")
    assert r.json()["delivered"] == 1
    frame = await taken.wait_for("depois")
    assert "Maria da Silva" not in frame
    again = await second.tab()  # a reload: its own caller only
    assert "João Pereira" in again.frames[0] and "Maria da Silva" not in again.frames[0]


async def test_view_pop_and_child_request(server: AppServer, agents: list[Agent]):
    admin = await Agent(server, "admin").login()
    agents.append(admin)
    r = await admin.http.post("/admin/parametros", data={"p281": "S", "p282": "S", "p283": "4"})
    assert r.status_code == 303  # applies at once: saving empties the parameters' cache
    agent = await Agent(server, "agente").login("2008")
    agents.append(agent)
    tab = await agent.tab()
    view = {"idSolicitacao": "1", "cpf": "11144477735", "ramal": "2008", "callId": "c-282"}
    r = await pbx(server, "visualizarSolicitacao", **view)
    child = r.json()["childRequest"]
    frame = await tab.wait_for("nº 1")
    assert f"Solicitação filha nº {child} aberta" in frame
    assert "Sem acesso à rede" in frame and "Registrar ocorrência" in frame
    data = (await pbx(server, "obterDadosSolicitacao", idSolicitacao=str(child))).json()
    # Closed at once, as the seed says ("Essa será encerrada automaticamente").
    assert data["id"] == child and data["situacao"] == "Fechada", data
    # One call opens one child: viewing again, or another request, in that call shows it.
    again = await pbx(server, "visualizarSolicitacao", **view)
    other = await pbx(server, "visualizarSolicitacao", **{**view, "idSolicitacao": "2"})
    assert again.json()["childRequest"] == other.json()["childRequest"] == child
    # Another call opens its own.
    later = await pbx(server, "visualizarSolicitacao", **{**view, "callId": "c-283"})
    assert later.json()["childRequest"] not in (None, child)


async def test_a_long_history_reaches_the_tab_bounded_with_a_link_to_the_rest(
    server: AppServer, cluster: Cluster, agents: list[Agent]
):
    """Request 2 with 40 occurrences of 4,000 characters: its screen carries the latest 20
    and says how many there are; the link shows them all."""

    def write(session: Any) -> None:
        found = session.get(ServiceRequest, 2)
        for n in range(40):
            requests.add_occurrence(session=session, request=found, user_id=None,
                                    description=f"nota-{n:02d} " + "x" * 3990)  # fmt: skip
        session.commit()

    await cluster.read(write)
    agent = await Agent(server, "agente").login("2012")
    agents.append(agent)
    tab = await agent.tab()
    await pbx(server, "visualizarSolicitacao", idSolicitacao="2", cpf="11144477735", ramal="2012")
    frame = await tab.wait_for("nota-39")
    assert "nota-20" in frame and "nota-19" not in frame and "nota-00" not in frame
    assert "mais recentes de 41" in frame  # and the occurrence it was opened with
    assert len(frame) < 120_000  # 20 of them, not 41
    page = await agent.http.get("/atendimento/solicitacoes/2?historico=completo")
    assert page.status_code == 200 and "nota-00" in page.text and "nota-39" in page.text
    assert "mais recentes" not in page.text


async def test_unauthenticated_socket_is_refused(server: AppServer):
    with pytest.raises(websockets.InvalidStatus):
        await websockets.connect(server.ws_url)


async def test_foreign_origin_is_refused(server: AppServer, agents: list[Agent]):
    agent = await Agent(server, "agente").login("2009")
    agents.append(agent)
    with pytest.raises(websockets.InvalidStatus):
        await websockets.connect(
            server.ws_url,
            additional_headers={"Cookie": agent.cookie},
            origin=websockets.Origin("http://evil.example"),
        )


async def test_a_tab_that_sends_a_large_message_is_closed_with_1009(
    server: AppServer, agents: list[Agent]
):
    """Tabs only listen: a message of a few KiB is the most they have reason to send."""
    agent = await Agent(server, "agente").login("2010")
    agents.append(agent)
    small = await agent.tab()
    await small.ws.send("ping")  # small messages are read and ignored
    big = await agent.tab()
    await big.ws.send("x" * 8192)
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(big.ws.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    r = await pbx(server, "novaSolicitacao", cpf="52998224725", ramal="2010")
    assert r.json()["delivered"] == 1  # the other tab is still there
    await small.wait_for("Maria da Silva")


async def flood(server: Served, ramal: str, count: int, healthy: Tab) -> None:
    """`count` pops to `ramal`, each seen by the `healthy` tab before the next is sent."""
    async with http_client(base_url=server.url, headers={"token": PBX_TOKEN}) as http:
        for i in range(count):
            r = await http.get(
                "/webservices/telefonia/novaSolicitacao",
                params={
                    "cpf": "123.456.789-00",
                    "ramal": ramal,
                    "numero": f"11{i:08d}",
                    "fila": "x" * 60,
                },
            )
            assert r.status_code == 200
            frame = await healthy.next(timeout=2)
            assert f"{i:08d}"[-4:] in frame


SEQ = re.compile(r'data-seq="(\d+)"')


async def stall(
    cluster: Cluster, agents: list[Agent], ramal: str, send_timeout: str
) -> tuple[Agent, Tab, Tab]:
    """An agent with two tabs: one stops reading, the other sees 120 pops go by. Small
    socket buffers: the stalled tab's socket backs up after a few frames."""
    server = cluster.server(
        sndbuf=4096, CALLHUB_TAB_QUEUE_SIZE="4", CALLHUB_TAB_SEND_TIMEOUT=send_timeout
    )
    agent = await Agent(server, "agente").login(ramal)
    agents.append(agent)
    stalled = await agent.tab(rcvbuf=4096)
    healthy = await agent.tab()
    stalled.ws.transport.pause_reading()
    await flood(server, ramal, 120, healthy)
    return agent, stalled, healthy


@pytest.mark.above_the_store
async def test_a_stalled_tab_is_closed_with_1013_and_catches_up_while_another_keeps_up(
    cluster: Cluster, agents: list[Agent]
):
    agent, stalled, healthy = await stall(cluster, agents, "2010", send_timeout="10")
    # It reads again: what the server had sent, then the close, 1013 (try again).
    stalled.ws.transport.resume_reading()
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await stalled.next(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
    seen = [int(m) for frame in stalled.frames for m in SEQ.findall(frame)]
    assert seen and len(seen) < 120  # dropped on the way, not sent everything
    # Reconnected from the last pop it saw (as callhub.js does), it gets the newest.
    again = await agent.tab(after=max(seen))
    newest = await again.next()
    assert f"{119:08d}"[-4:] in newest and 'id="pop-area"' in newest


@pytest.mark.above_the_store
async def test_a_tab_that_never_reads_again_is_dropped(cluster: Cluster, agents: list[Agent]):
    agent, stalled, healthy = await stall(cluster, agents, "2012", send_timeout="1")
    server = agent.server
    # Not even the close frame can leave: the server ends the connection, and the tab no
    # longer counts as one the pops reach.
    deadline = time.monotonic() + 10
    while True:
        r = await pbx(server, "novaSolicitacao", cpf="52998224725", ramal="2012")
        await healthy.next()
        if r.json()["delivered"] == 1:
            break
        assert time.monotonic() < deadline, "the stalled tab is still attached"
        await asyncio.sleep(0.2)
    stalled.ws.transport.resume_reading()
    with pytest.raises(websockets.ConnectionClosed):
        while True:
            await stalled.next(timeout=10)


@pytest.mark.above_the_store
async def test_shutdown_closes_with_a_reconnect_code(cluster: Cluster, agents: list[Agent]):
    server = cluster.server()
    agent = await Agent(server, "agente").login("2011")
    agents.append(agent)
    tab = await agent.tab()
    server.stop()
    with pytest.raises(websockets.ConnectionClosed) as info:
        await tab.next(timeout=10)
    # 1012: the service restarts, and the browser reconnects (htmx ws does on 1012).
    assert info.value.rcvd is not None and info.value.rcvd.code == 1012


async def test_an_unknown_caller_is_registered_from_the_pop_then_identified_by_cnpj(
    server: AppServer, agents: list[Agent]
):
    agent = await Agent(server, "agente").login("2015")
    agents.append(agent)
    tab = await agent.tab()
    company = "04.572.318/0001-06"  # nobody's yet
    r = await pbx(server, "novaSolicitacao", cpf=company, ramal="2015", numero="1133334444")
    assert r.status_code == 200 and r.json()["delivered"] == 1
    frame = await tab.next()
    assert 'data-kind="unidentified"' in frame
    seq = re.search(r'data-seq="(\d+)"', frame)
    assert seq is not None
    registered = await agent.http.post(
        "/atendimento/solicitantes",
        data={
            "seq": seq.group(1),
            "name": "Oficina Boa Vista Ltda",
            "cpf": company,
            "email": "contato@oficina.example",
            "phone": "(11) 3333-4444",
        },
    )
    assert registered.status_code == 200
    assert "Oficina Boa Vista Ltda" in registered.text and company in registered.text
    # The company's next call is identified by its CNPJ, straight to the new-request form.
    r = await pbx(server, "novaSolicitacao", cpf="04572318000106", ramal="2015", ura="segunda")
    frame = await tab.wait_for("segunda")
    assert 'data-kind="new_request"' in frame and "Oficina Boa Vista Ltda" in frame


async def test_an_agent_who_releases_the_extension_gets_no_more_pops_on_it(
    server: AppServer, agents: list[Agent]
):
    agent = await Agent(server, "agente").login("2016")
    agents.append(agent)
    tab = await agent.tab()
    released = await agent.http.post("/atendimento/ramal/liberar")
    assert released.status_code == 303
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await tab.next(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000
    r = await pbx(server, "novaSolicitacao", cpf="52998224725", ramal="2016")
    assert r.status_code == 200 and r.json()["delivered"] == 0
    page = await agent.http.get("/atendimento")
    assert 'name="ramal"' in page.text  # asked for an extension again


async def test_a_pop_older_than_the_pop_window_is_not_replayed(
    cluster: Cluster, agents: list[Agent]
):
    server = await cluster.app_server(CALLHUB_POP_WINDOW_SECONDS="1")
    agent = await Agent(server, "agente").login("2017")
    agents.append(agent)
    r = await pbx(server, "novaSolicitacao", cpf="52998224725", ramal="2017", ura="antigo")
    assert r.status_code == 200 and r.json()["delivered"] == 0  # no tab open: kept for later
    fresh = await agent.tab()  # within the window: listed, and replayed
    assert "Maria da Silva" in fresh.frames[0]
    assert "antigo" in await fresh.next(timeout=5)
    await fresh.close()
    await asyncio.sleep(1.5)  # the window is a time: nothing to await but the clock
    r = await pbx(server, "novaSolicitacao", cpf="11144477735", ramal="2017", ura="recente")
    assert r.json()["delivered"] == 0
    late = await agent.tab()
    listed = late.frames[0]
    assert "João Pereira" in listed and "Maria da Silva" not in listed
    assert "recente" in await late.next(timeout=5)
