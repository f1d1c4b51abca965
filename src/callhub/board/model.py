"""The supervisors' wall board: queues and agents, what changed, and where it comes from.

The board is built by one poller across all processes (see adapters/uscall/poller.py):
from USCall's agentStatus, queueStatus and extenStatus when USCall is configured, and
always from what callhub itself knows (the calls the PBXs reported today, the agents
with a tab open). Rows are compared with the previous board so that only rows that
changed travel to the browsers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from callhub.store.board import BoardSettings, RequestCounts

# USCall's agent states (agentStatus) and extension states (extenStatus), as codes.
AGENT_STATES = {
    "ocioso": "available",
    "ocupado": "busy",
    "tocando": "ringing",
    "em pausa": "paused",
    "ramal inoperante": "exten_down",
    "desconhecido": "unknown",
    "erro login": "login_error",
    "nao logado": "logged_out",
    "não logado": "logged_out",
}
EXTEN_STATES = {
    "disponível": "available",
    "disponivel": "available",
    "indisponível": "exten_down",
    "indisponivel": "exten_down",
    "ocupado": "busy",
    "tocando": "ringing",
    "discando": "busy",
}
ON_CALL = ("busy", "ringing")


@dataclass
class QueueRow:
    key: str
    name: str
    waiting: int | None = None
    # When the longest-waiting caller arrived (epoch seconds); the page counts up from it.
    longest_since: float | None = None
    logged_in: int = 0
    available: int = 0
    busy: int = 0
    paused: int = 0
    # Today's calls from the records, each counted once: offered = answered + abandoned
    # + in_progress. Who waits now (USCall's queue) is not recorded until they leave.
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    in_progress: int = 0
    within_target: int = 0
    # offered + waiting, and the colours by the supervisor's thresholds (set by `settle`).
    received: int = 0
    # "ok", "warn", "bad", or "" when there is no figure yet.
    sl_level: str = ""
    abandon_level: str = ""
    # Where the longest wait turns amber and red (seconds): the page counts it up.
    wait_warn: int = 0
    wait_bad: int = 0

    @property
    def service_level(self) -> float | None:
        return self.within_target / self.answered if self.answered else None

    @property
    def abandon_rate(self) -> float | None:
        return self.abandoned / self.received if self.received else None

    def settle(self, settings: BoardSettings) -> None:
        """The figures derived from the others: received (answered + abandoned + in
        progress + waiting: they add up) and the colours the thresholds give them."""
        self.received = self.offered + (self.waiting or 0)
        self.sl_level = level(self.service_level, settings.sl_warn, settings.sl_bad, lower=True)
        self.abandon_level = level(
            self.abandon_rate, settings.abandon_warn, settings.abandon_bad, lower=False
        )
        self.wait_warn, self.wait_bad = settings.wait_warn, settings.wait_bad


def level(fraction: float | None, warn: int, bad: int, *, lower: bool) -> str:
    """ "ok", "warn" or "bad" for a fraction against percent thresholds; `lower` when a
    lower figure is worse (service level), else a higher one is (abandon rate)."""
    if fraction is None:
        return ""
    percent = fraction * 100
    if lower:
        return "bad" if percent < bad else "warn" if percent < warn else "ok"
    return "bad" if percent >= bad else "warn" if percent >= warn else "ok"


@dataclass
class AgentRow:
    key: str
    name: str
    ramal: str
    state: str
    since: float
    user: str | None = None
    pause: str = ""
    number: str = ""
    talk_since: float | None = None
    received: int = 0
    made: int = 0
    queues: list[str] = field(default_factory=list)

    @property
    def on_call(self) -> bool:
        return self.state in ON_CALL


@dataclass
class Board:
    queues: dict[str, QueueRow] = field(default_factory=dict)
    agents: dict[str, AgentRow] = field(default_factory=dict)
    updated_at: float = 0.0
    # "uscall" when the PBX answered this round; "callhub" when built from callhub alone.
    source: str = "callhub"
    uscall_configured: bool = False
    # Set while USCall does not answer: what failed, and since when.
    error: str | None = None
    error_since: float | None = None
    service_level_seconds: int = 20
    requests: RequestCounts = field(default_factory=RequestCounts)

    def to_json(self) -> str:
        return json.dumps(
            {
                "queues": [plain(q) for q in self.queues.values()],
                "agents": [plain(a) for a in self.agents.values()],
                "requests": plain(self.requests),
                "meta": self.meta(),
            },
            separators=(",", ":"),
        )

    def agent_at(self, ramal: str) -> AgentRow | None:
        """The agent on this extension, as the board last saw them."""
        return next((a for a in self.agents.values() if a.ramal == ramal), None)

    def meta(self) -> dict[str, Any]:
        return {
            "updated_at": self.updated_at,
            "source": self.source,
            "uscall_configured": self.uscall_configured,
            "error": self.error,
            "error_since": self.error_since,
            "service_level_seconds": self.service_level_seconds,
        }

    @classmethod
    def from_json(cls, text: str) -> Board:
        data = json.loads(text)
        meta = data["meta"]
        return cls(
            queues={q["key"]: QueueRow(**q) for q in data["queues"]},
            agents={a["key"]: AgentRow(**a) for a in data["agents"]},
            updated_at=meta["updated_at"],
            source=meta["source"],
            uscall_configured=meta["uscall_configured"],
            error=meta["error"],
            error_since=meta["error_since"],
            service_level_seconds=meta["service_level_seconds"],
            requests=RequestCounts(**data.get("requests", {})),
        )


def plain(row: QueueRow | AgentRow | RequestCounts) -> dict[str, Any]:
    """A row's fields as a dict for JSON: the rows are flat, so a shallow copy does
    (dataclasses.asdict deep-copies, and cost most of a 1,000-agent board's poll)."""
    return dict(vars(row))


def changes(old: Board | None, new: Board) -> dict[str, Any]:
    """What a board tab needs to go from `old` to `new`: changed rows, removed keys, meta."""
    old_q = old.queues if old else {}
    old_a = old.agents if old else {}
    # A row added or gone redraws the tables (all rows travel); otherwise only changed rows.
    layout = old is None or list(old_q) != list(new.queues) or list(old_a) != list(new.agents)
    return {
        "t": "board",
        "layout": layout,
        "queues": [plain(q) for k, q in new.queues.items() if layout or old_q.get(k) != q],
        "agents": [plain(a) for k, a in new.agents.items() if layout or old_a.get(k) != a],
        "requests": plain(new.requests),
        "meta": new.meta(),
    }


def agent_state(status: str) -> str:
    return AGENT_STATES.get(status.strip().lower(), "unknown")


def exten_state(status: str) -> str:
    return EXTEN_STATES.get(status.strip().lower(), "unknown")
