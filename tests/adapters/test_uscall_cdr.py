"""`callhub uscall import-cdr` against the simulator, and recordings played through callhub."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from callhub.adapters.uscall import USCallClient
from callhub.store.models import Call
from support import SECRET, USCALL_TOKEN, Agent, Cluster, USCallSim, run_cli


async def import_cdr(
    cluster: Cluster, sim: USCallSim, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {
        "CALLHUB_DATABASE_URL": cluster.database_url,
        "CALLHUB_SECRET_KEY": SECRET,
        "CALLHUB_USCALL_WSDL": sim.wsdl,
        "CALLHUB_USCALL_TOKEN": USCALL_TOKEN,
    }
    return await asyncio.to_thread(run_cli, env, "uscall", "import-cdr", *args)


async def make_calls(pbx: USCallClient, sim: USCallSim) -> tuple[str, str]:
    await pbx.agent_login("101", "2001", hashlib.md5(b"senha101").hexdigest())
    out = await pbx.start_call("outbound", "2001", "2134567890", "1", idcti="1")
    inbound = await sim.arrive("901", "11987654321", talk="1")
    for _ in range(100):
        await asyncio.sleep(0.1)
        statuses = {c.bilheteunico for c in await pbx.cdr_search()}
        if inbound in statuses:
            break
    for _ in range(50):  # the outbound call is answered after 2 s of dialling
        [e] = await pbx.exten_status(ramal="2001")
        if e.status == "ocupado":
            break
        await asyncio.sleep(0.1)
    await pbx.hangup_call("2001")
    assert out.idcall
    return out.idcall, inbound


@pytest.mark.long
async def test_import_is_idempotent_links_requests_and_plays_recordings(
    cluster: Cluster, uscall_sim: USCallSim, pbx: USCallClient, agents: list[Agent]
) -> None:
    outbound, inbound = await make_calls(pbx, uscall_sim)
    today = datetime.now(ZoneInfo("America/Sao_Paulo")).date().isoformat()

    done = await import_cdr(cluster, uscall_sim, "--from", today, "--to", today)
    assert done.returncode == 0, done.stderr
    assert "2 call records" in done.stdout and "2 new, 1 linked" in done.stdout
    assert "1/1 days" in done.stderr  # the progress bar
    again = await import_cdr(cluster, uscall_sim, "--from", today)
    assert again.returncode == 0 and "0 new" in again.stdout

    rows = await cluster.read(
        lambda s: list(s.exec(select(Call).where(Call.source == "uscall")).all())
    )
    by_id = {c.external_id: c for c in rows}
    assert len(rows) == 2
    out = by_id[outbound]
    assert (out.direction, out.ramal, out.number, out.request_id) == (
        "active",
        "2001",
        "+552134567890",
        1,
    )
    assert out.audio_file and out.status == "COMPLETADA"
    into = by_id[inbound]
    assert (into.direction, into.ramal, into.number) == ("receptive", "2004", "+5511987654321")

    bad = await import_cdr(cluster, uscall_sim, "--from", "yesterday")
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr

    server = await cluster.app_server(
        CALLHUB_USCALL_WSDL=uscall_sim.wsdl, CALLHUB_USCALL_TOKEN=USCALL_TOKEN
    )
    agent = await Agent(server, "agente").login("2001")
    agents.append(agent)
    view = (await agent.http.get("/atendimento/solicitacoes/1")).text
    url = f"/chamadas/{out.id}/gravacao"
    assert f'src="{url}"' in view
    wav = await agent.http.get(url)
    assert wav.status_code == 200 and wav.headers["content-type"] == "audio/wav"
    assert wav.content[:4] == b"RIFF"
    mp3 = await agent.http.get(url, params={"formato": "mp3"})
    assert mp3.headers["content-type"] == "audio/mpeg"
    assert (await agent.http.get(url, params={"formato": "flac"})).status_code == 400
    assert (await agent.http.get("/chamadas/99999/gravacao")).status_code == 404
