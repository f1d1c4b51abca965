"""/services/*: sessions and permissions, XML, the FROM-TO table, named queries and
operations, the error log, the v2 lists, the OpenAPI document, and live tabs."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
from sqlmodel import col, select

from callhub.demo_itsm import REQUEST_OPERATIONS
from callhub.store import api
from callhub.store.models import ApiExecution, Requester, ServiceRequest, Unit
from support import (
    API_USER,
    PASSWORD,
    PBX_TOKEN,
    Agent,
    AppServer,
    Cluster,
    Served,
    api_call,
    api_login,
    http_client,
    pbx,
    web_login,
)


async def post_xml(server: Served, name: str, xml: str) -> httpx.Response:
    async with http_client(base_url=server.url, timeout=10) as c:
        return await c.post(
            f"/services/{name}", content=xml.encode(), headers={"content-type": "text/xml"}
        )


async def admin(server: Served) -> httpx.AsyncClient:
    client = http_client(base_url=server.url, timeout=10)
    r = await web_login(client, "admin")
    assert r.status_code == 303
    return client


async def test_sessions_expire_when_idle_and_unknown_ones_are_refused(cluster: Cluster) -> None:
    server = await cluster.app_server(CALLHUB_API_SESSION_IDLE_SECONDS="2")
    sid = await api_login(server)
    for _ in range(3):  # in use, the session stays alive past the idle time
        await api_call(server, "v2/contracts", {"sessionID": sid})
        await asyncio.sleep(0.8)
    await asyncio.sleep(2.5)
    expired = await api_call(server, "v2/contracts", {"sessionID": sid}, status=401)
    assert expired["error"]["code"] == "SESSION_EXPIRED"
    unknown = await api_call(server, "v2/contracts", {"sessionID": "forged"}, status=401)
    assert unknown["error"]["code"] == "SESSION_UNKNOWN"
    missing = await api_call(server, "v2/contracts", {"messageID": "m"}, status=401)
    assert missing["error"]["field"] == "sessionID" and missing["messageID"] == "m"
    # Failures are executions too, with their own operationIDs.
    ids = {expired["operationID"], unknown["operationID"], missing["operationID"]}
    rows = await cluster.read(
        lambda s: s.exec(select(ApiExecution).where(ApiExecution.id.in_(ids))).all()  # type: ignore[union-attr]
    )
    assert sorted(r.error_code or "" for r in rows) == [
        "SESSION_EXPIRED",
        "SESSION_REQUIRED",
        "SESSION_UNKNOWN",
    ]


async def test_a_session_ends_at_logout_and_at_its_absolute_lifetime(cluster: Cluster) -> None:
    server = await cluster.app_server(CALLHUB_API_SESSION_MAX_SECONDS="2")
    sid = await api_login(server, "agente2", "SUPORTE")  # logout needs no permission
    assert (await api_call(server, "logout", {"sessionID": sid}))["success"] is True
    gone = await api_call(server, "request/getById", {"sessionID": sid, "number": 1}, status=401)
    assert gone["error"]["code"] == "SESSION_UNKNOWN"
    await api_call(server, "logout", {"sessionID": sid}, status=401)
    sid = await api_login(server)
    clock = asyncio.get_running_loop().time
    logged_in = clock()
    while clock() - logged_in < 1.5:  # in use all along, never idle
        await api_call(server, "v2/contracts", {"sessionID": sid})
        await asyncio.sleep(0.3)
    await asyncio.sleep(2.3 - (clock() - logged_in))
    expired = await api_call(server, "v2/contracts", {"sessionID": sid}, status=401)
    assert expired["error"]["code"] == "SESSION_EXPIRED"


async def test_operations_follow_the_groups_permissions_as_the_admin_edits_them(
    server: AppServer,
) -> None:
    sid = await api_login(server, "agente2", "SUPORTE")  # in N1: requests, no reference lists
    refused = await api_call(server, "v2/contracts", {"sessionID": sid}, status=403)
    assert refused["error"]["code"] == "FORBIDDEN"
    assert "v2/contracts" in refused["error"]["description"]
    await api_call(server, "request/getById", {"sessionID": sid, "number": 1})

    client = await admin(server)
    try:
        page = await client.get("/admin/api")
        assert page.status_code == 200 and 'id="grupo-N1"' in page.text
        r = await client.post("/admin/api/grupos", data={"acronym": "LEITURA", "name": "Leitura"})
        assert r.status_code == 303
        r = await client.post(
            "/admin/api/grupos/LEITURA/permissoes", data={"op": ["v2/contracts", "v2/units"]}
        )
        assert r.status_code == 303
        r = await client.post("/admin/api/grupos/LEITURA/membros", data={"username": "agente2"})
        assert r.status_code == 303
        await api_call(server, "v2/contracts", {"sessionID": sid})
        bad = await client.post("/admin/api/grupos/LEITURA/permissoes", data={"op": "nope"})
        assert bad.status_code == 422
        r = await client.post(
            "/admin/api/grupos/LEITURA/membros/remover", data={"username": "agente2"}
        )
        assert r.status_code == 303
        await api_call(server, "v2/contracts", {"sessionID": sid}, status=403)
        assert (await client.post("/admin/api/grupos/NADA/permissoes")).status_code == 404
    finally:
        await client.aclose()
    async with http_client(base_url=server.url) as anonymous:
        r = await anonymous.get("/admin/api")
        assert r.status_code in (302, 303)


async def test_an_admin_lets_a_group_see_every_request_and_takes_it_back(
    cluster: Cluster, server: AppServer
) -> None:
    field = await cluster.read(
        lambda s: s.exec(select(ServiceRequest.id).where(col(ServiceRequest.requester_id).in_(
            select(Requester.id).where(Requester.login == "lojas.aurora")))).first()
    )  # fmt: skip
    assert field is not None
    sid = await api_login(server, "agente2", "SUPORTE")  # in N1 only: not the field's
    await api_call(server, "request/getById", {"sessionID": sid, "number": field}, status=404)
    client = await admin(server)
    try:

        def n1(page: httpx.Response) -> str:
            return page.text.split('id="grupo-N1"')[1].split("<section")[0]

        page = await client.get("/admin/api")
        # N1's column of the operations × groups grid: its operations, ticked.
        granted = re.findall(r'value="N1\|([^"]+)"[^>]*checked', page.text)
        assert set(granted) == set(REQUEST_OPERATIONS)
        assert 'name="all_requests" value="1">' in n1(page)  # unticked
        # The group's access form leaves its operations alone.
        r = await client.post("/admin/api/grupos/N1/acesso", data={"all_requests": "1"})
        assert r.status_code == 303
        await api_call(server, "request/getById", {"sessionID": sid, "number": field})
        assert 'name="all_requests" value="1" checked' in n1(await client.get("/admin/api"))
        r = await client.post("/admin/api/grupos/N1/acesso", data={})
        assert r.status_code == 303
        await api_call(server, "request/getById", {"sessionID": sid, "number": field}, status=404)
        # SUPORTE reserved to N1: its members log in as it, others are refused.
        r = await client.post("/admin/api/grupos/N1/acesso", data={"platforms": "suporte"})
        assert r.status_code == 303 and 'value="SUPORTE"' in n1(await client.get("/admin/api"))
        await api_login(server, "agente2", "SUPORTE")
        body = {"userName": "tecnico", "password": PASSWORD, "platform": "Suporte"}
        refused = await api_call(server, "login", body, status=403)
        assert refused["error"]["code"] == "PLATFORM_NOT_ALLOWED"
    finally:
        await client.aclose()


async def test_xml_login_and_create_and_hostile_xml(cluster: Cluster, server: AppServer) -> None:
    r = await post_xml(
        server,
        "xml/login",
        f"<login><userName>{API_USER}</userName><password>{PASSWORD}</password>"
        "<platform>LEGADO</platform></login>",
    )
    assert r.status_code == 200, r.text
    sid = r.json()["sessionID"]
    r = await post_xml(
        server,
        "xml/addServiceRequest",
        f"<req><sessionID>{sid}</sessionID><serviceRequestSource><numberOrigin>L-1</numberOrigin>"
        "<description>Via XML</description><userID>maria.silva</userID>"
        "<service>IMP</service></serviceRequestSource></req>",
    )
    assert r.status_code == 200, r.text
    assert r.json()["serviceRequestDest"]["numberOrigin"] == "L-1"

    before = await cluster.read(lambda s: len(s.exec(select(ServiceRequest)).all()))
    billion_laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        f"<req><sessionID>{sid}</sessionID><serviceRequestSource><description>&lol3;"
        "</description><userID>maria.silva</userID></serviceRequestSource></req>"
    )
    external = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        f"<req><sessionID>{sid}</sessionID><serviceRequestSource><description>&x;"
        "</description><userID>maria.silva</userID></serviceRequestSource></req>"
    )
    for hostile in (billion_laughs, external):
        r = await post_xml(server, "xml/addServiceRequest", hostile)
        assert r.status_code == 400 and r.json()["error"]["code"] == "XML_FORBIDDEN"
    r = await post_xml(server, "xml/addServiceRequest", "<req><sessionID>x</req>")
    assert r.status_code == 400 and r.json()["error"]["code"] == "MALFORMED_XML"
    r = await post_xml(server, "xml/login", "")
    assert r.status_code == 400 and r.json()["error"]["code"] == "EMPTY_BODY"
    after = await cluster.read(lambda s: len(s.exec(select(ServiceRequest)).all()))
    assert after == before
    async with http_client(base_url=server.url) as c:
        r = await c.post(
            "/services/login", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert r.status_code == 400 and r.json()["error"]["code"] == "MALFORMED_JSON"
        r = await c.post("/services/login", content=b"[1]")
        assert r.status_code == 400 and r.json()["error"]["code"] == "MALFORMED_JSON"
        r = await c.post(
            "/services/login", content=b"<a/>", headers={"content-type": "application/xml"}
        )
        assert r.status_code == 415 and r.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
        r = await c.post("/services/login", content=b"{" + b" " * 70_000 + b"}")
        assert r.status_code == 413


async def test_synchronize_find_and_delete_keys(server: AppServer) -> None:
    sid = await api_login(server)
    await api_call(
        server,
        "synchronize",
        {"sessionID": sid, "Object": "request", "FromKey": "X-1", "ToKey": "1"},
    )
    await api_call(
        server, "synchronize", {"sessionID": sid, "Object": "unit", "FromKey": "SP", "ToKey": "1"}
    )
    got = await api_call(server, "request/getById", {"sessionID": sid, "numberOrigin": "X-1"})
    assert got["number"] == 1 and got["numberOrigin"] == "X-1"
    found = await api_call(server, "synchronize/find", {"sessionID": sid, "Object": "request"})
    assert found["amount"] == 1
    assert found["requests"] == [{"Object": "request", "FromKey": "X-1", "ToKey": "1"}]
    everything = await api_call(server, "synchronize/find", {"sessionID": sid})
    assert everything["amount"] == 2
    bad = await api_call(
        server,
        "synchronize",
        {"sessionID": sid, "Object": "request", "FromKey": "X-2", "ToKey": "99999"},
        status=422,
    )
    assert bad["error"]["field"] == "ToKey"
    await api_call(
        server, "synchronize/delete", {"sessionID": sid, "Object": "request", "FromKey": "X-1"}
    )
    await api_call(server, "request/getById", {"sessionID": sid, "numberOrigin": "X-1"}, status=404)
    await api_call(
        server,
        "synchronize/delete",
        {"sessionID": sid, "Object": "request", "FromKey": "X-1"},
        status=404,
    )
    await api_call(server, "synchronize/delete", {"sessionID": sid, "Object": "unit"}, status=400)


async def test_named_queries_read_only_with_bound_parameters(server: AppServer) -> None:
    sid = await api_login(server)
    result = await api_call(
        server,
        "data/query",
        {
            "sessionID": sid,
            "QueryName": "solicitacoesPorSituacao",
            "Parameters": {"desde": "2000-01-01"},
        },
    )
    assert result["Result"] == [{"status": "InProgress", "quantidade": 7}]
    assert result["Truncated"] is False
    missing = await api_call(
        server, "data/query", {"sessionID": sid, "QueryName": "solicitacoesPorSituacao"}, status=400
    )
    assert missing["error"]["field"] == "Parameters.desde"
    extra = await api_call(
        server,
        "data/query",
        {
            "sessionID": sid,
            "QueryName": "solicitacoesPorSituacao",
            "Parameters": {"desde": "2000-01-01", "x": 1},
        },
        status=400,
    )
    assert extra["error"]["field"] == "Parameters.x"
    # An injection attempt is only a value: bound, never pasted into the SQL. SQLite
    # compares it as text (no row is that late); PostgreSQL, which types parameters, says
    # it is not a date.
    injection = {
        "sessionID": sid,
        "QueryName": "solicitacoesPorSituacao",
        "Parameters": {"desde": "2099-01-01' OR '1'='1"},
    }
    if server.env["CALLHUB_DATABASE_URL"].startswith("sqlite"):
        injected = await api_call(server, "data/query", injection)
        assert injected["Result"] == []
    else:
        injected = await api_call(server, "data/query", injection, status=400)
        assert injected["error"]["field"] == "Parameters.desde"
    # On both, a date and time with a zone is read as one.
    zoned = await api_call(
        server,
        "data/query",
        {**injection, "Parameters": {"desde": "2000-01-01T00:00:00-03:00"}},
    )
    assert zoned["Result"] == [{"status": "InProgress", "quantidade": 7}]
    await api_call(server, "data/query", {"sessionID": sid, "QueryName": "nope"}, status=404)

    client = await admin(server)
    try:
        for sql in (
            "DELETE FROM service_request",
            "SELECT 1; DELETE FROM service_request",
            "WITH x AS (DELETE FROM service_request RETURNING id) SELECT * FROM x",
        ):
            r = await client.post(
                "/admin/api/consultas", data={"name": "mau", "kind": "query", "sql": sql}
            )
            assert r.status_code == 422, sql
        r = await client.post(
            "/admin/api/consultas",
            data={
                "name": "fecharResolvidas",
                "kind": "operation",
                "description": "Fecha as resolvidas de um solicitante",
                "sql": "UPDATE service_request SET status = 'Closed' "
                "WHERE status = 'Resolved' AND requester_id = :solicitante",
            },
        )
        assert r.status_code == 303
        r = await client.post(
            "/admin/api/consultas",
            data={
                "name": "porNumero",
                "kind": "query",
                "sql": "SELECT id, description FROM service_request WHERE id = :n",
            },
        )
        assert r.status_code == 303
    finally:
        await client.aclose()
    one = await api_call(
        server, "data/query", {"sessionID": sid, "QueryName": "porNumero", "Parameters": {"n": 1}}
    )
    assert one["Result"] == [{"id": 1, "description": "Sem acesso à rede no 3º andar"}]
    # A query is not an operation, nor the other way round.
    await api_call(
        server,
        "execute",
        {"sessionID": sid, "OperationName": "porNumero", "Parameters": {"n": 1}},
        status=404,
    )
    done = await api_call(
        server,
        "execute",
        {"sessionID": sid, "OperationName": "fecharResolvidas", "Parameters": {"solicitante": 2}},
    )
    assert done["RowCount"] == 0 and done["Result"] == []


async def test_an_admin_deletes_a_named_query_and_integrators_can_no_longer_run_it(
    server: AppServer, agents: list[Agent]
) -> None:
    sid = await api_login(server)
    query = "solicitacoesPorSituacao"
    body = {"sessionID": sid, "QueryName": query, "Parameters": {"desde": "2000-01-01"}}
    await api_call(server, "data/query", body)
    agent = await Agent(server, "agente").login()  # not an admin: may not delete
    agents.append(agent)
    r = await agent.http.post(f"/admin/api/consultas/{query}/apagar")
    assert r.status_code == 403
    await api_call(server, "data/query", body)
    client = await admin(server)
    try:
        r = await client.post(f"/admin/api/consultas/{query}/apagar")
        assert r.status_code == 303
        page = await client.get("/admin/api")
        assert query not in page.text
        again = await client.post(f"/admin/api/consultas/{query}/apagar")
        assert again.status_code == 404
    finally:
        await client.aclose()
    await api_call(server, "data/query", body, status=404)


async def test_error_get_list_finds_failed_executions(server: AppServer) -> None:
    sid = await api_login(server)
    failed = await api_call(
        server,
        "request/getById",
        {"sessionID": sid, "number": 99999, "messageID": "lost-1"},
        status=404,
    )
    await api_call(server, "v2/contracts", {"sessionID": sid})
    errors = await api_call(
        server,
        "error/getList",
        {
            "sessionID": sid,
            "startDate": "2000-01-01T00:00:00",
            "OperationList": ["request/getById"],
        },
    )
    assert errors["Amount"] == 1
    item = errors["Errors"][0]
    assert item["operationID"] == failed["operationID"] and item["code"] == "NOT_FOUND"
    assert item["userID"] == API_USER and item["messageID"] == "lost-1"
    assert item["httpStatus"] == 404
    assert item["description"] == "Nenhuma solicitação com number 99999."
    none = await api_call(
        server, "error/getList", {"sessionID": sid, "endDate": "2000-01-01T00:00:00Z"}
    )
    assert none["Amount"] == 0


async def test_v2_reference_lists_and_workflow(cluster: Cluster, server: AppServer) -> None:
    sid = await api_login(server, platform="ANDROID", token="push-abc")
    contracts = await api_call(server, "v2/contracts", {"sessionID": sid})
    assert [c["id"] for c in contracts["contracts"]] == [1, 2]
    units = await api_call(server, "v2/units", {"sessionID": sid, "contractID": 1})
    assert [u["description"] for u in units["units"]] == ["Sede Paulista", "Filial Centro"]
    status = await api_call(server, "v2/status", {"sessionID": sid})
    assert [(s["id"], s["description"]) for s in status["status"]] == [
        (1, "Em andamento"),
        (2, "Suspensa"),
        (3, "Cancelada"),
        (4, "Resolvida"),
    ]
    suspended = status["status"][1]["justifications"]
    assert suspended and all(j["parentId"] == 2 for j in suspended)
    reasons = await api_call(server, "v2/deniedReasons", {"sessionID": sid})
    assert "Local fechado" in [r["description"] for r in reasons["reasons"]]

    moved = await api_call(
        server,
        "v2/coordinates",
        {"sessionID": sid, "unitID": 2, "latitude": -23.5, "longitude": -46.6},
    )
    assert moved["success"] is True
    unit = await cluster.read(lambda s: s.get(Unit, 2))
    assert unit is not None and (unit.latitude, unit.longitude) == (-23.5, -46.6)
    off = await api_call(
        server,
        "v2/coordinates",
        {"sessionID": sid, "unitID": 2, "latitude": 91, "longitude": 0},
        status=400,
    )
    assert off["error"]["field"] == "latitude"
    await api_call(
        server,
        "v2/coordinates",
        {"sessionID": sid, "unitID": 999, "latitude": 1, "longitude": 1},
        status=404,
    )
    first = await api_call(
        server, "v2/device/disassociate", {"sessionID": sid, "token": "push-abc"}
    )
    again = await api_call(
        server, "v2/device/disassociate", {"sessionID": sid, "token": "push-abc"}
    )
    assert (first["success"], again["success"]) == (True, False)

    flow = await api_call(server, "v2/getWorkflow", {"sessionID": sid})
    codes = {s["code"]: s for s in flow["states"]}
    assert codes["InProgress"]["initial"] and codes["Closed"]["final"]
    assert {"from": "Resolved", "to": "Closed"} in flow["transitions"]
    assert {"from": "Closed", "to": "InProgress"} not in flow["transitions"]
    english = await api_call(
        server, "v2/getWorkflow", {"sessionID": sid}, **{"accept-language": "en"}
    )
    assert {s["code"]: s["name"] for s in english["states"]}["Suspended"] == "Suspended"


async def test_openapi_document_and_docs_page(server: AppServer) -> None:
    async with http_client(base_url=server.url) as c:
        doc = (await c.get("/openapi.json")).json()
        page = await c.get("/services/docs")
    assert doc["openapi"].startswith("3.")
    names = {p.removeprefix("/services/") for p in doc["paths"] if p.startswith("/services/")}
    assert len(names) == 28 and {"request/create", "xml/login", "logout", "v2/getWorkflow"} <= names
    mobile = {p for p in doc["paths"] if p.startswith("/mobile/")}
    assert len(mobile) == 23 and "/mobile/v2/notification/checkin/denied" in mobile
    assert len(doc["paths"]) == 28 + 23
    create = doc["paths"]["/services/request/create"]["post"]
    assert create["requestBody"]["content"]["application/json"]["example"]["sourceRequest"]
    answer = create["responses"]["200"]["content"]["application/json"]["schema"]
    assert {"number", "numberOrigin", "endSLA", "dateTime", "operationID", "error"} <= set(
        answer["properties"]
    )
    assert (
        "application/xml" in doc["paths"]["/services/xml/login"]["post"]["requestBody"]["content"]
    )
    assert page.status_code == 200
    assert "/services/request/getNotSynchronized" in page.text
    assert "sourceRequest.contact.phoneNumber" in page.text


async def test_an_api_change_updates_the_agents_tab_live(
    server: AppServer, agents: list[Agent]
) -> None:
    agent = await Agent(server, "agente").login("2010")
    agents.append(agent)
    tab = await agent.tab()
    r = await pbx(
        server, "visualizarSolicitacao", idSolicitacao="3", cpf="39053344705", ramal="2010"
    )
    assert r.status_code == 200
    await tab.wait_for("Troca de senha do sistema de RH")
    sid = await api_login(server)
    body: dict[str, Any] = {
        "sessionID": sid,
        "number": 3,
        "status": {"code": "Suspended", "details": "Aguardando o solicitante"},
    }
    await api_call(server, "request/updateStatus", body)
    frame = await tab.wait_for("Aguardando o solicitante")
    assert "Suspensa" in frame
    await api_call(
        server,
        "request/createOccurrence",
        {"sessionID": sid, "requestNumber": 3, "occurrence": {"description": "Ligou de volta"}},
    )
    await tab.wait_for("Ligou de volta")
    # Twenty writes at once: the screen is refreshed a few times, not twenty.
    notes = [f"nota-{n:02d}" for n in range(20)]
    await asyncio.gather(*(
        api_call(server, "request/createOccurrence",
                 {"sessionID": sid, "requestNumber": 3, "occurrence": {"description": note}})
        for note in notes
    ))  # fmt: skip
    frames = []
    while True:  # every frame the burst brings, until the tab has been quiet a while
        try:
            frames.append(await tab.next(timeout=1.0))
        except TimeoutError:
            break
    assert all(note in frames[-1] for note in notes)  # the last one shows them all
    assert len(frames) < len(notes) / 2, len(frames)


async def test_every_documented_example_body_works(server: AppServer) -> None:
    """The examples /openapi.json and /services/docs show, posted as they are (with a real
    sessionID and password), in the order an integrator would try them."""
    from callhub.webservices.services import REGISTRY

    sid = await api_login(server)
    # The field app's examples are a field team leader's day (lider also approves).
    field = await api_login(server, "lider", "android")
    for name, op in REGISTRY.items():
        if op.example is None or op.xml:
            continue
        body = {**op.example}
        if "sessionID" in body:
            body["sessionID"] = field if name.startswith("mobile/") else sid
        if name == "logout":  # it ends the session it is given: a session of its own
            body["sessionID"] = await api_login(server)
        if "password" in body:
            body.update({"userName": API_USER, "password": PASSWORD})
        answer = await api_call(server, name, body)
        assert answer["error"] is None, (name, answer)


async def test_deeply_nested_bodies_are_a_logged_400_never_a_500(
    cluster: Cluster, server: AppServer
) -> None:
    deep = 8_000  # within the body limit, far past Python's recursion limit
    json_body = ('{"userName": ' + "[" * deep + "]" * deep + "}").encode()
    xml_body = ("<login>" + "<a>" * deep + "</a>" * deep + "</login>").encode()
    async with http_client(base_url=server.url, timeout=30) as c:
        for path, body, kind, code in (
            ("/services/request/getById", json_body, "application/json", "MALFORMED_JSON"),
            ("/services/xml/login", xml_body, "text/xml", "MALFORMED_XML"),
        ):
            r = await c.post(path, content=body, headers={"content-type": kind})
            assert r.status_code == 400, (path, r.status_code, r.text[:200])
            error = r.json()["error"]
            assert error["code"] == code and "níveis" in error["description"]
            number = r.json()["operationID"]
            logged = await cluster.read(lambda s, n=number: s.get(ApiExecution, n))
            assert logged is not None and not logged.ok and logged.error_code == code
        r = await c.post(
            "/webservices/telefonia/novaSolicitacao",
            content=json_body,
            headers={"content-type": "application/json", "token": PBX_TOKEN},
        )
        assert r.status_code == 400 and "nested too deeply" in r.text


async def test_a_named_query_that_runs_too_long_is_stopped_and_holds_nothing_up(
    cluster: Cluster, server: AppServer
) -> None:
    """The issue's recursive query: stopped with a 503 that names it, and while it runs
    the server answers everyone else (on SQLite it runs beside the event loop)."""
    endless = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
    )

    def save(session: Any) -> None:
        api.save_named_query(session=session, name="semFim", kind="query", description="",
                             sql=endless)  # fmt: skip
        session.commit()

    await cluster.read(save)
    sid = await api_login(server)
    async with http_client(base_url=server.url, timeout=30) as c:
        body = {"sessionID": sid, "QueryName": "semFim"}
        running = asyncio.create_task(c.post("/services/data/query", json=body))
        await asyncio.sleep(0.5)
        health = await c.get("/healthz")
        assert health.status_code == 200
        await api_call(server, "v2/contracts", {"sessionID": sid})
        assert not running.done(), "the server waited for the query"
        r = await running
    assert r.status_code == 503, r.text
    error = r.json()["error"]
    assert error["code"] == "QUERY_TIMEOUT" and error["field"] == "QueryName"
    assert "semFim" in error["description"]
    # The reads' connection is still read-only, and the next query runs.
    await api_call(server, "data/query", {"sessionID": sid, "QueryName": "solicitacoesPorSituacao",
                                          "Parameters": {"desde": "2026-01-01"}})  # fmt: skip
