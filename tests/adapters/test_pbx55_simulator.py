"""`callhub simulate 55pbx` against a real server: realistic sequences, all accepted."""

from __future__ import annotations

import asyncio
import sys

from sqlmodel import select

from callhub.store.models import Call
from support import PBX55_TOKEN, Agent, AppServer, Cluster


async def test_simulated_calls_are_recorded_and_pop(
    server: AppServer, cluster: Cluster, agents: list[Agent]
) -> None:
    agent = await Agent(server, "agente").login("6001")
    agents.append(agent)
    tab = await agent.tab()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "callhub.cli",
        "simulate",
        "55pbx",
        "--to",
        server.url,
        "--token",
        PBX55_TOKEN,
        "--calls-per-minute",
        "900",
        "--count",
        "40",
        "--talk",
        "0-0.2",
        "--ramais",
        "6001,6002",
        "--seed",
        "7",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    text = out.decode()
    assert proc.returncode == 0, text
    assert "40 calls" in text and "(0 failed)" in text
    await tab.wait_for('id="pop-area"')

    found = await cluster.read(lambda s: list(s.exec(select(Call)).all()))
    kinds = {c.direction for c in found}
    assert len(found) >= 40 and "receptive" in kinds
    ended = [c for c in found if c.end_seen_at is not None and c.direction != "sms"]
    assert ended and all(c.audio_url and c.duration_seconds for c in ended)
    assert any(c.transferred_from_id for c in found)  # seed 7 plays at least one transfer
