"""What every ITSM API operation is made of: its registration (`operation`, REGISTRY), the
call it runs in (`Call`), and the error it answers with (`ApiError`).

An execution, whatever the operation (endpoint.py): body (body.py: JSON, or XML for
/services/xml/*) -> session and permission -> validation (errors.py) -> the operation's
work and the execution's record, in one transaction -> the envelope. A failure rolls the
work back and records the failure in its place, so every answer, even an error, carries
the operationID of a stored execution.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from sqlmodel import Session

from callhub import i18n
from callhub.ratelimit import LoginLimiter
from callhub.settings import Settings
from callhub.store import access
from callhub.store.engine import Store
from callhub.store.models import User

if TYPE_CHECKING:
    pass

log = logging.getLogger("callhub.services")
N_ = i18n.N_


class ApiError(Exception):
    """An error answer: a stable `code`, a translatable description, the HTTP status."""

    def __init__(
        self,
        code: str,
        description: str,
        status: int = 400,
        *,
        field: str | None = None,
        **params: Any,
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.status = status
        self.field = field
        self.params = params


@dataclass
class Call:
    """What an operation's work may use: who calls, from which platform, in which language."""

    op: Operation
    settings: Settings
    store: Store
    dialect: str
    language: str
    # The app's failed-login counter (login uses it).
    limiter: LoginLimiter
    user: User | None = None
    platform: str | None = None
    prepared: Any = None
    # An Accept-Language header on the call wins over the language chosen at login.
    language_asked: bool = False
    # Requests whose screens must be refreshed in agents' tabs once the work is committed.
    changed_requests: set[int] = field(default_factory=set)
    # The client's address (login counts failures by it).
    address: str = ""
    _scope: access.RequestScope | None = None
    # The caller's sessionID, once checked (logout ends it).
    session_id: str | None = None

    def requests_scope(self, session: Session) -> access.RequestScope:
        """The requests this caller may read and change (store/access.py), read once."""
        if self._scope is None:
            self._scope = access.scope_of(session=session, user_id=self.user_id)
        return self._scope

    @property
    def user_id(self) -> int:
        assert self.user is not None and self.user.id is not None
        return self.user.id

    @property
    def origin_platform(self) -> str:
        assert self.platform is not None
        return self.platform

    def t(self, message: str, **params: Any) -> str:
        text = i18n.gettext(self.language, message)
        return text % params if params else text


Work = Callable[[Call, Any, Session], BaseModel]
Prepare = Callable[[Call, dict[str, Any]], Awaitable[Any]]


@dataclass(frozen=True)
class Operation:
    name: str
    model: type[BaseModel]
    answer: type[BaseModel]
    work: Work
    summary: str
    tag: str
    xml: bool = False
    session_required: bool = True
    # Whether a group must be allowed it (logout needs a session, not a permission).
    needs_permission: bool = True
    prepare: Prepare | None = None
    example: dict[str, Any] | None = None
    # Where it is served: the service desk's API under /services/, the field app's at
    # /mobile/... (its name, as permissions and the execution log know it, then starts
    # with "mobile/").
    root: str = "/services/"

    @property
    def path(self) -> str:
        return self.root + self.name


REGISTRY: dict[str, Operation] = {}


def grantable() -> list[str]:
    """Every operation a group's permission can name (logging in and out need none)."""
    return sorted(
        name for name, op in REGISTRY.items() if op.session_required and op.needs_permission
    )


def operation(
    name: str,
    *,
    model: type[BaseModel],
    answer: type[BaseModel],
    summary: str,
    tag: str,
    xml: bool = False,
    session_required: bool = True,
    needs_permission: bool = True,
    prepare: Prepare | None = None,
    example: dict[str, Any] | None = None,
    root: str = "/services/",
) -> Callable[[Work], Work]:
    def register(work: Work) -> Work:
        assert name not in REGISTRY, name
        REGISTRY[name] = Operation(
            name=name,
            model=model,
            answer=answer,
            work=work,
            summary=summary,
            tag=tag,
            xml=xml,
            session_required=session_required,
            needs_permission=needs_permission,
            prepare=prepare,
            example=example,
            root=root,
        )
        return work

    return register
