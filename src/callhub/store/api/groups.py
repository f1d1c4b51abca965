"""Groups of API users: their members (leaders among them), the operations they may call,
the platforms they may log in from, and whether they see every request."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from callhub.store.models import (
    ApiPermission,
    Group,
    GroupMember,
    GroupPlatform,
    User,
)

# What a group's acronym may be, and how long a platform's name (the admin page and the
# command line check both with these).
ACRONYM = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
PLATFORM_MAX = 64


def get_group(*, session: Session, group_id: int | None) -> Group | None:
    return session.get(Group, group_id) if group_id is not None else None


def group_by_acronym(*, session: Session, acronym: str) -> Group | None:
    return session.exec(select(Group).where(Group.acronym == acronym)).first()


def save_group(*, session: Session, acronym: str, name: str) -> Group:
    group = group_by_acronym(session=session, acronym=acronym)
    if group is None:
        group = Group(acronym=acronym, name=name)
    group.name = name
    session.add(group)
    session.flush()
    return group


def set_all_requests(*, session: Session, group_id: int, value: bool) -> None:
    """Whether the group's members see every request (store/access.py), or their own."""
    group = session.get(Group, group_id)
    assert group is not None
    group.all_requests = value
    session.add(group)
    session.flush()


def platforms_of(*, session: Session, group_id: int) -> list[str]:
    query = select(GroupPlatform.platform).where(GroupPlatform.group_id == group_id)
    return sorted(session.exec(query).all())


def set_platforms(*, session: Session, group_id: int, platforms: Iterable[str]) -> None:
    """The API platforms the group's members may log in as (replacing the group's own)."""
    wanted = {p.strip().upper() for p in platforms if p.strip()}
    for row in session.exec(select(GroupPlatform).where(GroupPlatform.group_id == group_id)):
        if row.platform not in wanted:
            session.delete(row)
        wanted.discard(row.platform)
    for platform in sorted(wanted):
        session.add(GroupPlatform(group_id=group_id, platform=platform))
    session.flush()


def platform_allowed(*, session: Session, user_id: int, platform: str) -> bool:
    """A platform some group names is its members' only; one no group names is open."""
    owners = list(
        session.exec(
            select(GroupPlatform.group_id).where(GroupPlatform.platform == platform.strip().upper())
        )
    )
    if not owners:
        return True
    member = session.exec(
        select(GroupMember.user_id).where(
            GroupMember.user_id == user_id, col(GroupMember.group_id).in_(owners)
        )
    ).first()
    return member is not None


def list_groups(*, session: Session) -> list[Group]:
    return list(session.exec(select(Group).order_by(col(Group.acronym))).all())


def members_of(*, session: Session, group_id: int) -> list[tuple[User, bool]]:
    """A group's members, each with whether the member leads the group."""
    query = (
        select(User, GroupMember.leader)
        .join(GroupMember, col(GroupMember.user_id) == col(User.id))
        .where(GroupMember.group_id == group_id)
        .order_by(col(User.username))
    )
    return [(user, bool(leader)) for user, leader in session.exec(query).all()]


def add_member(*, session: Session, group_id: int, user_id: int, leader: bool = False) -> None:
    """Make the user a member (a leader when `leader`); adding again sets the leader mark."""
    member = session.get(GroupMember, (group_id, user_id))
    if member is None:
        member = GroupMember(group_id=group_id, user_id=user_id)
    member.leader = leader
    session.add(member)
    session.flush()


def remove_member(*, session: Session, group_id: int, user_id: int) -> None:
    found = session.get(GroupMember, (group_id, user_id))
    if found is not None:
        session.delete(found)
        session.flush()


def permissions_of(*, session: Session, group_id: int) -> set[str]:
    query = select(ApiPermission.operation).where(ApiPermission.group_id == group_id)
    return set(session.exec(query).all())


def set_permissions(*, session: Session, group_id: int, operations: Iterable[str]) -> None:
    session.exec(delete(ApiPermission).where(col(ApiPermission.group_id) == group_id))
    for operation in sorted(set(operations)):
        session.add(ApiPermission(group_id=group_id, operation=operation))
    session.flush()


def may_call(*, session: Session, user_id: int, operation: str) -> bool:
    query = (
        select(func.count())
        .select_from(ApiPermission)
        .join(GroupMember, col(GroupMember.group_id) == col(ApiPermission.group_id))
        .where(GroupMember.user_id == user_id)
        .where(ApiPermission.operation == operation)
    )
    return int(session.exec(query).one()) > 0
