"""The USCall UC SOAP connection: the WSDL loaded once, calls through zeep's AsyncTransport
over httpx with an explicit timeout, answers decoded, and the errors.

Errors: `USCallUnavailable` when the PBX cannot be reached or does not answer in time;
`USCallRefused` when it answers with an error (a wrong token, an agent not logged in),
carrying the PBX's own message; `USCallTokenRejected` for the token in particular.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Self, TypeVar
from zoneinfo import ZoneInfo

import httpx
import zeep
import zeep.exceptions
from zeep.transports import AsyncTransport

from callhub.adapters.uscall import results as r
from callhub.adapters.uscall.wsdl import OPERATIONS

log = logging.getLogger("callhub.uscall")

T = TypeVar("T")
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
MEDIA_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "ogg": "audio/ogg"}


class USCallError(Exception):
    """Anything that kept a USCall function from giving an answer."""


class USCallUnavailable(USCallError):
    """The PBX could not be reached, or did not answer in time."""


class USCallRefused(USCallError):
    """The PBX answered with an error; the message is the PBX's own."""


class USCallTokenRejected(USCallRefused):
    """The PBX refused callhub's token."""


def _arg(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, datetime):
        return value.strftime(DATE_FORMAT)
    return str(value)


class USCallTransport:
    """Connected with `connect(...)`; `call(operation, **params)` and its typed forms."""

    def __init__(
        self,
        client: zeep.AsyncClient,
        token: str,
        *,
        zone: ZoneInfo,
        http: httpx.AsyncClient,
        owns_http: bool,
    ) -> None:
        self._client = client
        self._token = token
        self.zone = zone
        self._http = http
        self._owns_http = owns_http

    @classmethod
    async def connect(
        cls,
        wsdl: str,
        token: str,
        *,
        timeout: float = 5.0,
        verify_tls: bool = True,
        zone: ZoneInfo | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> Self:
        """Load the WSDL (off the event loop) and check it offers the 21 functions."""
        owns_http = http is None
        http = http or httpx.AsyncClient(verify=verify_tls, timeout=timeout)

        def load() -> zeep.AsyncClient:
            with httpx.Client(verify=verify_tls, timeout=timeout) as wsdl_http:
                transport = AsyncTransport(  # type: ignore[no-untyped-call]
                    client=http, wsdl_client=wsdl_http, timeout=timeout
                )
                return zeep.AsyncClient(wsdl, transport=transport)  # type: ignore[no-untyped-call]

        try:
            client = await asyncio.to_thread(load)
        except (httpx.HTTPError, zeep.exceptions.TransportError, OSError) as exc:
            if owns_http:
                await http.aclose()
            raise USCallUnavailable(f"USCall WSDL at {wsdl} could not be loaded: {exc}") from exc
        except Exception as exc:
            if owns_http:
                await http.aclose()
            raise USCallError(f"USCall WSDL at {wsdl} is not usable: {exc}") from exc
        missing = sorted(set(OPERATIONS) - set(client.service._operations))
        if missing:
            if owns_http:
                await http.aclose()
            raise USCallError(f"USCall WSDL at {wsdl} lacks {', '.join(missing)}")
        return cls(
            client,
            token,
            zone=zone or ZoneInfo("America/Sao_Paulo"),
            http=http,
            owns_http=owns_http,
        )

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def call(self, operation: str, **params: object) -> Any:
        """Call one function with its parameters by name; the decoded JSON answer."""
        names = OPERATIONS[operation]
        unknown = set(params) - set(names)
        if unknown:
            raise TypeError(f"{operation} has no parameter {', '.join(sorted(unknown))}")
        args = [_arg(params.get(name)) for name in names]
        try:
            raw = await getattr(self._client.service, operation)(self._token, *args)
        except httpx.TimeoutException as exc:
            raise USCallUnavailable(f"USCall did not answer {operation} in time") from exc
        except (httpx.HTTPError, OSError) as exc:
            raise USCallUnavailable(f"USCall unreachable ({operation}): {exc}") from exc
        except zeep.exceptions.TransportError as exc:
            raise USCallUnavailable(
                f"USCall answered {operation} with HTTP {exc.status_code}"
            ) from exc
        except zeep.exceptions.Fault as exc:
            raise USCallRefused(f"{operation}: {exc.message}") from exc
        except zeep.exceptions.Error as exc:
            raise USCallError(f"{operation}: {exc}") from exc
        return self._decode(operation, raw)

    def _decode(self, operation: str, raw: Any) -> Any:
        if not isinstance(raw, str):
            raise USCallError(f"{operation}: the answer is not a JSON string")
        try:
            answer = json.loads(raw) if raw.strip() else []
        except ValueError:
            raise USCallError(f"{operation}: the answer is not JSON: {raw[:120]!r}") from None
        if isinstance(answer, dict):
            lowered = {str(k).lower(): v for k, v in answer.items()}
            status = str(lowered.get("status", "")).lower()
            if status in ("erro", "error") or "erro" in lowered or "error" in lowered:
                message = str(
                    lowered.get("mensagem")
                    or lowered.get("erro")
                    or lowered.get("error")
                    or lowered.get("message")
                    or "erro"
                )
                if "token" in message.lower():
                    raise USCallTokenRejected(message)
                raise USCallRefused(message)
        return answer

    async def _typed(
        self, operation: str, build: Callable[[r.Row], T], **params: object
    ) -> list[T]:
        answer = await self.call(operation, **params)
        try:
            return [build(row) for row in r.rows(answer)]
        except (ValueError, TypeError, KeyError) as exc:
            raise USCallError(f"{operation}: unexpected answer: {exc}") from exc

    async def _done(self, operation: str, **params: object) -> r.Done:
        answer = await self.call(operation, **params)
        row = r.row(answer) if isinstance(answer, dict) else {}
        return r.Done(
            message=r.text(row, "mensagem", "message", "status"),
            idcall=r.text(row, "idcall", "idunico", "bilheteunico") or None,
        )

    def _local(self, value: datetime | None) -> datetime | None:
        """Dates go to the PBX in its own zone."""
        if value is None:
            return None
        return value.astimezone(self.zone) if value.tzinfo else value
