from __future__ import annotations

import logging
import re
from urllib.parse import unquote

from hypothesis import given
from hypothesis import strategies as st

from callhub.app import create_app
from callhub.settings import Settings
from callhub.webservices.telefonia import answer_count
from support import PBX_TOKEN, Agent, AppServer, http_client, pbx


def test_answer_count_forms():
    assert answer_count(0, None) == ""
    assert answer_count(1, 34534) == "1?34534"
    assert answer_count(3, None) == "3"


@given(st.integers(0, 10_000), st.integers(1, 10**9))
def test_answer_count_property(count: int, number: int):
    text = answer_count(count, number if count == 1 else None)
    if count == 0:
        assert text == ""
    elif count == 1:
        assert text == f"1?{number}"
    else:
        assert text == str(count) and "?" not in text


async def test_token_is_required(server: AppServer):
    async with http_client(base_url=server.url) as c:
        path = "/webservices/telefonia/novaSolicitacao?ramal=2001&cpf=52998224725"
        assert (await c.get(path)).status_code == 401
        r = await c.get(path, headers={"token": "wrong"})
        assert r.status_code == 401 and r.json()["field"] == "token"
        r = await c.get(path + f"&token={PBX_TOKEN}")
        assert r.status_code == 200


async def test_bad_parameters_are_named(server: AppServer):
    r = await pbx(server, "novaSolicitacao", cpf="52998224725")
    assert r.status_code == 400 and r.json()["field"] == "ramal"
    r = await pbx(server, "novaSolicitacao", cpf="52998224725", ramal="20a1")
    assert r.status_code == 400 and r.json()["field"] == "ramal"
    r = await pbx(server, "visualizarSolicitacao", idSolicitacao="abc", ramal="2001")
    assert r.status_code == 400 and r.json()["field"] == "idSolicitacao"
    r = await pbx(server, "visualizarSolicitacao", idSolicitacao="999999", ramal="2001")
    assert r.status_code == 404 and r.json()["field"] == "idSolicitacao"
    r = await pbx(server, "obterDadosSolicitacao", idSolicitacao="x1")
    assert r.status_code == 400
    r = await pbx(server, "obterQtdeSolicitacoes")
    assert r.status_code == 400 and "cpf" in r.text
    r = await pbx(server, "naoExiste")
    assert r.status_code == 404


async def test_nothing_half_written_on_bad_input(server: AppServer, agents: list[Agent]):
    agent = await Agent(server, "agente").login("2001")
    agents.append(agent)
    r = await pbx(server, "visualizarSolicitacao", idSolicitacao="424242", ramal="2001")
    assert r.status_code == 404
    tab = await agent.tab(after=0)
    assert 'data-max-seq="0"' in tab.frames[0]  # no pop was stored
    await tab.close()


async def test_oversized_body_is_413(server: AppServer):
    async with http_client(base_url=server.url) as c:
        r = await c.post(
            "/webservices/telefonia/novaSolicitacao",
            content=b"ramal=2001&cpf=" + b"1" * 200_000,
            headers={"token": PBX_TOKEN, "content-type": "application/x-www-form-urlencoded"},
        )
        assert r.status_code == 413


async def test_json_with_a_lone_surrogate_is_400_not_500(server: AppServer):
    async with http_client(base_url=server.url) as c:
        r = await c.post(
            "/webservices/telefonia/novaSolicitacao",
            content=rb'{"ramal": "2001", "fila": "\ud800"}',
            headers={"token": PBX_TOKEN, "content-type": "application/json"},
        )
    assert r.status_code == 400 and "JSON" in r.json()["error"]


async def test_post_form_and_json_and_get_agree(server: AppServer):
    r1 = await pbx(server, "obterQtdeSolicitacoes", cpf="111.444.777-35")
    r2 = await pbx(server, "obterQtdeSolicitacoes", method="POST", cpf="11144477735")
    async with http_client(base_url=server.url) as c:
        r3 = await c.post(
            "/webservices/telefonia/obterQtdeSolicitacoes",
            json={"cpf": "11144477735"},
            headers={"token": PBX_TOKEN},
        )
    assert r1.text == r2.text == r3.text == "2"
    assert r1.headers["content-type"].startswith("text/plain")


async def test_count_forms(server: AppServer):
    assert (await pbx(server, "obterQtdeSolicitacoes", cpf="39053344705")).text.startswith("1?")
    assert (await pbx(server, "obterQtdeSolicitacoes", cpf="52998224725")).text == ""
    r = await pbx(server, "obterQtdeSolicitacoes", cpf="39053344706")
    assert r.status_code == 400


async def test_request_data_json_and_text(server: AppServer):
    r = await pbx(server, "obterDadosSolicitacao", idSolicitacao="1")
    data = r.json()
    assert set(data) >= {"id", "dataAbertura", "prazo", "situacao", "noPrazo"}
    assert data["id"] == 1 and data["noPrazo"] is True and data["situacao"] == "Em andamento"
    async with http_client(base_url=server.url) as c:
        r = await c.get(
            "/webservices/telefonia/obterDadosSolicitacao?idSolicitacao=1",
            headers={"token": PBX_TOKEN, "accept": "text/plain"},
        )
    fields = r.text.split(";")
    assert fields[0] == "1" and fields[3] == "Em andamento" and fields[4] == "S"
    assert len(fields[1]) == len("dd/mm/yyyy hh:mm")


