"""55pbx pushes: the PBX's JSON call records, parsed as meant.

55pbx pushes a record at a call's start, another at its end, and a third when the call is
transferred (seed `55pbx-rest-push.pt.md`). The body is usually JSON; the seed's own
example is not (`ISODate("...")`, a trailing comma, markdown-escaped underscores, a stray
closing brace), and callhub takes it as printed. Numbers may arrive as strings and
strings as numbers; dates carry no zone and are in the PBX's.

`parse_push` turns a body into a `Push` or raises `PushRejected` naming the field.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import json5

from callhub.identity import EXTENSION
from callhub.store.models import CallDirection
from callhub.textcheck import join_surrogates

Gettext = Callable[[str], str]


class PushRejected(ValueError):
    """A push callhub cannot take: `field` names what is wrong (None: the body itself)."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


ISODATE = re.compile(r"""ISODate\(\s*(["'])(.*?)\1\s*\)""", re.DOTALL)
DIRECTIONS = {
    **dict.fromkeys(
        ("receptivo", "receptive", "inbound", "incoming", "entrada", "recebida", "received"),
        CallDirection.receptive,
    ),
    **dict.fromkeys(
        ("ativo", "active", "outbound", "outgoing", "saida", "saída", "efetuada"),
        CallDirection.active,
    ),
    "sms": CallDirection.sms,
}
MAX_SECONDS = 10**7  # 115 days: more is no call, and would not fit the column
_CONTROL = re.compile(r"[\x00-\x1f]")
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M")


class Phase(StrEnum):
    start = "start"
    end = "end"
    transfer = "transfer"


@dataclass(frozen=True)
class Push:
    """One push, every field of the seed's table, typed."""

    call_id: str
    central_id: str | None = None
    branch: str | None = None  # branch_mask: the agent's extension
    call_date: datetime | None = None
    terminal: str | None = None
    call_type: str | None = None
    number: str | None = None
    area_code: str | None = None
    country_code: str | None = None
    document: str | None = None
    order: str | None = None
    ura: str | None = None
    queue: str | None = None
    status: str | None = None
    disconnection: str | None = None
    talk_seconds: int | None = None
    duration_seconds: int | None = None
    wait_seconds: int | None = None
    url_audio: str | None = None
    tax: Decimal | None = None
    tax_type: str | None = None
    cost: Decimal | None = None
    balance: Decimal | None = None
    audio_file: str | None = None
    transfer_id: str | None = None

    @property
    def direction(self) -> CallDirection | None:
        return DIRECTIONS.get((self.call_type or "").strip().lower())

    @property
    def phase(self) -> Phase:
        """The start push has nothing of the call's outcome; the end push has; a transfer
        push is an end push naming the new call."""
        if self.transfer_id and self.transfer_id != self.call_id:
            return Phase.transfer
        outcome = (self.disconnection, self.url_audio, self.audio_file)
        if any(outcome) or (self.duration_seconds or 0) > 0 or (self.talk_seconds or 0) > 0:
            return Phase.end
        if self.cost:
            return Phase.end
        return Phase.start

    @property
    def full_number(self) -> str | None:
        """The caller's number with its area and country codes: +<country><area><number>."""
        if not self.number:
            return None
        digits = re.sub(r"\D", "", self.number)
        if not digits or self.number.strip().startswith("+"):
            return self.number.strip()
        area = re.sub(r"\D", "", self.area_code or "")
        country = re.sub(r"\D", "", self.country_code or "")
        if area and len(digits) <= 9:  # a local number (8 or 9 digits in Brazil)
            digits = area + digits
        return f"+{country}{digits}" if country else digits

    @property
    def ended_at(self) -> datetime | None:
        if self.call_date is None or self.duration_seconds is None:
            return None
        try:
            return self.call_date + timedelta(seconds=self.duration_seconds)
        except OverflowError:
            return None


