"""The sweep's marks live apart from the message: a beat never rewrites a message row (each is in two dozen
indexes), the reminders are built in SQL exactly as the notifications read them, and a mark that no longer
holds (the message finished, its deadline moved) is dropped."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import event
from sqlmodel import select

from jobs import sweep
from pos import clock
from pos.models import DeadlineMark, Message, OutboxEvent
from pos.services.directory import load_policy
from pos.workflow import Stage


def _statements(session, run) -> list[str]:
    seen = []
    connection = session.connection()

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()).upper())

    event.listen(connection, "before_cursor_execute", record)
    try:
        run()
    finally:
        event.remove(connection, "before_cursor_execute", record)
    return seen


def test_a_sweep_writes_marks_and_reminders_never_the_message(world, session):
    for _ in range(3):
        world.message(Stage.EXECUTION)
    later = clock.now() + timedelta(days=60)
    policy = load_policy(session, "Asia/Yakutsk")
    executed = _statements(session, lambda: sweep.sweep(session, later, policy))
    writes = [s for s in executed if s.startswith(("UPDATE", "INSERT", "DELETE"))]
    assert writes and not [s for s in writes if s.startswith("UPDATE") or "INTO MESSAGE " in s], writes
    # Each statement is set-based: as many for 3 messages as for 3,000 (the test's savepoints aside).
    assert len([s for s in executed if "SAVEPOINT" not in s]) == 3, executed
    assert len(sweep.overdue_ids(session)) == 3


def test_the_reminder_built_in_sql_is_what_the_notification_reads(world, session):
    message = world.message(Stage.EXECUTION)
    due = clock.as_utc(message.stage_due_at)
    sweep.sweep(session, due + timedelta(minutes=1), load_policy(session, "Asia/Yakutsk"))
    session.expire_all()
    rows = {r.payload["event"]: r for r in session.exec(select(OutboxEvent).where(
        OutboxEvent.idempotency_key.like("sweep:%")))}
    assert set(rows) == {"overdue", "escalated"}
    overdue = rows["overdue"]
    assert overdue.idempotency_key == f"sweep:overdue:{message.id}:{due:%Y%m%dT%H%M%S}"
    assert overdue.kind == "notify" and overdue.status == "pending" and overdue.attempts == 0
    assert overdue.payload == {"event": "overdue", "message_id": message.id, "history_id": None,
                               "to_applicant": False, "user_ids": [message.assignee_id], "org_role": None,
                               "data": {"stage": "execution", "due": due.isoformat()}}
    assert datetime.fromisoformat(overdue.payload["data"]["due"]) == due
    assert rows["escalated"].payload["org_role"] == [message.organization_id, "curator"]
    assert rows["escalated"].payload["user_ids"] == []


def test_a_mark_that_no_longer_holds_is_dropped(world, session):
    policy = load_policy(session, "Asia/Yakutsk")
    finished, moved, kept = (world.message(Stage.EXECUTION) for _ in range(3))
    later = clock.now() + timedelta(days=60)
    assert sweep.sweep(session, later, policy)["overdue"] == 3
    session.get(Message, finished.id).stage = str(Stage.ANSWERED)
    session.get(Message, moved.id).stage_due_at = later + timedelta(days=30)
    session.commit()
    counts = sweep.sweep(session, later + timedelta(minutes=5), policy)
    assert counts == {"overdue": 0, "due_soon": 0, "relaxed": 2, "reminders": 0}
    assert set(session.exec(select(DeadlineMark.message_id))) == {kept.id}
    assert sweep.overdue_ids(session) == [kept.id]
