"""The agent's and supervisor's day (issue 20), item by item as it is built: where each
role lands, controls without a dangerous default, the wall board on a TV."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Locator, Page, expect
from sqlmodel import Session

from browsing import logged_in, on_extension
from callhub.adapters.uscall import USCallClient
from callhub.store import calls
from support import (
    Agent,
    AppServer,
    Cluster,
    USCallSim,
    http_client,
    pbx,
    push55,
    web_login,
)


@pytest.mark.above_the_store
async def test_each_role_lands_on_its_own_screen_after_login(server: AppServer) -> None:
    for username, home in (
        ("agente", "/atendimento"),
        ("supervisor", "/painel"),
        ("admin", "/admin"),
    ):
        async with http_client(base_url=server.url, timeout=10) as c:
            r = await web_login(c, username)
            assert (r.status_code, r.headers["location"]) == (303, home), username
            again = await c.get("/")  # the site's root takes them there too
            assert again.headers["location"] == home, username


async def test_the_status_list_starts_on_no_status_and_an_empty_choice_is_refused(
    server: AppServer,
) -> None:
    async with http_client(base_url=server.url, timeout=10) as c:
        await web_login(c, "agente")
        page = (await c.get("/atendimento/solicitacoes/1")).text
        select = re.search(r'<select name="status"[^>]*>(.*?)</select>', page, re.S)
        assert select is not None and "required" in select.group(0)
        first = re.search(r"<option[^>]*>", select.group(1))
        assert first is not None and 'value=""' in first.group(0) and "selected" in first.group(0)
        assert "selected" not in select.group(1)[first.end() :]  # no status chosen for them
        r = await c.post("/atendimento/solicitacoes/1/situacao", data={"status": ""})
        assert r.status_code == 422 and "Escolha uma situação válida." in r.text
        view = (await c.get("/atendimento/solicitacoes/1")).text
        assert "Em andamento" in view  # nothing changed


@pytest.mark.above_the_store
async def test_the_tv_board_fills_the_screen_and_colours_its_figures(
    cluster: Cluster, browser: Browser
) -> None:
    server = await cluster.app_server(CALLHUB_BOARD_POLL_SECONDS="0.3")
    context = await browser.new_context(locale="pt-BR", viewport={"width": 1920, "height": 1080})
    # The supervisor picks the board's queues and thresholds on its settings page.
    page, errors = await logged_in(context, server.url + "/painel/ajustes", "supervisor")
    await page.fill("#filas", "Suporte N1\nFinanceiro")
    await page.fill("#abandon_warn", "5")
    await page.fill("#abandon_bad", "10")
    await page.click("form.board-settings button[type=submit]")
    await expect(page.locator("p.notice")).to_contain_text("Ajustes gravados")

    now = datetime.now(ZoneInfo("America/Sao_Paulo")).strftime("%Y-%m-%d %H:%M:%S")
    call = {"call_id": "tv-1", "call_type": "receptive", "call_queue": "Suporte N1"}
    answered = {**call, "call_date": now, "call_status": "atendida", "call_time": 30}
    assert (await push55(server, {**answered, "call_time_waiting": 5})).status_code == 200
    abandoned = {**call, "call_id": "tv-2", "call_date": now, "call_status": "abandonada"}
    assert (await push55(server, abandoned)).status_code == 200

    await page.goto(server.url + "/painel/tv")
    queue = page.locator('[id="q-Suporte N1"]')
    # The figures add up, in words on the card.
    await expect(queue.locator(".tv-sum")).to_have_text(
        "Recebidas 2 = atendidas 1 + abandonadas 1 + em espera 0 + em andamento 0",
        timeout=10_000,
    )
    # Only configured queues: Financeiro (no call yet) is a card, nothing else.
    await expect(page.locator(".tv-queue")).to_have_count(2)
    # A wall board: no navigation, nothing to click.
    assert await page.locator("header.top, nav, button, form, input, select").count() == 0
    # 50% abandon is past the red threshold (10%); 100% service level is green.
    red = await queue.locator(".tv-abandon dd").evaluate("e => getComputedStyle(e).color")
    green = await queue.locator(".tv-sl dd").evaluate("e => getComputedStyle(e).color")
    assert (red, green) == ("rgb(255, 123, 114)", "rgb(63, 185, 80)"), (red, green)
    # Readable across the room: the figures are about 85 px tall on a 1920 px screen,
    # and the board uses the whole width without scrolling sideways.
    size = await queue.locator(".tv-waiting dd").evaluate("e => getComputedStyle(e).fontSize")
    assert float(size.removesuffix("px")) >= 80, size
    width, scroll = await page.evaluate(
        "[document.querySelector('#board-queues').getBoundingClientRect().width,"
        " document.documentElement.scrollWidth]"
    )
    assert width >= 1800 and scroll <= 1920, (width, scroll)
    # Every figure inside its card, the whole board on the screen.
    spill = await page.evaluate(
        "[...document.querySelectorAll('.tv-figures dd')].filter(e =>"
        " e.scrollWidth > e.clientWidth + 1 ||"
        " e.getBoundingClientRect().right > e.closest('.tv-queue').getBoundingClientRect().right"
        ").length"
    )
    assert spill == 0
    assert await page.evaluate("document.documentElement.scrollHeight") <= 1080
    assert not errors, errors
    await context.close()


# Desktop notifications recorded, and a tab that can be sent to the background: headless
# Chromium has no notification centre and never hides a tab on its own.
FAKE_DESKTOP = """
window.__notes = [];
window.Notification = class {
  constructor(title, options) {
    window.__notes.push([title, options && options.body]);
    window.__lastNote = this;
  }
  close() {}
  static get permission() { return 'granted'; }
  static requestPermission() { return Promise.resolve('granted'); }
};
window.__hidden = false;
Object.defineProperty(Document.prototype, 'hidden', { get() { return window.__hidden; } });
"""


@pytest.mark.above_the_store
async def test_a_pop_never_destroys_work_and_a_background_tab_still_gets_the_call(
    server: AppServer, browser: Browser
) -> None:
    context = await browser.new_context(locale="pt-BR")
    await context.add_init_script(FAKE_DESKTOP)
    page, errors = await logged_in(context, server.url + "/atendimento", "agente")
    await on_extension(page, "4101")
    area = page.locator("#pop-area")
    description = area.locator("textarea[name=description]")

    # No unsaved input: the pop takes the screen, focus on its first field.
    await pbx(server, "novaSolicitacao", cpf="52998224725", ramal="4101")
    await expect(area).to_contain_text("Maria da Silva")
    await expect(area.locator("select[name=type]")).to_be_focused()
    await description.fill("Impressora travada no 2º andar")

    # Unsaved input: the next call waits in a banner, the text stays.
    await pbx(server, "novaSolicitacao", cpf="11144477735", ramal="4101")
    banner = page.locator("#call-banner button")
    await expect(banner).to_have_text("Nova chamada: João Pereira — abrir")
    await expect(area).to_contain_text("Maria da Silva")
    await expect(description).to_have_value("Impressora travada no 2º andar")

    # Keyboard: the banner is reachable and opens the call.
    await banner.focus()
    await page.keyboard.press("Enter")
    await expect(area).to_contain_text("João Pereira")
    await expect(page.locator("#call-banner")).to_be_hidden()
    await expect(area.locator("select[name=type]")).to_be_focused()

    # An error answered by the server: focus on the field it names, not on <body>.
    await area.locator("select[name=service_id]").select_option(index=1)
    await area.locator("textarea[name=description]").fill("   ")
    await area.get_by_role("button", name="Registrar solicitação").click()
    await expect(area.locator("p.error")).to_be_visible()
    await expect(area.locator("textarea[name=description]")).to_be_focused()

    # Back to Maria's call from the list: the draft comes back.
    await page.locator("#recent-pops li", has_text="Maria da Silva").locator("a").click()
    await expect(area).to_contain_text("Maria da Silva")
    await expect(description).to_have_value("Impressora travada no 2º andar")

    # A reload restores the call on screen, draft included.
    await page.reload()
    await expect(area).to_contain_text("Maria da Silva", timeout=10_000)
    await expect(description).to_have_value("Impressora travada no 2º andar")
    await expect(page.locator("body[data-ws=open]")).to_have_count(1, timeout=10_000)

    # In the background: a notification, and the caller in the title until the agent looks.
    await page.evaluate("window.__hidden = true")
    await pbx(server, "novaSolicitacao", cpf="39053344705", ramal="4101")
    await expect(page).to_have_title("(1) Ana Souza · callhub")
    assert await page.evaluate("window.__notes") == [["Nova chamada", "Ana Souza"]]
    await expect(description).to_have_value("Impressora travada no 2º andar")  # still
    await page.evaluate(
        "window.__hidden = false; document.dispatchEvent(new Event('visibilitychange'))"
    )
    await expect(page).to_have_title("Atendimento · callhub")
    # Clicking the notification brings the call up (it waited in the banner).
    await page.evaluate("window.__lastNote.onclick()")
    await expect(area).to_contain_text("Ana Souza")

    # Ringing is the agent's choice, off until chosen, and kept.
    ring = page.locator("#ring")
    await expect(ring).not_to_be_checked()
    async with page.expect_response("**/atendimento/preferencias") as answer:
        await ring.check()
    assert (await answer.value).status == 204
    await page.reload()
    await expect(page.locator("#ring")).to_be_checked()
    assert not [e for e in errors if "422" not in e], errors  # the error asked for
    await context.close()


async def caller_context(agent: Agent, frame: str) -> str:
    """The caller-in-context part a pop's card loads once it is on screen."""
    found = re.search(r'hx-get="(/atendimento/solicitantes/\d+/contexto[^"]*)"', frame)
    assert found is not None, frame
    r = await agent.http.get(found.group(1).replace("&amp;", "&"))
    assert r.status_code == 200, r.text
    return r.text


