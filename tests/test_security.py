"""Abuse: CSRF on every form, login rate limits, cookies, PBX tokens and source addresses,
body limits everywhere, security headers. Each against the real server."""

from __future__ import annotations

import asyncio
import re

import pytest
import websockets
from starlette.routing import Route

from callhub.app import create_app
from callhub.settings import Settings
from callhub.webservices.common import token_matches
from support import (
    PASSWORD,
    PBX55_TOKEN,
    PBX_TOKEN,
    AppServer,
    Cluster,
    RedisServer,
    Served,
    api_call,
    csrf_token,
    http_client,
    run_cli,
    web_login,
)

# Where a token, not a cookie, authenticates: the PBXs' webservices and pushes, the ITSM
# and field APIs. Written here, not taken from csrf.py: exempting anything else must fail.
TOKEN_PREFIXES = ("/webservices/", "/webservice/", "/integrations/", "/services/", "/mobile/")

# Every form the browser posts with the session cookie, each to be refused without its
# token. A new one must be added here (and so thought about).
FORMS = [
    "/admin/api/consultas",
    "/admin/api/consultas/1/apagar",
    "/admin/api/grupos",
    "/admin/api/grupos/1/acesso",
    "/admin/api/grupos/1/membros",
    "/admin/api/grupos/1/membros/remover",
    "/admin/api/grupos/1/permissoes",
    "/admin/api/permissoes",
    "/admin/bloqueios",
    "/admin/bloqueios/1/remover",
    "/admin/parametros",
    "/admin/telefonia/55pbx/token",
    "/admin/telefonia/token",
    "/atendimento/avisar",
    "/atendimento/ligar",
    "/atendimento/perdidas/1/retornar",
    "/atendimento/perdidas/1/tratada",
    "/atendimento/preferencias",
    "/atendimento/ramal",
    "/atendimento/ramal/liberar",
    "/atendimento/solicitacoes",
    "/atendimento/solicitacoes/1/ocorrencias",
    "/atendimento/solicitacoes/1/situacao",
    "/atendimento/solicitantes",
    "/atendimento/uscall/desligar",
    "/atendimento/uscall/entrar",
    "/atendimento/uscall/pausa",
    "/atendimento/uscall/retomar",
    "/atendimento/uscall/sair",
    "/login",
    "/logout",
    "/painel/ajustes",
    "/painel/desligar",
    "/painel/monitorar",
]


def form_routes() -> list[str]:
    """Every state-changing path the app serves outside the token-authenticated APIs,
    parameters filled in."""
    paths = []
    for route in create_app(Settings(demo=True)).routes:
        if not isinstance(route, Route) or not route.methods:
            continue
        if not route.methods & {"POST", "PUT", "PATCH", "DELETE"}:
            continue
        if route.path.startswith(TOKEN_PREFIXES):
            continue
        paths.append(re.sub(r"\{[^}]+\}", "1", route.path))
    return sorted(set(paths))


def test_every_form_route_is_known_to_the_csrf_test() -> None:
    assert form_routes() == FORMS


@pytest.mark.above_the_store
async def test_every_form_refuses_a_missing_or_foreign_csrf_token(server: AppServer) -> None:
    async with (
        http_client(base_url=server.url, timeout=10) as admin,
        http_client(base_url=server.url, timeout=10) as other,
    ):
        assert (await web_login(admin, "admin")).status_code == 303
        assert (await web_login(other, "supervisor")).status_code == 303
        own = admin.headers.pop("X-CSRF-Token")
        foreign = other.headers["X-CSRF-Token"]
        assert own != foreign
        for path in FORMS:
            bare = await admin.post(path, data={"x": "1"})
            assert bare.status_code == 403, (path, bare.status_code)
            assert "Formulário recusado" in bare.text
            wrong = await admin.post(path, data={"x": "1", "csrf_token": foreign})
            assert wrong.status_code == 403, path
            header = await admin.post(path, data={"x": "1"}, headers={"X-CSRF-Token": foreign})
            assert header.status_code == 403, path
        # With its own token, in the form or in htmx's header, the same session goes through.
        ok = await admin.post(
            "/admin/api/grupos", data={"acronym": "NOVO", "name": "Novo", "csrf_token": own}
        )
        assert ok.status_code == 303, ok.text
        ok = await admin.post(
            "/admin/api/grupos",
            data={"acronym": "NOVO2", "name": "N"},
            headers={"X-CSRF-Token": own},
        )
        assert ok.status_code == 303, ok.text
        # A login form needs the token too (login CSRF), and the token changes at login.
        async with http_client(base_url=server.url, timeout=10) as anon:
            r = await anon.post("/login", data={"username": "agente", "password": PASSWORD})
            assert r.status_code == 403
            before = await csrf_token(anon)
            assert (await web_login(anon, "agente")).status_code == 303
            assert anon.headers["X-CSRF-Token"] != before
    # Pages carry the token in their forms and in htmx's headers, and it is the session's.
    async with http_client(base_url=server.url, timeout=10) as c:
        await web_login(c, "admin")
        page = await c.get("/admin/api")
        token = c.headers["X-CSRF-Token"]
        assert page.text.count(f'name="csrf_token" value="{token}"') >= 3
        assert f'hx-headers=\'{{"X-CSRF-Token": "{token}"}}\'' in page.text


