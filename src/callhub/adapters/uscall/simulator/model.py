"""The simulated PBX's parts (agents, extensions, queues, calls, CDRs, URAs) and the
set of them the demo and the tests start with."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from callhub.adapters.uscall.simulator.pbx import Pbx


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


def demo_setup(pbx: Pbx) -> None:
    """The PBX the demo and the tests start with."""
    for num, name in (("900", "Suporte N1"), ("901", "Financeiro"), ("902", "Comercial")):
        pbx.queues[num] = Queue(num, name, ddr=f"113995{num}0")
    pbx.queues["950"] = Queue("950", "Recepção", kind="pbx")
    for n in range(2000, 2010):
        pbx.extens[str(n)] = Exten(str(n), f"Posição {n - 1999}", ip=f"10.0.0.{n - 1990}")
    for n in (2100, 2101):
        pbx.extens[str(n)] = Exten(str(n), f"Supervisão {n - 2099}", kind="pbx")
    names = ["Ana Souza", "Bruno Lima", "Carla Dias", "Diego Rocha", "Elisa Prado", "Fábio Reis"]
    for i, name in enumerate(names):
        num = str(101 + i)
        pbx.agents[num] = Agent(num, name, password=f"senha{num}", key_queue="900")
    for pid, name, seconds in (
        ("1", "Almoço", 3600),
        ("2", "Banheiro", 600),
        ("3", "Treinamento", 0),
        ("4", "Pós-atendimento", 120),
    ):
        pbx.pauses[pid] = Pause(pid, name, seconds, "ALL" if pid != "4" else "900,901")
    pbx.trunks = [
        {"nome": "Operadora A", "tipo": "SIP", "canal": "SIP/operadora-a"},
        {"nome": "Operadora B", "tipo": "SIP", "canal": "SIP/operadora-b"},
        {"nome": "E1 Centro", "tipo": "DAHDI", "canal": "DAHDI/g1"},
    ]
    pbx.uras["1"] = Ura(
        "1",
        "Aviso de solicitação",
        "Avisa o solicitante sobre a sua solicitação",
        [
            Flow(
                "1",
                "Saudação",
                "texto:Olá {CTI_INFO1}. A sua solicitação {CTI_INFO2} está {CTI_INFO3}."
                " Tecle 1 para falar com um atendente ou 2 para encerrar.",
                5,
                2,
                "2",
                "digito",
                [("1", "fila:900"), ("2", "desligar"), ("*", "2")],
            ),
            Flow("2", "Despedida", "texto:Obrigado. Até logo.", 3, 0, "desligar", "voz", []),
        ],
    )
    pbx.uras["2"] = Ura(
        "2",
        "Pesquisa de satisfação",
        "Nota de 1 a 5 após o atendimento",
        [
            Flow(
                "1",
                "Nota",
                "arquivo:pesquisa.wav",
                8,
                1,
                "desligar",
                "digito",
                [("1,2,3,4,5", "desligar")],
            )
        ],
    )
