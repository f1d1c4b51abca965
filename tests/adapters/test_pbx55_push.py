"""55pbx pushes end to end: uvicorn on loopback, httpx as the PBX, websockets as the tabs."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from callhub.store.models import Call, ScreenPop
from callhub.store.params import get_setting
from support import PBX55_TOKEN, Agent, AppServer, Cluster, Server, push55

SEED_EXAMPLE = (Path(__file__).parent / "55pbx_seed_example.txt").read_bytes()


def start(call_id: str, ramal: str, **extra: Any) -> dict[str, Any]:
    return {
        "central_id": "1000",
        "branch_mask": int(ramal),
        "call_id": call_id,
        "call_date": "2026-11-20 09:15:00",
        "call_type": "receptivo",
        "call_number": "987654321",
        "call_area_code": "11",
        "call_country_code": "55",
        "call_document": "",
        "call_order": "",
        "call_ura": "1-2",
        "call_queue": "Suporte N1",
        "call_time_waiting": 35,
        "call_transfer_id": "",
        **extra,
    }


def end(call_id: str, ramal: str, **extra: Any) -> dict[str, Any]:
    return {
        **start(call_id, ramal),
        "call_status": "atendida",
        "call_disconnection": "cliente",
        "call_time": 185,
        "call_duration": 220,
        "call_cost": "0.58",
        "call_url_audio": f"https://sip1.55pbx.com/webphone-1000/{call_id}.wav",
        "call_audio_file": f"{call_id}.wav",
        **extra,
    }


async def calls_in(cluster: Cluster) -> list[Call]:
    return await cluster.read(lambda s: list(s.exec(select(Call).order_by(Call.id)).all()))


async def test_seed_example_verbatim_is_stored(server: AppServer, cluster: Cluster) -> None:
    r = await push55(server, SEED_EXAMPLE)
    assert r.status_code == 200, r.text
    assert r.json()["ok"] is True and r.json()["callId"] == "1479477009.5199"
    by_id = {c.external_id: c for c in await calls_in(cluster)}
    call = by_id["1479477009.5199"]
    assert call.ramal == "5000" and call.number == "+5511987654321"
    assert call.direction == "active" and call.call_type == "active"
    assert call.disconnection == "externo" and call.central_id == "1000"
    assert (call.talk_seconds, call.wait_seconds, call.duration_seconds) == (11, 8, 3)
    assert str(call.cost) == "0.5800" and str(call.balance) == "9999759.1200"
    assert call.tax_type == "VC2" and call.audio_file and call.audio_url
    assert call.transfer_to == "1479477009.5198"
    # The transfer names a new call: it is recorded, linked back, waiting for its pushes.
    assert by_id["1479477009.5198"].transferred_from_id == call.id


async def test_start_pops_and_end_shows_on_the_tab(server: AppServer, agents: list[Agent]) -> None:
    agent = await Agent(server, "agente").login("5001")
    agents.append(agent)
    tab = await agent.tab()
    r = await push55(server, start("call-a", "5001"))
    assert r.status_code == 200 and r.json()["popped"] == 1 and r.json()["delivered"] == 1
    frame = await tab.wait_for("Maria da Silva")  # identified by +55 11 98765-4321
    assert "Suporte N1" in frame and "1-2" in frame and "35 s" in frame
    assert "Em ligação" in frame

    again = await push55(server, start("call-a", "5001"))  # a repeated push changes nothing
    assert again.status_code == 200 and again.json()["popped"] == 0

    r = await push55(server, end("call-a", "5001"), method="PUT")
    assert r.status_code == 200 and r.json()["phase"] == "end"
    ended = await tab.wait_for("Chamada encerrada")
    assert "3 min 40 s" in ended and 'hx-swap-oob="true"' in ended


async def test_document_typed_and_order_pick_the_screen(
    server: AppServer, agents: list[Agent]
) -> None:
    agent = await Agent(server, "agente").login("5002")
    agents.append(agent)
    tab = await agent.tab()
    # João Pereira (CPF 111.444.777-35) has request 1 in progress.
    await push55(server, start("call-b", "5002", call_document="11144477735", call_order="1"))
    frame = await tab.wait_for("João Pereira")
    assert "nº 1" in frame and "Sem acesso à rede" in frame
    # An order that is not the caller's: the new-request screen instead.
    await push55(server, start("call-c", "5002", call_document="11144477735", call_order="3"))
    frame = await tab.wait_for("João Pereira")
    assert "Nova solicitação" in frame
    # Unknown caller: no identification, with the number that called.
    await push55(server, start("call-d", "5002", call_number="40041234", call_area_code="31"))
    frame = await tab.wait_for("Solicitante sem identificação")
    assert "(31) 4004-1234" in frame


async def test_transfer_shows_the_request_the_first_agent_opened(
    server: AppServer, agents: list[Agent]
) -> None:
    first = await Agent(server, "agente").login("5003")
    second = await Agent(server, "agente3").login("5004")
    agents.extend([first, second])
    tab1, tab2 = await first.tab(), await second.tab()
    await push55(server, start("leg-1", "5003"))
    frame = await tab1.wait_for("Maria da Silva")
    seq = frame.split('data-seq="')[1].split('"')[0]
    created = await first.http.post(
        "/atendimento/solicitacoes",
        data={
            "seq": seq,
            "type": "I",
            "service_id": "1",
            "description": "Cliente sem acesso ao e-mail",
            "urgency": "M",
        },
        headers={"HX-Request": "true"},
    )
    assert created.status_code == 200, created.text
    number = created.text.split('class="request-number">nº ')[1].split("<")[0]

    # The transfer push may arrive before or after the new leg's start: both orders pop once.
    r = await push55(server, end("leg-1", "5003", call_transfer_id="leg-2"))
    assert r.json()["phase"] == "transfer" and r.json()["popped"] == 0
    r = await push55(server, start("leg-2", "5004"))
    assert r.json()["popped"] == 1
    frame = await tab2.wait_for("transferida")
    assert "5003" in frame and "Ana Agente" in frame and f"nº {number}" in frame
    assert "Cliente sem acesso ao e-mail" in frame

    await push55(server, start("leg-3", "5004"))
    await tab2.wait_for("Maria da Silva")
    r = await push55(server, end("leg-2", "5003", call_transfer_id="leg-3"))
    assert r.json()["popped"] == 1
    await tab2.wait_for("transferida")


async def test_end_before_start_and_concurrent_duplicates(
    server: AppServer, cluster: Cluster, agents: list[Agent]
) -> None:
    agent = await Agent(server, "agente").login("5005")
    agents.append(agent)
    tab = await agent.tab()
    r = await push55(server, end("late-start", "5005"))
    assert r.status_code == 200 and r.json()["popped"] == 0
    r = await push55(server, start("late-start", "5005"))
    assert r.json()["popped"] == 1
    frame = await tab.wait_for("Maria da Silva")
    assert "Chamada encerrada" in frame  # the end already known is shown

    answers = await asyncio.gather(*(push55(server, start("dup", "5005")) for _ in range(12)))
    assert all(a.status_code == 200 for a in answers)
    assert sum(a.json()["popped"] for a in answers) == 1
    calls = [c for c in await calls_in(cluster) if c.external_id == "dup"]
    assert len(calls) == 1
    late = next(c for c in await calls_in(cluster) if c.external_id == "late-start")
    assert late.duration_seconds == 220 and late.status == "atendida"  # end data kept


async def test_duplicate_pushes_to_two_processes_at_once_make_one_call_one_pop_one_frame(
    pair: tuple[Server, Server], cluster: Cluster, agents: list[Agent]
) -> None:
    """The PBX retries a push, and the retries reach both processes at once: their
    transactions overlap on the shared database, and one claim wins."""
    a, b = pair
    agent = await Agent(a, "agente").login("5006")
    agents.append(agent)
    tabs = [await agent.tab(server=a), await agent.tab(server=b)]
    answers = await asyncio.gather(
        *(push55(a if n % 2 else b, start("dup-2", "5006")) for n in range(16))
    )
    assert [r.status_code for r in answers] == [200] * 16
    assert sum(r.json()["popped"] for r in answers) == 1
    stored = await cluster.read(
        lambda s: (
            list(s.exec(select(Call).where(Call.external_id == "dup-2")).all()),
            list(s.exec(select(ScreenPop).where(ScreenPop.ramal == "5006")).all()),
        )
    )
    assert (len(stored[0]), len(stored[1])) == (1, 1)
    # Pops reach a tab in seq order: a second call's pop after the first, with no second
    # frame of the duplicate between them.
    await push55(b, start("after-dup", "5006", call_number="912345678"))
    for tab in tabs:
        first = await tab.wait_for("Maria da Silva")
        assert "4321" in first
        second = await tab.next()
        assert "5678" in second and "4321" not in second


async def test_sms_and_outbound_are_recorded_never_popped(
    server: AppServer, cluster: Cluster
) -> None:
    r = await push55(server, start("sms-1", "5006", call_type="sms"))
    assert r.status_code == 200 and r.json()["popped"] == 0
    r = await push55(server, start("out-1", "5006", call_type="ativo", call_order="3"))
    assert r.json()["popped"] == 0
    calls = {c.external_id: c for c in await calls_in(cluster)}
    assert calls["sms-1"].direction == "sms"
    assert calls["out-1"].direction == "active" and calls["out-1"].request_id == 3


async def test_no_tab_is_stored_and_answered(server: AppServer, cluster: Cluster) -> None:
    r = await push55(server, start("nobody", "5999"))
    assert r.status_code == 200 and r.json() == {
        "ok": True,
        "callId": "nobody",
        "phase": "start",
        "popped": 1,
        "delivered": 0,
    }
    pops = await cluster.read(
        lambda s: list(s.exec(select(ScreenPop).where(ScreenPop.ramal == "5999")).all())
    )
    assert len(pops) == 1 and pops[0].delivered == 0


async def test_bad_pushes(server: AppServer, cluster: Cluster) -> None:
    r = await push55(server, start("x", "5007"), token="wrong")
    assert r.status_code == 401 and r.json()["field"] == "token"
    r = await push55(server, b'{"call_id": "x", "call_time": "onze"}')
    assert r.status_code == 400 and r.json()["field"] == "call_time"
    r = await push55(server, b'{"call_id": ')
    assert r.status_code == 400 and "JSON" in r.json()["error"]
    r = await push55(server, b'{"call_id": "big", "call_ura": "' + b"1" * 70_000 + b'"}')
    assert r.status_code == 413
    assert not [c for c in await calls_in(cluster) if c.external_id in ("x", "big")]


async def test_history_filters_and_recordings(server: AppServer, agents: list[Agent]) -> None:
    await push55(server, end("hist-1", "5010", call_number="912345678"))
    await push55(server, start("hist-2", "5011", call_type="sms"))
    agent = await Agent(server, "agente").login()
    agents.append(agent)
    page = await agent.http.get("/chamadas", params={"ramal": "5010"})
    assert page.status_code == 200
    assert "(11) 91234-5678" in page.text and "3 min 40 s" in page.text
    assert '<audio controls preload="none" src="https://sip1.55pbx.com/' in page.text
    assert "SMS" not in page.text.split("<tbody>")[1]
    page = await agent.http.get("/chamadas", params={"tipo": "sms"})
    assert "5011" in page.text.split("<tbody>")[1] and "5010" not in page.text.split("<tbody>")[1]
    page = await agent.http.get("/chamadas", params={"numero": "(11) 91234-5678"})
    assert "5010" in page.text.split("<tbody>")[1]
    page = await agent.http.get("/chamadas", params={"de": "ontem", "tipo": "fax"})
    assert page.status_code == 400 and "Data inválida" in page.text


async def test_admin_generates_a_token_shown_once_and_stored_as_a_hash(
    server: AppServer, cluster: Cluster, agents: list[Agent]
) -> None:
    admin = await Agent(server, "admin").login()
    agents.append(admin)
    page = await admin.http.get("/admin/telefonia")
    assert f"{server.url}/integrations/55pbx" in page.text
    assert PBX55_TOKEN not in page.text and "CALLHUB_PBX55_TOKEN" in page.text
    assert page.headers["cache-control"] == "no-store"
    r = await admin.http.post("/admin/telefonia/55pbx/token")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    token = r.text.split('id="pbx55-token">')[1].split("<")[0]
    assert token != PBX55_TOKEN and len(token) >= 24
    again = await admin.http.get("/admin/telefonia")  # shown once: never again
    assert token not in again.text and 'id="pbx55-token"' not in again.text
    stored = await cluster.read(lambda s: get_setting(session=s, key="pbx55_token"))
    assert stored == "sha256:" + hashlib.sha256(token.encode()).hexdigest()
    assert (await push55(server, start("old-token", "5012"))).status_code == 401
    r = await push55(server, start("new-token", "5012"), token=token)
    assert r.status_code == 200


PUSH_VALUES = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
PUSH_FIELDS = st.sampled_from(
    [
        "branch_mask",
        "call_date",
        "call_type",
        "call_number",
        "call_area_code",
        "call_country_code",
        "call_document",
        "call_order",
        "call_time",
        "call_duration",
        "call_cost",
        "call_transfer_id",
        "call_url_audio",
    ]
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    fields=st.dictionaries(PUSH_FIELDS, PUSH_VALUES, max_size=8),
    call_id=st.text(min_size=1, max_size=70) | st.integers(),
    noise=st.sampled_from(["", "}", ",}", "garbage"]),
)
def test_fuzzed_pushes_get_a_clean_answer_never_a_500(
    process_server: Server, fields: dict[str, object], call_id: object, noise: str
) -> None:
    raw = json.dumps({"call_id": call_id, **fields})
    if noise:
        raw = raw[:-1] + noise if noise != "garbage" else raw + noise
    with httpx.Client(base_url=process_server.url, timeout=10) as client:
        r = client.post("/integrations/55pbx", content=raw, headers={"token": PBX55_TOKEN})
    assert r.status_code in (200, 400), r.text
    if r.status_code == 400:
        assert r.json()["error"]
