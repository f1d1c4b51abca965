"""Failed logins, counted where every process sees them (the broker), and refused past a limit.

Two counters per failure, both expiring a window after their first count: the username
(password guessing against one account, from anywhere) and the client address (one
client trying many accounts). Past either limit, logins are answered 429 with
Retry-After, the right password included, until the window ends. A success clears the
username's counter. If the broker cannot be asked, logins are let through (and logged):
locking everyone out because Redis restarted would be worse than a short unguarded gap.
"""

from __future__ import annotations

import asyncio
import logging

from callhub.broker import Broker, BrokerUnavailable
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
    def __init__(self, broker: Broker, settings: Settings) -> None:
        self.broker = broker
        self.per_user = settings.login_max_failures
        self.per_address = settings.login_max_failures_per_address
        self.window = settings.login_window_seconds

    async def login(self, store: Store, username: str, password: str, address: str) -> User | None:
        """The user when the password is right, None when not (and the failure counted);
        LoginLimited past the limit. Every login, web form or API, goes through here."""
        wait = await self.retry_after(username, address)
        if wait is not None:
            raise LoginLimited(wait)
        found = await store.run(lambda s: users.find_user(session=s, username=username))
        # Argon2 in a thread: it is slow on purpose.
        if not await asyncio.to_thread(users.check_password, found, password):
            await self.failed(username, address)
            return None
        await self.succeeded(username)
        return found

    @staticmethod
    def _keys(username: str, address: str) -> tuple[str, str]:
        return f"login:user:{username.strip().lower()}", f"login:addr:{address}"

    async def retry_after(self, username: str, address: str) -> int | None:
        """Seconds to wait when this login must be refused now; None when it may go on."""
        user_key, address_key = self._keys(username, address)
        try:
            if (
                await self.broker.count(user_key, self.window, add=0) >= self.per_user
                or await self.broker.count(address_key, self.window, add=0) >= self.per_address
            ):
                return self.window
        except BrokerUnavailable as exc:
            log.warning("login limit not checked: %s", exc)
        return None

    async def failed(self, username: str, address: str) -> None:
        user_key, address_key = self._keys(username, address)
        try:
            await self.broker.count(user_key, self.window)
            await self.broker.count(address_key, self.window)
        except BrokerUnavailable as exc:
            log.warning("failed login not counted: %s", exc)

    async def succeeded(self, username: str) -> None:
        user_key, _ = self._keys(username, "")
        try:
            await self.broker.forget(user_key)
        except BrokerUnavailable as exc:
            log.warning("login counter not cleared: %s", exc)
