"""Jinja2 environments, one per language, and the helpers pages and fragments share."""

from __future__ import annotations

import functools
from collections.abc import MutableMapping, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from callhub import csrf, i18n
from callhub.appstate import app_state
from callhub.i18n import (
    AGENT_STATE_LABELS,
    DIRECTION_LABELS,
    OUTCOME_LABELS,
    STATUS_LABELS,
    TYPE_LABELS,
    URGENCY_LABELS,
    locale_of,
)
from callhub.identity import format_document, format_phone
from callhub.settings import Settings
from callhub.store.board import call_outcome
from callhub.store.catalog import ServiceItem
from callhub.store.models import Status
from callhub.store.requests import TRANSITIONS


def _find(name: str) -> Path:
    """Templates and static files: inside the installed package, or at the repository root."""
    packaged = Path(__file__).resolve().parent / name
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / name


TEMPLATES_DIR = _find("templates")
STATIC_DIR = _find("static")


def seconds(value: int | None) -> str:
    """A duration as people read it: 45 s, 3 min 05 s, 1 h 02 min."""
    if value is None:
        return ""
    minutes, secs = divmod(int(value), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


@functools.lru_cache(maxsize=256)
def _options(services: tuple[ServiceItem, ...], selected: str) -> Markup:
    parts = []
    for s in services:
        label = f"{s.category} › {s.name}" if s.category else s.name
        mark = " selected" if str(s.id) == selected else ""
        parts.append(f'<option value="{s.id}"{mark}>{escape(label)}</option>')
    return Markup("".join(parts))


def service_options(services: Sequence[ServiceItem], selected: object = None) -> Markup:
    """The catalogue's <option>s: built once per catalogue, not at every pop."""
    return _options(tuple(services), "" if selected is None else str(selected))


# Date formats that show no seconds.
MINUTE_FORMATS = frozenset({"short", "HH:mm", "M/d/yy, HH:mm"})


class _Environment(Environment):
    """Jinja2 with a fast path for `value.key` on the plain dicts screens are made of: the
    stock lookup tries the attribute first, and a dict has none, so each such access
    raised and caught an AttributeError (sixty of them in a pop's fragment)."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """A template's globals as one plain dict, not a ChainMap over the environment's:
        every render copies them, and a ChainMap is copied key by key in Python (20 µs a
        render). Globals are set before the first template loads (`Renderer.set_global`
        drops the loaded templates)."""
        return {**self.globals, **(d or {})}


def _make_env(locale: str, zone: ZoneInfo) -> Environment:
    env = _Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        # Templates ship with the code: no stat() of every template at every render.
        auto_reload=False,
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    translations = i18n.translations(locale)
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    # `_()` as the i18n extension's new style has it (translated, marked safe, then
    # formatted with escaped values), in one call instead of three, and each message
    # translated once.
    translated = functools.lru_cache(maxsize=4096)(
        lambda message: Markup(translations.gettext(message))
    )
    # Without variables, formatting still turns "%%" into "%": done once per message.
    plain = functools.lru_cache(maxsize=4096)(lambda message: translated(message) % {})

    def gettext(message: str, **variables: Any) -> Markup:
        if type(message) is not str:
            return Markup(translations.gettext(message)) % variables
        rv: Markup = translated(message) % variables if variables else plain(message)
        return rv

    env.globals["_"] = gettext
    babel_locale = Locale.parse("pt_BR" if locale == "pt_BR" else "en_US")

    @functools.lru_cache(maxsize=4096)
    def by_minute(minute: datetime, fmt: str) -> str:
        return format_datetime(minute, fmt, tzinfo=zone, locale=babel_locale)

    def when(value: datetime | str | None, fmt: str = "short") -> str:
        if value is None or value == "":
            return ""
        if fmt == "short" and locale != "pt_BR":
            # One clock on every English page: 24-hour, as the lists' "HH:mm".
            fmt = "M/d/yy, HH:mm"
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if fmt in MINUTE_FORMATS:
            # Pops of the same minute read the same: formatted once (babel is slow).
            return by_minute(value.replace(second=0, microsecond=0), fmt)
        return format_datetime(value, fmt, tzinfo=zone, locale=babel_locale)

    env.filters["when"] = when
    env.filters["document"] = format_document
    env.filters["phone"] = format_phone
    env.filters["seconds"] = seconds
    env.globals["locale"] = locale
    env.globals["html_lang"] = "pt-BR" if locale == "pt_BR" else "en"
    env.globals["STATUS_LABELS"] = STATUS_LABELS
    env.globals["NEXT_STATUSES"] = {s.value: [n.value for n in to] for s, to in TRANSITIONS.items()}
    env.globals["URGENCY_LABELS"] = URGENCY_LABELS
    env.globals["TYPE_LABELS"] = TYPE_LABELS
    env.globals["DIRECTION_LABELS"] = DIRECTION_LABELS
    env.globals["AGENT_STATE_LABELS"] = AGENT_STATE_LABELS
    env.globals["OUTCOME_LABELS"] = OUTCOME_LABELS
    env.globals["call_outcome"] = call_outcome

    def clock(epoch: float | None) -> str:
        if not epoch:
            return ""
        value = datetime.fromtimestamp(epoch, zone)
        return format_datetime(value, "HH:mm:ss", tzinfo=zone, locale=babel_locale)

    def money(value: str | Decimal | None) -> str:
        """An amount as the PBX sent it (tariffs may carry 4 decimals), in the locale."""
        if value is None or value == "":
            return ""
        return format_decimal(Decimal(value), format="#,##0.00##", locale=babel_locale)

    def percent(value: float | None) -> str:
        return "—" if value is None else f"{value * 100:.0f}%"

    @functools.lru_cache(maxsize=4096)
    def card(key: tuple[tuple[str, Any], ...]) -> Markup:
        requester = {k: list(v) if k == "phones" else v for k, v in key}
        return Markup(env.get_template("fragments/requester_card.html").render(requester=requester))

    def requester_card(requester: dict[str, Any]) -> Markup:
        """The caller's card: the same card reads the same, so each is rendered once."""
        return card(tuple((k, tuple(v) if k == "phones" else v) for k, v in requester.items()))

    env.globals["requester_card"] = requester_card
    env.filters["clock"] = clock
    env.filters["percent"] = percent
    env.filters["money"] = money
    env.globals["STATUSES"] = list(Status)
    env.globals["service_options"] = service_options
    return env


# Where dates are shown when nobody says (tests, benchmarks): the default CALLHUB_TIMEZONE.
DEFAULT_ZONE = ZoneInfo(Settings.timezone)


class Renderer:
    def __init__(self, zone: ZoneInfo = DEFAULT_ZONE) -> None:
        """`zone`: where dates are shown (CALLHUB_TIMEZONE)."""
        self.zone = zone
        self.envs = {locale: _make_env(locale, zone) for locale in i18n.AVAILABLE}
        self.templates = {loc: Jinja2Templates(env=env) for loc, env in self.envs.items()}

    def set_global(self, name: str, value: Any) -> None:
        """A value every template sees (whether USCall is configured, say)."""
        for env in self.envs.values():
            env.globals[name] = value
            if env.cache is not None:
                env.cache.clear()

    def render(self, name: str, locale: str, **context: Any) -> str:
        return self.envs[locale].get_template(name).render(**context)

    def response(
        self, request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
    ) -> HTMLResponse:
        locale = locale_of(request)
        ctx = {
            "user": getattr(request.state, "user", None),
            "csrf_token": csrf.request_token(request),
            **(context or {}),
        }
        response = self.templates[locale].TemplateResponse(request, name, ctx, status_code=status)
        response.headers["Vary"] = "Accept-Language, Cookie, HX-Request"
        return response


def notice(request: Request, text: str, *, ok: bool, status: int = 200) -> HTMLResponse:
    """A one-line answer for an htmx action: done, or why not."""
    renderer: Renderer = app_state(request).renderer
    return renderer.response(
        request, "fragments/notice.html", {"text": text, "ok": ok}, status=status
    )