@pytest.mark.above_the_store
@pytest.mark.redis
async def test_failed_logins_are_limited_across_processes(
    cluster: Cluster, redis_server: RedisServer
) -> None:
    cluster.broker_url = redis_server.url
    limits = {"CALLHUB_LOGIN_MAX_FAILURES": "3", "CALLHUB_LOGIN_WINDOW_SECONDS": "3"}
    first, second = cluster.server(**limits), cluster.server(**limits)
    async with (
        http_client(base_url=first.url, timeout=10) as a,
        http_client(base_url=second.url, timeout=10) as b,
    ):
        for client in (a, b, a):
            r = await web_login(client, "agente", "wrong-password")
            assert r.status_code == 401
        # The fourth try, even with the right password and on the other process: 429.
        r = await web_login(b, "agente")
        assert r.status_code == 429 and r.headers["retry-after"] == "3"
        assert "Muitas tentativas" in r.text
        api = await api_call(
            second,
            "v2/login",
            {"userName": "agente", "password": PASSWORD, "platform": "android"},
            status=429,
        )
        assert api["error"]["code"] == "TOO_MANY_ATTEMPTS"
        assert api["error"]["field"] == "userName"
        # Another account is not affected.
        assert (await web_login(a, "agente2")).status_code == 303
        await asyncio.sleep(3.2)  # the window ends
        assert (await web_login(b, "agente")).status_code == 303
    # The API's failures count as well.
    for _ in range(3):
        await api_call(
            first, "login", {"userName": "agente3", "password": "x", "platform": "ERP"}, status=401
        )
    await api_call(
        first, "login", {"userName": "agente3", "password": PASSWORD, "platform": "ERP"}, status=429
    )


@pytest.mark.above_the_store
@pytest.mark.redis
async def test_logins_fired_together_are_limited_too(
    cluster: Cluster, redis_server: RedisServer
) -> None:
    """Each attempt is counted before its password is checked: 60 wrong passwords for one
    account at once, across two processes, get at most the limit's 401s; 60 accounts
    tried at once from one address, at most the address's limit."""
    cluster.broker_url = redis_server.url
    per_user = {"CALLHUB_LOGIN_MAX_FAILURES": "5", "CALLHUB_LOGIN_WINDOW_SECONDS": "60"}
    first, second = cluster.server(**per_user), cluster.server(**per_user)

    async def attempt(server: Served, username: str) -> int:
        async with http_client(base_url=server.url, timeout=30) as c:
            body = {"userName": username, "password": "wrong-password", "platform": "ERP"}
            return (await c.post("/services/login", json=body)).status_code

    statuses = await asyncio.gather(*(attempt((first, second)[n % 2], "agente") for n in range(60)))
    assert statuses.count(401) <= 5 and statuses.count(401) >= 1, statuses
    assert statuses.count(429) == 60 - statuses.count(401), statuses
    # The right password is refused too, until the window ends.
    await api_call(
        second, "login", {"userName": "agente", "password": PASSWORD, "platform": "ERP"},
        status=429,
    )  # fmt: skip

    per_address = {"CALLHUB_LOGIN_MAX_FAILURES_PER_ADDRESS": "10"}
    cluster.broker_url = None  # a process of its own: counters of its own
    third = cluster.server(**per_address)
    statuses = await asyncio.gather(*(attempt(third, f"nobody-{n}") for n in range(60)))
    assert 1 <= statuses.count(401) <= 10 and statuses.count(429) >= 50, statuses


