"""Every CALLHUB_* variable, read once, typed, with the embedded defaults."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

log = logging.getLogger("callhub.settings")

# The broker, by the URL's scheme: one process, or many sharing Redis.
BROKER_SCHEMES = ("memory://", "redis://", "rediss://", "unix://")


class ConfigError(RuntimeError):
    """A setting is missing or malformed; callhub refuses to start."""


def _zone(name: str, zone: str) -> ZoneInfo:
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{name}: unknown time zone {zone!r} (an IANA name such as America/Sao_Paulo)"
        ) from None


def _broker_url(env: Mapping[str, str]) -> str | None:
    """CALLHUB_BROKER_URL; CALLHUB_REDIS_URL, its old name, still read (with a warning)."""
    url = env.get("CALLHUB_BROKER_URL") or None
    old = env.get("CALLHUB_REDIS_URL") or None
    if old is not None:
        log.warning("CALLHUB_REDIS_URL is deprecated: set CALLHUB_BROKER_URL instead")
        if url is None:
            return old
        if url != old:
            raise ConfigError(
                "CALLHUB_BROKER_URL and CALLHUB_REDIS_URL (its old name) differ: keep only"
                " CALLHUB_BROKER_URL"
            )
    return url


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on", "y", "s", "sim"}:
        return True
    if raw.lower() in {"0", "false", "no", "off", "n", "nao", "não"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite+aiosqlite:///callhub.db"
    # Unset or memory://: the in-process broker (one process); redis://…: shared.
    broker_url: str | None = None
    secret_key: str | None = None
    pbx_token: str | None = None
    pbx55_token: str | None = None
    # The zone of the dates in 55pbx pushes ("2012-05-01 12:30:00" carries none).
    pbx55_timezone: str = "America/Sao_Paulo"
    uscall_wsdl: str | None = None
    uscall_token: str | None = None
    uscall_verify_tls: bool = True
    uscall_timeout: float = 5.0
    # The dialling rule ("categoria") for the calls callhub asks USCall to make.
    uscall_category: str = "1"
    # The dynamic URA that "notify by phone" dials the requester into.
    uscall_notify_ura: str = "1"
    # The site's zone: where "today" starts for the wall board's counts.
    timezone: str = "America/Sao_Paulo"
    board_poll_seconds: float = 2.0
    service_level_seconds: int = 20
    demo: bool = False
    # How far back a tab that opens or reconnects is given the pops it has not seen.
    pop_window_seconds: int = 600
    # Frames a backed-up tab may have waiting, and the send timeout: a stalled tab is
    # dropped, never waited on.
    tab_queue_size: int = 64
    tab_send_timeout: float = 2.0
    max_body_bytes: int = 64 * 1024
    pbx_allowlist: tuple[str, ...] = field(default_factory=tuple)
    # Proxies whose X-Forwarded-For names the client (addresses or networks); none: the
    # peer's own address counts, whatever the header says.
    trusted_proxies: tuple[str, ...] = field(default_factory=tuple)
    session_max_age: int = 12 * 3600
    # ITSM API: idle time before a sessionID expires; what v2/login tells field devices.
    api_session_idle_seconds: int = 30 * 60
    # However busy, an API session ends this long after its login.
    api_session_max_seconds: int = 12 * 3600
    api_range_action_km: int = 50
    api_location_interval_minutes: int = 5
    https_only_cookies: bool = False
    # Failed logins before 429, per username and per client address, in a window.
    login_max_failures: int = 5
    login_max_failures_per_address: int = 20
    login_window_seconds: int = 300
    # When set, /metrics wants "Authorization: Bearer <token>".
    metrics_token: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        allow = tuple(
            a.strip() for a in env.get("CALLHUB_PBX_ALLOWLIST", "").split(",") if a.strip()
        )
        demo = _bool(env, "CALLHUB_DEMO", False)
        return cls(
            database_url=env.get("CALLHUB_DATABASE_URL") or cls.database_url,
            broker_url=_broker_url(env),
            secret_key=env.get("CALLHUB_SECRET_KEY") or None,
            pbx_token=env.get("CALLHUB_PBX_TOKEN") or None,
            pbx55_token=env.get("CALLHUB_PBX55_TOKEN") or None,
            pbx55_timezone=env.get("CALLHUB_PBX55_TIMEZONE") or cls.pbx55_timezone,
            uscall_wsdl=env.get("CALLHUB_USCALL_WSDL") or None,
            uscall_token=env.get("CALLHUB_USCALL_TOKEN") or None,
            uscall_verify_tls=_bool(env, "CALLHUB_USCALL_VERIFY_TLS", True),
            uscall_timeout=_float(env, "CALLHUB_USCALL_TIMEOUT", cls.uscall_timeout),
            uscall_category=env.get("CALLHUB_USCALL_CATEGORY") or cls.uscall_category,
            uscall_notify_ura=env.get("CALLHUB_USCALL_NOTIFY_URA") or cls.uscall_notify_ura,
            timezone=env.get("CALLHUB_TIMEZONE") or cls.timezone,
            board_poll_seconds=_float(env, "CALLHUB_BOARD_POLL_SECONDS", cls.board_poll_seconds),
            service_level_seconds=_int(
                env, "CALLHUB_SERVICE_LEVEL_SECONDS", cls.service_level_seconds
            ),
            demo=demo,
            pop_window_seconds=_int(env, "CALLHUB_POP_WINDOW_SECONDS", cls.pop_window_seconds),
            tab_queue_size=_int(env, "CALLHUB_TAB_QUEUE_SIZE", cls.tab_queue_size),
            tab_send_timeout=_float(env, "CALLHUB_TAB_SEND_TIMEOUT", cls.tab_send_timeout),
            max_body_bytes=_int(env, "CALLHUB_MAX_BODY_BYTES", cls.max_body_bytes),
            pbx_allowlist=allow,
            trusted_proxies=tuple(
                a.strip() for a in env.get("CALLHUB_TRUSTED_PROXIES", "").split(",") if a.strip()
            ),
            session_max_age=_int(env, "CALLHUB_SESSION_MAX_AGE", cls.session_max_age),
            # Secure cookies (and HSTS) unless a demo, or explicitly turned off for a plain
            # HTTP setup (tests, a trusted network).
            https_only_cookies=_bool(env, "CALLHUB_HTTPS_ONLY", not demo),
            metrics_token=env.get("CALLHUB_METRICS_TOKEN") or None,
            login_max_failures=_int(env, "CALLHUB_LOGIN_MAX_FAILURES", cls.login_max_failures),
            login_max_failures_per_address=_int(
                env,
                "CALLHUB_LOGIN_MAX_FAILURES_PER_ADDRESS",
                cls.login_max_failures_per_address,
            ),
            login_window_seconds=_int(
                env, "CALLHUB_LOGIN_WINDOW_SECONDS", cls.login_window_seconds
            ),
            api_session_idle_seconds=_int(
                env, "CALLHUB_API_SESSION_IDLE_SECONDS", cls.api_session_idle_seconds
            ),
            api_session_max_seconds=_int(
                env, "CALLHUB_API_SESSION_MAX_SECONDS", cls.api_session_max_seconds
            ),
            api_range_action_km=_int(env, "CALLHUB_API_RANGE_ACTION_KM", cls.api_range_action_km),
            api_location_interval_minutes=_int(
                env, "CALLHUB_API_LOCATION_INTERVAL_MINUTES", cls.api_location_interval_minutes
            ),
        )

    @property
    def uscall(self) -> bool:
        return bool(self.uscall_wsdl and self.uscall_token)

    @functools.cached_property
    def zone(self) -> ZoneInfo:
        """CALLHUB_TIMEZONE: where the people are (dates shown and typed, days counted)."""
        return _zone("CALLHUB_TIMEZONE", self.timezone)

    @property
    def shared_broker(self) -> bool:
        """Whether other processes can share the broker (a redis:// URL)."""
        return bool(self.broker_url) and not str(self.broker_url).startswith("memory://")

    def check(self) -> None:
        """Secrets have no default that works in production."""
        if self.broker_url and not self.broker_url.startswith(BROKER_SCHEMES):
            raise ConfigError(
                f"CALLHUB_BROKER_URL: unsupported scheme in {self.broker_url!r}"
                " (memory:// for one process, redis://host:6379/0 for several)"
            )
        _zone("CALLHUB_PBX55_TIMEZONE", self.pbx55_timezone)
        _zone("CALLHUB_TIMEZONE", self.timezone)
        if bool(self.uscall_wsdl) != bool(self.uscall_token):
            raise ConfigError("CALLHUB_USCALL_WSDL and CALLHUB_USCALL_TOKEN go together")
        if not 0.2 <= self.board_poll_seconds <= 300:
            raise ConfigError("CALLHUB_BOARD_POLL_SECONDS must be between 0.2 and 300")
        if not 0 < self.uscall_timeout <= 120:
            raise ConfigError("CALLHUB_USCALL_TIMEOUT must be between 0 and 120 seconds")
        if not 1 <= self.service_level_seconds <= 3600:
            raise ConfigError("CALLHUB_SERVICE_LEVEL_SECONDS must be between 1 and 3600")
        if not 1 <= self.api_session_idle_seconds <= 7 * 24 * 3600:
            raise ConfigError("CALLHUB_API_SESSION_IDLE_SECONDS must be between 1 and 604800")
        if not 1 <= self.api_session_max_seconds <= 30 * 24 * 3600:
            raise ConfigError("CALLHUB_API_SESSION_MAX_SECONDS must be between 1 and 2592000")
        if self.api_range_action_km < 0:
            raise ConfigError("CALLHUB_API_RANGE_ACTION_KM must not be negative")
        if min(self.login_max_failures, self.login_max_failures_per_address) < 1:
            raise ConfigError("CALLHUB_LOGIN_MAX_FAILURES(_PER_ADDRESS) must be at least 1")
        if not 1 <= self.login_window_seconds <= 24 * 3600:
            raise ConfigError("CALLHUB_LOGIN_WINDOW_SECONDS must be between 1 and 86400")
        if self.api_location_interval_minutes < 1:
            raise ConfigError("CALLHUB_API_LOCATION_INTERVAL_MINUTES must be at least 1")
        if self.demo:
            return
        missing = [
            name
            for name, value in (
                ("CALLHUB_SECRET_KEY", self.secret_key),
                ("CALLHUB_PBX_TOKEN", self.pbx_token),
            )
            if not value
        ]
        if missing:
            raise ConfigError(
                "callhub refuses to start without "
                + ", ".join(missing)
                + " (or set CALLHUB_DEMO=1 for a demo with generated secrets)"
            )
        if self.secret_key and len(self.secret_key) < 16:
            raise ConfigError("CALLHUB_SECRET_KEY must be at least 16 characters")
        if self.pop_window_seconds < 0:
            raise ConfigError("CALLHUB_POP_WINDOW_SECONDS must not be negative")