async def test_parameter_281_disables_and_admin_page_edits_at_once(
    server: AppServer, agents: list[Agent]
):
    """The admin's change applies to the next PBX request, though the parameters are
    cached: saving them empties the cache of the process that saved them."""
    admin = await Agent(server, "admin").login()
    agents.append(admin)
    page = await admin.http.get("/admin/parametros")
    assert page.status_code == 200 and "281" in page.text
    # Read (and cached) while enabled.
    assert (
        await pbx(server, "novaSolicitacao", cpf="52998224725", ramal="2001")
    ).status_code == 200
    r = await admin.http.post("/admin/parametros", data={"p281": "N", "p282": "N", "p283": ""})
    assert r.status_code == 303
    r = await pbx(server, "novaSolicitacao", cpf="52998224725", ramal="2001")
    assert r.status_code == 503 and "281" in r.json()["error"]
    r = await admin.http.post("/admin/parametros", data={"p281": "X", "p282": "N", "p283": ""})
    assert r.status_code == 422
    await admin.http.post("/admin/parametros", data={"p281": "S", "p282": "N", "p283": ""})
    assert (
        await pbx(server, "novaSolicitacao", cpf="52998224725", ramal="2001")
    ).status_code == 200
    agent = await Agent(server, "agente").login()
    agents.append(agent)
    assert (await agent.http.get("/admin/parametros")).status_code == 403


async def test_english_when_asked(server: AppServer):
    async with http_client(base_url=server.url) as c:
        r = await c.get(
            "/webservices/telefonia/novaSolicitacao?cpf=1",
            headers={"token": PBX_TOKEN, "accept-language": "en-US,en;q=0.9"},
        )
        assert r.status_code == 400 and "required" in r.json()["error"]
        page = await c.get("/login", headers={"accept-language": "en"})
        assert "Password" in page.text and 'lang="en"' in page.text
        page = await c.get("/login")
        assert "Senha" in page.text and 'lang="pt-BR"' in page.text


async def test_a_browser_opening_the_url_logs_in_then_sees_the_screen_as_a_page(
    server: AppServer, agents: list[Agent]
):
    """PBX requests skip the browser's layers (session, CSRF); a browser asking for HTML
    still goes through them: the login first, then the pop as a full page."""
    path = "/webservices/telefonia/novaSolicitacao?ramal=2001&cpf=52998224725&ura=9-9"
    html = {"token": PBX_TOKEN, "accept": "text/html,application/xhtml+xml"}
    async with http_client(base_url=server.url) as c:
        r = await c.get(path, headers=html)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/login?next=%2Fwebservices%2Ftelefonia%2F")
    agent = await Agent(server, "agente").login("2001")
    agents.append(agent)
    tab = await agent.tab()
    r = await agent.http.get(path, headers=html)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "<html" in r.text and "Maria da Silva" in r.text and "9-9" in r.text
    assert 'id="pop-area"' in r.text and "Nova solicitação" in r.text
    await tab.wait_for("9-9")  # the agent's tab got the pop too
    # The PBX's own request answers JSON, cookie or not.
    r = await agent.http.get(path, headers={"token": PBX_TOKEN})
    assert r.status_code == 200 and r.json()["identified"] is True


async def test_a_token_in_the_query_string_is_never_echoed_nor_logged(server: AppServer):
    path = f"/webservices/telefonia/novaSolicitacao?ramal=2001&token={PBX_TOKEN}&cpf=1"
    async with http_client(base_url=server.url) as c:
        r = await c.get(path, headers={"accept": "text/html"})
    assert r.status_code == 303 and PBX_TOKEN not in r.headers["location"]
    assert unquote(r.headers["location"]) == (
        "/login?next=/webservices/telefonia/novaSolicitacao?ramal=2001&cpf=1"
    )
    # uvicorn's access log, as it writes a request (callhub filters that logger).
    create_app(Settings())
    seen: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())  # type: ignore[method-assign]
    access = logging.getLogger("uvicorn.access")
    access.addHandler(handler)
    try:
        access.warning('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", path, "1.1", 200)
    finally:
        access.removeHandler(handler)
    assert seen and PBX_TOKEN not in seen[0] and "token=***" in seen[0]


async def test_an_admin_rotates_the_pbx_token_and_only_the_new_one_works(
    server: AppServer, agents: list[Agent]
):
    admin = await Agent(server, "admin").login()
    agents.append(admin)
    page = await admin.http.post("/admin/telefonia/token")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    shown = re.search(r'<code id="pbx-token">([^<]+)</code>', page.text)
    assert shown is not None  # shown this once
    new = shown.group(1)
    assert new != PBX_TOKEN
    old = await pbx(server, "novaSolicitacao", cpf="52998224725", ramal="2001")
    assert old.status_code == 401
    async with http_client(base_url=server.url, timeout=10) as c:
        r = await c.get(
            "/webservices/telefonia/novaSolicitacao",
            params={"cpf": "52998224725", "ramal": "2001"},
            headers={"token": new},
        )
    assert r.status_code == 200
    again = await admin.http.get("/admin/telefonia")
    assert new not in again.text  # never shown again
