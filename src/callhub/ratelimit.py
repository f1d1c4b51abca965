"""Logins, counted where every process sees them (the broker), and refused past a limit.

Two counters, both expiring a window after their first count: the username (password
guessing against one account, from anywhere) and the client address (one client trying
many accounts). Each attempt is counted before its password is checked, in one atomic
step per counter, so attempts fired together cannot all slip in before the first failure
is counted: past either limit, logins are answered 429 with Retry-After, the right
password included, until the window ends. A success clears the username's counter and
takes its own attempt back from the address's (an office behind one address logs in all
day). If the broker cannot be asked, logins are let through (and logged): locking
everyone out because Redis restarted would be worse than a short unguarded gap.
"""

from __future__ import annotations

import asyncio
import logging

from callhub.broker import BrokerUnavailable, Coordination
from callhub.settings import Settings
from callhub.store import users
from callhub.store.engine import Store
from callhub.store.models import User

log = logging.getLogger("callhub.ratelimit")


class LoginLimited(Exception):
    """Too many failed logins: refuse this one, whatever its password."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


class LoginLimiter:
    def __init__(self, shared: Coordination, settings: Settings) -> None:
        self.shared = shared
        self.per_user = settings.login_max_failures
        self.per_address = settings.login_max_failures_per_address
        self.window = settings.login_window_seconds

    async def login(self, store: Store, username: str, password: str, address: str) -> User | None:
        """The user when the password is right, None when not (the attempt stays counted);
        LoginLimited past the limit. Every login, web form or API, goes through here."""
        await self.attempt(username, address)
        found = await store.run(lambda s: users.find_user(session=s, username=username))
        # Argon2 in a thread: it is slow on purpose.
        if not await asyncio.to_thread(users.check_password, found, password):
            return None
        await self.succeeded(username, address)
        return found

    @staticmethod
    def _keys(username: str, address: str) -> tuple[str, str]:
        return f"login:user:{username.strip().lower()}", f"login:addr:{address}"

    async def attempt(self, username: str, address: str) -> None:
        """Count an attempt; LoginLimited when it is one too many for the account or the
        address."""
        user_key, address_key = self._keys(username, address)
        try:
            by_user = await self.shared.count(user_key, self.window)
            by_address = await self.shared.count(address_key, self.window)
        except BrokerUnavailable as exc:
            log.warning("login limit not checked: %s", exc)
            return
        if by_user > self.per_user or by_address > self.per_address:
            raise LoginLimited(self.window)

    async def succeeded(self, username: str, address: str) -> None:
        user_key, address_key = self._keys(username, address)
        try:
            await self.shared.forget(user_key)
            await self.shared.count(address_key, self.window, add=-1)
        except BrokerUnavailable as exc:
            log.warning("login counters not cleared: %s", exc)
