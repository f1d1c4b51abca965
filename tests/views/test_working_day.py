"""The agent's and supervisor's day (issue 20), item by item as it is built: where each
role lands, controls without a dangerous default, the wall board on a TV."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, expect

from browsing import logged_in
from support import AppServer, Cluster, http_client, push55, web_login


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
    # Readable across the room: the figures are about 100 px tall on a 1920 px screen,
    # and the board uses the whole width without scrolling sideways.
    size = await queue.locator(".tv-waiting dd").evaluate("e => getComputedStyle(e).fontSize")
    assert float(size.removesuffix("px")) >= 90, size
    width, scroll = await page.evaluate(
        "[document.querySelector('#board-queues').getBoundingClientRect().width,"
        " document.documentElement.scrollWidth]"
    )
    assert width >= 1800 and scroll <= 1920, (width, scroll)
    assert not errors, errors
    await context.close()
