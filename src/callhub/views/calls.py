"""The call history: every call a PBX reported, filtered, with its recording."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from callhub import i18n
from callhub.adapters.uscall.client import MEDIA_TYPES, USCallError, USCallUnavailable
from callhub.adapters.uscall.link import USCallLink
from callhub.appstate import app_state
from callhub.i18n import gettext_for
from callhub.identity import EXTENSION
from callhub.screenpop import call_summary
from callhub.store import calls
from callhub.store.models import CallDirection, Role
from callhub.templating import Renderer
from callhub.views.auth import login_required

PAGE = 50


def form_day(raw: str | None, field: str, errors: dict[str, str]) -> date | None:
    """A day typed in a form (AAAA-MM-DD): None when blank, or wrong (the error noted)."""
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[field] = i18n.N_("Data inválida (use AAAA-MM-DD).")
        return None


def start_of(day: date, zone: ZoneInfo) -> datetime:
    """When `day` begins in `zone`."""
    return datetime.combine(day, time.min, tzinfo=zone)


def read_filter(params: dict[str, str], zone: ZoneInfo) -> tuple[calls.CallFilter, dict[str, str]]:
    """The filters as typed (dates are days in `zone`, both inclusive), and what was wrong."""
    errors: dict[str, str] = {}
    since = form_day(params.get("de"), "de", errors)
    until = form_day(params.get("ate"), "ate", errors)
    ramal = (params.get("ramal") or "").strip()
    if ramal and not EXTENSION.match(ramal):
        errors["ramal"] = i18n.N_("O ramal tem apenas dígitos.")
        ramal = ""
    number = re.sub(r"\D", "", params.get("numero") or "")[:20]
    direction = params.get("tipo") or ""
    if direction and direction not in {d.value for d in CallDirection}:
        errors["tipo"] = i18n.N_("Tipo desconhecido.")
        direction = ""
    status = (params.get("situacao") or "").strip()[:64]
    return (
        calls.CallFilter(
            since=start_of(since, zone) if since else None,
            until=start_of(until + timedelta(days=1), zone) if until else None,
            ramal=ramal or None,
            number=number or None,
            direction=direction or None,
            status=status or None,
        ),
        errors,
    )


@login_required(Role.agent, Role.supervisor, Role.admin)
async def history(request: Request) -> Response:
    params = dict(request.query_params)
    where, errors = read_filter(params, app_state(request).settings.zone)
    before_raw = params.get("antes") or ""
    before = int(before_raw) if before_raw.isdigit() and len(before_raw) < 12 else None

    def work(session: Session) -> tuple[list[dict[str, Any]], list[str]]:
        found = calls.search(session=session, where=where, before=before, limit=PAGE + 1)
        names = calls.names_for(session=session, found=found)
        return [call_summary(c, names) for c in found], calls.statuses(session=session)

    rows, statuses = await app_state(request).store.run(work)
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    next_query = None
    if more:
        kept = {k: v for k, v in params.items() if k != "antes" and v}
        kept["antes"] = str(rows[-1]["id"])
        next_query = urlencode(kept)
    renderer: Renderer = app_state(request).renderer
    return renderer.response(
        request,
        "pages/chamadas.html",
        {
            "rows": rows,
            "form": params,
            "errors": errors,
            "statuses": statuses,
            "directions": [d.value for d in CallDirection],
            "next_query": next_query,
        },
        status=400 if errors else 200,
    )


@login_required(Role.agent, Role.supervisor, Role.admin)
async def recording(request: Request) -> Response:
    """A USCall call's recording, fetched from the PBX when it is played."""
    _ = gettext_for(request)
    fmt = request.query_params.get("formato", "wav")
    if fmt not in MEDIA_TYPES:
        return PlainTextResponse(_("formato: use wav, mp3 ou ogg."), 400)
    link: USCallLink | None = app_state(request).uscall
    call_id = int(request.path_params["call_id"])
    call = await app_state(request).store.run(lambda s: calls.get_call(session=s, call_id=call_id))
    if call is None or call.source != "uscall" or not call.audio_file or link is None:
        return PlainTextResponse(_("Gravação não encontrada."), 404)
    try:
        found = await link.require().audio_download(call.external_id, fmt)
    except USCallUnavailable as exc:
        return PlainTextResponse(_("USCall não responde: %(error)s") % {"error": exc}, 503)
    except USCallError as exc:
        return PlainTextResponse(_("USCall recusou: %(error)s") % {"error": exc}, 502)
    return Response(
        found.content,
        media_type=found.media_type,
        headers={"Cache-Control": "private, max-age=3600"},
    )


routes = [
    Route("/chamadas", history, methods=["GET"]),
    Route("/chamadas/{call_id:int}/gravacao", recording, methods=["GET"]),
]
