"""Facts recorded live by the real services (stage visits, answer periods), and the backfill from the history.

One message is walked through every stage and every action that moves or restarts a stage (a transfer
and its return, agreement by two heads with a delegation, a rejected approval, a delegated one, an
approved «отложено», the return from it), then rated and repeated; the clock moves through November 2026
(Asia/Yakutsk, UTC+9) so that some passages are late. The backfill must give exactly the same facts.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlmodel import Session, delete, select

from jobs import postponed
from pos import clock, migrate
from pos.db import make_engine
from pos.facts_backfill import backfill
from pos.models import AnswerPeriod, HistoryEntry, Message, StageVisit
from pos.services import deadlines as deadline_settings
from pos.services import rating
from pos.services.facts import periods_of, visits_of
from pos.workflow import Action, Stage

TZ = ZoneInfo("Asia/Yakutsk")


def L(month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A local moment of 2026 in the installation's time zone."""
    return datetime(2026, month, day, hour, minute, second, tzinfo=TZ)


def END(month: int, day: int) -> datetime:
    return L(month, day, 23, 59, 59)


def at(moment: datetime):
    return clock.frozen(moment)


def walk(world) -> tuple[Message, Message]:
    """The full walk; returns the message and its repeated one (walked to execution)."""
    w = world
    with at(L(11, 9, 10)):
        m = w.submit(sub="pothole")                                     # to A (roads), moderation
    with at(L(11, 9, 11)):
        w.act("moderator", m, Action.CHANGE_CATEGORY, category_id=w.cat["meals"].id,
              subcategory_id=w.sub["quality"].id)                       # accelerated: 10 days
    with at(L(11, 9, 12)):
        w.act("moderator", m, Action.ACCEPT)                            # coordination A
    with at(L(11, 12, 10)):
        w.act("a.coordinator", m, Action.TRANSFER, organization_id=w.org["B"].id,
              approver_id=w.uid("a.approver"), agreeing_ids=[w.uid("a.head1")])
    with at(L(11, 12, 15)):
        w.act("a.head1", m, Action.AGREE)
    with at(L(11, 13, 10)):
        w.act("a.approver", m, Action.APPROVE)                          # coordination B
    with at(L(11, 13, 11)):
        w.act("b.coordinator", m, Action.RETURN)                        # coordination A again
    with at(L(11, 13, 12)):
        w.act("a.coordinator", m, Action.ASSIGN_EXECUTOR, executor_id=w.uid("a.executor"))
    postpone = w.answer_params(result="postponed", postponed_until="2026-12-10", agreeing=("a.head1", "a.head2"))
    with at(L(11, 16, 10)):
        w.act("a.executor", m, Action.PREPARE_ANSWER, **postpone)
    with at(L(11, 16, 11)):
        w.act("a.head1", m, Action.AGREE)
    with at(L(11, 18, 10)):
        w.act("a.head2", m, Action.DELEGATE_AGREEMENT, head_id=w.uid("a.head3"))
    with at(L(11, 18, 11)):
        w.act("a.head3", m, Action.AGREE)
    with at(L(11, 18, 12)):
        w.act("a.approver", m, Action.REJECT_APPROVAL, comment="Уточните дату.")
    with at(L(11, 18, 13)):
        w.act("a.executor", m, Action.PREPARE_ANSWER,
              **w.answer_params(result="postponed", postponed_until="2026-12-10"))
    with at(L(11, 18, 14)):
        w.act("a.approver", m, Action.DELEGATE_APPROVAL, head_id=w.uid("a.approver2"))
    with at(L(11, 20, 10)):
        w.act("a.approver2", m, Action.APPROVE)                         # postponed: the answer given
    with at(L(12, 10, 10)):
        assert postponed.resume_due(w.session, w.env) == [m.id]         # back in execution
    with at(L(12, 11, 10)):
        w.act("a.executor", m, Action.PREPARE_ANSWER, **w.answer_params())
    with at(L(12, 11, 11)):
        w.act("a.approver", m, Action.APPROVE)                          # answered
    with at(L(12, 12, 10)):
        w.act("citizen", m, Action.RATE, rating=2)
        done = w.act("citizen", m, Action.REPEAT, text="Яма снова появилась.")
    repeat = done.new_message
    with at(L(12, 12, 11)):
        # Whether a repeated message enters moderation or goes straight to coordination is the
        # workflow's business: the facts record what it did.
        if w.reload(repeat).stage == Stage.MODERATION:
            w.act("moderator", repeat, Action.ACCEPT)
    with at(L(12, 14, 10)):
        w.act("a.coordinator", repeat, Action.TAKE)
    return w.reload(m), w.reload(repeat)


