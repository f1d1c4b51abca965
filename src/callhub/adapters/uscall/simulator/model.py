"""The simulated PBX's parts (agents, extensions, queues, calls, CDRs, URAs) and the
set of them the demo and the tests start with."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("America/Sao_Paulo")
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
RING_SECONDS = 1.5


class PbxError(Exception):
    """A refused request; the PBX answers {"status": "erro", "mensagem": ...}."""


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - the PBX's own scheme


def hms(seconds: float) -> str:
    s = max(0, int(seconds))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


@dataclass
class Pause:
    id: str
    name: str
    max_seconds: int = 0
    queues: str = "ALL"


@dataclass
class Queue:
    num: str
    name: str
    kind: str = "callcenter"
    ddr: str | None = None
    waiting: list[Call] = field(default_factory=list)


@dataclass
class Exten:
    num: str
    name: str
    kind: str = "callcenter"
    ip: str = ""
    forward: str = ""
    call: Call | None = None
    # The call this extension is listening to (monitExten), if any.
    monitoring: Call | None = None


@dataclass
class Agent:
    num: str
    name: str
    password: str
    key_queue: str
    ramal: str | None = None
    queues: list[str] = field(default_factory=list)
    pause: Pause | None = None
    received: int = 0
    made: int = 0
    day: str = ""


@dataclass
class Call:
    id: str
    kind: str  # Recebida, Efetuada, Interna, Discador, Click to call
    origin: str
    destination: str
    trunk: str
    ddr: str = ""
    queue: str | None = None
    ramal: str | None = None
    agent: str | None = None
    idcti: str = ""
    arrived: float = 0.0
    ringing_since: float | None = None
    answered: float | None = None
    talk_seconds: float = 30.0
    patience: float = 60.0
    dialling_until: float | None = None


@dataclass
class Cdr:
    id: str
    when: float
    kind: str
    ddr: str
    origin: str
    destination: str
    trunk: str
    wait: float
    duration: float
    status: str
    idcti: str
    ramal: str | None
    queue: str | None
    talk: float
    audio: str

    def as_search(self) -> dict[str, Any]:
        return {
            "bilheteunico": self.id,
            "Audio": self.audio,
            "datahora": local(self.when),
            "tipo": self.kind,
            "DDR": self.ddr,
            "origem": self.origin,
            "destino": self.destination,
            "tronco": self.trunk,
            "espera": hms(self.wait),
            "duracao": hms(self.duration),
            "status": self.status,
            "idcti": self.idcti,
        }


@dataclass
class Flow:
    num: str
    description: str
    audio: str
    timeout: int
    repeat: int
    invalid: str
    kind: str
    words: list[tuple[str, str]]


@dataclass
class Ura:
    id: str
    name: str
    description: str
    flows: list[Flow]


def local(ts: float) -> str:
    return datetime.fromtimestamp(ts, ZONE).strftime(DATE_FORMAT)


def parse_local(text: str, field_name: str) -> float:
    try:
        return datetime.strptime(text, DATE_FORMAT).replace(tzinfo=ZONE).timestamp()
    except ValueError:
        raise PbxError(f"{field_name}: data inválida, use YYYY-MM-DD HH:MM:SS") from None


def bounds(dataini: str, datafin: str, now: float) -> tuple[float, float]:
    today = datetime.fromtimestamp(now, ZONE).replace(hour=0, minute=0, second=0, microsecond=0)
    start = parse_local(dataini, "dataini") if dataini else today.timestamp()
    end = (
        parse_local(datafin, "datafin")
        if datafin
        else (today + timedelta(hours=23, minutes=59, seconds=59)).timestamp()
    )
    return start, end
