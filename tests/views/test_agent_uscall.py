"""The agent's call controls through USCall, and the simulator ringing callhub."""

from __future__ import annotations

import hashlib
from pathlib import Path

from callhub.adapters.uscall import USCallClient
from callhub.views.agent_uscall import dialable
from support import PBX_TOKEN, USCALL_TOKEN, Agent, Cluster, USCallSim, free_port


def test_numbers_are_dialled_as_the_pbx_expects() -> None:
    assert dialable("+5511987654321") == "11987654321"
    assert dialable("+552134567890") == "2134567890"
    assert dialable("+14155550123") == "0014155550123"


async def test_an_agents_day_through_uscall(
    cluster: Cluster, uscall_sim: USCallSim, pbx: USCallClient, agents: list[Agent]
) -> None:
    server = await cluster.app_server(**uscall_sim.env())
    agent = await Agent(server, "agente").login("2001")
    agents.append(agent)
    tab = await agent.tab()

    page = (await agent.http.get("/atendimento")).text
    assert 'id="uscall-box"' in page and "Banheiro" in page and "Financeiro" in page
    assert "Recepção" not in page  # not a call-centre queue: agents cannot log in to it

    # Out of the queue: pausing is refused, clearly.
    r = await agent.http.post("/atendimento/uscall/pausa", data={"idpausa": "2"})
    assert r.status_code == 409 and "não está logado" in r.text

    r = await agent.http.post(
        "/atendimento/uscall/entrar", data={"agente": "101", "senha": "wrong", "fila": "901"}
    )
    assert r.status_code == 502 and "Senha do agente inválida" in r.text
    r = await agent.http.post("/atendimento/uscall/entrar", data={"agente": "", "senha": "x"})
    assert r.status_code == 400 and "agente" in r.text
    r = await agent.http.post(
        "/atendimento/uscall/entrar", data={"agente": "101", "senha": "senha101", "fila": "901"}
    )
    assert r.status_code == 200 and "logado no ramal 2001" in r.text
    [status] = await pbx.agent_status("101")
    assert (status.ramal, status.filas) == ("2001", ["901"])
    frame = await tab.wait_for('id="uscall-status"', timeout=8)
    assert "Agente 101" in frame and "Disponível" in frame

    r = await agent.http.post("/atendimento/uscall/pausa", data={"idpausa": "x y"})
    assert r.status_code == 400 and "idpausa" in r.text
    r = await agent.http.post("/atendimento/uscall/pausa", data={"idpausa": "2"})
    assert r.status_code == 200 and "Banheiro" in r.text
    await tab.wait_for("Em pausa</span> (Banheiro)", timeout=8)
    r = await agent.http.post("/atendimento/uscall/retomar")
    assert r.status_code == 200
    await tab.wait_for("Disponível", timeout=8)

    # Click-to-call from request 1 (João Pereira, +55 21 3456-7890): idcti is the request.
    view = (await agent.http.get("/atendimento/solicitacoes/1")).text
    assert 'hx-post="/atendimento/ligar"' in view and "(21) 3456-7890" in view
    r = await agent.http.post("/atendimento/ligar", data={"solicitacao": "1", "telefone": "5"})
    assert r.status_code == 400 and "telefone" in r.text
    r = await agent.http.post("/atendimento/ligar", data={"solicitacao": "999", "telefone": "0"})
    assert r.status_code == 404 and "solicitacao" in r.text
    r = await agent.http.post("/atendimento/ligar", data={"solicitacao": "1", "telefone": "0"})
    assert r.status_code == 200 and "Ligação iniciada" in r.text
    await tab.wait_for("Em ligação", timeout=8)

    r = await agent.http.post("/atendimento/uscall/desligar")
    assert r.status_code == 200 and "desconectada" in r.text

    # Notify by phone: the notice URA speaks the name, the request and its status.
    assert 'hx-post="/atendimento/avisar"' in view
    r = await agent.http.post("/atendimento/avisar", data={"solicitacao": "1", "telefone": "0"})
    assert r.status_code == 200 and "URA" in r.text, r.text
    [heard] = await pbx.cdr_ura(idunico="1")
    assert heard.origem == "2134567890"
    assert heard.eventos[0]["detalhe"].startswith(
        "Olá João. A sua solicitação 1 está em andamento."
    )
    [cdr, _notice] = await pbx.cdr_search(idunico="1")
    assert (cdr.tipo, cdr.origem, cdr.destino) == ("Efetuada", "2001", "2134567890")
    await tab.wait_for("efetuadas 1", timeout=8)

    r = await agent.http.post("/atendimento/uscall/sair")
    assert r.status_code == 200 and "deslogado" in r.text
    await tab.wait_for("Fora da fila", timeout=8)
    r = await agent.http.post("/atendimento/uscall/sair")
    assert r.status_code == 409


async def test_without_uscall_the_agent_has_no_call_controls(
    cluster: Cluster, agents: list[Agent]
) -> None:
    server = await cluster.app_server()
    agent = await Agent(server, "agente").login("2001")
    agents.append(agent)
    assert 'id="uscall-box"' not in (await agent.http.get("/atendimento")).text
    view = (await agent.http.get("/atendimento/solicitacoes/1")).text
    assert "/atendimento/ligar" not in view
    r = await agent.http.post("/atendimento/uscall/retomar")
    assert r.status_code == 404


async def test_a_queued_call_rings_callhub_and_pops_the_agents_screen(
    cluster: Cluster, tmp_path: Path, agents: list[Agent]
) -> None:
    port = free_port()
    sim = USCallSim(tmp_path, "--callhub", f"http://127.0.0.1:{port}", "--callhub-token", PBX_TOKEN)
    sim.start()
    try:
        server = cluster.server(port=port, **sim.env())
        agent = await Agent(server, "agente").login("2001")
        agents.append(agent)
        tab = await agent.tab()
        client = await USCallClient.connect(sim.wsdl, USCALL_TOKEN)
        try:
            await client.agent_login("101", "2001", hashlib.md5(b"senha101").hexdigest(), "902")
        finally:
            await client.aclose()
        await sim.arrive("902", "11987654321", talk="5")
        pop = await tab.wait_for("Maria da Silva", timeout=8)
        assert "Comercial" in pop  # the queue, as the PBX named it
    finally:
        sim.stop()


async def test_uscall_reports_for_admins(
    cluster: Cluster, uscall_sim: USCallSim, pbx: USCallClient, agents: list[Agent]
) -> None:
    server = await cluster.app_server(**uscall_sim.env())
    await pbx.agent_login("101", "2001", hashlib.md5(b"senha101").hexdigest())
    done = await pbx.start_call("outbound", "2001", "11987654321", "1")
    await pbx.start_call_ura("1", "11987654321", "1", idcti="77", cti_info=["Maria"])
    await pbx.hangup_call("2001")
    admin = await Agent(server, "admin").login()
    agents.append(admin)
    page = await admin.http.get("/admin/uscall")
    assert page.status_code == 200
    for text in (
        "Operadora A",
        "SIP/operadora-b",
        "Aviso de solicitação",
        "Saudação",
        "Posição 2",
        "11987654321",
        str(done.idcall),
        "77",
    ):
        assert text in page.text, text
    bad = await admin.http.get("/admin/uscall", params={"de": "ontem"})
    assert bad.status_code == 400 and "de:" in bad.text
    none = await admin.http.get("/admin/uscall", params={"ura": "2"})
    assert "Nenhuma ligação nas URAs" in none.text
    agent = await Agent(server, "agente").login()
    agents.append(agent)
    assert (await agent.http.get("/admin/uscall")).status_code == 403
