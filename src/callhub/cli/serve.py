"""callhub serve: uvicorn with the settings callhub needs."""

from __future__ import annotations

import os
import socket
from typing import Any

from callhub.settings import Settings

# What uvicorn reads of one websocket message before it closes the socket (1009); the
# app itself closes a tab's socket past ws.endpoints.MAX_MESSAGE_BYTES.
WS_MAX_BYTES = 64 * 1024


def options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for callhub, wherever it is served (serve, demo, the tests)."""
    # X-Forwarded-For only from the proxies named in CALLHUB_TRUSTED_PROXIES: any other
    # client could claim any address (and slip past the per-address login limit).
    trusted = settings.trusted_proxies
    return {
        "ws_per_message_deflate": False,  # compression costs latency and ~64 KiB per tab
        "ws_max_size": WS_MAX_BYTES,  # tabs send small control messages only
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": list(trusted) or None,
        "log_level": os.environ.get("CALLHUB_LOG_LEVEL", "info"),
        "timeout_graceful_shutdown": 5,
    }


def serve(host: str, port: int, workers: int | None = None, fd: int | None = None) -> None:
    """`fd`: serve on a socket opened already (socket activation), instead of host:port."""
    import uvicorn

    if fd is not None:
        _no_delay(fd)
    uvicorn.run(
        "callhub.app:app",
        host=host,
        port=port,
        fd=fd,
        workers=workers,
        **options(Settings.from_env()),
    )


def _no_delay(fd: int) -> None:
    """uvicorn takes a socket given by descriptor for a Unix one, and so leaves Nagle's
    algorithm on for its TCP connections: every answer written in two parts (headers,
    then body) would wait up to 40 ms. Set on the listening socket, connections inherit
    it."""
    sock = socket.socket(fileno=fd)  # the descriptor's real family
    try:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    finally:
        sock.detach()  # the descriptor stays open, for uvicorn
