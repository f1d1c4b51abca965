"""Schemathesis hooks for the ITSM API run: a real sessionID in every generated body, so
the generated inputs reach the operations, not only the session check."""

from __future__ import annotations

import os
from typing import Any

import schemathesis


@schemathesis.hook
def map_body(ctx: Any, body: Any) -> Any:
    if isinstance(body, dict) and "sessionID" in body:
        body["sessionID"] = os.environ["CALLHUB_TEST_SESSION"]
    return body
