"""Prometheus metrics, served at /metrics.

One process: the default registry. Several processes on one host (`uvicorn --workers N`,
`callhub serve --workers N`): set PROMETHEUS_MULTIPROC_DIR to an empty directory shared
by them, and /metrics in any of them answers the sum over all (prometheus_client's
multiprocess mode). Several hosts: scrape each host.
"""

from __future__ import annotations

import asyncio
import contextvars
import hmac
import os
import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callhub.appstate import app_state

POPS_PUBLISHED = Counter(
    "callhub_pops_published", "Screen pops stored and published to the broker by this process"
)
POPS_DELIVERED = Counter("callhub_pops_delivered", "Screen pop frames written to agent tabs")
POP_LATENCY = Histogram(
    "callhub_pop_latency_seconds",
    "From the PBX request reaching callhub to the pop's frame written to a tab",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0),
)
POP_BATCH = Histogram(
    "callhub_pop_batch_size",
    "Units of work (pops, screen changes) committed together by the pipeline's writer",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128),
)
RENDERED_ON_ARRIVAL = Counter(
    "callhub_fragments_rendered_on_arrival",
    "Fragments a process rendered for its tabs because the publisher had not (with Redis, "
    "a variant no process had reported yet)",
)
TABS = Gauge(
    "callhub_connected_tabs",
    "Open websocket tabs (agent: screen pops; board: wall board)",
    ["kind"],
    multiprocess_mode="livesum",
)
PBX_REQUESTS = Counter(
    "callhub_pbx_requests",
    "Requests between callhub and PBXs, by source and outcome",
    ["source", "outcome"],
)
BROKER_RECONNECTS = Counter(
    "callhub_broker_reconnects", "Broker connections lost and re-established (with a resync)"
)

LOOP_LAG = Histogram(
    "callhub_event_loop_lag_seconds",
    "How late the event loop woke a timer: every tab and request of the process waits as long",
    buckets=(0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5,
             1.0, 2.0, 5.0),
)  # fmt: skip
LOOP_LAG_INTERVAL = 0.02


async def watch_loop_lag(interval: float = LOOP_LAG_INTERVAL) -> None:
    """Measure the event loop's stalls until cancelled: a timer due every `interval` that
    wakes late was held up by whatever ran on the loop meanwhile."""
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + interval
        await asyncio.sleep(interval)
        LOOP_LAG.observe(max(0.0, loop.time() - due))


# Where an incoming PBX request starts; a pop published while serving it is timed from here.
RECEIVED_AT: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "callhub_received_at", default=None
)

PBX_PATHS = (
    ("/webservices/telefonia/", "telefonia"),
    ("/integrations/55pbx", "55pbx"),
)


def outcome_of(status: int) -> str:
    if status < 400:
        return "ok"
    if status in (401, 403):
        return "refused"
    if status == 429:
        return "limited"
    if status < 500:
        return "bad_request"
    return "error"


class Instrument:
    """Notes when each request arrived, and counts PBX requests by outcome."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        RECEIVED_AT.set(time.time())
        path: str = scope["path"]
        source = next((name for prefix, name in PBX_PATHS if path.startswith(prefix)), None)
        if source is None:
            await self.app(scope, receive, send)
            return
        status = 500

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            PBX_REQUESTS.labels(source, outcome_of(status)).inc()


def registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
        return merged
    return REGISTRY


def process_exited() -> None:
    """In multiprocess mode, a stopping process leaves the live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


async def endpoint(request: Request) -> Response:
    token: str | None = app_state(request).settings.metrics_token
    if token:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return PlainTextResponse("metrics need Authorization: Bearer <token>", 401)
    return Response(generate_latest(registry()), media_type=CONTENT_TYPE_LATEST)