async def test_the_card_shows_the_callers_requests_in_progress_and_last_calls(
    server: AppServer, agents: list[Agent]
) -> None:
    agent = await Agent(server, "agente").login("4201")
    agents.append(agent)
    tab = await agent.tab()

    # João has two requests in progress: listed, with their service, status and links.
    await pbx(server, "novaSolicitacao", cpf="11144477735", ramal="4201", numero="2134567890")
    first = await caller_context(agent, await tab.wait_for("João Pereira"))
    assert "Solicitações em andamento (2)" in first
    assert "Acesso à rede" in first and "Impressora" in first and "Em andamento" in first
    assert first.count('href="/atendimento/solicitacoes/') == 4  # view and occurrence, each
    assert "Últimas ligações" not in first  # the call on screen is not a "last" one

    # His next call lists the first one among his last calls.
    await pbx(server, "novaSolicitacao", cpf="11144477735", ramal="4201", numero="2134567890")
    second = await caller_context(agent, await tab.wait_for("João Pereira"))
    assert "Últimas ligações" in second and "(21) 3456-7890" in second

    # Ana has one: offered first, by itself.
    await pbx(server, "novaSolicitacao", cpf="39053344705", ramal="4201")
    ana = await caller_context(agent, await tab.wait_for("Ana Souza"))
    assert re.search(r"Solicitação em andamento nº \d+", ana) and "Senha e acesso" in ana
    assert "Ver a solicitação" in ana

    # Maria has none: the card and the new-request form, as before.
    await pbx(server, "novaSolicitacao", cpf="52998224725", ramal="4201")
    maria = await caller_context(agent, await tab.wait_for("Maria da Silva"))
    assert "em andamento" not in maria.lower()


