"""Users and the extension each agent holds."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from callhub.store.models import Extension, Role, User, utcnow

_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps login timing uniform.
_DUMMY_HASH = _hasher.hash("callhub-no-such-user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


async def create_user(
    *,
    session: AsyncSession,
    username: str,
    password: str,
    role: Role,
    name: str | None = None,
    can_execute: bool = False,
) -> User:
    """Create the user, or update the password, role and permission of an existing one."""
    user = (await session.exec(select(User).where(User.username == username))).first()
    if user is None:
        user = User(username=username, name=name or username, password_hash="")
    user.password_hash = hash_password(password)
    user.role = role
    user.can_execute = can_execute
    if name:
        user.name = name
    session.add(user)
    await session.flush()
    return user


async def authenticate(*, session: AsyncSession, username: str, password: str) -> User | None:
    user = (await session.exec(select(User).where(User.username == username))).first()
    if user is None or not user.active:
        try:
            _hasher.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.add(user)
    return user


async def get_user(*, session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def extension_of(*, session: AsyncSession, user_id: int) -> Extension | None:
    return (await session.exec(select(Extension).where(Extension.user_id == user_id))).first()


async def holder_of(*, session: AsyncSession, ramal: str) -> Extension | None:
    return await session.get(Extension, ramal)


async def register_extension(
    *, session: AsyncSession, ramal: str, user_id: int
) -> tuple[int | None, str | None]:
    """Give `ramal` to the user. Returns (previous holder of ramal, the user's previous ramal)."""
    mine = await extension_of(session=session, user_id=user_id)
    previous_ramal = mine.ramal if mine is not None else None
    if mine is not None and mine.ramal == ramal:
        return None, None
    if mine is not None:
        await session.delete(mine)
    held = await session.get(Extension, ramal)
    previous_holder = None
    if held is not None:
        previous_holder = held.user_id
        await session.delete(held)
    await session.flush()
    session.add(Extension(ramal=ramal, user_id=user_id, registered_at=utcnow()))
    await session.flush()
    return previous_holder, previous_ramal


async def release_extension(*, session: AsyncSession, user_id: int) -> str | None:
    mine = await extension_of(session=session, user_id=user_id)
    if mine is None:
        return None
    await session.delete(mine)
    await session.flush()
    return mine.ramal
