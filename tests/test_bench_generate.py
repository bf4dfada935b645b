"""The benchmark's data generator (bench/generate.py): its facts are the ones the platform would write."""
from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from bench import generate as gen
from pos.db import make_engine
from pos.facts_backfill import backfill
from pos.models import AnswerPeriod, HistoryEntry, Message, StageVisit
from pos.services import rating
from pos.workflow import ACTIVE_STAGES
from tests.databases import fresh_database

N = 500
VISIT = ("message_id", "organization_id", "stage", "entered_at", "entry_due_at", "due_at", "left_at",
         "left_action", "on_time", "is_repeated", "accelerated")
PERIOD = ("message_id", "organization_id", "opened_at", "entry_due_at", "due_at", "closed_at", "closed_action",
          "outcome", "on_time", "is_repeated", "accelerated")


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """One generated database for the module (its making is most of the time); on PostgreSQL a database
    of its own (TEST_DATABASE_URL's name and a suffix)."""
    url = fresh_database("bench_generate", tmp_path_factory.mktemp("bench") / "generated.db")
    # Two months of arrivals rather than two years: enough of the 500 are still in work.
    counts = gen.generate(url, N, seed=7, days=60, log=None)
    engine = make_engine(url)
    with Session(engine) as session:
        yield session, counts
    engine.dispose()


def _rows(session, model, names):
    return sorted(tuple(getattr(r, n) for n in names) for r in session.exec(select(model)))


def test_every_message_is_there_with_its_history_in_every_stage(generated):
    session, counts = generated
    assert counts["message"] == N
    messages = session.exec(select(Message)).all()
    stages = Counter(m.stage for m in messages)
    assert set(stages) == {"moderation", "coordination", "execution", "agreement", "approval", "postponed",
                           "answered", "rejected"}, stages
    roots = {o.root_id for o in gen.read_world(session).orgs.values() if o.id in {m.organization_id for m in messages}}
    assert len(roots) == 2  # both jurisdictions
    assert 0.03 < sum(m.is_repeated for m in messages) / N < 0.15
    assert any(m.accelerated for m in messages) and any(m.rating for m in messages)
    with_history = {m for (m,) in session.execute(text("SELECT DISTINCT message_id FROM history_entry"))}
    assert with_history == {m.id for m in messages}
    first = {e.message_id: e for e in session.exec(select(HistoryEntry).order_by(HistoryEntry.id.desc()))}
    assert {e.action for e in first.values()} == {"submit"}
    assert len({m.text for m in messages}) == N and len({m.address for m in messages}) > N * 0.9


def test_open_passages_and_answer_periods_match_each_message(generated):
    session, _ = generated
    visits, periods = {}, {}
    for v in session.exec(select(StageVisit).order_by(StageVisit.entered_at, StageVisit.id)):
        visits.setdefault(v.message_id, []).append(v)
    for p in session.exec(select(AnswerPeriod).order_by(AnswerPeriod.opened_at, AnswerPeriod.id)):
        periods.setdefault(p.message_id, []).append(p)
    for m in session.exec(select(Message)):
        assert visits[m.id][0].stage == "moderation" and visits[m.id][0].entered_at == m.received_at
        open_visits = [v for v in visits[m.id] if v.left_at is None]
        open_periods = [p for p in periods[m.id] if p.closed_at is None]
        if m.stage in ACTIVE_STAGES:
            (v,) = open_visits
            assert (v.stage, v.due_at, v.entered_at, v.organization_id) == (
                m.stage, m.stage_due_at, m.stage_entered_at, m.organization_id)
            (p,) = open_periods
            assert p.due_at == m.answer_due_at
        else:
            assert open_visits == [] and open_periods == []
            last = periods[m.id][-1]
            expected = {"answered": "answered", "postponed": "postponed", "rejected": "rejected"}[m.stage]
            assert last.outcome == expected
            if m.stage != "rejected":
                assert last.closed_at == m.answered_at and last.on_time == (m.answered_at <= last.due_at)
        for v in visits[m.id]:
            assert v.left_at is None or v.on_time == (v.left_at <= v.due_at)


def test_the_backfill_from_the_history_makes_the_same_facts(generated):
    """The history and the facts agree: walking the entries as migration 0500 does gives the same rows."""
    session, _ = generated
    made = _rows(session, StageVisit, VISIT), _rows(session, AnswerPeriod, PERIOD)
    connection = session.connection()
    connection.execute(text("DELETE FROM stage_visit"))
    connection.execute(text("DELETE FROM answer_period"))
    backfill(connection, gen.TZ_NAME)
    session.expire_all()
    assert (_rows(session, StageVisit, VISIT), _rows(session, AnswerPeriod, PERIOD)) == made
    session.rollback()


def test_the_rating_of_every_month_equals_the_python_tally(generated):
    session, _ = generated
    passages = [rating.Passage(v.organization_id, v.stage, v.is_repeated, v.entered_at, v.due_at, v.left_at)
                for v in session.exec(select(StageVisit))]
    month, counted = date(2026, 9, 1), 0
    while month <= gen.NOW.date():
        start, end = rating.month_bounds(month, gen.TZ_NAME)
        expected = rating.tally(passages, start, end)
        assert rating.fetch_tally(session, start, end) == expected, month
        counted += sum(c.total for c in expected.values())
        month = rating.next_month(month)
    assert counted > N  # the months are not empty


def test_the_same_seed_makes_the_same_rows_in_one_process_or_several(generated):
    session, _ = generated
    world = gen.read_world(session)

    def rows(seed, workers):
        g = gen.Generator(world, 120, seed, gen.DeadlinePolicy(gen.ProductionCalendar(), gen.TZ), days=60)
        return list(g.chunks(workers, size=40))

    one = rows(7, 1)
    assert rows(7, 2) == one
    assert rows(8, 1) != one
