"""What the app's handlers share, in one typed object: `app_state(request).store`…

Built by the app's lifespan (app.py) once everything it holds is connected; a handler of
any kind (page, API, webservice, websocket) reaches it through `app_state`, which mypy
checks, instead of the untyped `request.app.state`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from starlette.requests import HTTPConnection

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from callhub.adapters.uscall.link import USCallLink
    from callhub.broker import Broker
    from callhub.pipeline import Pipeline
    from callhub.ratelimit import LoginLimiter
    from callhub.settings import Settings
    from callhub.store.engine import Store
    from callhub.templating import Renderer
    from callhub.webservices.common import TokenStore
    from callhub.webservices.telefonia import ParamsCache
    from callhub.ws.hub import Hub


@dataclass
class AppState:
    settings: Settings
    store: Store
    broker: Broker
    hub: Hub
    pipeline: Pipeline
    renderer: Renderer
    login_limiter: LoginLimiter
    # The PBXs' tokens, kept hashed (webservices.common.TokenStore).
    pbx_token: TokenStore
    pbx55_token: TokenStore
    # The time zone 55pbx writes its dates in.
    pbx55_zone: ZoneInfo
    telephony_params: ParamsCache
    # The USCall client, when USCall is set up.
    uscall: USCallLink | None
    # Set when the process is shutting down (readiness answers 503).
    stopping: bool = False


def app_state(connection: HTTPConnection) -> AppState:
    """The app's shared state, for a request or a websocket."""
    state: AppState = connection.app.state.callhub
    return state


def state_of(app: Starlette) -> AppState:
    state: AppState = app.state.callhub
    return state
