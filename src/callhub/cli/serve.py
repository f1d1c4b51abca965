"""callhub serve: uvicorn with the settings callhub needs."""

from __future__ import annotations

import os

from callhub.settings import Settings

# What uvicorn reads of one websocket message before it closes the socket (1009); the
# app itself closes a tab's socket past ws.endpoints.MAX_MESSAGE_BYTES.
WS_MAX_BYTES = 64 * 1024


def serve(host: str, port: int, workers: int | None = None, fd: int | None = None) -> None:
    """`fd`: serve on a socket opened already (socket activation), instead of host:port."""
    import uvicorn

    # X-Forwarded-For only from the proxies named in CALLHUB_TRUSTED_PROXIES: any other
    # client could claim any address (and slip past the per-address login limit).
    trusted = Settings.from_env().trusted_proxies
    uvicorn.run(
        "callhub.app:app",
        host=host,
        port=port,
        fd=fd,
        workers=workers,
        ws_per_message_deflate=False,  # compression costs latency and ~64 KiB per tab
        ws_max_size=WS_MAX_BYTES,  # tabs send small control messages only
        proxy_headers=bool(trusted),
        forwarded_allow_ips=list(trusted) or None,
        log_level=os.environ.get("CALLHUB_LOG_LEVEL", "info"),
        timeout_graceful_shutdown=5,
    )
