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
import uvicorn
from starlette.websockets import WebSocket
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from callhub.app import create_app
from callhub.appstate import state_of
from callhub.settings import Settings
from callhub.ws.hub import GC_THRESHOLDS, Hub, settle
from callhub.ws.tab import Tab
from support import PBX55_TOKEN, PBX_TOKEN, SECRET, Agent, Server, free_port, pbx

TABS = 40
TAB_TYPES = (Tab, WebSocket, WebSocketsSansIOProtocol)


@pytest.mark.sqlite
async def test_closed_tabs_leave_no_cyclic_garbage(sqlite_template: Path, tmp_path: Path):
    database = tmp_path / "callhub.db"
    shutil.copyfile(sqlite_template, database)
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{database}",
        secret_key=SECRET,
        pbx_token=PBX_TOKEN,
        pbx55_token=PBX55_TOKEN,
    )
    app = create_app(settings)
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, ws_per_message_deflate=False, log_level="warning"
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    agent = None
    thresholds = gc.get_threshold()
    try:
        while not server.started:
            assert not serving.done(), "the server did not start"
            await asyncio.sleep(0.01)
        address = Server(port, {}, tmp_path / "unused.log")
        agent = await Agent(address, "agente").login("2001")
        tabs = [await agent.tab() for _ in range(TABS)]
        hub: Hub = state_of(app).hub
        assert len(hub.tabs["2001"]) == TABS
        settle()  # as the hub does once tabs stop arriving: their objects are frozen now
        assert gc.get_freeze_count() > 0
        # Young objects are collected less often than by default (700), and still collected.
        assert gc.get_threshold() == GC_THRESHOLDS

        r = await pbx(address, "novaSolicitacao", cpf="52998224725", ramal="2001")
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
        server.should_exit = True
        await asyncio.wait_for(serving, 10)
        gc.set_threshold(*thresholds)
