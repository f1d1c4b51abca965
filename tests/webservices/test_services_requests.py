"""/services/* through a real server: login, the request operations and occurrences, with the
contract's example bodies, the envelope, the execution log and the telephony side."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from callhub.store import api
from callhub.store.models import ApiExecution, Group, Occurrence, Requester, ServiceRequest, Task
from support import (
    API_USER,
    PASSWORD,
    Agent,
    AppServer,
    Cluster,
    api_call,
    api_login,
    http_client,
    pbx,
)

CREATE = {
    "messageID": "msg-0001",
    "synchronize": True,
    "sourceRequest": {
        "numberOrigin": "ERP-123",
        "type": "I",
        "description": "Impressora do 3º andar não imprime",
        "userID": "carlos.lima",
        "contact": {
            "name": "Carlos Lima",
            "phoneNumber": "+55 11 91234-5678",
            "email": "carlos@example.com",
        },
        "contractID": 1,
        "service": {
            "code": "PLOT",
            "name": "Plotter",
            "category": {"code": "GRAF", "name": "Gráfica"},
        },
        "urgency": "H",
        "impact": "M",
        "groupId": "N1",
    },
}


async def test_login_answers_a_session_and_refuses_a_wrong_password(server: AppServer) -> None:
    data = await api_call(
        server,
        "login",
        {"userName": API_USER, "password": PASSWORD, "platform": "ERP", "messageID": "m1"},
    )
    assert len(data["sessionID"]) >= 32 and data["messageID"] == "m1"
    v2 = await api_call(
        server,
        "v2/login",
        {"userName": "agente", "password": PASSWORD, "platfom": "ANDROID", "token": "push-1"},
    )
    assert v2["rangeAction"] == 50 and v2["locationInterval"] == 5
    bad = await api_call(
        server,
        "login",
        {"userName": API_USER, "password": "wrong", "platform": "ERP"},
        status=401,
    )
    assert bad["error"]["code"] == "LOGIN_FAILED"
    missing = await api_call(server, "login", {"userName": API_USER, "platform": "ERP"}, status=400)
    assert missing["error"]["field"] == "password"
    assert "password" in missing["error"]["description"]


async def test_create_with_synchronize_then_get_by_either_number(
    cluster: Cluster, server: AppServer
) -> None:
    sid = await api_login(server)
    created = await api_call(server, "request/create", {"sessionID": sid, **CREATE})
    number = created["number"]
    assert created["messageID"] == "msg-0001"
    assert created["numberOrigin"] == "ERP-123"
    assert created["type"] == "I" and created["urgency"] == "H" and created["impact"] == "M"
    assert created["userID"] == "carlos.lima"
    assert created["contact"] == {
        "name": "Carlos Lima",
        "phoneNumber": "+5511912345678",
        "email": "carlos@example.com",
    }
    assert created["service"] == {
        "code": "PLOT",
        "name": "Plotter",
        "category": {"code": "GRAF", "name": "Gráfica"},
    }
    assert created["status"] == {"code": "InProgress", "name": "Em andamento"}
    assert created["groupId"] == "N1" and created["contractID"] == 1
    assert created["currentTask"]["groupId"] == "N1"
    # A service created on the fly has no SLA yet: no deadline.
    assert created["definedSLA"] is False and created["endSLA"] is None

    by_number = await api_call(server, "request/getById", {"sessionID": sid, "number": number})
    by_origin = await api_call(
        server, "request/getById", {"sessionID": sid, "numberOrigin": "ERP-123"}
    )
    for answer in (by_number, by_origin):
        assert {k: v for k, v in answer.items() if k not in ("dateTime", "operationID")} == {
            k: v for k, v in created.items() if k not in ("dateTime", "operationID", "messageID")
        }
    # Another platform has its own numberOrigins: ERP-123 means nothing to it.
    other = await api_login(server, platform="PORTAL")
    unknown = await api_call(
        server, "request/getById", {"sessionID": other, "numberOrigin": "ERP-123"}, status=404
    )
    assert unknown["error"]["field"] == "numberOrigin"
    seen = await api_call(server, "request/getById", {"sessionID": other, "number": number})
    assert seen["numberOrigin"] is None

    again = await api_call(server, "request/create", {"sessionID": sid, **CREATE}, status=409)
    assert again["error"]["code"] == "DUPLICATE"

    stored = await cluster.read(
        lambda s: s.exec(
            select(ApiExecution).where(ApiExecution.id == created["operationID"])
        ).one()
    )
    assert stored.operation == "request/create" and stored.ok
    assert stored.input["sourceRequest"]["numberOrigin"] == "ERP-123"
    assert stored.input["sessionID"] == "***"
    assert stored.output["number"] == number


async def test_deadline_and_end_sla_come_from_the_service(server: AppServer) -> None:
    sid = await api_login(server)
    body = {
        "sessionID": sid,
        "sourceRequest": {
            "numberOrigin": "ERP-SLA",
            "type": "R",
            "description": "Trocar senha",
            "userID": "maria.silva",
            "service": {"code": "SENHA"},
        },
    }
    created = await api_call(server, "request/create", body)
    assert created["definedSLA"] is True
    start = created["startSLA"]
    assert start == created["startDateTime"]
    from datetime import datetime, timedelta

    deadline = datetime.fromisoformat(created["endSLA"])
    assert deadline - datetime.fromisoformat(start) == timedelta(minutes=60)
    assert created["deadline"] == created["endSLA"]
    assert created["contact"]["name"] == "Maria da Silva"


async def test_without_synchronize_unknown_requester_and_service_are_refused(
    cluster: Cluster, server: AppServer
) -> None:
    sid = await api_login(server)
    before = await cluster.read(lambda s: len(s.exec(select(ServiceRequest)).all()))
    body = {"sessionID": sid, **CREATE, "synchronize": False}
    refused = await api_call(server, "request/create", body, status=422)
    assert refused["error"] == {
        "code": "UNKNOWN_REFERENCE",
        "field": "sourceRequest.service.code",
        "description": "sourceRequest.service.code PLOT não existe.",
    }
    body["sourceRequest"] = {**CREATE["sourceRequest"], "service": {"code": "IMP"}}
    refused = await api_call(server, "request/create", body, status=422)
    assert refused["error"]["field"] == "sourceRequest.userID"
    after = await cluster.read(lambda s: len(s.exec(select(ServiceRequest)).all()))
    assert after == before


BAD_FIELDS: list[tuple[dict[str, Any], str, str]] = [
    ({"type": None}, "sourceRequest.type", "REQUIRED"),
    ({"type": "X"}, "sourceRequest.type", "INVALID_VALUE"),
    ({"description": ""}, "sourceRequest.description", "REQUIRED"),
    ({"description": ["a"]}, "sourceRequest.description", "INVALID_TYPE"),
    ({"contractID": "um"}, "sourceRequest.contractID", "INVALID_TYPE"),
    ({"contractID": 999}, "sourceRequest.contractID", "UNKNOWN_REFERENCE"),
    ({"groupId": "NOPE"}, "sourceRequest.groupId", "UNKNOWN_REFERENCE"),
    ({"linkedNumber": 99999}, "sourceRequest.linkedNumber", "UNKNOWN_REFERENCE"),
    ({"contact": {"email": "not-an-email"}}, "sourceRequest.contact.email", "INVALID_VALUE"),
    ({"contact": {"phoneNumber": "12"}}, "sourceRequest.contact.phoneNumber", "INVALID_VALUE"),
    ({"urgency": "Z"}, "sourceRequest.urgency", "INVALID_VALUE"),
]


async def test_bad_fields_are_named_and_nothing_is_written(
    cluster: Cluster, server: AppServer
) -> None:
    sid = await api_login(server)
    before = await cluster.read(lambda s: len(s.exec(select(ServiceRequest)).all()))
    source: dict[str, Any] = dict(CREATE["sourceRequest"])  # type: ignore[arg-type]
    for change, field, code in BAD_FIELDS:
        body = {k: v for k, v in source.items() if k not in change or change[k] is not None}
        body.update({k: v for k, v in change.items() if v is not None})
        answer = await api_call(
            server,
            "request/create",
            {"sessionID": sid, "synchronize": True, "sourceRequest": body},
            status=422 if code == "UNKNOWN_REFERENCE" else 400,
        )
        assert (answer["error"]["code"], answer["error"]["field"]) == (code, field)
        assert field in answer["error"]["description"]
        failed = await cluster.read(lambda s, n=answer["operationID"]: s.get(ApiExecution, n))
        assert failed is not None and not failed.ok and failed.error_code == code
    after = await cluster.read(lambda s: len(s.exec(select(ServiceRequest)).all()))
    assert after == before
    # English when the caller asks for it.
    english = await api_call(
        server,
        "request/create",
        {"sessionID": sid, "sourceRequest": {**source, "type": "X"}},
        status=400,
        **{"accept-language": "en"},
    )
    assert english["error"]["description"].startswith("Invalid value in sourceRequest.type")


async def test_a_request_made_by_the_api_is_counted_by_the_telephony_webservice(
    server: AppServer,
) -> None:
    sid = await api_login(server)
    before = (await pbx(server, "obterQtdeSolicitacoes", cpf="52998224725")).text
    body = {
        "sessionID": sid,
        "sourceRequest": {
            "numberOrigin": "ERP-TEL",
            "type": "I",
            "description": "Sem rede",
            "userID": "maria.silva",
        },
    }
    created = await api_call(server, "request/create", body)
    after = (await pbx(server, "obterQtdeSolicitacoes", cpf="52998224725")).text
    assert before == ""  # no request in progress: the IVR's empty answer
    assert after == f"1?{created['number']}"


async def test_update_status_writes_an_occurrence_and_follows_the_workflow(
    cluster: Cluster, server: AppServer
) -> None:
    sid = await api_login(server)
    created = await api_call(server, "request/create", {"sessionID": sid, **CREATE})
    number = created["number"]
    done = await api_call(
        server,
        "request/updateStatus",
        {
            "sessionID": sid,
            "numberOrigin": "ERP-123",
            "status": {"code": "Resolved", "details": "Toner trocado"},
        },
    )
    assert done["status"]["code"] == "Resolved"
    again = await api_call(
        server,
        "request/updateStatus",
        {"sessionID": sid, "number": number, "status": {"code": "Suspended"}},
        status=409,
    )
    assert again["error"]["code"] == "INVALID_TRANSITION"
    assert again["error"]["field"] == "status.code"
    occurrences = await cluster.read(
        lambda s: s.exec(
            select(Occurrence).where(Occurrence.request_id == number).order_by(col(Occurrence.id))
        ).all()
    )
    assert [(o.status_from, o.status_to) for o in occurrences] == [
        (None, "InProgress"),
        ("InProgress", "Resolved"),
    ]
    assert occurrences[-1].description == "Toner trocado"
    closed = await api_call(
        server,
        "request/updateStatus",
        {"sessionID": sid, "number": number, "status": {"code": "Closed"}},
    )
    assert closed["currentTask"] is None
    unknown = await api_call(
        server,
        "request/updateStatus",
        {"sessionID": sid, "number": 99999, "status": {"code": "Closed"}},
        status=404,
    )
    assert unknown["error"]["field"] == "number"


async def test_update_changes_only_what_is_sent(server: AppServer) -> None:
    sid = await api_login(server)
    await api_call(server, "request/create", {"sessionID": sid, **CREATE})
    updated = await api_call(
        server,
        "request/update",
        {
            "sessionID": sid,
            "request": {"numberOrigin": "ERP-123", "urgency": "L", "service": {"code": "IMP"}},
        },
    )
    assert updated["urgency"] == "L" and updated["impact"] == "M"
    assert updated["service"]["code"] == "IMP" and updated["definedSLA"] is True
    assert updated["description"] == CREATE["sourceRequest"]["description"]  # type: ignore[index]
    logs = await api_call(
        server, "request/listOccurrences", {"sessionID": sid, "requestNumberOrigin": "ERP-123"}
    )
    assert logs["logs"][-1]["description"] == "Alterada pela API: urgency, service"
    missing = await api_call(
        server, "request/update", {"sessionID": sid, "request": {}}, status=400
    )
    assert missing["error"]["field"] == "request.number"


async def test_occurrences_create_list_and_not_synchronized(server: AppServer) -> None:
    sid = await api_login(server)
    created = await api_call(server, "request/create", {"sessionID": sid, **CREATE})
    occurrence = await api_call(
        server,
        "request/createOccurrence",
        {
            "sessionID": sid,
            "requestNumberOrigin": "ERP-123",
            "occurrence": {
                "numberOrigin": "OC-9",
                "description": "Técnico a caminho",
                "date": "23/11/2026",
                "hour": "14:30",
                "category": {"code": "Execution"},
                "origin": "FONE_FAX",
                "reason": "Visita",
                "elapsedTime": 15,
            },
        },
    )
    assert occurrence["numberOrigin"] == "OC-9" and occurrence["userID"] == API_USER
    assert (occurrence["date"], occurrence["hour"]) == ("23/11/2026", "14:30")
    assert occurrence["origin"] == "FONE_FAX" and occurrence["elapsedTime"] == 15
    assert occurrence["requestNumber"] == created["number"]
    assert occurrence["requestNumberOrigin"] == "ERP-123"
    bad_hour = await api_call(
        server,
        "request/createOccurrence",
        {
            "sessionID": sid,
            "requestNumber": created["number"],
            "occurrence": {"description": "x", "hour": "25:99"},
        },
        status=400,
    )
    assert bad_hour["error"]["field"] == "occurrence.hour"

    listed = await api_call(
        server,
        "request/listOccurrences",
        {"sessionID": sid, "requestNumber": created["number"], "categoryList": ["Execution"]},
    )
    assert listed["amount"] == 1 and listed["logs"][0]["number"] == occurrence["number"]
    everything = await api_call(
        server, "request/listOccurrences", {"sessionID": sid, "requestNumber": created["number"]}
    )
    assert everything["amount"] == 2  # the opening, and the visit

    first = await api_call(
        server,
        "occurrence/getNotSynchronized",
        {"sessionID": sid, "requestNumberOrigin": "ERP-123"},
    )
    assert first["amount"] == 2
    second = await api_call(
        server,
        "occurrence/getNotSynchronized",
        {"sessionID": sid, "requestNumberOrigin": "ERP-123"},
    )
    assert second["amount"] == 0


async def test_get_by_user_filters_and_not_synchronized(server: AppServer) -> None:
    sid = await api_login(server)
    everything = await api_call(
        server, "request/getByUser", {"sessionID": sid, "userID": "joao.pereira"}
    )
    assert everything["amount"] == 2
    printers = await api_call(
        server,
        "request/getByUser",
        {
            "sessionID": sid,
            "userID": "joao.pereira",
            "description": "IMPRESSORA",
            "allAttributes": True,
        },
    )
    assert printers["amount"] == 1 and printers["requests"][0]["occurrences"]
    by_status = await api_call(
        server,
        "request/getByUser",
        {"sessionID": sid, "userID": "joao.pereira", "statusList": ["Resolved"]},
    )
    assert by_status["amount"] == 0
    dated = await api_call(
        server,
        "request/getByUser",
        {"sessionID": sid, "userID": "joao.pereira", "startDate": "2099-01-01T00:00:00"},
    )
    assert dated["amount"] == 0
    await api_call(server, "request/getByUser", {"sessionID": sid, "userID": "nobody"}, status=404)
    await api_call(
        server,
        "request/getByUser",
        {"sessionID": sid, "userID": "joao.pereira", "startDate": "ontem"},
        status=400,
    )

    first = await api_call(
        server, "request/getNotSynchronized", {"sessionID": sid, "userID": "joao.pereira"}
    )
    assert first["amount"] == 2
    nothing = await api_call(
        server, "request/getNotSynchronized", {"sessionID": sid, "userID": "joao.pereira"}
    )
    assert nothing["amount"] == 0
    number = first["requests"][0]["number"]
    await api_call(
        server,
        "request/createOccurrence",
        {"sessionID": sid, "requestNumber": number, "occurrence": {"description": "Retorno"}},
    )
    changed = await api_call(
        server, "request/getNotSynchronized", {"sessionID": sid, "userID": "joao.pereira"}
    )
    assert [r["number"] for r in changed["requests"]] == [number]


async def test_add_service_request_json_and_xml(server: AppServer) -> None:
    sid = await api_login(server)
    simple = await api_call(
        server,
        "addServiceRequest",
        {
            "sessionID": sid,
            "serviceRequestSource": {
                "numberOrigin": "ERP-124",
                "description": "Novo acesso ao sistema de RH",
                "userID": "maria.silva",
                "service": "SENHA",
            },
        },
    )
    dest = simple["serviceRequestDest"]
    assert dest["type"] == "R" and dest["service"]["code"] == "SENHA"
    assert dest["numberOrigin"] == "ERP-124"
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<addServiceRequest>
  <sessionID>{sid}</sessionID>
  <messageID>x-1</messageID>
  <serviceRequestSource>
    <numberOrigin>ERP-125</numberOrigin>
    <description>Mouse quebrado &amp; teclado</description>
    <userID>ana.souza</userID>
    <urgency>L</urgency>
    <contractID>2</contractID>
  </serviceRequestSource>
</addServiceRequest>"""
    async with http_client(base_url=server.url) as c:
        r = await c.post(
            "/services/xml/addServiceRequest",
            content=xml.encode(),
            headers={"content-type": "application/xml"},
        )
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["messageID"] == "x-1" and data["error"] is None
    dest = data["serviceRequestDest"]
    assert dest["description"] == "Mouse quebrado & teclado"
    assert dest["urgency"] == "L" and dest["contractID"] == 2 and dest["userID"] == "ana.souza"


