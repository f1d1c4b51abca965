"""/mobile/*: the field-service app's API, served from the same store as everything else.

A technician's work list is the open tasks of store/tasks.py: personal ones, the team's
unassigned ones and, for a team's leader, the team's tasks given to others. Check-in and
check-out, denied check-ins, approvals and the location track are stored; every change
to a request is committed with its occurrence, and the agents' screens and the wall
board follow at once (Call.changed_requests).

One module per section: `worklist`, `team`, `visits` (at the customer's site),
`lists` (other orders, people and teams); `common` holds what they share, `schemas` the
inputs and answers.
"""

from __future__ import annotations

# Importing a module registers its operations, in the order /openapi.json and the docs list
# them: a leader's day (the work list, the team, the visits, then the other lists).
# isort: off
from callhub.webservices.services.mobile import worklist  # noqa: F401
from callhub.webservices.services.mobile import team  # noqa: F401
from callhub.webservices.services.mobile import visits  # noqa: F401
from callhub.webservices.services.mobile import lists  # noqa: F401

# isort: on
