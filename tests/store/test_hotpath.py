"""The pop's hot path in statements: what each kind of pop asks of the database."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlmodel import Session

from callhub.adapters.pbx55.calls import handle_push
from callhub.adapters.pbx55.parse import parse_push
from callhub.identity import parse_document
from callhub.screenpop import CallContext, new_request_pop
from callhub.store import hotpath
from callhub.store.engine import Store
from callhub.store.params import TelephonyParams

PARAMS = TelephonyParams(enabled=True, child_on_view=False, child_service_id=None)
ZONE = ZoneInfo("America/Sao_Paulo")


@pytest.fixture
def store(sqlite_template: Path, tmp_path: Path) -> Iterator[Store]:
    path = tmp_path / "callhub.db"
    shutil.copyfile(sqlite_template, path)
    yield Store(f"sqlite+aiosqlite:///{path}")


def traced(session: Session) -> list[str]:
    """Every statement SQLite runs on the session's connection from now on, but the
    transaction's own BEGIN and COMMIT."""
    seen: list[str] = []
    driver = session.connection().connection.driver_connection
    assert driver is not None

    def note(sql: str) -> None:
        if sql.split(None, 1)[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
            seen.append(sql)

    driver.set_trace_callback(note)
    return seen


def push(call_id: str, **fields: object) -> bytes:
    body = {
        "call_id": call_id,
        "branch_mask": "2001",
        "call_type": "receptivo",
        "call_date": "2026-11-30 10:00:00",
        "call_number": "987654321",
        "call_area_code": "11",
        "call_country_code": "55",
        "call_document": "52998224725",
        **fields,
    }
    return json.dumps(body).encode()


@pytest.mark.sqlite
async def test_a_webservice_pop_is_three_statements(store: Store):
    def work(session: Session) -> tuple[list[str], bool]:
        seen = traced(session)
        result = new_request_pop(
            session=session, ctx=CallContext(ramal="2001", document="52998224725")
        )
        return seen, result.identified

    seen, identified = await store.run(work)
    await store.dispose()
    assert identified
    assert len(seen) == 3, seen  # who called, the call, the pop


@pytest.mark.sqlite
async def test_a_55pbx_start_push_is_three_statements_and_claims_once(store: Store):
    def first(session: Session) -> tuple[list[str], int]:
        seen = traced(session)
        outcome = handle_push(session=session, push=parse_push(push("c-1"), ZONE), params=PARAMS)
        session.commit()
        return seen, len(outcome.pops)

    def again(session: Session) -> tuple[list[str], int]:
        seen = traced(session)
        outcome = handle_push(session=session, push=parse_push(push("c-1"), ZONE), params=PARAMS)
        session.commit()
        return seen, len(outcome.pops)

    seen, popped = await store.run(first)
    assert popped == 1
    assert len(seen) == 3, seen  # who called, the call merged with its claims, the pop
    seen, popped = await store.run(again)  # the same start again: merged, nothing claimed
    await store.dispose()
    assert popped == 0
    assert len(seen) == 2, seen


@pytest.mark.sqlite
async def test_the_merge_says_which_marks_this_push_set_first(store: Store):
    def work(session: Session) -> list[set[str]]:
        claimed = []
        for marks in (("start",), ("start",), ("end", "transfer"), ("end",)):
            _call, got, _origin = hotpath.merge_push(
                session=session,
                source="55pbx",
                external_id="c-9",
                values={"ramal": "2001"},
                newer_wins=True,
                marks=marks,
            )
            claimed.append(got)
        return claimed

    claimed = await store.run(work)
    await store.dispose()
    assert claimed == [{"start"}, set(), {"end", "transfer"}, set()]


def test_ids_sort_by_when_they_were_made():
    made = []
    for _ in range(50):
        made.append(hotpath.time_ordered_id())
        time.sleep(0.0001)
    assert made == sorted(made) and len(set(made)) == 50
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in made)


async def test_a_drivers_error_comes_out_as_sqlalchemys(database_url: str):
    """The statements go to the driver directly; its errors still come out as the rest of
    callhub knows them (a 409 or 503 is chosen by SQLAlchemy's classes), and a dead
    connection is dropped."""
    store = Store(database_url)

    def twice(session: Session) -> None:
        for _ in range(2):
            hotpath.create_pop(session=session, pop_id="same-id", ramal="2001",
                               kind="unidentified", payload={}, call_id=None,
                               requester_id=None, request_id=None)  # fmt: skip

    def on_a_dead_connection(session: Session) -> bool:
        hotpath.card_by_phone(session=session, number="11987654321")  # the cursor, kept
        driver = session.connection().connection.dbapi_connection
        assert driver is not None
        if store.is_sqlite:
            driver.close()
        else:  # asyncpg's connection, closed under SQLAlchemy's feet
            from sqlalchemy.util import await_only

            await_only(driver._connection.close())  # type: ignore[union-attr]
        try:
            hotpath.card_by_phone(session=session, number="11987654321")
        except DBAPIError as exc:
            return exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)
        raise AssertionError("no error on a closed connection")

    try:
        with pytest.raises(IntegrityError):
            await store.run(twice)
        assert await store.run(on_a_dead_connection)
        # The pool gave a working connection again.
        assert await store.run(
            lambda s: hotpath.card_by_document(session=s, document=parse_document("52998224725"))
        )
    finally:
        await store.dispose()