async def test_an_api_user_reads_and_changes_only_their_groups_requests(
    server: AppServer, cluster: Cluster
) -> None:
    """tecnico's only group is CAMPO: the service desk's requests (N1's) do not exist for
    it, by number, in lists, for occurrences or synchronisation; the field's do. The
    integration's group sees everything; a request whose open task is CAMPO's is seen."""

    def arrange(session: Any) -> tuple[list[int], list[int], str]:
        def of_group(acronym: str) -> list[int]:
            query = (
                select(ServiceRequest.id)
                .join(Group, col(Group.id) == col(ServiceRequest.group_id))
                .where(Group.acronym == acronym)
                .order_by(col(ServiceRequest.id))
            )
            return list(session.exec(query))

        campo = session.exec(select(Group).where(Group.acronym == "CAMPO")).one()
        # Lists and synchronisation too, so that they can be tried.
        granted = api.permissions_of(session=session, group_id=campo.id)
        api.set_permissions(session=session, group_id=campo.id, operations=[
            *granted, "request/getByUser", "occurrence/getNotSynchronized"])  # fmt: skip
        session.commit()
        desk = of_group("N1")
        logins = [session.get(Requester, session.get(ServiceRequest, n).requester_id).login
                  for n in desk]  # fmt: skip
        login = next(x for x in logins if x)
        return desk, of_group("CAMPO"), login

    desk, field, login = await cluster.read(arrange)
    assert desk and field
    tecnico = await api_login(server, "tecnico", "CAMPO")
    erp = await api_login(server)

    hidden = await api_call(server, "request/getById", {"sessionID": tecnico, "number": desk[0]},
                            status=404)  # fmt: skip
    assert hidden["error"]["code"] == "NOT_FOUND" and hidden["error"]["field"] == "number"
    missing = await api_call(server, "request/getById", {"sessionID": tecnico, "number": 999999},
                             status=404)  # fmt: skip
    assert hidden["error"]["description"].replace(str(desk[0]), "N") == missing["error"][
        "description"
    ].replace("999999", "N"), "a hidden request must read as a missing one"
    await api_call(server, "request/getById", {"sessionID": tecnico, "number": field[0]})
    await api_call(server, "request/getById", {"sessionID": erp, "number": desk[0]})

    intrusion = {"description": "intruso"}
    note = {"sessionID": tecnico, "requestNumber": desk[0], "occurrence": intrusion}
    await api_call(server, "request/createOccurrence", note, status=404)
    await api_call(server, "request/listOccurrences",
                   {"sessionID": tecnico, "requestNumber": desk[0]}, status=404)  # fmt: skip

    def occurrences_of(session: Any) -> list[str]:
        rows = session.exec(select(Occurrence).where(Occurrence.request_id == desk[0]))
        return [o.description for o in rows]

    assert "intruso" not in await cluster.read(occurrences_of)

    listed = await api_call(server, "request/getByUser", {"sessionID": tecnico, "userID": login})
    assert not {r["number"] for r in listed["requests"]} & set(desk)
    everything = await api_call(server, "request/getByUser", {"sessionID": erp, "userID": login})
    assert {r["number"] for r in everything["requests"]} & set(desk)

    synced = await api_call(server, "occurrence/getNotSynchronized",
                            {"sessionID": tecnico, "synchronize": False})  # fmt: skip
    assert synced["logs"] and all(log["requestNumber"] not in desk for log in synced["logs"])
    all_logs = await api_call(server, "occurrence/getNotSynchronized",
                              {"sessionID": erp, "synchronize": False})  # fmt: skip
    assert any(log["requestNumber"] in desk for log in all_logs["logs"])

    def hand_to_campo(session: Any) -> None:  # its open task goes to the field team
        task = session.exec(select(Task).where(Task.request_id == desk[1])).first()
        campo = session.exec(select(Group).where(Group.acronym == "CAMPO")).one()
        if task is None:
            task = Task(request_id=desk[1])
        task.group_id, task.status = campo.id, "open"
        session.add(task)
        session.commit()

    await cluster.read(hand_to_campo)
    await api_call(server, "request/getById", {"sessionID": tecnico, "number": desk[1]})


