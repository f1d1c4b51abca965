"""The zeep client against `callhub uscall-sim`: every one of the 21 functions."""

from __future__ import annotations

import asyncio
import hashlib
import io
import wave
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from callhub.adapters.uscall import (
    USCallClient,
    USCallRefused,
    USCallTokenRejected,
    USCallUnavailable,
)
from callhub.adapters.uscall.wsdl import OPERATIONS
from support import USCALL_TOKEN, USCallSim, free_port, http_client

ZONE = ZoneInfo("America/Sao_Paulo")


async def wait_until(check: object, timeout: float = 8.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if await check():  # type: ignore[operator]
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


async def test_the_wsdl_has_the_21_functions_with_the_seeds_parameters(
    uscall_sim: USCallSim,
) -> None:
    async with http_client() as c:
        wsdl = (await c.get(uscall_sim.wsdl)).text
    assert len(OPERATIONS) == 21
    for name in OPERATIONS:
        assert f'<operation name="{name}">' in wsdl
    assert '<message name="startCallRequest"><part name="token" type="xsd:string"/>' in wsdl
    assert f'location="{uscall_sim.url}/aplicativos/webservice/wsuscall.php"' in wsdl


async def test_listings(pbx: USCallClient) -> None:
    agents = await pbx.get_agent()
    assert [a.num for a in agents][:2] == ["101", "102"]
    assert agents[0].senhamd5 == hashlib.md5(b"senha101").hexdigest()
    assert agents[0].filachave == "900"

    pauses = await pbx.get_pauses()
    assert {p.pause for p in pauses} >= {"Almoço", "Banheiro"}
    lunch = next(p for p in pauses if p.pause == "Almoço")
    assert lunch.tempo == 3600 and lunch.filas == ["ALL"]

    extens = await pbx.get_extens()
    assert {"2001", "2100"} <= {e.num for e in extens}
    assert [e.tipo for e in await pbx.get_extens("2100")] == ["pbx"]

    queues = await pbx.get_queue()
    assert {(q.fila, q.nome) for q in queues} >= {("900", "Suporte N1"), ("901", "Financeiro")}
    assert [q.nome for q in await pbx.get_queue("901")] == ["Financeiro"]

    trunks = await pbx.list_trunk()
    assert trunks[0].nome == "Operadora A" and trunks[0].canal.startswith("SIP/")

    uras = await pbx.list_ura()
    notice = next(u for u in uras if u.id == "1")
    assert "{CTI_INFO1}" in notice.fluxos[0].audio
    assert notice.fluxos[0].palavras[0].palavra == "1"
    assert [u.id for u in await pbx.list_ura("2")] == ["2"]


async def test_agent_login_pause_and_logout(pbx: USCallClient) -> None:
    md5 = hashlib.md5(b"senha101").hexdigest()
    with pytest.raises(USCallRefused, match="Senha"):
        await pbx.agent_login("101", "2001", hashlib.md5(b"wrong").hexdigest())
    done = await pbx.agent_login("101", "2001", md5, filachave="901")
    assert "logado" in done.message
    [status] = await pbx.agent_status("101")
    assert (status.status, status.ramal, status.filas) == ("ocioso", "2001", ["901"])

    pauses = {p.pause: p.id for p in await pbx.get_pauses()}
    await pbx.start_pause("101", pauses["Banheiro"])
    [status] = await pbx.agent_status("101")
    assert (status.status, status.pausa) == ("em pausa", "Banheiro")
    await pbx.end_pause("101")
    [status] = await pbx.agent_status("101")
    assert status.status == "ocioso"
    with pytest.raises(USCallRefused, match="não está em pausa"):
        await pbx.end_pause("101")

    await pbx.agent_logout("101")
    [status] = await pbx.agent_status("101")
    assert status.status == "nao logado"
    everyone = await pbx.agent_status()
    assert len(everyone) == 6


async def test_a_caller_waits_is_answered_and_leaves_a_cdr_with_a_recording(
    pbx: USCallClient, uscall_sim: USCallSim
) -> None:
    # Nobody is logged in to 902's sibling queue 901 at start but agent 104.
    await pbx.start_pause("104", "3")
    idcall = await uscall_sim.arrive("901", "11987654321", talk="1", patience="60")
    [queue] = await pbx.queue_status("901")
    assert (queue.status, queue.espera) == ("busy", 1)
    assert queue.numeros[0].numero == "11987654321"

    await pbx.end_pause("104")

    async def answered() -> bool:
        [s] = await pbx.agent_status("104")
        return s.status == "ocupado" and s.numero == "11987654321" and s.atendfila == "901"

    await wait_until(answered)
    [exten] = await pbx.exten_status(ramal="2004")
    assert (exten.status, exten.numero) == ("ocupado", "11987654321")
    assert [e.ramal for e in await pbx.exten_status(tipo="pbx")] == ["2100", "2101"]

    async def recorded() -> bool:
        return bool(await pbx.cdr_search(idunico=idcall))

    await wait_until(recorded)
    [cdr] = await pbx.cdr_search(idunico=idcall)
    assert (cdr.tipo, cdr.status, cdr.origem, cdr.destino) == (
        "Recebida",
        "COMPLETADA",
        "11987654321",
        "2004",
    )
    assert cdr.datahora is not None and cdr.espera is not None and cdr.audio
    today = await pbx.cdr_search(origem="11987654321")
    assert idcall in {c.bilheteunico for c in today}
    yesterday = datetime.now(ZONE) - timedelta(days=1)
    assert await pbx.cdr_search(dataini=yesterday - timedelta(hours=1), datafin=yesterday) == []

    wav = await pbx.audio_download(idcall)
    assert wav.media_type == "audio/wav"
    with wave.open(io.BytesIO(wav.content)) as w:
        assert (w.getframerate(), w.getsampwidth(), w.getnchannels()) == (8000, 2, 1)
        assert w.getnframes() > 4000
    mp3 = await pbx.audio_download(idcall, "mp3")
    assert mp3.media_type == "audio/mpeg" and mp3.nome.endswith(".mp3")
    assert mp3.content[:3] == b"ID3" or mp3.content[0] == 0xFF
    ogg = await pbx.audio_download(idcall, "ogg")
    assert ogg.content[:4] == b"OggS"
    [s] = await pbx.agent_status("104")
    assert s.recebidas == 1


async def test_a_caller_who_waits_too_long_abandons(
    pbx: USCallClient, uscall_sim: USCallSim
) -> None:
    await pbx.start_pause("104", "3")
    idcall = await uscall_sim.arrive("901", "2134567890", patience="0.5")

    async def abandoned() -> bool:
        return [c.status for c in await pbx.cdr_search(idunico=idcall)] == ["ABANDONO"]

    await wait_until(abandoned)
    with pytest.raises(USCallRefused, match="Gravação não encontrada"):
        await pbx.audio_download(idcall)


async def test_outbound_call_hangup_monitor_and_tariff(pbx: USCallClient) -> None:
    md5 = hashlib.md5(b"senha101").hexdigest()
    await pbx.agent_login("101", "2001", md5)
    done = await pbx.start_call("outbound", "2001", "11987654321", "1", idcti="4242")
    assert done.idcall

    async def talking() -> bool:
        [e] = await pbx.exten_status(ramal="2001")
        return e.status == "ocupado"

    await wait_until(talking)
    with pytest.raises(USCallRefused, match="ocupado"):
        await pbx.start_call("outbound", "2001", "11999990000", "1")
    monitored = await pbx.monit_exten("2100", "101", agente=True, tipo="conf")
    assert "Monitoria (conf)" in monitored.message
    [supervisor] = await pbx.exten_status(ramal="2100")
    assert supervisor.status == "ocupado"
    [agent] = await pbx.agent_status("101")
    assert (agent.atendfila, agent.efetuadas) == ("Ativo", 1)

    await pbx.hangup_call("101", agente=True)
    [e] = await pbx.exten_status(ramal="2001")
    assert e.status == "disponível"
    with pytest.raises(USCallRefused, match="Nenhuma ligação"):
        await pbx.hangup_call("2001")

    [cdr] = await pbx.cdr_search(idunico="4242")
    assert (cdr.tipo, cdr.destino, cdr.idcti) == ("Efetuada", "11987654321", "4242")
    tariff = await pbx.cdr_tariff()
    [mine] = [t for t in tariff if t.idcall == done.idcall]
    assert (mine.ramalnum, mine.numero, mine.ramalnome) == ("2001", "11987654321", "Posição 2")
    assert mine.troncocanal and mine.durtotal >= mine.durcall >= 0


async def test_click_to_call_reaches_the_ddrs_queue(pbx: USCallClient) -> None:
    done = await pbx.start_call("clicktocall", "11987654321", "1139959000", "1", idcti="77")
    assert done.idcall
    with pytest.raises(USCallRefused, match="DDR"):
        await pbx.start_call("clicktocall", "11987654321", "99", "1")
    with pytest.raises(USCallRefused, match="Categoria"):
        await pbx.start_call("clicktocall", "11987654321", "1139959000", "9")
    with pytest.raises(ValueError):
        await pbx.start_call("sideways", "1", "2", "1")


async def test_dialling_into_a_ura_with_cti_info(pbx: USCallClient) -> None:
    done = await pbx.start_call_ura(
        "1", "11987654321", "1", idcti="1234", cti_info=["Maria", "1234", "em andamento"]
    )
    [record] = await pbx.cdr_ura(idunico=done.idcall)
    assert record.origem == "11987654321" and record.idcti == "1234"
    assert record.ura.startswith("1 ")
    spoken = record.eventos[0]["detalhe"]
    assert spoken.startswith("Olá Maria. A sua solicitação 1234 está em andamento.")
    assert [r.bilheteunico for r in await pbx.cdr_ura(idura="1")] == [done.idcall]
    assert await pbx.cdr_ura(idura="2") == []
    [cdr] = await pbx.cdr_search(idunico="1234")
    assert cdr.tipo == "Discador"
    with pytest.raises(USCallRefused, match="URA 9"):
        await pbx.start_call_ura("9", "11987654321", "1")


async def test_a_wrong_token_is_refused_as_uscall_answers_it(uscall_sim: USCallSim) -> None:
    client = await USCallClient.connect(uscall_sim.wsdl, "not-the-token")
    try:
        raw = await client._client.service.getPauses("not-the-token")
        assert raw == '{"status": "erro", "mensagem": "Token inválido"}'
        with pytest.raises(USCallTokenRejected, match="Token inválido"):
            await client.get_pauses()
    finally:
        await client.aclose()


async def test_missing_parameters_are_named(pbx: USCallClient) -> None:
    with pytest.raises(USCallRefused, match="agente"):
        await pbx.agent_logout("")


async def test_an_unreachable_pbx_is_reported_as_unavailable(uscall_sim: USCallSim) -> None:
    with pytest.raises(USCallUnavailable):
        await USCallClient.connect(f"http://127.0.0.1:{free_port()}/x.php?wsdl", USCALL_TOKEN)
    client = await USCallClient.connect(uscall_sim.wsdl, USCALL_TOKEN, timeout=2)
    try:
        uscall_sim.stop()
        with pytest.raises(USCallUnavailable):
            await client.agent_status()
        uscall_sim.start()
        assert len(await client.agent_status()) == 6
    finally:
        await client.aclose()
