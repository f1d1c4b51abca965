"""Which requests an API user may read and change: the one rule, for every interface.

A user sees the requests of their groups: those whose executing group is one of them, or
whose open task (execution or approval) is for one of them. A group marked
`all_requests` (an ERP integration's) sees every request. Lists and counts filter by
`visible` in SQL; a request named by number is checked with `may_see` and, when hidden,
answered as if it did not exist (its existence is not leaked either).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, false, true
from sqlmodel import Session, col, select

from callhub.store.models import OPEN_TASK, Group, GroupMember, ServiceRequest, Task


@dataclass(frozen=True)
class RequestScope:
    """What one user may see: everything, or the requests of these groups."""

    everything: bool
    group_ids: frozenset[int]


def scope_of(*, session: Session, user_id: int) -> RequestScope:
    rows = session.exec(
        select(Group.id, Group.all_requests)
        .join(GroupMember, col(GroupMember.group_id) == col(Group.id))
        .where(GroupMember.user_id == user_id)
    ).all()
    return RequestScope(
        everything=any(every for _id, every in rows),
        group_ids=frozenset(group_id for group_id, _every in rows if group_id is not None),
    )


def visible(scope: RequestScope) -> ColumnElement[bool]:
    """A condition on `ServiceRequest` rows: the ones `scope` may see."""
    if scope.everything:
        return true()
    if not scope.group_ids:
        return false()
    groups = sorted(scope.group_ids)
    open_task_of_a_group = exists().where(
        col(Task.request_id) == col(ServiceRequest.id),
        col(Task.status).in_([s.value for s in OPEN_TASK]),
        col(Task.group_id).in_(groups),
    )
    return col(ServiceRequest.group_id).in_(groups) | open_task_of_a_group


def may_see(*, session: Session, scope: RequestScope, request_id: int) -> bool:
    if scope.everything:
        return True
    found = session.exec(
        select(ServiceRequest.id).where(ServiceRequest.id == request_id, visible(scope))
    ).first()
    return found is not None