async def test_an_occurrence_over_4000_characters_is_refused_everywhere_and_nothing_written(
    cluster: Cluster, server: AppServer
) -> None:
    """An occurrence's size is bounded: the API says 400 naming the field; the agent's
    form says so beside it (422); neither writes anything."""
    before = await cluster.read(lambda s: len(s.exec(select(Occurrence)).all()))
    sid = await api_login(server)
    long = "x" * 4001
    refused = await api_call(
        server,
        "request/createOccurrence",
        {"sessionID": sid, "requestNumber": 3, "occurrence": {"description": long}},
        status=400,
    )
    assert refused["error"]["field"] == "occurrence.description"
    agent = Agent(server, "agente")
    await agent.login("2013")
    try:
        r = await agent.http.post(
            "/atendimento/solicitacoes/3/ocorrencias", data={"description": long}
        )
        assert r.status_code == 422 and "até 4000 caracteres" in r.text
    finally:
        await agent.aclose()
    after = await cluster.read(lambda s: len(s.exec(select(Occurrence)).all()))
    assert after == before


async def test_the_workflow_refuses_the_same_changes_on_the_agents_form_and_the_api(
    cluster: Cluster, server: AppServer
) -> None:
    """One rule, kept by the store: a status the request has already, or one its status
    cannot go to, is refused by the agent's form (422, beside the field) and by the API
    (409 naming status.code), and nothing is written."""
    before = await cluster.read(lambda s: len(s.exec(select(Occurrence)).all()))
    agent = Agent(server, "agente")
    await agent.login("2014")
    try:
        for status, says in (
            ("InProgress", "A solicitação já está nessa situação."),
            ("Closed", "Essa mudança de situação não é permitida."),
            ("Lost", "Escolha uma situação válida."),
        ):
            r = await agent.http.post(
                "/atendimento/solicitacoes/3/situacao", data={"status": status}
            )
            assert r.status_code == 422 and says in r.text, (status, r.status_code)
    finally:
        await agent.aclose()
    sid = await api_login(server)
    for status, code in (("InProgress", "NO_CHANGE"), ("Closed", "INVALID_TRANSITION")):
        refused = await api_call(
            server,
            "request/updateStatus",
            {"sessionID": sid, "number": 3, "status": {"code": status}},
            status=409,
        )
        assert refused["error"]["code"] == code and refused["error"]["field"] == "status.code"
    after = await cluster.read(lambda s: len(s.exec(select(Occurrence)).all()))
    assert after == before


