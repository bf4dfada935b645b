"""The deadline sweep over the New Year holidays: exactly the overdue messages are marked, the
responsible people are reminded and the curator is told, once; the periodic sweep in a real worker."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from jobs import sweep
from pos import clock
from pos.models import Message, Notification, OutboxEvent
from pos.services.directory import load_policy
from pos.workflow import ACTIVE_STAGES, Stage
from tests.background import (db_session, fresh_db, jobs_setup, live_world, namespace, redis_url,  # noqa: F401
                              start_worker, wait_until)

TZ = ZoneInfo("Asia/Yakutsk")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


def build(world):
    """Messages whose stage deadlines straddle 31 December – 11 January (days off in 2026)."""
    made = {}
    for name, moment, stage in [
        ("before_holidays", at(2025, 12, 19, 10), Stage.EXECUTION),   # due 30.12: long overdue
        ("into_holidays", at(2025, 12, 22, 10), Stage.EXECUTION),     # due 12.01 18:00: just overdue
        ("due_tomorrow", at(2025, 12, 23, 10), Stage.EXECUTION),      # due 13.01 18:00: due soon
        ("across_holidays", at(2025, 12, 29, 10), Stage.EXECUTION),   # due 19.01: 15 days on, not overdue
        ("in_moderation", at(2025, 12, 30, 16), Stage.MODERATION),    # 8 working hours: 12.01 16:00
        ("answered", at(2025, 12, 1, 10), Stage.ANSWERED),            # finished: never marked
    ]:
        with clock.frozen(moment):
            made[name] = world.message(stage)
    return made


def expected(session, now, policy):
    limit = policy.due_soon_limit(now)
    rows = session.exec(select(Message).where(Message.stage.in_(list(ACTIVE_STAGES)))).all()
    return ({m.id for m in rows if clock.as_utc(m.stage_due_at) < now},
            {m.id for m in rows if now <= clock.as_utc(m.stage_due_at) < limit})


def states(session):
    session.expire_all()
    marked = sweep.states(session)
    return {m.id: marked.get(m.id, "ok") for m in session.exec(select(Message))}


def reminders(session):
    session.expire_all()
    rows = session.exec(select(OutboxEvent).where(OutboxEvent.idempotency_key.like("sweep:%"))
                        .order_by(OutboxEvent.id)).all()
    return [(r.payload["event"], r.payload["message_id"], r.payload["user_ids"], r.payload["org_role"]) for r in rows]


def test_the_sweep_marks_exactly_the_overdue_across_the_holidays(world, session):
    m = build(world)
    policy = load_policy(session, "Asia/Yakutsk")
    now = clock.as_utc(at(2026, 1, 13, 12))
    overdue, due_soon = expected(session, now, policy)
    assert overdue == {m["before_holidays"].id, m["into_holidays"].id, m["in_moderation"].id}
    assert due_soon == {m["due_tomorrow"].id}
    # Counting calendar days would have it overdue: the holidays are what keeps it in time.
    across = m["across_holidays"]
    assert (now - clock.as_utc(across.stage_entered_at)) > timedelta(days=14)

    counts = sweep.sweep(session, now, policy)
    assert counts == {"overdue": 3, "due_soon": 1, "relaxed": 0, "reminders": 6}
    got = states(session)
    assert {i for i, s in got.items() if s == "overdue"} == overdue
    assert {i for i, s in got.items() if s == "due_soon"} == due_soon
    assert got[across.id] == "ok" and got[m["answered"].id] == "ok"

    executor, org_a = world.uid("a.executor"), world.org["A"].id
    assert sorted(reminders(session)) == sorted([
        ("overdue", m["before_holidays"].id, [executor], None),
        ("escalated", m["before_holidays"].id, [], [org_a, "curator"]),
        ("overdue", m["into_holidays"].id, [executor], None),
        ("escalated", m["into_holidays"].id, [], [org_a, "curator"]),
        ("overdue", m["in_moderation"].id, [], [None, "moderator"]),  # the operator's stage: no curator
        ("due_soon", m["due_tomorrow"].id, [executor], None),
    ])

    # The next beat changes nothing and reminds nobody twice.
    assert sweep.sweep(session, now + timedelta(minutes=5), policy)["reminders"] == 0
    assert len(reminders(session)) == 6

    # A week later the message that waited out the holidays is overdue too; the due-soon one went over.
    later = clock.as_utc(at(2026, 1, 20, 12))
    counts = sweep.sweep(session, later, policy)
    assert counts["overdue"] == 2
    assert sweep.overdue_ids(session) == sorted(expected(session, later, policy)[0])
    assert across.id in sweep.overdue_ids(session)


def test_a_deadline_moved_later_goes_back_quietly(world, session):
    policy = load_policy(session, "Asia/Yakutsk")
    with clock.frozen(at(2026, 2, 2, 10)):
        message = world.message(Stage.EXECUTION)
    sweep.sweep(session, clock.as_utc(at(2026, 3, 2, 12)), policy)
    assert states(session)[message.id] == "overdue"
    row = session.get(Message, message.id)
    row.stage_due_at = clock.as_utc(at(2026, 3, 20, 18))  # as a recomputation would
    session.commit()
    before = len(reminders(session))
    counts = sweep.sweep(session, clock.as_utc(at(2026, 3, 2, 13)), policy)
    assert counts["relaxed"] == 1 and states(session)[message.id] == "ok"
    assert len(reminders(session)) == before


def test_the_periodic_sweep_in_the_worker_reminds_the_executor_and_the_curator(live_world, db_session, jobs_setup,
                                                                                start_worker, tmp_path):
    world = live_world
    m = build(world)
    executor, curator, moderator = world.uid("a.executor"), world.uid("a.curator"), world.uid("moderator")
    # What building the messages announced went out long ago: the worker has only the sweep to do.
    for row in db_session.exec(select(OutboxEvent)):
        row.status = "done"
    db_session.commit()
    clock_file = tmp_path / "clock.txt"
    clock_file.write_text(at(2026, 1, 13, 12).isoformat())
    start_worker({**jobs_setup, "CLOCK_FILE": str(clock_file), "SWEEP_SECONDS": 1})

    def swept():
        got = states(db_session)
        db_session.commit()
        return got if got[m["into_holidays"].id] == "overdue" else None

    got = wait_until(swept, 30, 0.2, what="the worker's sweep")
    assert {i for i, s in got.items() if s == "overdue"} == {m["before_holidays"].id, m["into_holidays"].id,
                                                               m["in_moderation"].id}
    assert got[m["across_holidays"].id] == "ok"

    def delivered():
        db_session.expire_all()
        notes = db_session.exec(select(Notification).where(Notification.kind.in_(["overdue", "escalated"]))).all()
        db_session.commit()
        return notes if len(notes) >= 5 else None

    notes = wait_until(delivered, 30, 0.2, what="the reminders delivered")
    by_user = sorted((n.kind, n.user_id, n.message_id) for n in notes)
    assert by_user == sorted([("overdue", executor, m["before_holidays"].id),
                              ("overdue", executor, m["into_holidays"].id),
                              ("overdue", moderator, m["in_moderation"].id),
                              ("escalated", curator, m["before_holidays"].id),
                              ("escalated", curator, m["into_holidays"].id)])
    escalation = next(n for n in notes if n.kind == "escalated")
    assert escalation.title.startswith("Эскалация: просрочено сообщение №")
    assert "Министерство транспорта" in escalation.body
