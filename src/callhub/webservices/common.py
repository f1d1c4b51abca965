"""Shared by every webservice: bounded bodies, parameters from any encoding, PBX tokens."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import time
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from callhub.store.engine import Store
from callhub.store.params import get_setting, set_setting
from callhub.textcheck import join_surrogates


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


def wants(request: Request, media: str) -> bool:
    """Whether the caller's first choice in Accept is `media`."""
    accept = request.headers.get("accept", "")
    first_type = accept.split(",")[0].split(";")[0].strip().lower()
    return first_type == media


def wants_text(request: Request, params: Mapping[str, str]) -> bool:
    """An IVR's plain-text answer: asked for by Accept, or by `formato=texto`."""
    return wants(request, "text/plain") or params.get("formato") == "texto"


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
    """A PBX integration token: from the environment until an admin generates one, which
    the store keeps as its SHA-256 only (a copy of the database opens no integration; a
    generated token is shown once, when generated). Checked in constant time. Read
    through a short cache, so a new token reaches every process within `ttl` seconds.
    """

    PREFIX = "sha256:"

    def __init__(self, store: Store, key: str, initial: str | None, ttl: float = 5.0):
        self.store = store
        self.key = key
        self.initial = initial
        self.ttl = ttl
        self._digest: str | None = None
        self._stored = False
        self._read_at = 0.0

    @classmethod
    def digest(cls, token: str) -> str:
        return cls.PREFIX + hashlib.sha256(token.encode()).hexdigest()

    async def _read(self) -> None:
        if time.monotonic() - self._read_at <= self.ttl:
            return

        def work(session: Session) -> str | None:
            stored = get_setting(session=session, key=self.key)
            if stored and not stored.startswith(self.PREFIX):
                # Kept in clear by an earlier version: from now on, its digest only.
                stored = self.digest(stored)
                set_setting(session=session, key=self.key, value=stored)
                session.commit()
            return stored

        stored = await self.store.run(work)
        self._stored = stored is not None
        self._digest = stored or (self.digest(self.initial) if self.initial else None)
        self._read_at = time.monotonic()

    async def matches(self, given: str | None) -> bool:
        await self._read()
        if not given or self._digest is None:
            return False
        return hmac.compare_digest(self.digest(given).encode(), self._digest.encode())

    async def source(self) -> str | None:
        """Where the token in force comes from: "store" (generated here), "environment",
        or None (there is none)."""
        await self._read()
        if self._digest is None:
            return None
        return "store" if self._stored else "environment"

    async def ensure(self) -> str | None:
        """The demo has no environment token: one is generated the first time (and given
        back, to be shown); None when there is one already."""
        if await self.source() is not None:
            return None
        return await self.rotate()

    async def shown(self) -> str:
        """A token to show (the demo's instructions): the environment's, while no token
        was generated here; else a new one (the store cannot give the old one back)."""
        if await self.source() == "environment" and self.initial:
            return self.initial
        return await self.rotate()

    async def rotate(self) -> str:
        """A new token, in force at once: returned this once, kept as its digest."""
        value = secrets.token_urlsafe(24)

        def work(session: Session) -> None:
            set_setting(session=session, key=self.key, value=self.digest(value))
            session.commit()

        await self.store.run(work)
        self._digest, self._stored, self._read_at = self.digest(value), True, time.monotonic()
        return value


def first(params: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = params.get(name)
        if value is not None and value.strip() != "":
            return value.strip()
    return None
