"""USCall UC's answers as typed values.

The PBX answers every function with a JSON string. Field names are matched without
regard to case (the seed writes "Audio", "DDR" and "ddr"); times "HH:MM:SS" become
seconds and dates "YYYY-MM-DD HH:MM:SS" (the PBX's local time) aware datetimes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

Row = dict[str, Any]


def row(raw: Any) -> Row:
    if not isinstance(raw, dict):
        raise ValueError(f"expected an object, got {type(raw).__name__}")
    return {str(k).lower(): v for k, v in raw.items()}


def rows(raw: Any) -> list[Row]:
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        raise ValueError(f"expected a list, got {type(raw).__name__}")
    return [row(r) for r in raw]


def text(r: Row, *names: str) -> str:
    for name in names:
        value = r.get(name)
        if value is not None:
            return str(value).strip()
    return ""


def number(r: Row, name: str) -> int:
    value = text(r, name)
    try:
        return int(float(value.replace(",", "."))) if value else 0
    except ValueError:
        return 0


def seconds(r: Row, name: str) -> int | None:
    """'HH:MM:SS', 'MM:SS' or plain seconds; None when absent."""
    value = text(r, name)
    if not value:
        return None
    try:
        total = 0
        for part in value.split(":"):
            total = total * 60 + int(float(part))
        return total
    except ValueError:
        return None


def when(r: Row, name: str, zone: ZoneInfo) -> datetime | None:
    value = text(r, name)
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M:%S"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=zone)
        except ValueError:
            continue
    return None


def listed(r: Row, name: str) -> list[str]:
    value = r.get(name)
    if isinstance(value, list):
        return [str(v) for v in value]
    return [v.strip() for v in text(r, name).split(",") if v.strip()]


def nested(r: Row, name: str) -> list[Row]:
    """A nested list, sent as JSON or as a JSON string."""
    value = r.get(name)
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else []
        except ValueError:
            return []
    try:
        return rows(value or [])
    except ValueError:
        return []


@dataclass(frozen=True)
class Done:
    """What an action answered: its message, and the call it started, if any."""

    message: str
    idcall: str | None = None


@dataclass(frozen=True)
class Agent:
    num: str
    nome: str
    senhamd5: str
    filachave: str


@dataclass(frozen=True)
class CdrRecord:
    bilheteunico: str
    audio: str
    datahora: datetime | None
    tipo: str
    ddr: str
    origem: str
    destino: str
    tronco: str
    espera: int | None
    duracao: int | None
    status: str
    idcti: str


@dataclass(frozen=True)
class Recording:
    nome: str
    data: datetime | None
    tipo: str
    status: str
    origem: str
    destino: str
    content: bytes
    media_type: str


@dataclass(frozen=True)
class AgentStatus:
    num: str
    status: str
    pausa: str
    campanha: str
    ramal: str
    numero: str
    tempo: int | None
    filas: list[str]
    recebidas: int
    efetuadas: int
    atendfila: str
    idcall: str
    ddr: str


@dataclass(frozen=True)
class PauseInfo:
    id: str
    pause: str
    tempo: int
    filas: list[str]


@dataclass(frozen=True)
class Exten:
    num: str
    tipo: str
    nome: str


@dataclass(frozen=True)
class ExtenStatus:
    ramal: str
    status: str
    sigame: str
    ip: str
    numero: str
    tempo: int | None


@dataclass(frozen=True)
class QueueInfo:
    fila: str
    tipo: str
    nome: str


@dataclass(frozen=True)
class Waiting:
    numero: str
    tempo: int


@dataclass(frozen=True)
class QueueStatus:
    fila: str
    status: str
    espera: int
    numeros: list[Waiting] = field(default_factory=list)


@dataclass(frozen=True)
class TariffRecord:
    datahorario: datetime | None
    ramalnum: str
    ramalnome: str
    ramalcanal: str
    numero: str
    tronconome: str
    troncocanal: str
    statuscall: str
    durtotal: int
    durcall: int
    idcall: str


@dataclass(frozen=True)
class Trunk:
    nome: str
    tipo: str
    canal: str


@dataclass(frozen=True)
class UraWord:
    palavra: str
    destino: str


@dataclass(frozen=True)
class UraFlow:
    fluxo: str
    descricao: str
    audio: str
    timeout: int
    repetir: int
    destino_invalido: str
    tipo_fluxo: str
    palavras: list[UraWord]


@dataclass(frozen=True)
class Ura:
    id: str
    nome: str
    descricao: str
    fluxos: list[UraFlow]


@dataclass(frozen=True)
class UraRecord:
    datahora: datetime | None
    ura: str
    bilheteunico: str
    ddr: str
    origem: str
    destino: str
    tronco: str
    duracao: int | None
    fluxo: str
    palavra_origem: str
    palavra_dest: str
    evento: str
    status: str
    eventos: list[Row]
    idcti: str