@pytest.mark.above_the_store
async def test_the_uscall_controls_fit_the_agents_state_and_dialling_asks_first(
    cluster: Cluster, uscall_sim: USCallSim, browser: Browser
) -> None:
    server = await cluster.app_server(**uscall_sim.env())
    context = await browser.new_context(locale="pt-BR", viewport={"width": 1366, "height": 768})
    page, errors = await logged_in(context, server.url + "/atendimento", "agente")
    await on_extension(page, "2001")
    box = page.locator("#uscall-box")

    def button(name: str) -> Locator:
        return box.get_by_role("button", name=name, exact=True)

    # Out of the queue: only joining it is offered.
    await expect(button("Entrar na fila")).to_be_visible()
    for hidden in ("Pausar", "Retomar", "Desligar a ligação", "Sair da fila"):
        await expect(button(hidden)).to_be_hidden()
    await box.locator("input[name=agente]").fill("101")
    await box.locator("input[name=senha]").fill("senha101")
    await button("Entrar na fila").click()
    await expect(box.locator("#uscall-status .state")).to_have_text("Disponível", timeout=10_000)
    await expect(button("Entrar na fila")).to_be_hidden()
    await expect(button("Pausar")).to_be_visible()
    await expect(button("Retomar")).to_be_hidden()
    await button("Pausar").click()
    await expect(button("Retomar")).to_be_visible(timeout=10_000)
    await expect(button("Pausar")).to_be_hidden()
    await expect(button("Desligar a ligação")).to_be_hidden()  # no call, no red button
    # Collapsible, and kept so.
    await box.locator("summary").click()
    await expect(button("Retomar")).to_be_hidden()

    # Dialling the customer asks first: dismissed, nothing is dialled.
    dialled: list[str] = []
    page.on("request", lambda r: dialled.append(r.url) if "/atendimento/ligar" in r.url else None)
    await pbx(server, "visualizarSolicitacao", idSolicitacao="1", cpf="11144477735", ramal="2001")
    dial = page.locator("#pop-area").get_by_role("button", name="Ligar para o solicitante")
    page.once("dialog", lambda d: asyncio.ensure_future(d.dismiss()))
    await dial.click()
    await page.wait_for_timeout(300)
    assert dialled == []
    page.once("dialog", lambda d: asyncio.ensure_future(d.accept()))
    async with page.expect_request("**/atendimento/ligar"):
        await dial.click()

    # The recent list: the latest ten, "more" for the rest, the call on screen marked.
    for n in range(11):
        await pbx(server, "novaSolicitacao", cpf="52998224725", ramal="2001", callId=f"r-{n}")
    recent = page.locator("#recent-pops > li")
    await expect(recent).to_have_count(12)
    await expect(page.locator("#recent-pops > li:visible")).to_have_count(10)
    await expect(page.locator("#recent-pops > li.current")).to_have_count(1)
    await expect(recent.first).to_have_attribute("aria-current", "true")
    await page.get_by_role("button", name="Mostrar mais").click()
    await expect(page.locator("#recent-pops > li:visible")).to_have_count(12)
    assert not errors, errors
    await context.close()