def capitalised(value: Any) -> Any:
    """A body as the seed writes it: every field name's first letter a capital."""
    if isinstance(value, dict):
        return {k[0].upper() + k[1:]: capitalised(v) for k, v in value.items()}
    return value


async def test_the_seeds_capitalised_field_names_are_read_as_well(server: AppServer) -> None:
    sid = await api_login(server)
    body = capitalised({**CREATE, "messageID": "cap-1"})
    body["SourceRequest"]["NumberOrigin"] = "ERP-CAP-1"
    created = await api_call(server, "request/create", {"SessionID": sid, **body})
    assert created["messageID"] == "cap-1"
    found = await api_call(
        server, "request/getById", {"sessionID": sid, "NumberOrigin": "ERP-CAP-1"}
    )
    # Read in either spelling, answered as the contract writes it.
    assert found["number"] == created["number"] and found["numberOrigin"] == "ERP-CAP-1"
    assert found["userID"] == "carlos.lima" and found["contact"]["name"] == "Carlos Lima"
    assert found["service"]["category"] == {"code": "GRAF", "name": "Gráfica"}
    assert found["groupId"] == "N1" and found["contractID"] == 1 and found["urgency"] == "H"
    # Both spellings with different values: refused, both named.
    both = await api_call(
        server,
        "request/getById",
        {"sessionID": sid, "number": created["number"], "Number": created["number"] + 1},
        status=400,
    )
    assert both["error"]["code"] == "DUPLICATE_FIELD"
    assert "number" in both["error"]["description"] and "Number" in both["error"]["description"]
