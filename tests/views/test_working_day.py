"""The agent's and supervisor's day (issue 20), item by item as it is built: where each
role lands, and controls without a dangerous default."""

from __future__ import annotations

import re

import pytest

from support import AppServer, http_client, web_login


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