# field name -> (kind, max length)
TEXT_FIELDS = {
    "central_id": 32,
    "call_terminal": 32,
    "call_type": 16,
    "call_number": 32,
    "call_area_code": 4,
    "call_country_code": 4,
    "call_document": 32,
    "call_order": 32,
    "call_ura": 255,
    "call_queue": 64,
    "call_status": 64,
    "call_disconnection": 64,
    "call_url_audio": 1024,
    "call_tax_type": 16,
    "call_audio_file": 255,
    "call_transfer_id": 64,
}
SECONDS_FIELDS = ("call_time", "call_duration", "call_time_waiting")
MONEY_FIELDS = ("call_tax", "call_cost", "call_balance")


def _identity(message: str) -> str:
    return message


def parse_push(body: bytes, zone: ZoneInfo, _: Gettext = _identity) -> Push:
    data = decode_body(body, _)
    fields = Fields(data, zone, _)
    call_id = fields.text("call_id", 64)
    if call_id is None:
        raise PushRejected("call_id", _("call_id: campo obrigatório (o identificador da ligação)"))
    branch = fields.text("branch_mask", 20)
    if branch is not None and not EXTENSION.match(branch):
        raise PushRejected("branch_mask", _("branch_mask: deve ser o número do ramal (só dígitos)"))
    texts = {name: fields.text(name, size) for name, size in TEXT_FIELDS.items()}
    seconds = {name: fields.seconds(name) for name in SECONDS_FIELDS}
    money = {name: fields.money(name) for name in MONEY_FIELDS}
    return Push(
        call_id=call_id,
        central_id=texts["central_id"],
        branch=branch,
        call_date=fields.date("call_date"),
        terminal=texts["call_terminal"],
        call_type=texts["call_type"],
        number=texts["call_number"],
        area_code=texts["call_area_code"],
        country_code=texts["call_country_code"],
        document=texts["call_document"],
        order=texts["call_order"],
        ura=texts["call_ura"],
        queue=texts["call_queue"],
        status=texts["call_status"],
        disconnection=texts["call_disconnection"],
        talk_seconds=seconds["call_time"],
        duration_seconds=seconds["call_duration"],
        wait_seconds=seconds["call_time_waiting"],
        url_audio=texts["call_url_audio"],
        tax=money["call_tax"],
        tax_type=texts["call_tax_type"],
        cost=money["call_cost"],
        balance=money["call_balance"],
        audio_file=texts["call_audio_file"],
        transfer_id=texts["call_transfer_id"],
    )


