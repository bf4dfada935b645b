"""What the analytics keep at write time (migration 0710): a closed passage's working hours and a message's
place. Each must equal what the pages used to compute on every view, live and on the backfill path.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update
from sqlmodel import Session, delete, select

from pos import clock, migrate
from pos.db import make_engine
from pos.deadlines import DeadlinePolicy, ProductionCalendar, WorkingClock
from pos.facts_backfill import backfill, fill_places, fill_working_hours
from pos.models import AnswerPeriod, Message, StageVisit
from pos.services import analytics, analytics_problems
from pos.services.addresses import place
from tests.test_stage_facts import walk

TZ_NAME = "Asia/Yakutsk"
POLICY = DeadlinePolicy(ProductionCalendar(), ZoneInfo(TZ_NAME))


def _hours(session: Session) -> dict[tuple, float | None]:
    return {(v.message_id, clock.as_utc(v.entered_at), v.stage): v.working_hours
            for v in session.exec(select(StageVisit))}


def _aware(moment: datetime) -> datetime:
    return clock.as_utc(moment)  # SQLite hands the moments back naive (UTC)


def test_a_closing_passage_records_its_working_hours(session, world):
    walk(world)
    visits = session.exec(select(StageVisit)).all()
    closed = [v for v in visits if v.left_at is not None]
    assert len(closed) > 15
    for v in visits:
        if v.left_at is None:
            assert v.working_hours is None
        else:
            assert v.working_hours == pytest.approx(
                POLICY.working_hours_between(_aware(v.entered_at), _aware(v.left_at)), abs=1e-9)
    # Not the calendar hours: nights, weekends and the lunch hour are left out.
    assert any(v.working_hours < (_aware(v.left_at) - _aware(v.entered_at)).total_seconds() / 3600 - 1
               for v in closed)


def test_the_backfill_gives_the_working_hours_recorded_live(session, world):
    walk(world)
    live = _hours(session)
    session.exec(delete(StageVisit))
    session.exec(delete(AnswerPeriod))
    backfill(session.connection(), TZ_NAME, chunk=1)  # migration 0500: the passages without their hours
    session.expire_all()
    assert all(h is None for h in _hours(session).values())
    assert fill_working_hours(session.connection(), TZ_NAME, chunk=3) == sum(h is not None for h in live.values())
    session.expire_all()
    filled = _hours(session)
    assert filled.keys() == live.keys()
    for key, hours in live.items():
        assert filled[key] == (None if hours is None else pytest.approx(hours, abs=1e-9)), key
    assert fill_working_hours(session.connection(), TZ_NAME) == 0  # nothing left to fill


def test_a_message_keeps_the_place_its_address_names(session, world):
    m = world.submit()
    m = session.get(Message, m.id)
    found = place(m.address)
    assert (m.place_settlement, m.place_street) == ((found.settlement, found.street) if found else (None, None))
    m.address = "г. Тында, ул. Мира, д. 5, кв. 3"
    session.add(m)
    session.commit()
    session.refresh(m)
    assert (m.place_settlement, m.place_street) == ("г. Тында", "ул. Мира")
    m.address = "Тында, школа № 5"
    session.add(m)
    session.commit()
    session.refresh(m)
    assert (m.place_settlement, m.place_street) == ("Тында", "школа № 5")
    m.address = ""
    session.add(m)
    session.commit()
    session.refresh(m)
    assert (m.place_settlement, m.place_street) == (None, None)


def _old_working_percentiles(session: Session, scope: analytics.Scope) -> dict[tuple[int, str], tuple]:
    """What «Сроки» computed on every view before 0710: the working hours of each passage ended in the
    period counted with a WorkingClock, the percentiles in Python."""
    v = StageVisit
    rows = session.exec(select(v.organization_id, v.stage, v.entered_at, v.left_at).where(
        v.left_at >= scope.start, v.left_at < scope.end, v.organization_id.is_not(None),
        v.stage == "moderation")).all()
    if not rows:
        return {}
    first = min(POLICY.local(_aware(r[2])).date() for r in rows)
    working = WorkingClock(POLICY, first, POLICY.local(scope.end).date())
    groups: dict[tuple[int, str], list[float]] = {}
    for org, stage, entered, left in rows:
        groups.setdefault((org, stage), []).append(working.hours(_aware(entered), _aware(left)))
    return {k: (analytics.percentile(sorted(h), 0.5), analytics.percentile(sorted(h), 0.9)) for k, h in groups.items()}


def _old_places(session: Session, scope: analytics.Scope) -> tuple[list, int]:
    """What «Частые проблемы» computed before 0710: every address of the period read on every view."""
    grouped: dict[tuple[str, str], Counter] = {}
    without = 0
    for address in session.exec(select(Message.address).where(Message.received_at >= scope.start,
                                                              Message.received_at < scope.end)):
        found = place(address or "")
        if found is None:
            without += 1
            continue
        grouped.setdefault(found.key, Counter())[found] += 1
    result = []
    for spellings in grouped.values():
        shown = max(spellings.items(), key=lambda item: (item[1], bool(item[0].settlement), item[0].label))[0]
        result.append((shown, sum(spellings.values())))
    result.sort(key=lambda p: (-p[1], p[0].label))
    return result[:analytics_problems.TOP_PLACES], without


def _figures(session: Session, scope: analytics.Scope):
    stages = [(r.organization_id, r.stage, r.on_time, r.late, r.open, r.overdue, r.median_hours, r.p90_hours)
              for r in analytics.stage_compliance(session, scope, POLICY)]
    places, without = analytics_problems.places(session, scope)
    return stages, [(p.place, p.count) for p in places], without


def test_the_migration_fills_a_seeded_database_and_the_pages_show_the_same(fresh_database, env):
    """The demo data recorded live; then 0710 undone and done again (the backfill path, old data): the
    precomputed columns, «Сроки» and the places are what they were, and what the old computation gave."""
    import seed
    engine = make_engine(fresh_database)
    with Session(engine, expire_on_commit=False) as s:
        seed.load_demo(s, env)
    now = datetime.now(timezone.utc)
    with Session(engine) as s:
        scope = analytics.make_scope(s, TZ_NAME, date(2000, 1, 1), POLICY.local(now).date(), None, None, None, now)
        live_hours = _hours(s)
        live_places = {m.id: (m.place_settlement, m.place_street) for m in s.exec(select(Message))}
        before = _figures(s, scope)
        old = _old_working_percentiles(s, scope)
        old_places = _old_places(s, scope)
    assert any(h is not None for h in live_hours.values()) and any(p != (None, None) for p in live_places.values())
    stages = {(org, stage): (median, p90) for org, stage, *_rest, median, p90 in before[0] if stage == "moderation"}
    assert old and stages.keys() == old.keys()
    for key, (median, p90) in old.items():
        assert stages[key] == (pytest.approx(median, abs=1e-9), pytest.approx(p90, abs=1e-9))
    assert (before[1], before[2]) == ([(p, n) for p, n in old_places[0]], old_places[1])

    migrate.downgrade(engine.url.render_as_string(hide_password=False), "0610")
    migrate.upgrade(engine.url.render_as_string(hide_password=False))
    with Session(engine) as s:
        hours = _hours(s)
        assert hours.keys() == live_hours.keys()
        for key, value in live_hours.items():
            assert hours[key] == (None if value is None else pytest.approx(value, abs=1e-9)), key
        assert {m.id: (m.place_settlement, m.place_street) for m in s.exec(select(Message))} == live_places
        after = _figures(s, scope)
    assert after[1:] == before[1:]
    assert [row[:6] for row in after[0]] == [row[:6] for row in before[0]]
    for a, b in zip(after[0], before[0]):
        assert a[6:] == (pytest.approx(b[6], abs=1e-9), pytest.approx(b[7], abs=1e-9))


def test_fill_places_gives_what_the_model_writes(session, world):
    for address in ("г. Благовещенск, ул. Ленина, 12", "Тында, Профсоюзная улица д.10", "", "школа № 5"):
        world.submit(address=address)
    session.commit()
    assert len({(m.place_settlement, m.place_street) for m in session.exec(select(Message))}) == 4
    live = {m.id: (m.place_settlement, m.place_street) for m in session.exec(select(Message))}
    session.exec(update(Message).values(place_settlement=None, place_street=None))
    fill_places(session.connection(), chunk=2)
    session.expire_all()
    assert {m.id: (m.place_settlement, m.place_street) for m in session.exec(select(Message))} == live


def test_a_correction_of_the_calendar_recounts_the_passages_of_that_day(session, world):
    from pos.services import deadlines as deadline_settings
    walk(world)
    closed = [v for v in session.exec(select(StageVisit)) if v.left_at is not None]
    # A working day some passages spanned (the walk is in November 2026): made a holiday, then undone.
    day = date(2026, 11, 17)
    start, end = (POLICY.to_utc(datetime.combine(d, datetime.min.time(), POLICY.tz)) for d in (day, date(2026, 11, 18)))
    spanning = [v.id for v in closed if _aware(v.left_at) > start and _aware(v.entered_at) < end]
    assert spanning
    before = {v.id: v.working_hours for v in closed}
    deadline_settings.set_calendar_day(session, world.env, day, False, "тест")
    session.expire_all()
    holiday = DeadlinePolicy(ProductionCalendar({day: False}), ZoneInfo(TZ_NAME))
    for v in session.exec(select(StageVisit).where(StageVisit.left_at.is_not(None))):
        assert v.working_hours == pytest.approx(
            holiday.working_hours_between(_aware(v.entered_at), _aware(v.left_at)), abs=1e-9)
    assert any(session.get(StageVisit, i).working_hours < before[i] for i in spanning)
    deadline_settings.set_calendar_day(session, world.env, day, None)
    session.expire_all()
    assert {i: session.get(StageVisit, i).working_hours for i in before} == {
        i: pytest.approx(h, abs=1e-9) for i, h in before.items()}