@pytest.mark.above_the_store
async def test_only_a_trusted_proxy_may_say_who_the_client_is(cluster: Cluster) -> None:
    """Started as users start it (callhub serve): X-Forwarded-For counts only from the
    proxies in CALLHUB_TRUSTED_PROXIES; from anyone else it is ignored, so a client cannot
    dodge the per-address login limit by naming another address at each attempt."""
    limits = {"CALLHUB_LOGIN_MAX_FAILURES_PER_ADDRESS": "3"}

    async def attempts(server: Served) -> list[int]:
        statuses = []
        async with http_client(base_url=server.url, timeout=10) as c:
            for n in range(5):
                body = {"userName": f"nobody-{n}", "password": "wrong", "platform": "ERP"}
                r = await c.post(
                    "/services/login", json=body, headers={"X-Forwarded-For": f"10.0.0.{n}"}
                )
                statuses.append(r.status_code)
        return statuses

    assert await attempts(cluster.server(**limits)) == [401, 401, 401, 429, 429]
    behind_a_proxy = cluster.server(CALLHUB_TRUSTED_PROXIES="127.0.0.1", **limits)
    assert await attempts(behind_a_proxy) == [401] * 5  # five clients, one attempt each


@pytest.mark.above_the_store
async def test_session_cookie_flags(cluster: Cluster) -> None:
    # Secure (with HSTS) unless turned off: "" is the variable unset, the default.
    for env, secure in (({"CALLHUB_HTTPS_ONLY": ""}, True), ({"CALLHUB_HTTPS_ONLY": "0"}, False)):
        server = await cluster.app_server(**env)
        async with http_client(base_url=server.url, timeout=10) as c:
            token = await csrf_token(c)
            r = await c.post(
                "/login",
                data={"username": "agente", "password": PASSWORD, "csrf_token": token},
            )
        cookie = r.headers["set-cookie"].lower()
        assert "callhub_session=" in cookie and "httponly" in cookie
        assert "samesite=lax" in cookie and "path=/" in cookie
        assert ("secure" in cookie) is secure
        assert ("strict-transport-security" in r.headers) is secure


async def test_logout_and_a_new_password_revoke_every_copy_of_the_cookie(
    cluster: Cluster,
) -> None:
    server = await cluster.app_server()
    async with (
        http_client(base_url=server.url, timeout=10) as browser,
        http_client(base_url=server.url, timeout=10) as thief,
    ):
        assert (await web_login(browser, "agente")).status_code == 303
        saved = browser.cookies.get("callhub_session")
        thief.cookies.set("callhub_session", saved)
        assert (await thief.get("/atendimento")).status_code == 200  # a copy works...
        await browser.post("/logout")
        thief.cookies.set("callhub_session", saved)
        gone = await thief.get("/atendimento")
        assert gone.status_code == 303 and gone.headers["location"].startswith("/login")
        with pytest.raises(websockets.InvalidStatus):  # ...and no tab opens with it either
            await websockets.connect(server.ws_url, additional_headers={
                "Cookie": f"callhub_session={saved}"})  # fmt: skip

        # An admin ends them from the command line; a new password ends them too.
        new_password = ["createuser", "agente", "--password", PASSWORD, "--can-execute"]
        for command in (["end-sessions", "agente"], new_password):
            browser.headers.pop("X-CSRF-Token", None)  # the ended session's
            assert (await web_login(browser, "agente")).status_code == 303
            assert (await browser.get("/atendimento")).status_code == 200
            env = {"CALLHUB_DATABASE_URL": cluster.database_url}
            done = await asyncio.to_thread(run_cli, env, *command)
            assert done.returncode == 0, done.stderr
            assert (await browser.get("/atendimento")).status_code == 303, command


