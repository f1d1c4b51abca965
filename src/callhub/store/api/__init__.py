"""The ITSM API's own records, one module each:

- `groups`: groups and their members, permissions and platforms;
- `sessions`: API sessions (login, checks, logout) and devices;
- `executions`: the log of calls;
- `sync`: FROM-TO keys and synchronisation marks;
- `queries`: the admin's named queries.

Callers use them as `api.<name>`; every public name is here.
"""

from __future__ import annotations

from callhub.store.api.executions import (
    MAX_LOGGED_CHARS,
    failed_executions,
    record_execution,
)
from callhub.store.api.groups import (
    ACRONYM,
    PLATFORM_MAX,
    add_member,
    get_group,
    group_by_acronym,
    list_groups,
    may_call,
    members_of,
    permissions_of,
    platform_allowed,
    platforms_of,
    remove_member,
    save_group,
    set_all_requests,
    set_permissions,
    set_platforms,
)
from callhub.store.api.queries import (
    MAX_ROWS,
    NAME,
    PARAMETER,
    PG_TYPE_NAMES,
    QUERY_SECONDS,
    READ_KINDS,
    SQLITE_QUERY_SECONDS,
    WRITE_KINDS,
    BadParameter,
    QueryFailed,
    QueryRejected,
    QueryResult,
    QueryTimedOut,
    check_sql,
    delete_named_query,
    list_named_queries,
    named_query,
    parameters_of,
    run_named,
    save_named_query,
)
from callhub.store.api.sessions import (
    SessionCheck,
    check_session,
    disassociate_device,
    end_session,
    open_session,
)
from callhub.store.api.sync import (
    delete_keys,
    find_keys,
    from_keys,
    mark,
    marks,
    put_key,
    to_key,
)

__all__ = [
    "ACRONYM",
    "BadParameter",
    "MAX_LOGGED_CHARS",
    "MAX_ROWS",
    "NAME",
    "PARAMETER",
    "PG_TYPE_NAMES",
    "PLATFORM_MAX",
    "QUERY_SECONDS",
    "QueryFailed",
    "QueryRejected",
    "QueryResult",
    "QueryTimedOut",
    "READ_KINDS",
    "SQLITE_QUERY_SECONDS",
    "SessionCheck",
    "WRITE_KINDS",
    "add_member",
    "check_session",
    "check_sql",
    "delete_keys",
    "delete_named_query",
    "disassociate_device",
    "end_session",
    "failed_executions",
    "find_keys",
    "from_keys",
    "get_group",
    "group_by_acronym",
    "list_groups",
    "list_named_queries",
    "mark",
    "marks",
    "may_call",
    "members_of",
    "named_query",
    "open_session",
    "parameters_of",
    "permissions_of",
    "platform_allowed",
    "platforms_of",
    "put_key",
    "record_execution",
    "remove_member",
    "run_named",
    "save_group",
    "save_named_query",
    "set_all_requests",
    "set_permissions",
    "set_platforms",
    "to_key",
]
