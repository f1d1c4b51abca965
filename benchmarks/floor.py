"""The bare floor: the least a PBX-to-tab relay can do, for benchmarks/screenpop.py to
compare callhub with. No login, no database, no broker, no template: a tab opens
`/ws?ramal=N`; a PBX request for that extension has its query string (telefonia) or body
(55pbx) sent as it is to every tab of the extension. Run under the same uvicorn options.

    .venv/bin/python -m uvicorn floor:app --app-dir benchmarks --port 8100
"""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

tabs: dict[str, set[WebSocket]] = {}


async def tab(ws: WebSocket) -> None:
    ramal = ws.query_params.get("ramal", "")
    await ws.accept()
    await ws.send_text("ready")
    tabs.setdefault(ramal, set()).add(ws)
    try:
        while True:
            await ws.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        tabs[ramal].discard(ws)


async def relay(ramal: str, frame: str) -> JSONResponse:
    reached = 0
    for ws in list(tabs.get(ramal, ())):
        try:
            await ws.send_text(frame)
            reached += 1
        except Exception:
            tabs[ramal].discard(ws)
    return JSONResponse({"delivered": reached})


async def telefonia(request: Request) -> JSONResponse:
    return await relay(request.query_params.get("ramal", ""), request.url.query)


async def pbx55(request: Request) -> JSONResponse:
    body = await request.body()
    return await relay(str(json.loads(body).get("branch_mask", "")), body.decode())


app = Starlette(
    routes=[
        WebSocketRoute("/ws", tab),
        Route("/webservices/telefonia/novaSolicitacao", telefonia),
        Route("/integrations/55pbx", pbx55, methods=["POST"]),
    ]
)
