"""The log of API executions: each call, its payload (bounded) and its outcome."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from callhub.store.models import (
    ApiExecution,
    User,
)

MAX_LOGGED_CHARS = 32_000


def record_execution(
    *,
    session: Session,
    operation: str,
    user_id: int | None,
    platform: str | None,
    message_id: str | None,
    input: Any,
    output: Any,
    error_code: str | None,
    http_status: int,
    started_at: datetime,
    started: float,
) -> int:
    row = ApiExecution(
        operation=operation,
        user_id=user_id,
        platform=platform,
        message_id=message_id,
        input=input,
        output=output,
        ok=error_code is None,
        error_code=error_code,
        http_status=http_status,
        started_at=started_at,
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


def failed_executions(
    *,
    session: Session,
    start: datetime | None,
    end: datetime | None,
    operations: list[str] | None,
    limit: int,
) -> tuple[int, list[tuple[ApiExecution, str | None]]]:
    query = select(ApiExecution, User.username).join(
        User, col(User.id) == col(ApiExecution.user_id), isouter=True
    )
    count = select(func.count()).select_from(ApiExecution)
    conditions: list[ColumnElement[bool]] = [col(ApiExecution.ok).is_(False)]
    if start is not None:
        conditions.append(col(ApiExecution.started_at) >= start)
    if end is not None:
        conditions.append(col(ApiExecution.started_at) <= end)
    if operations:
        conditions.append(col(ApiExecution.operation).in_(operations))
    for condition in conditions:
        query = query.where(condition)
        count = count.where(condition)
    total = int(session.exec(count).one())
    rows = session.exec(query.order_by(col(ApiExecution.id).desc()).limit(limit)).all()
    return total, [(row, name) for row, name in rows]
