"""/services/*: the service desk's ITSM REST API (see ../shared/spec/itsm-api.md's contract).

Each operation is registered once (framework.operation) with its input and answer models;
the routes, the execution log and /openapi.json all come from that one registry.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from callhub.webservices.services import (  # noqa: F401  (registers the operations)
    auth,
    mobile,
    occurrences,
    requests,
    support,
    v2,
)
from callhub.webservices.services.endpoint import routes as operation_routes
from callhub.webservices.services.framework import REGISTRY as REGISTRY
from callhub.webservices.services.framework import grantable as grantable
from callhub.webservices.services.openapi import docs_page, openapi_json


def routes() -> list[BaseRoute]:
    return [
        *operation_routes(),
        Route("/openapi.json", openapi_json, methods=["GET"]),
        Route("/services/docs", docs_page, methods=["GET"]),
    ]


__all__ = ["REGISTRY", "routes"]
