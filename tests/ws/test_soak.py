"""Tabs that come and go leave nothing behind for the cyclic garbage collector.

The hub keeps the tabs' objects out of the collector's reach once they settle
(`hub.settle`, gc.freeze): a closed tab's objects must then be freed by reference
counting alone. An object of a closed tab caught in a reference cycle would stay in memory
for good; this test runs the server in its own process (uvicorn in the test's loop), so
that it can ask the collector what such cycles it finds.
"""

from __future__ import annotations

import asyncio
import gc
import shutil
from pathlib import Path

import pytest
from starlette.websockets import WebSocket
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from callhub.appstate import state_of
from callhub.ws.hub import GC_THRESHOLDS, Hub, settle
from callhub.ws.tab import Tab
from support import PBX55_TOKEN, PBX_TOKEN, SECRET, Agent, AppServer, free_port, pbx

TABS = 40
TAB_TYPES = (Tab, WebSocket, WebSocketsSansIOProtocol)


@pytest.mark.sqlite
async def test_closed_tabs_leave_no_cyclic_garbage(sqlite_template: Path, tmp_path: Path):
    database = tmp_path / "callhub.db"
    shutil.copyfile(sqlite_template, database)
    env = {
        "CALLHUB_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "CALLHUB_SECRET_KEY": SECRET,
        "CALLHUB_PBX_TOKEN": PBX_TOKEN,
        "CALLHUB_PBX55_TOKEN": PBX55_TOKEN,
        "CALLHUB_HTTPS_ONLY": "0",  # plain HTTP here: Secure cookies would never come back
    }
    # The app's own startup, gc.freeze included: what this test is about.
    server = AppServer(free_port(), env, process_wide=True)
    agent = None
    thresholds = gc.get_threshold()
    try:
        await server.start()
        agent = await Agent(server, "agente").login("2001")
        tabs = [await agent.tab() for _ in range(TABS)]
        hub: Hub = state_of(server.app).hub
        assert len(hub.tabs["2001"]) == TABS
        settle()  # as the hub does once tabs stop arriving: their objects are frozen now
        assert gc.get_freeze_count() > 0
        # Young objects are collected less often than by default (700), and still collected.
        assert gc.get_threshold() == GC_THRESHOLDS

        r = await pbx(server, "novaSolicitacao", cpf="52998224725", ramal="2001")
        assert r.json()["delivered"] == TABS
        for tab in tabs:
            await tab.wait_for("Maria da Silva")
        for tab in tabs:
            await tab.close()
        while hub.tabs.get("2001"):
            await asyncio.sleep(0.01)
        await asyncio.sleep(0)  # the tabs' handlers return

        gc.unfreeze()  # what was frozen is examined again, like everything else
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            gc.collect()
            # type(), not isinstance(): a dead weak proxy among the garbage cannot say its class.
            caught = [type(o).__name__ for o in gc.garbage if issubclass(type(o), TAB_TYPES)]
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
        assert caught == [], f"closed tabs' objects left in reference cycles: {caught[:10]}"
        assert not [o for o in gc.get_objects() if type(o) is Tab], "closed tabs still alive"
    finally:
        if agent is not None:
            await agent.aclose()
        await server.stop()
        gc.set_threshold(*thresholds)
