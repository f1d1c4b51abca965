"""Languages: Portuguese (pt-BR) first, English when the browser asks for it.

Messages are written in Portuguese in the code and templates (the msgids); the English
catalogue lives in locale/en/LC_MESSAGES/messages.po and is compiled in memory at start.
`pybabel extract -F babel.cfg` refreshes the template (see README, "Translations").
"""

from __future__ import annotations

import gettext as _gettext
import io
from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

if TYPE_CHECKING:
    from starlette.requests import HTTPConnection

DEFAULT = "pt_BR"
AVAILABLE = ("pt_BR", "en")
_LOCALE_DIR = Path(__file__).parent / "locale"
_SCOPE_KEY = "callhub.locale"


def N_(message: str) -> str:
    """Marks a string for extraction; it is translated where it is shown."""
    return message


@cache
def translations(locale: str) -> _gettext.NullTranslations:
    po = _LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return _gettext.NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)


def gettext(locale: str, message: str) -> str:
    return translations(locale).gettext(message)


# Browsers send a handful of distinct headers: each is parsed once.
@lru_cache(maxsize=1024)
def negotiate(accept_language: str | None) -> str:
    """The best of AVAILABLE for an Accept-Language header; pt-BR when nothing matches."""
    if not accept_language:
        return DEFAULT
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and q > 0:
            ranked.append((-q, position, tag.strip().lower()))
    for _q, _pos, tag in sorted(ranked):
        lang = tag.split("-")[0]
        if lang == "pt":
            return "pt_BR"
        if lang == "en":
            return "en"
    return DEFAULT


def locale_of(request: HTTPConnection) -> str:
    """The language of this request's answer (negotiated once per request)."""
    # Kept in the ASGI scope itself: `request.state` raises (and catches) an AttributeError
    # for a name not set yet.
    scope = request.scope
    cached = scope.get(_SCOPE_KEY)
    if cached is None:
        cached = scope[_SCOPE_KEY] = negotiate(request.headers.get("accept-language"))
    return str(cached)


def gettext_for(request: HTTPConnection) -> Callable[[str], str]:
    return translations(locale_of(request)).gettext


# Labels of the codes that screens and answers show, translated where they are shown.
# Keyed by the codes' values (the store's enums are StrEnums, so either key works).
STATUS_LABELS = {
    "InProgress": N_("Em andamento"),
    "Suspended": N_("Suspensa"),
    "Canceled": N_("Cancelada"),
    "Resolved": N_("Resolvida"),
    "Reopened": N_("Reaberta"),
    "Closed": N_("Fechada"),
}
# What became of a call (store.board.outcome), in words.
OUTCOME_LABELS = {
    "answered": N_("Atendida"),
    "abandoned": N_("Abandonada"),
    "in_progress": N_("Em andamento"),
}
URGENCY_LABELS = {"H": N_("Alta"), "M": N_("Média"), "L": N_("Baixa")}
TYPE_LABELS = {"I": N_("Incidente"), "R": N_("Requisição")}
DIRECTION_LABELS = {
    "receptive": N_("Receptiva"),
    "active": N_("Ativa"),
    "sms": N_("SMS"),
    "": N_("Ligação"),
}
AGENT_STATE_LABELS = {
    "available": N_("Disponível"),
    "busy": N_("Em ligação"),
    "ringing": N_("Tocando"),
    "paused": N_("Em pausa"),
    "exten_down": N_("Ramal inoperante"),
    "unknown": N_("Desconhecido"),
    "login_error": N_("Erro de login"),
    "logged_out": N_("Fora da fila"),
}
