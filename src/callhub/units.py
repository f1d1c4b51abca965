"""Units of work: what a source (a PBX's request, an agent's form, the APIs) asks the
pipeline to store, what it stored, and a batch of them run in one transaction."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlmodel import Session

from callhub.protocol import Pop, TabMessage
from callhub.store.models import ScreenPop

T = TypeVar("T")


@dataclass
class Stored(Generic[T]):
    """What a unit of work stored: its own answer, and what the tabs must be told."""

    value: T
    pops: list[ScreenPop] = field(default_factory=list)
    messages: list[TabMessage] = field(default_factory=list)


@dataclass
class Published(Generic[T]):
    value: T
    pops: list[Pop]
    # Tabs the pops reached when published (across processes, with Redis).
    delivered: int


Work = Callable[[Session], Stored[T]]


@dataclass
class Job:
    work: Work[Any]
    at: float
    done: asyncio.Future[Published[Any]]


class Failed(Exception):
    """The unit of work at `index` in its batch raised `error`; the batch rolled back."""

    def __init__(self, index: int, error: BaseException) -> None:
        self.index = index
        self.error = error


def database_down(error: BaseException) -> bool:
    if isinstance(error, OperationalError | InterfaceError | ConnectionError | OSError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


# PostgreSQL's "deadlock detected" and "could not serialize": the batch may run again.
_RETRYABLE = frozenset({"40P01", "40001"})


def conflict(error: BaseException) -> bool:
    return getattr(getattr(error, "orig", None), "sqlstate", None) in _RETRYABLE


def run_batch(session: Session, batch: list[Job], budget: float | None) -> list[Stored[Any]]:
    """The outcomes of the batch's first units of work, committed: all of them, or as many
    as `budget` seconds allowed (at least one)."""
    outcomes = []
    deadline = time.perf_counter() + budget if budget is not None else None
    for index, job in enumerate(batch):
        try:
            outcomes.append(job.work(session))
        except Exception as exc:
            raise Failed(index, exc) from exc
        if deadline is not None and time.perf_counter() > deadline:
            break
    session.commit()
    return outcomes
