"""The request's rules, kept by the store whatever the interface: the workflow's status
changes and the occurrence's text. A refused change raises RequestError naming the rule
and writes nothing; each interface says it its own way (tested with each interface)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from callhub.store import requests
from callhub.store.engine import Store
from callhub.store.models import Occurrence, Status, Task, TaskStatus
from callhub.store.requests import MAX_DESCRIPTION, RequestError
from support import run_sync


@pytest.fixture
def store(sqlite_template: Path, tmp_path: Path) -> Iterator[Store]:
    path = tmp_path / "callhub.db"
    shutil.copyfile(sqlite_template, path)
    made = Store(f"sqlite+aiosqlite:///{path}")
    yield made
    run_sync(made.dispose())


def occurrences(session: Session, number: int) -> list[Occurrence]:
    query = select(Occurrence).where(Occurrence.request_id == number)
    return list(session.exec(query.order_by(col(Occurrence.id))).all())


def refused(session: Session, number: int, **change: object) -> RequestError:
    found = requests.get_request(session=session, number=number)
    assert found is not None
    before = len(occurrences(session, number)), found.status
    with pytest.raises(RequestError) as caught:
        if "status" in change:
            requests.change_status(
                session=session, request=found, user_id=None, description="x", **change
            )
        else:
            requests.add_occurrence(session=session, request=found, user_id=None, **change)
    session.rollback()
    assert (len(occurrences(session, number)), found.status) == before, "written all the same"
    return caught.value


def test_the_workflow_is_kept_and_a_refusal_writes_nothing(store: Store) -> None:
    def work(session: Session) -> None:
        found = requests.get_request(session=session, number=1)
        assert found is not None and found.status == Status.in_progress
        same = refused(session, 1, status=Status.in_progress)
        assert (same.code, same.field) == ("NO_CHANGE", "status")
        assert same.values == {"value": "InProgress"}
        unknown = refused(session, 1, status="Lost")
        assert (unknown.code, unknown.values) == ("UNKNOWN_STATUS", {"value": "Lost"})

        done = requests.change_status(
            session=session, request=found, status="Resolved", user_id=None, description="Resolvida"
        )
        assert (done.status_from, done.status_to) == (Status.in_progress, Status.resolved)
        session.commit()
        # Resolved may be closed or reopened, never suspended.
        back = refused(session, 1, status=Status.suspended)
        assert back.code == "INVALID_TRANSITION"
        assert back.values == {"current": Status.resolved.value, "value": Status.suspended.value}

    run_sync(store.run(work))


def test_an_occurrence_needs_a_text_of_at_most_4000_characters(store: Store) -> None:
    def work(session: Session) -> None:
        empty = refused(session, 1, description="   ")
        assert (empty.code, empty.field) == ("EMPTY_DESCRIPTION", "description")
        long = refused(session, 1, description="x" * (MAX_DESCRIPTION + 1))
        assert (long.code, long.values) == ("DESCRIPTION_TOO_LONG", {"max": "4000"})
        found = requests.get_request(session=session, number=1)
        assert found is not None
        kept = requests.add_occurrence(
            session=session,
            request=found,
            user_id=None,
            description="x" * MAX_DESCRIPTION,
            origin="OTHERS",
        )
        assert kept.status_to is None and kept.origin == "OTHERS"
        assert found.updated_at == kept.created_at

    run_sync(store.run(work))


def test_a_status_change_moves_the_requests_field_tasks_along(store: Store) -> None:
    def work(session: Session) -> None:
        found = requests.get_request(session=session, number=1)
        assert found is not None
        requests.change_status(
            session=session, request=found, status=Status.canceled, user_id=None, description="x"
        )
        kept = session.exec(select(Task).where(Task.request_id == 1)).all()
        assert kept and all(t.status == TaskStatus.canceled for t in kept)

    run_sync(store.run(work))
