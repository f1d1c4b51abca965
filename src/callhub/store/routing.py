"""Where the IVR sends a call (rotearChamada): to the agent who holds the caller's open
request (sticky routing), when that agent is available (whether the agent is on a call
is store.board.on_a_call); the caller's blocks are in store/blocks.py."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from callhub.store.models import (
    IN_PROGRESS,
    OPEN_TASK,
    Extension,
    ServiceRequest,
    Task,
    User,
)


@dataclass(frozen=True)
class Holder:
    """An agent who holds one of the caller's open requests, at their extension."""

    request: int
    user_id: int
    agent: str
    ramal: str


def holders_of(*, session: Session, requester_id: int, limit: int = 5) -> list[Holder]:
    """The caller's open requests, most recently changed first, each with the agent who
    holds it (its open task's user, else who opened it) when that agent has an extension."""
    task_user = (
        select(func.max(Task.user_id))
        .where(Task.request_id == ServiceRequest.id)
        .where(col(Task.status).in_([s.value for s in OPEN_TASK]))
        .where(col(Task.user_id).is_not(None))
        .correlate(ServiceRequest)
        .scalar_subquery()
    )
    holder = func.coalesce(task_user, ServiceRequest.opened_by)
    rows = session.exec(
        select(ServiceRequest.id, User.id, User.name, Extension.ramal)
        .select_from(ServiceRequest)
        .join(User, col(User.id) == holder)
        .join(Extension, col(Extension.user_id) == col(User.id))
        .where(ServiceRequest.requester_id == requester_id)
        .where(col(ServiceRequest.status).in_([s.value for s in IN_PROGRESS]))
        .order_by(col(ServiceRequest.updated_at).desc())
        .limit(limit)
    ).all()
    return [Holder(int(n or 0), int(u or 0), name, ramal) for n, u, name, ramal in rows]
