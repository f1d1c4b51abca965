"""callhub createuser and callhub end-sessions."""

from __future__ import annotations

import argparse
import sys

from sqlmodel import Session

from callhub.cli.common import with_store
from callhub.settings import Settings
from callhub.store import users
from callhub.store.models import Role


def createuser(settings: Settings, args: argparse.Namespace) -> int:
    if len(args.password) < 8:
        print("error: --password must have at least 8 characters", file=sys.stderr)
        return 2

    def save(session: Session) -> None:
        users.create_user(
            session=session,
            username=args.username,
            password=args.password,
            role=Role(args.role),
            name=args.name,
            can_execute=args.can_execute,
        )
        session.commit()

    with_store(settings, lambda store: store.run(save))
    print(f"user {args.username} ({args.role}{', can execute' if args.can_execute else ''}) saved")
    return 0


def end_sessions(settings: Settings, args: argparse.Namespace) -> int:
    def end(session: Session) -> bool:
        user = users.find_user(session=session, username=args.username)
        if user is None or user.id is None:
            return False
        users.end_sessions(session=session, user_id=user.id)
        session.commit()
        return True

    if not with_store(settings, lambda store: store.run(end)):
        print(f"error: no user {args.username!r}", file=sys.stderr)
        return 2
    print(f"every session of {args.username} ended")
    return 0