def _visit_rows(session: Session) -> list[tuple]:
    rows = session.exec(select(StageVisit)).all()
    return sorted((v.message_id, clock.as_utc(v.entered_at), v.stage, v.organization_id, clock.as_utc(v.entry_due_at),
                   clock.as_utc(v.due_at), v.due_changed_at and clock.as_utc(v.due_changed_at),
                   v.left_at and clock.as_utc(v.left_at), v.left_action, v.on_time, v.is_repeated, v.accelerated)
                  for v in rows)


def _period_rows(session: Session) -> list[tuple]:
    rows = session.exec(select(AnswerPeriod)).all()
    return sorted((p.message_id, clock.as_utc(p.opened_at), p.organization_id, clock.as_utc(p.entry_due_at),
                   clock.as_utc(p.due_at), p.due_changed_at and clock.as_utc(p.due_changed_at),
                   p.closed_at and clock.as_utc(p.closed_at), p.closed_action, p.outcome, p.on_time, p.is_repeated,
                   p.accelerated) for p in rows)


def test_every_passage_of_a_walked_message_is_recorded_with_its_deadline_and_how_it_ended(session, world):
    m, repeat = walk(world)
    A, B = world.org["A"].id, world.org["B"].id
    visits = visits_of(session, m.id)
    assert [(v.stage, v.organization_id, v.left_action, v.on_time) for v in visits] == [
        ("moderation", A, "accept", True),
        ("coordination", A, "transfer", False),        # due 10.11 18:00, left 12.11
        ("agreement", A, "agree", True),
        ("approval", A, "approve", True),              # the transfer approved: to B
        ("coordination", B, "return", True),
        ("coordination", A, "assign_executor", True),
        ("execution", A, "prepare_answer", True),
        ("agreement", A, "agree", True),               # the first agreeing head
        ("agreement", A, "delegate_agreement", False),  # the second: due 17.11 18:00, passed on 18.11
        ("agreement", A, "agree", True),               # the head it was passed to
        ("approval", A, "reject_approval", True),
        ("execution", A, "prepare_answer", True),
        ("approval", A, "delegate_approval", True),
        ("approval", A, "approve", False),             # «отложено» approved on 20.11, due 19.11 18:00
        ("execution", A, "prepare_answer", True),      # after the return from the postponement
        ("approval", A, "approve", True),
    ]
    assert not any(v.is_repeated for v in visits)
    first = visits[0]
    # Moderation: 8 working hours from Monday 10:00 (lunch 13–14); the category change made the message
    # accelerated without moving that deadline.
    assert (first.entered_at, first.entry_due_at, first.due_at, first.due_changed_at) == (
        L(11, 9, 10), L(11, 10, 10), L(11, 10, 10), None)
    assert first.accelerated and first.left_at == L(11, 9, 12)
    # Coordination: one working day, to its end; execution: capped by the (accelerated) answer deadline.
    assert (visits[1].entered_at, visits[1].due_at, visits[1].left_at) == (L(11, 9, 12), L(11, 10, 18), L(11, 12, 10))
    assert visits[6].due_at == END(11, 19)
    assert visits[14].entered_at == L(12, 10, 10) and visits[14].due_at == END(12, 20)

    periods = periods_of(session, m.id)
    assert [(p.opened_at, p.entry_due_at, p.due_at, p.due_changed_at, p.closed_at, p.outcome, p.on_time,
             p.organization_id) for p in periods] == [
        # 30 days from arrival, 10 once the category is an accelerated one; the approved «отложено»
        # is the answer given — a day late.
        (L(11, 9, 10), END(12, 9), END(11, 19), L(11, 9, 11), L(11, 20, 10), "postponed", False, A),
        # The return from the postponement counts a new answer deadline (clause 3.9).
        (L(12, 10, 10), END(12, 20), END(12, 20), None, L(12, 11, 11), "answered", True, A),
    ]

    repeated = visits_of(session, repeat.id)
    assert repeated[-1].stage == "execution" and repeated[-1].left_at is None
    assert [v.stage for v in repeated][-2:] == ["coordination", "execution"]
    assert all(v.is_repeated for v in repeated)
    assert [(p.opened_at, p.closed_at, p.is_repeated) for p in periods_of(session, repeat.id)] == [
        (L(12, 12, 10), None, True)]
    # One open passage and one open answer period per active message, none for a finished one.
    assert [v for v in visits if v.left_at is None] == [] and all(p.closed_at for p in periods)


