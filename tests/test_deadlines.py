"""Deadlines on the Russian production calendar: answers in calendar days, stages in working time.

Dates are the government's real 2025–2026 calendar: 1 November 2025 was a working
Saturday and 3 November a day off in exchange; 31 December 2025 was a day off;
1–11 January 2026 were the New Year holidays. Blagoveshchensk is UTC+9.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from pos import clock
from pos.deadlines import (DEFAULT_STAGE_RULES, WORKING_DAYS, WORKING_HOURS, DeadlinePolicy, ProductionCalendar,
                           StageRule)
from pos.models import CalendarOverride, HistoryEntry, Message, StageDeadline
from pos.services.deadlines import RECOMPUTED, recompute
from pos.services.directory import load_policy
from pos.workflow import Action, NotAllowed, Stage
from tests.memory import MemoryWorld

TZ = ZoneInfo("Asia/Yakutsk")


def local(y, m, d, hh=0, mm=0, ss=0) -> datetime:
    """A moment in Blagoveshchensk, as the aware UTC datetime the code works in."""
    return datetime(y, m, d, hh, mm, ss, tzinfo=TZ).astimezone(timezone.utc)


@pytest.fixture
def policy() -> DeadlinePolicy:
    return DeadlinePolicy(ProductionCalendar(), TZ)


# --- the calendar ---------------------------------------------------------------------

@pytest.mark.parametrize("day, working", [
    (date(2025, 10, 31), True),    # Friday
    (date(2025, 11, 1), True),     # the working Saturday
    (date(2025, 11, 2), False),    # Sunday
    (date(2025, 11, 3), False),    # Monday, the day off moved from 1 November
    (date(2025, 11, 4), False),    # National Unity Day
    (date(2025, 11, 5), True),
    (date(2025, 12, 30), True),
    (date(2025, 12, 31), False),   # moved from 5 January
    (date(2026, 1, 1), False),
    (date(2026, 1, 9), False),     # moved from 3 January
    (date(2026, 1, 11), False),
    (date(2026, 1, 12), True),
    (date(2025, 10, 18), False),   # an ordinary weekend
])
def test_production_calendar(day, working):
    assert ProductionCalendar().is_working_day(day) is working


def test_local_overrides_take_precedence():
    calendar = ProductionCalendar({date(2025, 11, 3): True, date(2025, 10, 31): False})
    assert calendar.is_working_day(date(2025, 11, 3))
    assert not calendar.is_working_day(date(2025, 10, 31))
    assert calendar.next_working_day(date(2025, 10, 30)) == date(2025, 11, 1)
    assert calendar.next_working_day(date(2025, 11, 1)) == date(2025, 11, 3)


# --- the answer: calendar days ------------------------------------------------------------

@pytest.mark.parametrize("received, accelerated, due", [
    # Holidays and weekends do not stop the calendar-day count.
    (local(2025, 12, 25, 10), False, date(2026, 1, 24)),
    (local(2025, 12, 25, 10), True, date(2026, 1, 4)),
    (local(2025, 12, 30, 23, 59), True, date(2026, 1, 9)),
    (local(2025, 10, 24, 12), False, date(2025, 11, 23)),
    (local(2025, 10, 24, 12), True, date(2025, 11, 3)),
    (local(2025, 10, 18, 9), True, date(2025, 10, 28)),    # sent on a Saturday
    # Counted from the local day: 20:00 UTC is already the next morning in Blagoveshchensk.
    (datetime(2025, 12, 25, 20, 0, tzinfo=timezone.utc), False, date(2026, 1, 25)),
    (datetime(2025, 12, 25, 20, 0), True, date(2026, 1, 5)),  # naive means UTC
])
def test_answer_due_in_calendar_days_to_the_end_of_the_local_day(policy, received, accelerated, due):
    result = policy.answer_due(received, accelerated)
    assert result.tzinfo is not None
    assert result == local(due.year, due.month, due.day, 23, 59, 59)


# --- stages: working days and working hours ---------------------------------------------

@pytest.mark.parametrize("stage, start, due", [
    # Execution, 7 working days from Christmas 2025: 26, 29, 30 December, then 12–15 January.
    ("execution", local(2025, 12, 25, 11), local(2026, 1, 15, 18)),
    # Coordination, one working day: the working Saturday counts, the Monday after it does not.
    ("coordination", local(2025, 10, 31, 10), local(2025, 11, 1, 18)),
    ("coordination", local(2025, 11, 1, 10), local(2025, 11, 5, 18)),
    ("coordination", local(2025, 10, 17, 17), local(2025, 10, 20, 18)),   # over a weekend
    ("coordination", local(2025, 10, 18, 12), local(2025, 10, 20, 18)),   # started on a Saturday
    ("agreement", local(2025, 12, 30, 9), local(2026, 1, 12, 18)),
    ("approval", local(2025, 12, 31, 9), local(2026, 1, 12, 18)),         # started on a day off
    # Moderation, eight working hours of 9–13 and 14–18.
    ("moderation", local(2025, 10, 31, 15), local(2025, 11, 1, 15)),
    ("moderation", local(2025, 11, 1, 16), local(2025, 11, 5, 16)),
    ("moderation", local(2025, 12, 30, 17), local(2026, 1, 12, 17)),
    ("moderation", local(2025, 10, 20, 7), local(2025, 10, 20, 18)),      # before the working day
    ("moderation", local(2025, 10, 20, 13, 30), local(2025, 10, 21, 13)),  # during lunch
    ("moderation", local(2025, 10, 17, 19), local(2025, 10, 20, 18)),     # Friday evening
])
def test_stage_due_on_the_production_calendar(policy, stage, start, due):
    assert policy.stage_due(stage, start, None) == due


def test_stage_rules_per_jurisdiction(policy):
    policy.rules[(None, "coordination")] = StageRule(3, WORKING_HOURS)
    policy.rules[(7, "coordination")] = StageRule(2, WORKING_DAYS)
    assert policy.rule("coordination", None) == StageRule(3, WORKING_HOURS)
    assert policy.rule("coordination", 5) == StageRule(3, WORKING_HOURS)
    assert policy.rule("coordination", 7) == StageRule(2, WORKING_DAYS)
    assert policy.rule("execution", 7) == DEFAULT_STAGE_RULES["execution"]
    assert policy.stage_due("coordination", local(2025, 10, 31, 17), 7) == local(2025, 11, 5, 18)
    assert policy.stage_due("coordination", local(2025, 10, 31, 17), 5) == local(2025, 11, 1, 11)


def test_due_soon_limit_is_the_end_of_the_next_working_day(policy):
    assert policy.due_soon_limit(local(2025, 12, 30, 10)) == local(2026, 1, 12, 18)
    assert policy.due_soon_limit(local(2025, 10, 31, 10)) == local(2025, 11, 1, 18)


# --- deadlines of a message in the pure workflow -------------------------------------------

@pytest.mark.parametrize("sub, answer_day, execution_due", [
    ("pothole", date(2026, 1, 24), local(2026, 1, 15, 18)),
    # Ten days: the answer is due in the holidays, so execution may not end after it.
    ("quality", date(2026, 1, 4), local(2026, 1, 4, 23, 59, 59)),
])
def test_a_message_through_the_new_year(sub, answer_day, execution_due):
    w = MemoryWorld(now=local(2025, 12, 25, 11))
    org = "A" if sub == "pothole" else "B"
    message = w.message(Stage.EXECUTION, org=org, sub=sub)
    assert message.accelerated is (sub == "quality")
    assert message.answer_due_at == local(answer_day.year, answer_day.month, answer_day.day, 23, 59, 59)
    assert message.stage_due_at == execution_due


def test_a_local_day_off_moves_the_stage_deadline():
    w = MemoryWorld(now=local(2025, 10, 17, 10), overrides={date(2025, 10, 20): False})
    message = w.message(Stage.COORDINATION)
    assert message.stage_due_at == local(2025, 10, 21, 18)


# --- through the services: the override table, recomputation -----------------------------

def _frozen(at: datetime):
    return clock.frozen(at)


def minutes(moment: datetime) -> str:
    """How the history records a deadline."""
    return moment.isoformat(sep=" ", timespec="minutes")


def test_calendar_overrides_in_the_database_take_precedence(session, env, world):
    session.add(CalendarOverride(day=date(2025, 11, 1), is_working=False, note="Региональный выходной"))
    session.add(CalendarOverride(day=date(2025, 11, 3), is_working=True, note="Перенесён"))
    session.commit()
    policy = load_policy(session, env.timezone)
    assert not policy.calendar.is_working_day(date(2025, 11, 1))
    assert policy.calendar.is_working_day(date(2025, 11, 3))
    with _frozen(local(2025, 10, 31, 10)):
        message = world.message(Stage.COORDINATION)
    assert message.stage_due_at == local(2025, 11, 3, 18)


def test_stage_deadlines_from_the_database(session, env, world):
    region = world.org["region"].id
    session.add(StageDeadline(jurisdiction_id=region, stage="coordination", amount=2, unit=WORKING_DAYS))
    session.add(StageDeadline(jurisdiction_id=None, stage="coordination", amount=4, unit=WORKING_HOURS))
    session.commit()
    with _frozen(local(2025, 10, 20, 10)):
        region_message = world.message(Stage.COORDINATION, org="A")
        city_message = world.message(Stage.COORDINATION, org="city", sub="sport_ticket")
    assert region_message.stage_due_at == local(2025, 10, 22, 18)
    assert city_message.stage_due_at == local(2025, 10, 20, 15)


def test_category_change_recomputes_and_records(session, world):
    with _frozen(local(2025, 12, 25, 11)):
        message = world.message(Stage.MODERATION, org="B", sub="heating")
        assert world.reload(message).answer_due_at == local(2026, 1, 24, 23, 59, 59)
    with _frozen(local(2025, 12, 26, 10)):
        done = world.act("moderator", message, Action.CHANGE_CATEGORY, category_id=world.cat["meals"].id,
                         subcategory_id=world.sub["quality"].id)
    message = world.reload(message)
    # Counted from arrival, not from the change.
    assert (message.accelerated, message.answer_due_at) == (True, local(2026, 1, 4, 23, 59, 59))
    assert done.history.details["answer_due"]["to"] == minutes(local(2026, 1, 4, 23, 59, 59))
    assert done.history.details["answer_due"]["accelerated"] is True


def test_postponement_recomputes_from_the_return(session, world):
    with _frozen(local(2025, 10, 24, 10)):
        message = world.message(Stage.POSTPONED)
    message = world.reload(message)
    assert message.postponed_until == date(2025, 11, 13)
    assert message.stage_due_at == local(2025, 11, 13, 23, 59, 59)
    with _frozen(local(2025, 11, 12, 23, 59)):
        with pytest.raises(NotAllowed, match="ещё не наступила"):
            world.act(None, message, Action.RESUME)
    with _frozen(local(2025, 11, 13, 0, 5)):
        done = world.act(None, message, Action.RESUME)
    message = world.reload(message)
    assert message.stage == Stage.EXECUTION
    assert message.answer_due_at == local(2025, 12, 13, 23, 59, 59)
    assert message.stage_due_at == local(2025, 11, 24, 18)   # 7 working days
    assert done.history.details["answer_due"]["from"] == minutes(local(2025, 11, 23, 23, 59, 59))
    # Recomputing later keeps counting from the return, not from arrival.
    assert recompute(session, world.env, [message.id]) == 0


def test_a_return_from_postponement_over_the_new_year_counts_a_new_period(session, world):
    # Answered «отложено до 31.12.2025» on time; the date comes in the holidays (31 December was a day off).
    with _frozen(local(2025, 12, 11, 10)):
        message = world.message(Stage.POSTPONED)
    message = world.reload(message)
    assert message.postponed_until == date(2025, 12, 31)
    assert message.answered_at == local(2025, 12, 11, 10)
    assert message.stage_due_at == local(2025, 12, 31, 23, 59, 59)  # the control date: the postponement's
    given = world.history(message)[-1]
    assert (given.action, given.to_stage, given.details["answered"]["on_time"]) == (
        Action.APPROVE, Stage.POSTPONED, True)
    with _frozen(local(2025, 12, 31, 0, 5)):
        done = world.act(None, message, Action.RESUME)
    message = world.reload(message)
    # Clause 3.9 from the return: 30 calendar days, holidays or not.
    assert (message.stage, message.answer_due_at) == (Stage.EXECUTION, local(2026, 1, 30, 23, 59, 59))
    # Execution, 7 working days: 1–11 January are the holidays, so 12–16 and 19–20 January.
    assert message.stage_due_at == local(2026, 1, 20, 18)
    recorded = done.history.details["answer_due"]
    assert recorded["to"] == minutes(local(2026, 1, 30, 23, 59, 59))
    assert recorded["counted_from"] == minutes(local(2025, 12, 31, 0, 5))
    assert "со дня возврата" in recorded["reason"]
    assert recompute(session, world.env, [message.id]) == 0


def test_repeat_counts_from_its_own_arrival(session, world):
    with _frozen(local(2025, 12, 1, 10)):
        message = world.message(Stage.ANSWERED, org="B", sub="quality")
        world.act("citizen", message, Action.RATE, rating=2)
    with _frozen(local(2025, 12, 26, 12)):
        done = world.act("citizen", message, Action.REPEAT, text="Ничего не изменилось")
    repeat = session.get(Message, done.new_message.id)
    assert (repeat.stage, repeat.is_repeated, repeat.accelerated) == (Stage.MODERATION, True, True)
    assert repeat.received_at == local(2025, 12, 26, 12)
    assert repeat.answer_due_at == local(2026, 1, 5, 23, 59, 59)
    # Moderation, like every message: eight working hours, Friday 12:00 to Monday 12:00.
    assert repeat.stage_due_at == local(2025, 12, 29, 12)


def test_recompute_after_a_calendar_change_is_recorded(session, env, world):
    with _frozen(local(2025, 10, 20, 10)):
        message = world.message(Stage.EXECUTION)
        untouched = world.message(Stage.ANSWERED)
    assert world.reload(message).stage_due_at == local(2025, 10, 29, 18)
    assert recompute(session, env) == 0  # nothing changed, nothing recorded

    session.add(CalendarOverride(day=date(2025, 10, 27), is_working=False, note="День области"))
    session.commit()
    with _frozen(local(2025, 10, 21, 9)):
        changed = recompute(session, env)
    assert changed == 1
    message = world.reload(message)
    assert message.stage_due_at == local(2025, 10, 30, 18)
    entry = session.exec(select(HistoryEntry).where(HistoryEntry.message_id == message.id)
                         .order_by(HistoryEntry.id.desc())).first()
    assert entry.action == RECOMPUTED
    assert entry.details["stage_due"] == {"from": minutes(local(2025, 10, 29, 18)), "to": minutes(local(2025, 10, 30, 18))}
    assert [h.action for h in world.history(untouched)][-1] == Action.APPROVE
    assert recompute(session, env) == 0


def test_recompute_follows_the_accelerated_list(session, env, world):
    from pos.models import AcceleratedSubcategory
    with _frozen(local(2025, 10, 20, 10)):
        message = world.message(Stage.COORDINATION, org="A", sub="pothole")
    session.add(AcceleratedSubcategory(jurisdiction_id=world.org["region"].id, subcategory_id=world.sub["pothole"].id))
    session.commit()
    assert recompute(session, env, [message.id]) == 1
    message = world.reload(message)
    assert (message.accelerated, message.answer_due_at) == (True, local(2025, 10, 30, 23, 59, 59))
