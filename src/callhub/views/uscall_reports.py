"""/admin/uscall: USCall's own reports (outbound calls for billing, trunks, URAs and the
calls that went through them), read from the PBX when the page is opened."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from callhub import i18n
from callhub.adapters.uscall.client import USCallError
from callhub.adapters.uscall.link import USCallLink
from callhub.appstate import app_state
from callhub.store.models import Role
from callhub.templating import Renderer
from callhub.views.auth import login_required
from callhub.views.calls import form_day

URA_ID = re.compile(r"^[0-9A-Za-z_-]{1,20}$")


@login_required(Role.admin, Role.supervisor)
async def reports(request: Request) -> Response:
    link: USCallLink | None = app_state(request).uscall
    renderer: Renderer = app_state(request).renderer
    if link is None:
        return renderer.response(request, "pages/uscall_reports.html", {"configured": False})
    zone = app_state(request).settings.zone
    today = datetime.now(zone).date()
    params = request.query_params
    errors: dict[str, str] = {}
    first = form_day(params.get("de", ""), "de", errors) or today
    last = form_day(params.get("ate", ""), "ate", errors) or today
    ura = params.get("ura", "")
    if ura and not URA_ID.match(ura):
        errors["ura"] = i18n.N_("URA desconhecida.")
        ura = ""
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(last, time(23, 59, 59), tzinfo=zone)
    context: dict[str, Any] = {
        "configured": True,
        "form": {"de": first.isoformat(), "ate": last.isoformat(), "ura": ura},
        "errors": errors,
    }
    try:
        client = link.require()
        tariff, trunks, uras, ura_calls = await asyncio.gather(
            client.cdr_tariff(start, end),
            client.list_trunk(),
            client.list_ura(),
            client.cdr_ura(start, end, idura=ura or None),
        )
    except USCallError as exc:
        context["failure"] = str(exc)
    else:
        context.update(tariff=tariff, trunks=trunks, uras=uras, ura_calls=ura_calls)
    return renderer.response(
        request, "pages/uscall_reports.html", context, status=400 if errors else 200
    )


routes = [Route("/admin/uscall", reports, methods=["GET"])]