async def test_resolving_needs_the_solution_and_a_foreign_request_is_flagged(
    server: AppServer, agents: list[Agent]
) -> None:
    agent = await Agent(server, "agente").login("4301")
    agents.append(agent)
    r = await agent.http.post("/atendimento/solicitacoes/1/situacao", data={"status": "Resolved"})
    assert r.status_code == 422 and "Descreva a solução" in r.text
    assert "Em andamento" in (await agent.http.get("/atendimento/solicitacoes/1")).text
    r = await agent.http.post(
        "/atendimento/solicitacoes/1/situacao",
        data={"status": "Resolved", "solution": "Cabo de rede trocado"},
    )
    assert r.status_code == 200 and "Resolvida" in r.text and "Cabo de rede trocado" in r.text

    # Maria's CPF typed in the IVR, João's request asked for: the screen warns.
    tab = await agent.tab()
    await pbx(server, "visualizarSolicitacao", idSolicitacao="2", cpf="52998224725", ramal="4301")
    frame = await tab.wait_for("nº 2")
    assert "Atenção: a solicitação nº 2 é de João Pereira" in frame and "529.982.247-25" in frame
    await pbx(server, "visualizarSolicitacao", idSolicitacao="2", cpf="11144477735", ramal="4301")
    assert "Atenção" not in await tab.wait_for("nº 2")


