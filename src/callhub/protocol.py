"""What travels between callhub's processes and out to the tabs: typed messages, the
channels they travel on, and their wire form.

A message is published on one channel: an extension's (`extension_channel`), the wall
board's, or the board's wake-up call. The in-process broker hands the objects over as
they are; Redis carries `encode()`'s JSON, and `decode()` makes the same objects again.

Messages that end up on a tab carry their HTML already rendered, once per variant the
publisher knew of (`fragments`, keyed by `variant_key`): a hub forwards bytes, and only
renders a variant nobody rendered (a tab in another language on another process).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

BOARD = "board"
# Requests changed somewhere: the process polling the wall board refreshes its counts.
BOARD_WAKE = "board:wake"
# Which fragments each process's tabs need, by extension (processes sharing a broker).
VARIANTS = "variants"
_EXTENSION = "ext:"


def extension_channel(ramal: str) -> str:
    return _EXTENSION + ramal


def ramal_of(channel: str) -> str | None:
    """The extension of an extension's channel; None for any other channel."""
    return channel[len(_EXTENSION) :] if channel.startswith(_EXTENSION) else None


def variant_key(locale: str, can_execute: bool) -> str:
    """How a fragment differs between tabs: their language, and whether their agent may
    execute requests (only the request screen shows it)."""
    return f"{locale}/{int(can_execute)}"


def variant_of(key: str) -> tuple[str, bool]:
    """The (language, permission) a `variant_key` names."""
    locale, _, can_execute = key.partition("/")
    return locale, can_execute == "1"


@dataclass(slots=True)
class Pop:
    """A stored screen pop, for every tab of its extension."""

    seq: int
    ramal: str
    pop_id: str
    payload: dict[str, Any]
    # time.time() when the PBX request that made it arrived (latency is timed from there)
    at: float
    fragments: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Screen:
    """A pop's screen changed (an agent's action, the ITSM API): shown again where open."""

    seq: int
    ramal: str
    payload: dict[str, Any]
    fragments: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class CallEnded:
    """The PBX reported the end of a call shown on this extension."""

    ramal: str
    call_id: int
    ended: dict[str, Any]
    fragments: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class AgentState:
    """The USCall agent on this extension changed state (from the board's poller)."""

    ramal: str
    row: dict[str, Any] | None
    fragments: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Moved:
    """The extension changed hands: its tabs (but the new holder's) are told and closed."""

    ramal: str
    to_user: int | None
    to_name: str | None
    from_user: int | None = None


@dataclass(slots=True)
class BoardChanges:
    """The wall board's rows that changed (the poller's `changes()`)."""

    changes: dict[str, Any]


@dataclass(slots=True)
class BoardWake:
    """Requests changed: the board's counts are due."""


@dataclass(slots=True)
class TabVariants:
    """The variants (`variant_key`) one process's tabs on an extension need now: whoever
    stores a pop renders them too, so that the other processes only forward bytes."""

    process: str
    ramal: str
    variants: list[str]


TabMessage = Pop | Screen | CallEnded | AgentState | Moved
Message = TabMessage | BoardChanges | BoardWake | TabVariants

_TAGS: dict[type[Any], str] = {
    Pop: "pop",
    Screen: "screen",
    CallEnded: "callend",
    AgentState: "agentstate",
    Moved: "moved",
    BoardChanges: "board",
    BoardWake: "wake",
    TabVariants: "variants",
}
_TYPES = {tag: kind for kind, tag in _TAGS.items()}


def channel_of(message: Message) -> str:
    if isinstance(message, BoardChanges):
        return BOARD
    if isinstance(message, BoardWake):
        return BOARD_WAKE
    if isinstance(message, TabVariants):
        return VARIANTS
    return extension_channel(message.ramal)


def encode(message: Message) -> str:
    body = {name: getattr(message, name) for name in message.__slots__}
    body["t"] = _TAGS[type(message)]
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def decode(data: str | bytes) -> Message:
    """The message `encode` made; ValueError for anything else."""
    body = json.loads(data)
    if not isinstance(body, dict):
        raise ValueError("not a callhub message")
    kind = _TYPES.get(body.pop("t", None))
    if kind is None:
        raise ValueError("not a callhub message")
    try:
        message: Message = kind(**body)
    except TypeError as exc:
        raise ValueError(f"malformed {kind.__name__}: {exc}") from None
    return message
