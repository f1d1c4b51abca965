"""`callhub group`: the ITSM API's groups, provisioned from the command line.

What an admin edits at /admin/api, for operators and scripts: create or rename a group,
grant and revoke operations (`--grant all`: every one), add members, reserve platforms,
let it see every request. Running it again changes nothing. Unknown operations and users
are named in the error, and then nothing is written.

    callhub group ERP --name "Integração ERP" --grant all --member erp --platform ERP --all-requests
    callhub group --list
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sqlmodel import Session

from callhub.store import api, users
from callhub.store.models import Group


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "group",
        help="create or change an API group (operations, members, platforms), or --list them",
    )
    p.add_argument("acronym", nargs="?", help="the group's acronym (created when new)")
    p.add_argument("--list", action="store_true", help="list the groups and their grants")
    p.add_argument("--name", help="the group's name (default: its acronym, when created)")
    p.add_argument(
        "--grant",
        nargs="+",
        default=[],
        metavar="OPERATION",
        help="operations its members may call; 'all' for every one",
    )
    p.add_argument("--revoke", nargs="+", default=[], metavar="OPERATION")
    p.add_argument("--member", nargs="+", default=[], metavar="USERNAME")
    p.add_argument(
        "--platform",
        nargs="+",
        default=[],
        metavar="NAME",
        help="API platforms reserved to its members (no one else may log in as them)",
    )
    p.add_argument(
        "--all-requests",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="its members see every request (an integration), or only their groups'",
    )


class Refused(Exception):
    pass


def known_operations() -> list[str]:
    """Every operation a permission can name (logging in and out need none)."""
    from callhub.webservices.services import grantable  # (importing registers them)

    return grantable()


def change(session: Session, args: argparse.Namespace, operations: list[str]) -> str:
    """Apply `args` to its group; what it is now, as `--list` shows it. Refused, naming
    what is unknown, before anything is written."""
    acronym = args.acronym
    if not acronym or not api.ACRONYM.match(acronym):
        raise Refused("the acronym must be 1 to 32 letters, digits, '_' or '-'")
    if args.name is not None and not 0 < len(args.name.strip()) <= 120:
        raise Refused("--name must have 1 to 120 characters")
    wanted = operations if "all" in args.grant else args.grant
    unknown = sorted({*wanted, *args.revoke} - set(operations))
    if unknown:
        raise Refused(f"unknown operations: {', '.join(unknown)} (see `callhub group --list`)")
    members = {name: users.find_user(session=session, username=name) for name in args.member}
    missing = sorted(name for name, user in members.items() if user is None)
    if missing:
        raise Refused(f"unknown users: {', '.join(missing)} (create them with createuser)")
    if any(len(p) > api.PLATFORM_MAX for p in args.platform):
        raise Refused(f"a platform's name has at most {api.PLATFORM_MAX} characters")

    group = api.group_by_acronym(session=session, acronym=acronym)
    name = args.name.strip() if args.name else (group.name if group else acronym)
    group = api.save_group(session=session, acronym=acronym, name=name)
    assert group.id is not None
    granted = (api.permissions_of(session=session, group_id=group.id) | set(wanted)) - set(
        args.revoke
    )
    api.set_permissions(session=session, group_id=group.id, operations=granted)
    current = {user.id for user, _leader in api.members_of(session=session, group_id=group.id)}
    for user in members.values():
        assert user is not None and user.id is not None
        if user.id not in current:  # a leader stays one
            api.add_member(session=session, group_id=group.id, user_id=user.id)
    if args.platform:
        platforms = [*api.platforms_of(session=session, group_id=group.id), *args.platform]
        api.set_platforms(session=session, group_id=group.id, platforms=platforms)
    if args.all_requests is not None:
        api.set_all_requests(session=session, group_id=group.id, value=args.all_requests)
    session.commit()
    return describe(session, group)


def describe(session: Session, group: Group) -> str:
    assert group.id is not None
    group_id = group.id
    members = api.members_of(session=session, group_id=group_id)
    grants = sorted(api.permissions_of(session=session, group_id=group_id))
    platforms = api.platforms_of(session=session, group_id=group_id)
    lines = [
        f"{group.acronym}  {group.name}",
        "  requests:   " + ("all" if group.all_requests else "its groups' only"),
        "  platforms:  " + (" ".join(platforms) or "-"),
        "  members:    " + (" ".join(
            u.username + (" (leader)" if leader else "") for u, leader in members) or "-"),
        f"  operations: {len(grants)}" + (": " + " ".join(grants) if grants else ""),
    ]  # fmt: skip
    return "\n".join(lines)


def group_command(run: Any, args: argparse.Namespace) -> int:
    """`run(work)`: `work(session)` on the configured store."""
    if args.list:
        if args.acronym or args.grant or args.revoke or args.member or args.platform:
            print("error: --list takes nothing else", file=sys.stderr)
            return 2

        def listing(session: Session) -> str:
            groups = api.list_groups(session=session)
            if not groups:
                return "no groups yet: callhub group ACRONYM --grant ... --member ..."
            return "\n".join(describe(session, g) for g in groups)

        print(run(listing))
        return 0
    operations = known_operations()
    try:
        print(run(lambda session: change(session, args, operations)))
    except Refused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
