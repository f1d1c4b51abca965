"""The wall board's figures, each read in one statement, against the rows themselves."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from callhub.store import board
from callhub.store.board import RequestCounts
from callhub.store.engine import Store
from callhub.store.models import (
    IN_PROGRESS,
    OPEN_TASK,
    Call,
    CallDirection,
    Extension,
    FieldVisit,
    Occurrence,
    ServiceRequest,
    Status,
    Task,
    TaskKind,
    TaskStatus,
    User,
    utcnow,
)


async def test_the_request_counts_are_those_of_the_rows(database_url: str) -> None:
    store = Store(database_url)
    now = utcnow()
    since = now - timedelta(hours=8)

    def arrange(session: Session) -> None:
        requests = list(session.exec(select(ServiceRequest).order_by(ServiceRequest.id)))
        users = list(session.exec(select(User).order_by(User.id)))
        assert len(requests) >= 5 and len(users) >= 2
        first, second, third, fourth, fifth = requests[:5]
        first.status, first.deadline = Status.in_progress, now - timedelta(hours=1)  # overdue
        second.status, second.deadline = Status.suspended, now - timedelta(hours=1)  # not
        third.status, third.deadline = Status.reopened, now + timedelta(hours=1)
        fourth.status = Status.resolved
        fifth.status = Status.canceled
        session.add_all([first, second, third, fourth, fifth])
        # Two open approvals of one request count once; a decided one not at all.
        for status in (TaskStatus.open, TaskStatus.open, TaskStatus.done):
            session.add(Task(request_id=third.id, kind=TaskKind.approval, status=status))
        # Resolved today (twice: once), resolved before `since` (not today).
        for at in (now, now - timedelta(minutes=5), since - timedelta(minutes=1)):
            request_id = fourth.id if at > since else fifth.id
            session.add(Occurrence(request_id=request_id, created_at=at, description="ok",
                                   status_to=Status.resolved))  # fmt: skip
        task = Task(request_id=first.id, kind=TaskKind.execution)
        session.add(task)
        session.flush()
        # One technician on site (twice: once), one checked out.
        for user, out in ((users[0], None), (users[0], None), (users[1], now)):
            session.add(FieldVisit(task_id=task.id, request_id=first.id, user_id=user.id,
                                   checkin_at=now - timedelta(hours=1), checkin_latitude=0.0,
                                   checkin_longitude=0.0, checkout_at=out))  # fmt: skip
        session.commit()

    def expected(session: Session) -> RequestCounts:
        requests = list(session.exec(select(ServiceRequest)))
        tasks = list(session.exec(select(Task)))
        occurrences = list(session.exec(select(Occurrence)))
        visits = list(session.exec(select(FieldVisit)))
        open_ = [r for r in requests if r.status in IN_PROGRESS]
        return RequestCounts(
            in_progress=len(open_),
            suspended=sum(r.status == Status.suspended for r in requests),
            overdue=sum(r.deadline is not None and r.deadline < utcnow() for r in open_),
            awaiting_approval=len(
                {
                    t.request_id
                    for t in tasks
                    if t.kind == TaskKind.approval and t.status in OPEN_TASK
                }
            ),  # fmt: skip
            solved_today=len(
                {
                    o.request_id
                    for o in occurrences
                    if o.status_to == Status.resolved and o.created_at >= since
                }
            ),  # fmt: skip
            in_field=len({v.user_id for v in visits if v.checkout_at is None}),
        )

    try:
        await store.run(arrange)
        counts = await store.read(lambda s: board.request_counts(session=s, since=since))
        wanted = await store.run(expected)
    finally:
        await store.dispose()
    assert counts == wanted
    assert counts.overdue >= 1 and counts.suspended >= 1
    assert counts.awaiting_approval >= 1 and counts.solved_today >= 1 and counts.in_field == 1


async def test_each_extensions_day_is_that_of_its_calls(database_url: str) -> None:
    store = Store(database_url)
    now = utcnow()
    since = now - timedelta(hours=8)

    def arrange(session: Session) -> None:
        users = list(session.exec(select(User).order_by(User.id)))[:2]
        for n, user in enumerate(users):
            session.add(Extension(ramal=f"77{n}", user_id=user.id))
        calls = [  # (ramal, direction, started, open, number)
            ("770", CallDirection.receptive, now - timedelta(hours=1), False, "1"),
            ("770", None, now - timedelta(hours=2), False, "2"),
            ("770", CallDirection.active, now - timedelta(hours=1), False, "3"),
            ("770", CallDirection.sms, now - timedelta(hours=1), False, "4"),  # not a call
            ("770", CallDirection.receptive, since - timedelta(hours=1), False, "5"),  # before
            ("770", CallDirection.receptive, now - timedelta(minutes=9), True, "older open"),
            ("770", CallDirection.receptive, now - timedelta(minutes=2), True, "newest open"),
            ("771", CallDirection.active, now - timedelta(minutes=1), True, "dialled"),
            ("999", CallDirection.receptive, now, True, "nobody's extension"),
        ]
        for n, (ramal, direction, at, is_open, number) in enumerate(calls):
            session.add(Call(source="55pbx", external_id=f"day-{n}", ramal=ramal,
                             direction=direction, started_at=at, number=number,
                             start_seen_at=at, end_seen_at=None if is_open else at,
                             ended_at=None if is_open else at))  # fmt: skip
        session.commit()

    def expected(session: Session) -> dict[str, board.ExtensionDay]:
        names = dict(session.exec(select(User.id, User.name)).all())
        calls = list(session.exec(select(Call)))
        out = {}
        for ext in session.exec(select(Extension)):
            mine = [c for c in calls if c.ramal == ext.ramal]
            today = [c for c in mine if c.started_at >= since and c.direction != "sms"]
            open_ = sorted(
                (c for c in mine if c.source in board.ENDS_REPORTED and c.ended_at is None
                 and c.end_seen_at is None and c.start_seen_at is not None
                 and c.started_at >= utcnow() - timedelta(hours=board.OPEN_CALL_HOURS)),
                key=lambda c: c.started_at,
            )  # fmt: skip
            out[ext.ramal] = board.ExtensionDay(
                ext.ramal,
                user=names[ext.user_id],
                received=sum(c.direction != CallDirection.active for c in today),
                made=sum(c.direction == CallDirection.active for c in today),
                number=(open_[-1].number or "") if open_ else "",
                call_since=open_[-1].started_at if open_ else None,
            )
        return out

    try:
        await store.run(arrange)
        days = await store.read(lambda s: board.extension_day(session=s, since=since))
        wanted = await store.run(expected)
    finally:
        await store.dispose()
    assert days == wanted
    assert (days["770"].received, days["770"].made, days["770"].number) == (4, 1, "newest open")
    assert (days["771"].received, days["771"].made, days["771"].number) == (0, 1, "dialled")
    assert "999" not in days