def test_the_walk_gives_the_rating_its_passages(session, world):
    walk(world)
    A, B = world.org["A"].id, world.org["B"].id
    results = {r.organization_id: r for r in rating.compute(session, L(11, 1, 0).date(), "Asia/Yakutsk",
                                                            rating.Rules(min_sample=1))}
    figures = {key: (i.on_time, i.total) for key, i in results[A].indicators.items()}
    assert figures == {"coordination_first": (1, 2), "agreement_first": (3, 4), "approval_first": (3, 4),
                       "coordination_repeated": (0, 0), "agreement_repeated": (0, 0), "approval_repeated": (0, 0)}
    assert results[B].indicators["coordination_first"].total == 1
    december = {r.organization_id: r for r in rating.compute(session, L(12, 1, 0).date(), "Asia/Yakutsk")}
    assert december[A].indicators["approval_first"].total == 1
    assert december[A].indicators["coordination_repeated"].total == 1


@pytest.mark.parametrize("trust_current", [False, True])
def test_the_backfill_gives_the_facts_recorded_live(session, world, trust_current):
    walk(world)
    live = (_visit_rows(session), _period_rows(session), _stored(session))
    assert len(live[0]) > 16 and len(live[1]) == 3
    session.exec(delete(StageVisit))
    session.exec(delete(AnswerPeriod))
    backfill(session.connection(), "Asia/Yakutsk", chunk=1, trust_current=trust_current)
    session.expire_all()
    assert (_visit_rows(session), _period_rows(session), _stored(session)) == live


def _stored(session: Session) -> list[tuple]:
    """The values as the database holds them (on SQLite: text, compared as text by the rating's SQL)."""
    return sorted(session.execute(text(
        "SELECT message_id, entered_at, entry_due_at, due_at, due_changed_at, left_at, on_time FROM stage_visit"
        " UNION ALL SELECT message_id, opened_at, entry_due_at, due_at, due_changed_at, closed_at, on_time"
        " FROM answer_period")).all(), key=repr)


def test_a_recomputed_deadline_moves_the_open_passage_and_says_when(session, world):
    with at(L(11, 9, 10)):
        m = world.message(Stage.COORDINATION)
    visit = visits_of(session, m.id)[-1]
    assert (visit.stage, visit.due_at) == ("coordination", L(11, 10, 18))
    with at(L(11, 9, 15)):
        deadline_settings.set_stage_rule(session, world.env, "coordination", 3, "working_days")
    session.expire_all()
    visit = visits_of(session, m.id)[-1]
    assert (visit.entry_due_at, visit.due_at, visit.due_changed_at, visit.left_at) == (
        L(11, 10, 18), L(11, 12, 18), L(11, 9, 15), None)
    assert session.exec(select(HistoryEntry).where(HistoryEntry.message_id == m.id,
                                                   HistoryEntry.action == "deadlines_recomputed")).first()


def test_a_rejected_message_closes_its_answer_period_without_an_answer(session, world):
    with at(L(11, 9, 10)):
        m = world.submit()
    with at(L(11, 9, 11)):
        world.act("moderator", m, Action.REJECT, reason="б")
    (visit,) = visits_of(session, m.id)
    assert (visit.stage, visit.left_action, visit.on_time) == ("moderation", "reject", True)
    (period,) = periods_of(session, m.id)
    assert (period.closed_at, period.outcome, period.on_time) == (L(11, 9, 11), "rejected", None)


def test_a_refused_action_records_no_fact(session, world):
    m = world.message(Stage.COORDINATION)
    before = (_visit_rows(session), _period_rows(session))
    with pytest.raises(Exception):
        world.act("a.executor", m, Action.TAKE)
    assert (_visit_rows(session), _period_rows(session)) == before


def test_the_migration_backfills_a_seeded_database_as_the_live_recording_did(fresh_database, env):
    import seed
    engine = make_engine(fresh_database)
    with Session(engine, expire_on_commit=False) as s:
        seed.load_demo(s, env)
    with Session(engine) as s:
        live = (_visit_rows(s), _period_rows(s))
        messages = len(s.exec(select(Message.id)).all())
    assert len(live[0]) > messages and len(live[1]) >= messages - 1
    migrate.downgrade(fresh_database, "0300")
    migrate.upgrade(fresh_database)
    with Session(engine) as s:
        assert (_visit_rows(s), _period_rows(s)) == live
