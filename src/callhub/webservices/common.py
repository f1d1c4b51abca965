"""Shared by every webservice: bounded bodies, parameters from any encoding, PBX tokens."""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from callhub.store.engine import Store
from callhub.store.params import get_setting, set_setting


class BadInput(Exception):
    """A 4xx answer: `field` names the parameter, `status` is the HTTP status."""

    def __init__(self, field: str | None, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.status = status


def error_response(exc: BadInput, *, plain: bool = False) -> Response:
    if plain:
        return PlainTextResponse(exc.message, status_code=exc.status)
    body: dict[str, object] = {"error": exc.message}
    if exc.field:
        body["field"] = exc.field
    return JSONResponse(body, status_code=exc.status)


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise BadInput(None, "invalid Content-Length", 400)
        if int(declared) > limit:
            raise BadInput(None, f"body larger than {limit} bytes", 413)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BadInput(None, f"body larger than {limit} bytes", 413)
    return bytes(body)


def join_surrogates(value: Any) -> Any:
    """Escaped surrogates ("\\ud800") are no text a UTF-8 store takes: json.loads keeps a
    lone one, and json5 leaves even a pair as two lone ones. Join pairs; a lone one is a
    ValueError (so a 400, never a 500 at the database). So is a NUL (U+0000), which
    PostgreSQL's text cannot hold."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("text with a NUL character (\\u0000) is not accepted")
        if not value.isascii() and any("\ud800" <= ch <= "\udfff" for ch in value):
            return value.encode("utf-16", "surrogatepass").decode("utf-16")
        return value
    if isinstance(value, dict):
        return {join_surrogates(k): join_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [join_surrogates(v) for v in value]
    return value


def _without_nul(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """A NUL (%00) is no text PostgreSQL takes: a 400 naming the field, never a 500."""
    pairs = list(pairs)
    for key, value in pairs:
        if "\x00" in key or "\x00" in value:
            raise BadInput(key, "text with a NUL character (%00) is not accepted")
    return pairs


async def read_params(request: Request, limit: int) -> dict[str, str]:
    """Query string, then a form or JSON body on top: the same names either way."""
    params: dict[str, str] = dict(_without_nul(request.query_params.items()))
    if request.method in ("GET", "HEAD"):
        return params
    body = await read_body(request, limit)
    if not body.strip():
        return params
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/json" or (not ctype and body.lstrip()[:1] == b"{"):
        try:
            data = join_surrogates(json.loads(body))
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadInput(None, f"malformed JSON body: {exc}") from None
        except RecursionError:
            raise BadInput(None, "malformed JSON body: nested too deeply") from None
        if not isinstance(data, dict):
            raise BadInput(None, "the JSON body must be an object")
        for key, value in data.items():
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                raise BadInput(str(key), f"{key}: expected a string or a number")
            params[str(key)] = str(value)
        return params
    if ctype in ("application/x-www-form-urlencoded", ""):
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            raise BadInput(None, "the form body is not UTF-8") from None
        params.update(_without_nul(pairs))
        return params
    if ctype == "multipart/form-data":
        raise BadInput(None, "send the parameters as a query string, a form or JSON", 415)
    raise BadInput(None, f"unsupported Content-Type {ctype}", 415)


def client_allowed(request: Request, allowlist: tuple[str, ...]) -> bool:
    if not allowlist:
        return True
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in allowlist)


def token_matches(given: str | None, expected: str | None) -> bool:
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


class TokenStore:
    """A PBX integration token: from the environment until an admin rotates it in the store.

    Read through a short cache, so a rotation reaches every process within `ttl` seconds.
    """

    def __init__(self, store: Store, key: str, initial: str | None, ttl: float = 5.0):
        self.store = store
        self.key = key
        self.initial = initial
        self.ttl = ttl
        self._value: str | None = None
        self._read_at = 0.0

    async def current(self) -> str | None:
        if time.monotonic() - self._read_at > self.ttl:
            stored = await self.store.run(lambda s: get_setting(session=s, key=self.key))
            self._value = stored or self.initial
            self._read_at = time.monotonic()
        return self._value

    async def ensure(self) -> str:
        """The demo has no environment token: generate one once and keep it in the store."""
        value = await self.current()
        if value:
            return value
        return await self.rotate()

    async def rotate(self) -> str:
        value = secrets.token_urlsafe(24)

        def work(session: Session) -> None:
            set_setting(session=session, key=self.key, value=value)
            session.commit()

        await self.store.run(work)
        self._value, self._read_at = value, time.monotonic()
        return value


def first(params: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = params.get(name)
        if value is not None and value.strip() != "":
            return value.strip()
    return None
