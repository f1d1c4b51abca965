"""Schemathesis hooks for the ITSM API run: a real sessionID in every body it sends, in
every phase (generated, edge cases, examples), so that the inputs reach the operations,
not only the session check."""

from __future__ import annotations

import os
from typing import Any

import schemathesis


@schemathesis.hook
def before_call(ctx: Any, case: Any, kwargs: dict[str, Any]) -> None:
    if case.operation.path.endswith("/logout"):
        return  # with the real session, it would end it for every case after it
    if isinstance(case.body, dict) and "sessionID" in case.body:
        case.body["sessionID"] = os.environ["CALLHUB_TEST_SESSION"]
