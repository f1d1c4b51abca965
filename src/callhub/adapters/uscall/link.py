"""callhub's connection to USCall: made at start-up, in the background, and retried.

A PBX that is down when callhub starts must not keep callhub from starting: the WSDL is
loaded (in a worker thread) by a background task that retries until it succeeds. Until
then, and whenever a call fails, `error` says why, for the wall board and the agents.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from callhub.adapters.uscall.client import USCallClient, USCallError, USCallUnavailable
from callhub.settings import Settings

log = logging.getLogger("callhub.uscall")

RETRY_SECONDS = 5.0


class USCallLink:
    def __init__(self, settings: Settings) -> None:
        assert settings.uscall_wsdl and settings.uscall_token
        self.wsdl = settings.uscall_wsdl
        self.token = settings.uscall_token
        self.timeout = settings.uscall_timeout
        self.verify_tls = settings.uscall_verify_tls
        self.category = settings.uscall_category
        self.notify_ura = settings.uscall_notify_ura
        self.zone = settings.zone
        self.client: USCallClient | None = None
        self.error: str | None = "USCall: conectando"
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._connect(), name="callhub-uscall-connect")

    async def _connect(self) -> None:
        while True:
            try:
                self.client = await USCallClient.connect(
                    self.wsdl,
                    self.token,
                    timeout=self.timeout,
                    verify_tls=self.verify_tls,
                    zone=self.zone,
                )
            except USCallError as exc:
                self.error = str(exc)
                log.warning("%s; retrying in %.0f s", exc, RETRY_SECONDS)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            self.error = None
            self._ready.set()
            log.info("USCall WSDL loaded from %s", self.wsdl)
            return

    async def wait_ready(self, timeout: float) -> bool:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._ready.wait()
        return self._ready.is_set()

    def require(self) -> USCallClient:
        if self.client is None:
            raise USCallUnavailable(self.error or "USCall: conectando")
        return self.client

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self.client is not None:
            await self.client.aclose()
