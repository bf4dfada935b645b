"""A postponed message comes back to execution when its date comes (the clock moved through the
configuration), with notifications to the executor and the applicant."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from jobs import postponed
from pos import clock
from pos.models import HistoryEntry, Message, Notification, OutboxEvent
from pos.workflow import Action, Stage
from tests.background import (db_session, fresh_db, jobs_setup, live_world, namespace, redis_url,  # noqa: F401
                              start_worker, wait_until)

TZ = ZoneInfo("Asia/Yakutsk")


def test_due_ids_follow_the_local_date(world, session, env):
    message = world.message(Stage.POSTPONED)
    until = message.postponed_until
    assert postponed.due_ids(session, until - timedelta(days=1)) == []
    assert postponed.due_ids(session, until) == [message.id]
    # The local date counts: 23:30 the evening before, nothing; five past local midnight (still the
    # day before in UTC), it goes.
    with clock.frozen(datetime.combine(until - timedelta(days=1), time(23, 30), TZ)):
        assert postponed.resume_due(session, env) == []
    with clock.frozen(datetime.combine(until, time(0, 5), TZ)):
        assert postponed.resume_due(session, env) == [message.id]
        assert postponed.resume_due(session, env) == []  # a second run finds nothing to do
    session.expire_all()
    back = session.get(Message, message.id)
    assert back.stage == Stage.EXECUTION and back.postponed_until is None
    assert back.assignee_id == world.uid("a.executor")


def test_the_worker_brings_a_postponed_message_back_on_its_date(live_world, db_session, jobs_setup, start_worker,
                                                                tmp_path):
    world = live_world
    message = world.message(Stage.POSTPONED)
    executor, applicant = world.uid("a.executor"), world.applicants["citizen"].id
    for row in db_session.exec(select(OutboxEvent)):  # what came before went out long ago
        row.status = "done"
    db_session.commit()
    clock_file = tmp_path / "clock.txt"
    clock_file.write_text(datetime.combine(message.postponed_until, time(9), TZ).isoformat())
    start_worker({**jobs_setup, "CLOCK_FILE": str(clock_file), "SWEEP_SECONDS": 1})

    def notified():
        db_session.expire_all()
        notes = db_session.exec(select(Notification).where(Notification.message_id == message.id)).all()
        db_session.commit()
        return notes if len(notes) >= 2 else None

    notes = wait_until(notified, 30, 0.2, what="the notifications of the return")
    assert sorted((n.kind, n.user_id, n.applicant_id) for n in notes) == sorted(
        [("resumed", world.uid("citizen"), applicant), ("inbox", executor, None)])
    resumed = next(n for n in notes if n.kind == "resumed")
    assert resumed.title == f"Сообщение № {message.number} снова на исполнении"
    inbox = next(n for n in notes if n.kind == "inbox")
    assert inbox.title.startswith("Вернулось на исполнение")
    db_session.expire_all()
    assert db_session.get(Message, message.id).stage == Stage.EXECUTION
    [entry] = db_session.exec(select(HistoryEntry).where(HistoryEntry.message_id == message.id,
                                                         HistoryEntry.action == Action.RESUME)).all()
    assert entry.actor_id is None  # the system
    db_session.commit()
