"""Users and the extension each agent holds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, select

from callhub.store.models import Extension, Role, User, utcnow
from callhub.store.params import get_setting, set_setting

_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps login timing uniform.
_DUMMY_HASH = _hasher.hash("callhub-no-such-user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(
    *,
    session: Session,
    username: str,
    password: str,
    role: Role,
    name: str | None = None,
    can_execute: bool = False,
) -> User:
    """Create the user, or update the password, role and permission of an existing one."""
    user = (session.exec(select(User).where(User.username == username))).first()
    if user is None:
        user = User(username=username, name=name or username, password_hash="")
    if user.password_hash:  # a new password ends the sessions opened with the old one
        user.session_version += 1
    user.password_hash = hash_password(password)
    user.role = role
    user.can_execute = can_execute
    if name:
        user.name = name
    session.add(user)
    session.flush()
    return user


def find_user(*, session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


def check_password(user: User | None, password: str) -> bool:
    """Argon2 verification: CPU-bound (tens of ms), so callers run it off the event loop."""
    if user is None or not user.active:
        try:
            _hasher.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
        return False
    try:
        return bool(_hasher.verify(user.password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def end_sessions(*, session: Session, user_id: int) -> None:
    """Every session cookie the user holds opens nothing any more (logout, an admin)."""
    user = session.get(User, user_id)
    if user is not None:
        user.session_version += 1
        session.add(user)
        session.flush()


def session_current(user: User | None, cookie: Mapping[str, Any]) -> bool:
    """Whether a session cookie still opens the user's account: an active user, and the
    version the cookie was issued under."""
    return user is not None and user.active and cookie.get("sv") == user.session_version


def get_user(*, session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def extension_of(*, session: Session, user_id: int) -> Extension | None:
    return (session.exec(select(Extension).where(Extension.user_id == user_id))).first()


def register_extension(
    *, session: Session, ramal: str, user_id: int
) -> tuple[int | None, str | None]:
    """Give `ramal` to the user. Returns (previous holder of ramal, the user's previous ramal)."""
    mine = extension_of(session=session, user_id=user_id)
    previous_ramal = mine.ramal if mine is not None else None
    if mine is not None and mine.ramal == ramal:
        return None, None
    if mine is not None:
        session.delete(mine)
    held = session.get(Extension, ramal)
    previous_holder = None
    if held is not None:
        previous_holder = held.user_id
        session.delete(held)
    session.flush()
    session.add(Extension(ramal=ramal, user_id=user_id, registered_at=utcnow()))
    session.flush()
    return previous_holder, previous_ramal


def release_extension(*, session: Session, user_id: int) -> str | None:
    mine = extension_of(session=session, user_id=user_id)
    if mine is None:
        return None
    session.delete(mine)
    session.flush()
    return mine.ramal


def holder_of(*, session: Session, ramal: str) -> User | None:
    """The agent the extension is registered to, if any."""
    query = select(User).join(Extension, col(Extension.user_id) == col(User.id))
    return session.exec(query.where(Extension.ramal == ramal)).first()


def _ring_key(user_id: int) -> str:
    return f"agent.{user_id}.ring"


def rings_on_pop(*, session: Session, user_id: int) -> bool:
    """The agent's choice: a pop in a background tab rings (off unless chosen)."""
    return get_setting(session=session, key=_ring_key(user_id)) == "1"


def set_rings_on_pop(*, session: Session, user_id: int, ring: bool) -> None:
    set_setting(session=session, key=_ring_key(user_id), value="1" if ring else "0")