@pytest.mark.above_the_store
async def test_pbx_tokens_and_source_allow_list(cluster: Cluster) -> None:
    # compare_digest underneath: any length, any text, never an exception.
    assert token_matches(PBX_TOKEN, PBX_TOKEN)
    for given in ("", "x", PBX_TOKEN[:-1], PBX_TOKEN + "x", "ç" * 30, None):
        assert not token_matches(given, PBX_TOKEN)
    closed = await cluster.app_server(CALLHUB_PBX_ALLOWLIST="10.0.0.0/8, 192.168.1.10")
    opened = await cluster.app_server(CALLHUB_PBX_ALLOWLIST="10.0.0.0/8,127.0.0.1/32")
    for server, status in ((closed, 403), (opened, 200)):
        async with http_client(base_url=server.url, timeout=10) as c:
            r = await c.get(
                "/webservices/telefonia/obterQtdeSolicitacoes",
                params={"cpf": "11144477735"},
                headers={"token": PBX_TOKEN},
            )
            assert r.status_code == status, r.text
            r = await c.get("/webservices/telefonia/obterQtdeSolicitacoes", params={"cpf": "1"})
            assert r.status_code in (401, 403)


FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.mark.above_the_store
async def test_every_endpoint_limits_its_body(cluster: Cluster) -> None:
    server = await cluster.app_server(CALLHUB_MAX_BODY_BYTES="2048")
    big = b"a=" + b"x" * 4096

    async def chunks():
        for _ in range(8):
            yield b"x" * 1024

    targets = [
        ("/login", FORM),
        ("/atendimento/solicitacoes", FORM),
        ("/admin/api/consultas", FORM),
        ("/webservices/telefonia/novaSolicitacao", {"token": PBX_TOKEN}),
        ("/integrations/55pbx", {"token": PBX55_TOKEN, "content-type": "application/json"}),
        ("/services/login", {"content-type": "application/json"}),
        ("/services/request/create", {"content-type": "application/json"}),
        ("/mobile/v2/notification/checkin", {"content-type": "application/json"}),
    ]
    async with http_client(base_url=server.url, timeout=10) as c:
        await web_login(c, "admin")
        for path, headers in targets:
            declared = await c.post(path, content=big, headers=headers)
            assert declared.status_code == 413, (path, declared.status_code)
            streamed = await c.post(path, content=chunks(), headers=headers)
            assert streamed.status_code == 413, (path, streamed.status_code)


@pytest.mark.above_the_store
async def test_security_headers_and_a_csp_of_our_own_assets(server: AppServer) -> None:
    async with http_client(base_url=server.url, timeout=10) as c:
        for path in ("/login", "/static/callhub.css", "/services/docs", "/healthz"):
            r = await c.get(path)
            csp = r.headers["content-security-policy"]
            assert "default-src 'self'" in csp and "script-src 'self'" in csp
            assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
            assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["x-frame-options"] == "DENY"
            assert r.headers["referrer-policy"] == "same-origin"
        page = (await c.get("/login")).text
    # Nothing inline for the CSP to block: every script is a file of ours.
    scripts = re.findall(r"<script([^>]*)>", page)
    assert scripts and all(re.search(r'src="/static/', s) for s in scripts)
    assert " style=" not in page and " onclick=" not in page


def test_login_limit_settings_are_checked() -> None:
    from callhub.settings import ConfigError

    with pytest.raises(ConfigError, match="CALLHUB_LOGIN_WINDOW_SECONDS"):
        Settings.from_env({"CALLHUB_DEMO": "1", "CALLHUB_LOGIN_WINDOW_SECONDS": "0"}).check()
    with pytest.raises(ConfigError, match="CALLHUB_LOGIN_MAX_FAILURES"):
        Settings.from_env({"CALLHUB_DEMO": "1", "CALLHUB_LOGIN_MAX_FAILURES": "0"}).check()


@pytest.mark.above_the_store
async def test_login_goes_back_only_to_a_page_of_this_site(server: AppServer):
    """`next` takes the user back where the login interrupted them: a path here. Anything
    that would leave the site (another host, a scheme, a path the browser reads as a host)
    goes to the user's home instead."""
    elsewhere = [
        "https://evil.example/",
        "//evil.example/login",
        "/\\evil.example",
        "javascript:alert(1)",
        "evil.example",
    ]
    for target in [*elsewhere, "/chamadas?de=2026-11-01"]:
        async with http_client(base_url=server.url, timeout=10) as c:
            page = await c.get("/login", params={"next": target})
            shown = 'name="next" value="' in page.text
            assert shown == (target == "/chamadas?de=2026-11-01"), target
            r = await web_login(c, "agente", next=target)
            assert r.status_code == 303
            expected = "/atendimento" if target in elsewhere else target
            assert r.headers["location"] == expected, target