async def test_the_call_history_is_one_row_per_call_in_words_newest_first(
    server: AppServer, cluster: Cluster, agents: list[Agent]
) -> None:
    agent = await Agent(server, "agente").login("2001")  # Ana Agente holds 2001
    agents.append(agent)
    zone = ZoneInfo("America/Sao_Paulo")
    now = datetime.now(zone)
    record = {
        "call_type": "receptive",
        "branch_mask": "2001",
        "call_queue": "Suporte N1",
        "call_area_code": "11",
        "call_number": "987654321",
        "call_document": "52998224725",
    }
    answered = {
        **record,
        "call_id": "h-1",
        "call_date": (now - timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M:%S"),
        "call_status": "ATENDIDA",
        "call_time": 30,
        "call_duration": 38,
        "call_time_waiting": 8,
        "call_cost": "0.35",
        "call_tax": "0.12",
        "call_tax_type": "MOVEL",
        "call_disconnection": "CLIENTE",
        "call_url_audio": "https://pbx.example.com/audio/h-1.mp3",
    }
    # The start (the pop, which identifies the caller), then the record.
    start = {**record, "call_id": "h-1", "call_date": answered["call_date"]}
    assert (await push55(server, start)).status_code == 200
    assert (await push55(server, answered)).status_code == 200
    # Reported later, but older: it lists below.
    older = {**record, "call_id": "h-0", "call_status": "ABANDONO", "call_time": 0}
    older["call_date"] = (now - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
    assert (await push55(server, older)).status_code == 200

    # USCall rang callhub for a call (callId), then reported it: one row, not two.
    await pbx(server, "novaSolicitacao", cpf="11144477735", ramal="2001", callId="U-77")

    def uscall_reports(session: Session) -> None:
        calls.adopt_for_uscall(session=session, external_id="U-77")
        calls.merge_record(
            session=session,
            source="uscall",
            external_id="U-77",
            values={"status": "ATENDIDA", "talk_seconds": 12, "audio_file": "U-77.wav"},
            newer_wins=True,
        )
        session.commit()

    await cluster.read(uscall_reports)

    page = (await agent.http.get("/chamadas")).text
    rows = re.findall(r'<tr class="call .*?</tr>', page, re.S)
    assert len(rows) == 3, rows
    uscall, first, second = rows
    assert "João Pereira" in uscall and "/chamadas/" in uscall and "/gravacao" in uscall
    assert "Ana Agente" in first and "Maria da Silva" in first and "Suporte N1" in first
    assert ">Atendida<" in first and "38 s" in first and "custo 0,35" in first
    assert "tarifa 0,12 (MOVEL)" in first and "desconexão: CLIENTE" in first
    assert 'src="https://pbx.example.com/audio/h-1.mp3"' in first
    assert ">Abandonada<" in second and "ABANDONO" in second
    # In English, one 24-hour clock, as the lists' times.
    english = await agent.http.get("/chamadas", headers={"Accept-Language": "en-US"})
    times = re.findall(r'<td class="when">([^<]*)<', english.text)
    assert times and all(re.fullmatch(r"\d{1,2}/\d{1,2}/\d\d, \d\d:\d\d", t) for t in times)


async def test_missed_calls_are_listed_counted_and_marked_handled(
    server: AppServer, agents: list[Agent]
) -> None:
    agent = await Agent(server, "agente").login("2001")
    other = await Agent(server, "agente2").login("2002")
    agents.extend([agent, other])
    now = datetime.now(ZoneInfo("America/Sao_Paulo")).strftime("%Y-%m-%d %H:%M:%S")
    base = {"call_type": "receptive", "call_date": now, "call_area_code": "11"}
    for record in (
        # Waited in a queue of the board and gave up: missed, for every agent.
        {"call_id": "m-1", "call_queue": "Suporte N1", "call_number": "911112222",
         "call_status": "ABANDONO"},
        # Rang extension 2001 and nobody answered: missed, for 2001's agent.
        {"call_id": "m-2", "branch_mask": "2001", "call_number": "933334444",
         "call_status": "NAO ATENDIDA"},
        # Answered: not missed. Another extension, no queue of the board: not theirs.
        {"call_id": "m-3", "branch_mask": "2001", "call_number": "955556666",
         "call_status": "ATENDIDA", "call_time": 20},
        {"call_id": "m-4", "branch_mask": "2002", "call_queue": "Teste",
         "call_number": "977778888", "call_status": "ABANDONO"},
    ):  # fmt: skip
        assert (await push55(server, {**base, **record})).status_code == 200

    count = await agent.http.get("/atendimento/perdidas/contador")
    assert re.search(r">2</span>", count.text), count.text
    page = (await agent.http.get("/atendimento/perdidas")).text
    assert "(11) 91111-2222" in page and "(11) 93333-4444" in page
    assert "95555-6666" not in page and "97777-8888" not in page
    assert "Retornar" not in page  # no USCall here: nothing to dial with

    # The other agent's: the queue's call, and their extension's; not 2001's.
    theirs = (await other.http.get("/atendimento/perdidas")).text
    assert "91111-2222" in theirs and "97777-8888" in theirs and "93333-4444" not in theirs
    m2 = re.search(
        r'id="missed-(\d+)"[^<]*<td class="when">[^<]*</td>\s*<td class="num">\(11\) 93333', page
    )
    assert m2 is not None, page
    r = await other.http.post(f"/atendimento/perdidas/{m2.group(1)}/tratada")
    assert r.status_code == 404  # not one of theirs

    r = await agent.http.post(
        f"/atendimento/perdidas/{m2.group(1)}/tratada", headers={"HX-Request": "true"}
    )
    assert r.status_code == 200 and r.headers["HX-Trigger"] == "missed-changed"
    count = await agent.http.get("/atendimento/perdidas/contador")
    assert re.search(r">1</span>", count.text), count.text
    everything = (await agent.http.get("/atendimento/perdidas?todas=1")).text
    assert "93333-4444" in everything and "Tratada" in everything


@pytest.mark.above_the_store
async def test_a_missed_queue_call_is_called_back_through_uscall(
    cluster: Cluster, uscall_sim: USCallSim, pbx: USCallClient, agents: list[Agent]
) -> None:
    server = await cluster.app_server(**uscall_sim.env())
    agent = await Agent(server, "agente").login("2001")
    agents.append(agent)
    tab = await agent.tab()
    r = await agent.http.post(
        "/atendimento/uscall/entrar", data={"agente": "101", "senha": "senha101", "fila": "901"}
    )
    assert r.status_code == 200, r.text
    r = await agent.http.post("/atendimento/uscall/pausa", data={"idpausa": "2"})
    assert r.status_code == 200, r.text
    await tab.wait_for("Em pausa", timeout=8)
    await pbx.start_pause("104", "2")  # the queue's other agent too
    # A caller waits in the agent's queue while its agents are paused, and gives up.
    await uscall_sim.arrive("901", "11987654321", talk="2", patience="3")
    deadline = asyncio.get_running_loop().time() + 15
    while "(11) 98765-4321" not in (page := (await agent.http.get("/atendimento/perdidas")).text):
        assert asyncio.get_running_loop().time() < deadline, page
        await asyncio.sleep(0.3)
    found = re.search(r'hx-post="/atendimento/perdidas/(\d+)/retornar"', page)
    assert found is not None, page
    r = await agent.http.post(f"/atendimento/perdidas/{found.group(1)}/retornar")
    assert r.status_code == 200 and "Ligação iniciada" in r.text, r.text


async def test_the_ivr_asks_where_a_call_goes_refused_sticky_or_the_queue(
    server: AppServer, agents: list[Agent]
) -> None:
    admin = await Agent(server, "admin").login()
    agents.append(admin)
    # An admin blocks a number, with a reason; a bad form names its field.
    r = await admin.http.post("/admin/bloqueios", data={"numero": "12", "motivo": "x"})
    assert r.status_code == 422 and 'id="numero-error"' in r.text
    r = await admin.http.post(
        "/admin/bloqueios", data={"numero": "+55 11 90000-0001", "motivo": "Trote recorrente"}
    )
    assert r.status_code == 303
    r = await admin.http.post(
        "/admin/bloqueios",
        data={"documento": "390.533.447-05", "motivo": "Ontem", "ate": "2020-01-01"},
    )
    assert r.status_code == 303  # expired: it blocks nothing

    refused = await pbx(server, "rotearChamada", numero="11900000001", fila="Suporte N1")
    assert refused.json() == {"acao": "recusar", "motivo": "Trote recorrente"}
    text = await pbx(server, "rotearChamada", numero="11900000001", formato="texto")
    assert text.text == "RECUSAR;Trote recorrente"
    page = (await admin.http.get("/admin/bloqueios")).text
    assert re.search(r'<td class="num">2</td>', page), page  # each refusal recorded

    # Maria calls; the agent opens a request for her from the pop: the agent holds it.
    agent = await Agent(server, "agente").login("4401")
    agents.append(agent)
    tab = await agent.tab()
    await pbx(server, "novaSolicitacao", cpf="52998224725", ramal="4401")
    found = re.search(r'data-seq="(\d+)"', await tab.wait_for("Maria da Silva"))
    assert found is not None
    r = await agent.http.post(
        "/atendimento/solicitacoes",
        data={
            "seq": found.group(1),
            "type": "I",
            "service_id": "1",
            "description": "Sem rede",
            "urgency": "M",
        },
    )
    assert r.status_code == 200, r.text
    # She calls again: straight to that agent, free with the tab open (sticky routing).
    sticky = (await pbx(server, "rotearChamada", cpf="52998224725", fila="Suporte N1")).json()
    assert (sticky["acao"], sticky["ramal"], sticky["agente"]) == ("ramal", "4401", "Ana Agente")
    assert sticky["solicitacao"] > 0
    by_number = await pbx(server, "rotearChamada", numero="11987654321", formato="texto")
    assert by_number.text == "RAMAL;4401"  # her phone identifies her too
    # The agent's tab closes: not available, so the queue.
    await tab.close()
    deadline = time.monotonic() + 5
    while (queue := await pbx(server, "rotearChamada", cpf="52998224725")).json()["acao"] != "fila":
        assert time.monotonic() < deadline, queue.text
        await asyncio.sleep(0.05)
    assert queue.json() == {"acao": "fila", "fila": ""}
    # Ana's block expired: she is routed, not refused. Nothing typed at all: 400.
    ana = await pbx(server, "rotearChamada", cpf="39053344705", fila="Suporte N1")
    assert ana.json()["acao"] == "fila"
    missing = await pbx(server, "rotearChamada", fila="Suporte N1")
    assert missing.status_code == 400 and "numero" in missing.text


AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa"]}}


async def accessible(page: Page, where: str) -> None:
    """axe-core's WCAG A/AA rules (contrast, labels, names...) find nothing on the page."""
    results = await Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, f"{where}:\n{results.generate_report()}"


@pytest.mark.long
@pytest.mark.above_the_store
async def test_every_page_passes_the_accessibility_check_and_admin_pages_fit(
    cluster: Cluster, uscall_sim: USCallSim, browser: Browser
) -> None:
    server = await cluster.app_server(**uscall_sim.env(poll="0.5"))
    context = await browser.new_context(locale="pt-BR", viewport={"width": 1366, "height": 768})
    page = await context.new_page()
    await page.goto(server.url + "/login")
    await accessible(page, "/login")
    await context.close()

    # The agent's screens: the extension form, each kind of pop, the lists.
    context = await browser.new_context(locale="pt-BR", viewport={"width": 1366, "height": 768})
    page, errors = await logged_in(context, server.url + "/atendimento", "agente")
    await expect(page.locator("input[name=ramal]")).to_be_visible()
    await accessible(page, "/atendimento (extension)")
    await on_extension(page, "2001")
    for name, params, seen in (
        ("novaSolicitacao", {"cpf": "11144477735"}, ".caller-context .card"),
        ("novaSolicitacao", {"cpf": "00000000191"}, "form.register"),
        ("visualizarSolicitacao", {"cpf": "52998224725", "idSolicitacao": "1"}, ".execute"),
    ):
        await pbx(server, name, ramal="2001", **params)
        await expect(page.locator("#pop-area " + seen).first).to_be_visible()
        await accessible(page, f"/atendimento ({name} {params})")
    for path in ("/atendimento/perdidas", "/chamadas", "/atendimento/solicitacoes/1"):
        await page.goto(server.url + path)
        await accessible(page, path)
    assert not errors, errors
    await context.close()

    context = await browser.new_context(locale="pt-BR", viewport={"width": 1366, "height": 768})
    page, errors = await logged_in(context, server.url + "/painel", "supervisor")
    await expect(page.locator("#board-agents tr").first).to_be_visible(timeout=10_000)
    await accessible(page, "/painel")
    for path in ("/painel/ajustes", "/admin/uscall"):
        await page.goto(server.url + path)
        await accessible(page, path)
    await page.goto(server.url + "/painel/tv")
    await expect(page.locator(".tv-queue").first).to_be_visible(timeout=10_000)
    await accessible(page, "/painel/tv")
    await context.close()

    context = await browser.new_context(locale="pt-BR", viewport={"width": 1366, "height": 768})
    page, errors = await logged_in(context, server.url + "/admin/parametros", "admin")
    for path in ("/admin/parametros", "/admin/telefonia", "/admin/bloqueios", "/admin/api"):
        await page.goto(server.url + path)
        await accessible(page, path)
    # The permissions are one grid (operations × groups) that scrolls inside its card:
    # the page is a few screens, not 12,000 px.
    height = await page.evaluate("document.documentElement.scrollHeight")
    assert height < 3 * 768, height
    grid = page.locator("table.perm-grid")
    groups = await grid.locator("thead th").count() - 1
    assert groups >= 2 and await grid.locator("tbody tr").count() > 20
    box = grid.locator('input[value="N1|v2/units"]')
    await box.check()
    await page.get_by_role("button", name="Gravar permissões").click()
    await expect(page.locator('input[value="N1|v2/units"]')).to_be_checked()
    assert not errors, errors
    await context.close()
