"""The agent's tab in a real headless Chromium: a pop appears, its form opens a request."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Browser, expect

from browsing import logged_in, on_extension
from callhub.adapters.uscall import USCallClient
from support import (
    USCALL_TOKEN,
    AppServer,
    Cluster,
    USCallSim,
    http_client,
    pbx,
    web_login,
)


async def test_pop_appears_and_its_form_creates_a_request(
    server: AppServer, browser: Browser, tmp_path: Path
):
    context = await browser.new_context(locale="pt-BR")
    page, errors = await logged_in(context, server.url + "/atendimento", "agente")
    await on_extension(page, "4001")

    r = await pbx(server, "novaSolicitacao", cpf="52998224725", ramal="4001", numero="11987654321")
    assert r.json()["delivered"] == 1
    card = page.locator("#pop-area .requester-name")
    await expect(card).to_have_text("Maria da Silva", timeout=5_000)
    await expect(page.locator("#recent-pops li")).to_have_count(1)

    await page.select_option("select[name=service_id]", label="Infraestrutura › Impressora")
    await page.fill("textarea[name=description]", "Impressora do RH sem toner")
    await page.click("form.new-request button[type=submit]")
    created = page.locator("#pop-area .notice.created")
    await expect(created).to_contain_text("registrada", timeout=5_000)
    number = (await page.locator("#pop-area .request-number").inner_text()).removeprefix("nº ")
    assert number.strip().isdigit()
    await expect(page.locator(f"#recent-pops li:has-text('nº {number.strip()}')")).to_have_count(1)

    # The request exists for the IVR too.
    data = (await pbx(server, "obterDadosSolicitacao", idSolicitacao=number.strip())).json()
    assert data["situacao"] == "Em andamento"

    # A reload keeps the list and does not replay the pop as new: the reloaded tab's
    # socket gets the list, then the next call's pop, and nothing between them.
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(str(f))))
    await page.reload()
    await expect(page.locator("body[data-ws=open]")).to_have_count(1, timeout=10_000)
    await expect(page.locator("#recent-pops li")).to_have_count(1)
    r = await pbx(server, "novaSolicitacao", cpf="11144477735", ramal="4001")
    assert r.json()["delivered"] == 1
    await expect(card).to_have_text("João Pereira", timeout=5_000)
    assert len(frames) == 2 and 'id="recent-pops"' in frames[0], frames
    assert "João Pereira" in frames[1] and "Maria da Silva" not in frames[1]

    await page.screenshot(path=str(tmp_path / "atendimento.png"), full_page=True)
    assert not errors, errors
    await context.close()


async def test_execute_actions_are_refused_server_side(server: AppServer):

    async with http_client(base_url=server.url) as c:
        await web_login(c, "agente2")
        page = await c.get("/atendimento/solicitacoes/1")
        assert page.status_code == 200 and "Registrar ocorrência" not in page.text
        r = await c.post("/atendimento/solicitacoes/1/ocorrencias", data={"description": "x"})
        assert r.status_code == 403
        r = await c.post("/atendimento/solicitacoes/1/situacao", data={"status": "Resolved"})
        assert r.status_code == 403
    async with http_client(base_url=server.url) as c:
        await web_login(c, "agente")
        r = await c.post(
            "/atendimento/solicitacoes/1/situacao",
            data={"status": "Resolved", "description": "Resolvido por telefone"},
        )
        assert r.status_code == 200 and "Resolvida" in r.text
        r = await c.post("/atendimento/solicitacoes/1/ocorrencias", data={"description": ""})
        assert r.status_code == 422
    assert (await pbx(server, "obterQtdeSolicitacoes", cpf="11144477735")).text.startswith("1?")


async def test_the_wall_board_updates_rows_in_place(
    cluster: Cluster, uscall_sim: USCallSim, browser: Browser
) -> None:
    server = await cluster.app_server(**uscall_sim.env())
    context = await browser.new_context(locale="en-US")
    page, errors = await logged_in(context, server.url + "/painel", "supervisor")
    agent = page.locator("#a-104 .state")
    await expect(agent).to_have_text("Available", timeout=10_000)
    # Time in state counts up in the page (mm:ss), from when the state began.
    await expect(page.locator("#a-104 [data-since]")).to_have_text(re.compile(r"^\d+:\d\d$"))

    client = await USCallClient.connect(uscall_sim.wsdl, USCALL_TOKEN)
    try:
        await client.start_pause("104", "2")
    finally:
        await client.aclose()
    await expect(agent).to_have_text("Paused", timeout=5_000)
    await expect(page.locator("#a-104")).to_contain_text("Banheiro")
    await expect(page.locator("#q-901 td").nth(5)).to_have_text("1")  # paused in the queue
    await expect(page.locator("#board-agents tr")).to_have_count(6)  # swapped, not appended
    assert not errors, errors
    await context.close()
