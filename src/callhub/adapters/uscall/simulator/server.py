"""`callhub uscall-sim`: the simulated PBX served as USCall UC serves it.

GET  /aplicativos/webservice/wsuscall.php?wsdl   the WSDL (its address is this server's)
POST /aplicativos/webservice/wsuscall.php        SOAP 1.1 calls of the 21 functions
GET  /                                           a summary of the PBX's state (JSON)
POST /_sim/arrive                                a caller joins a queue (fila, numero)

A ticker moves the PBX's time forward; a traffic generator brings callers in at the
rate asked. When a queued call rings an extension, the simulator calls callhub's
telephony webservice (novaSolicitacao) as a PBX configured with callhub's URL does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import httpx
from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from callhub.adapters.uscall.simulator.demo import demo_setup
from callhub.adapters.uscall.simulator.model import Call
from callhub.adapters.uscall.simulator.pbx import Pbx
from callhub.adapters.uscall.wsdl import NAMESPACE, OPERATIONS, PATH, render_wsdl

log = logging.getLogger("callhub.uscall.sim")

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
MAX_BODY = 64 * 1024
# The demo's requesters' numbers: these callers are identified; the rest are strangers.
KNOWN_NUMBERS = ["11987654321", "2134567890", "31998765432", "1133334444"]

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=True
)


@dataclass
class SimConfig:
    token: str
    calls_per_minute: float = 0.0
    callhub_url: str | None = None
    callhub_token: str | None = None
    # Agents 103.. logged in at start on extensions 2003.. (101 and 102 are left free).
    logged_in: int = 4
    tick_seconds: float = 0.2
    seed: int | None = None


def envelope(operation: str, answer: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV}" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xmlns:ns1="{NAMESPACE}" '
        'SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">'
        f"<SOAP-ENV:Body><ns1:{operation}Response>"
        f'<return xsi:type="xsd:string">{escape(answer)}</return>'
        f"</ns1:{operation}Response></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )


def fault(code: str, message: str, status: int = 500) -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV}"><SOAP-ENV:Body><SOAP-ENV:Fault>'
        f"<faultcode>SOAP-ENV:{code}</faultcode><faultstring>{escape(message)}</faultstring>"
        "</SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )
    return Response(body, status, media_type="text/xml; charset=utf-8")


def parse_call(body: bytes) -> tuple[str, dict[str, str]]:
    """The operation and its arguments, by name (or by position, as PHP clients send)."""
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise ValueError("DTDs are not accepted")
    root = etree.fromstring(body, _PARSER)
    bodies = root.findall(f"{{{SOAP_ENV}}}Body")
    if not bodies or len(bodies[0]) == 0:
        raise ValueError("no SOAP Body")
    op_el = bodies[0][0]
    operation = etree.QName(op_el).localname
    if operation not in OPERATIONS:
        raise LookupError(operation)
    names = ("token", *OPERATIONS[operation])
    args: dict[str, str] = {}
    for i, child in enumerate(op_el):
        name = etree.QName(child).localname
        key = name if name in names else names[i] if i < len(names) else None
        if key is not None:
            args[key] = (child.text or "")[:4096]
    return operation, args


def _seconds(text: str) -> float | None:
    if not text:
        return None
    value = float(text)
    if not 0 <= value <= 86400:
        raise ValueError(text)
    return value


class Simulator:
    def __init__(self, config: SimConfig, pbx: Pbx | None = None) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.pbx = pbx or self._new_pbx()
        self.http: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.notified = 0

    def _new_pbx(self) -> Pbx:
        pbx = Pbx(self.config.token, clock=time.time, rng=self.rng, on_ring=self._on_ring)
        demo_setup(pbx)
        for i in range(self.config.logged_in):
            agent = pbx.agents.get(str(103 + i))
            if agent is not None:
                agent.ramal, agent.queues = str(2003 + i), [["900", "901", "902"][i % 3]]
        return pbx

    def _on_ring(self, call: Call) -> None:
        if self.config.callhub_url and self.http is not None:
            self._spawn(self._notify(call))

    async def _notify(self, call: Call) -> None:
        assert self.http is not None and self.config.callhub_url is not None
        url = self.config.callhub_url.rstrip("/") + "/webservices/telefonia/novaSolicitacao"
        params = {"ramal": call.ramal or "", "telefone": call.origin, "callId": call.id}
        if call.queue:
            params["fila"] = self.pbx.queues[call.queue].name
        try:
            r = await self.http.get(
                url, params=params, headers={"token": self.config.callhub_token or ""}
            )
            self.notified += 1
            if r.status_code != 200:
                log.warning("callhub answered %s to the ring on %s", r.status_code, call.ramal)
        except httpx.HTTPError as exc:
            log.warning("callhub unreachable for the ring on %s: %s", call.ramal, exc)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _ticker(self) -> None:
        while True:
            self.pbx.tick()
            await asyncio.sleep(self.config.tick_seconds)

    async def _traffic(self) -> None:
        rate = self.config.calls_per_minute / 60
        queues = [q.num for q in self.pbx.queues.values() if q.kind == "callcenter"]
        while True:
            await asyncio.sleep(self.rng.expovariate(rate))
            known = self.rng.random() < 0.6
            number = (
                self.rng.choice(KNOWN_NUMBERS)
                if known
                else f"{self.rng.choice(['11', '21', '41', '51'])}9{self.rng.randrange(10**8):08d}"
            )
            self.pbx.arrive(self.rng.choice(queues), number)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        self.http = httpx.AsyncClient(timeout=5)
        self._spawn(self._ticker())
        if self.config.calls_per_minute > 0:
            self._spawn(self._traffic())
        try:
            yield
        finally:
            for task in list(self._tasks):
                task.cancel()
            for task in list(self._tasks):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await self.http.aclose()

    # -- HTTP ------------------------------------------------------------------------

    async def endpoint(self, request: Request) -> Response:
        if request.method == "GET":
            if "wsdl" not in request.query_params:
                return Response("use ?wsdl", 400, media_type="text/plain")
            location = str(request.url.replace(query="", fragment=""))
            return Response(render_wsdl(location), media_type="text/xml; charset=utf-8")
        body = await request.body()
        if len(body) > MAX_BODY:
            return fault("Client", "request too large", 413)
        try:
            operation, args = parse_call(body)
        except LookupError as exc:
            return fault("Client", f"Function '{exc.args[0]}' doesn't exist")
        except (ValueError, etree.XMLSyntaxError) as exc:
            return fault("Client", f"Bad Request: {exc}")
        answer = self.pbx.call(operation, args)
        return Response(envelope(operation, answer), media_type="text/xml; charset=utf-8")

    async def state(self, request: Request) -> Response:
        return JSONResponse(self.pbx.snapshot())

    async def arrive(self, request: Request) -> Response:
        form = await request.form()
        queue, number = str(form.get("fila", "")), str(form.get("numero", ""))
        if queue not in self.pbx.queues or not number.isdigit():
            return JSONResponse({"error": "fila: a known queue; numero: digits"}, 400)
        try:
            talk, patience = (_seconds(str(form.get(n) or "")) for n in ("talk", "patience"))
        except ValueError:
            return JSONResponse({"error": "talk, patience: seconds between 0 and 86400"}, 400)
        call = self.pbx.arrive(queue, number, talk=talk, patience=patience)
        return JSONResponse({"idcall": call.id})

    def app(self) -> Starlette:
        @contextlib.asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            async with self.running():
                yield

        return Starlette(
            routes=[
                Route(PATH, self.endpoint, methods=["GET", "POST"]),
                Route("/", self.state),
                Route("/_sim/arrive", self.arrive, methods=["POST"]),
            ],
            lifespan=lifespan,
        )
