"""What the views that act through USCall share (the agent's controls, the wall board):
the configured link, and every outcome of an action as a one-line notice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from callhub.adapters.uscall import results as r
from callhub.adapters.uscall.client import USCallError, USCallUnavailable
from callhub.adapters.uscall.link import USCallLink
from callhub.appstate import app_state
from callhub.i18n import gettext_for
from callhub.templating import notice


class Refused(Exception):
    """callhub refuses before asking USCall: bad input, or nothing to act on."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def link_of(request: Request) -> USCallLink:
    link: USCallLink | None = app_state(request).uscall
    if link is None:
        _ = gettext_for(request)
        raise Refused(_("USCall não está configurado."), 404)
    return link


async def answer(
    request: Request,
    action: Callable[[dict[str, str]], Awaitable[r.Done]],
    *,
    done_text: str,
) -> Response:
    """Run `action` with the posted form: USCall's message when it is done; otherwise why
    not (400/404/409 refused here, 502 refused by USCall, 503 USCall not answering)."""
    _ = gettext_for(request)
    try:
        form = {k: str(v).strip() for k, v in (await request.form()).items()}
        done = await action(form)
    except Refused as exc:
        return notice(request, str(exc), ok=False, status=exc.status)
    except USCallUnavailable as exc:
        return notice(
            request, _("USCall não responde: %(error)s") % {"error": exc}, ok=False, status=503
        )
    except USCallError as exc:
        return notice(
            request, _("USCall recusou: %(error)s") % {"error": exc}, ok=False, status=502
        )
    return notice(request, done.message or done_text, ok=True)