def decode_body(body: bytes, _: Gettext = _identity) -> dict[str, Any]:
    """The push's object: strict JSON first (fast), then the forms 55pbx's own example uses."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PushRejected(None, _("corpo: não está em UTF-8")) from None
    if not text.strip():
        raise PushRejected(None, _("corpo: vazio (esperado o JSON da ligação)")) from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        data = _lenient(text, _)
    try:
        data = join_surrogates(data)
    except (ValueError, RecursionError):
        raise PushRejected(
            None, _("corpo: texto com caracteres inválidos (surrogates isolados)")
        ) from None
    if not isinstance(data, dict):
        raise PushRejected(None, _("corpo: esperado um objeto JSON com os campos da ligação"))
    return data


def _lenient(text: str, _: Gettext) -> Any:
    text = ISODATE.sub(lambda m: json.dumps(m.group(2)), text)
    end = _end_of_first_value(text)
    if end is not None and text[end:].strip(" \t\r\n}]"):
        raise PushRejected(None, _("corpo: há conteúdo depois do objeto JSON"))
    try:
        return json5.loads(text[:end] if end is not None else text)
    except (ValueError, RecursionError, TypeError, IndexError, KeyError):
        raise PushRejected(None, _("corpo: JSON malformado")) from None


def _end_of_first_value(text: str) -> int | None:
    """Where the first top-level object or array closes (strings and escapes skipped)."""
    depth = 0
    quote: str | None = None
    escaped = False
    for i, ch in enumerate(text):
        if quote is not None:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
            if depth < 0:
                return None
    return None


class Fields:
    """Reads the fields of a push, each as meant, or a 400 that names it."""

    def __init__(self, data: dict[str, Any], zone: ZoneInfo, _: Gettext) -> None:
        # Field names are matched case-insensitively: the seed itself writes CALL_TRANSFER_ID.
        self.data = {str(k).strip().lower(): v for k, v in data.items()}
        self.zone = zone
        self._ = _

    def _bad(self, name: str, what: str) -> PushRejected:
        return PushRejected(name, f"{name}: {what}")

    def text(self, name: str, size: int) -> str | None:
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            raise self._bad(name, self._("deve ser um texto"))
        if isinstance(value, float):
            if not math.isfinite(value):
                raise self._bad(name, self._("deve ser um texto"))
            value = str(int(value)) if value.is_integer() else repr(value)
        text = str(value).strip()
        if _CONTROL.search(text):
            raise self._bad(name, self._("contém caracteres de controle"))
        if len(text) > size:
            raise self._bad(name, self._("mais de %(n)d caracteres") % {"n": size})
        return text or None

    def _decimal(self, name: str) -> Decimal | None:
        value = self.data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, bool):
            raise self._bad(name, self._("deve ser um número"))
        if isinstance(value, int | float):
            raw = repr(value)
        elif isinstance(value, str):
            raw = value.strip()
            if "," in raw and "." not in raw:
                raw = raw.replace(",", ".")  # "0,58": the Brazilian decimal comma
        else:
            raise self._bad(name, self._("deve ser um número"))
        try:
            number = Decimal(raw)
        except (InvalidOperation, ValueError):
            raise self._bad(name, self._("deve ser um número")) from None
        if not number.is_finite() or abs(number) >= Decimal("1e12"):
            raise self._bad(name, self._("deve ser um número"))
        return number

    def seconds(self, name: str) -> int | None:
        number = self._decimal(name)
        if number is None:
            return None
        if number < 0:
            raise self._bad(name, self._("não pode ser negativo"))
        if number > MAX_SECONDS:
            raise self._bad(name, self._("mais de %(n)d segundos") % {"n": MAX_SECONDS})
        return int(number.to_integral_value())

    def money(self, name: str) -> Decimal | None:
        number = self._decimal(name)
        return None if number is None else number.quantize(Decimal("0.0001"))

    def date(self, name: str) -> datetime | None:
        value = self.data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            if not math.isfinite(value) or not 0 <= value < 1e14:
                raise self._bad(name, self._("data inválida"))
            seconds = value / 1000 if value > 1e11 else value  # epoch in ms or in s
            try:
                return datetime.fromtimestamp(seconds, UTC)
            except (OverflowError, ValueError, OSError):
                raise self._bad(name, self._("data inválida")) from None
        if not isinstance(value, str):
            raise self._bad(name, self._("data inválida (use AAAA-MM-DD hh:mm:ss)"))
        raw = value.strip()
        parsed: datetime | None = None
        # ISO first (what 55pbx sends, read ten times faster than strptime); then the other
        # forms, which also take fields of one digit.
        with contextlib.suppress(ValueError):
            parsed = datetime.fromisoformat(raw)
        for fmt in DATE_FORMATS if parsed is None else ():
            try:
                parsed = datetime.strptime(raw, fmt)
                break
            except ValueError:
                continue
        if parsed is None:
            raise self._bad(name, self._("data inválida (use AAAA-MM-DD hh:mm:ss)"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=self.zone)
        try:
            parsed = parsed.astimezone(UTC)
        except (OverflowError, ValueError):
            raise self._bad(name, self._("data inválida")) from None
        if not 1970 <= parsed.year <= 2999:
            raise self._bad(name, self._("data inválida"))
        return parsed
