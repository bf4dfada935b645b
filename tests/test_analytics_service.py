"""The analytics pages' figures (pos/services/analytics.py) on hand-built facts, expected values written in.

The period is November 2026 in Asia/Yakutsk (UTC+9): [01.11 00:00, 01.12 00:00) local; "now" is 10.12.
"""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import delete

from pos.deadlines import DeadlinePolicy, ProductionCalendar, WorkingClock
from pos.models import AnswerPeriod, Message, StageVisit
from pos.services import analytics

TZ = ZoneInfo("Asia/Yakutsk")
POLICY = DeadlinePolicy(ProductionCalendar(), TZ)


def L(month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


NOW = L(12, 10)


def scope(session, organization_id=None, jurisdiction_id=None, within=None, now=NOW):
    return analytics.make_scope(session, "Asia/Yakutsk", date(2026, 11, 1), date(2026, 11, 30), jurisdiction_id,
                                organization_id, within, now)


def _message(world, **fields) -> Message:
    message = world.submit()
    world.session.exec(delete(StageVisit).where(StageVisit.message_id == message.id))
    world.session.exec(delete(AnswerPeriod).where(AnswerPeriod.message_id == message.id))
    for name, value in fields.items():
        setattr(message, name, value)
    world.session.add(message)
    world.session.flush()
    return message


def visit(world, org, stage, entered, due, left=None):
    message = _message(world)
    # As the live recording closes a passage: its working hours counted then (pos/facts.py `advance`).
    world.session.add(StageVisit(message_id=message.id, organization_id=world.org[org].id, stage=stage,
                                 entered_at=entered, entry_due_at=due, due_at=due, left_at=left,
                                 left_action="take" if left else None, on_time=(left <= due) if left else None,
                                 working_hours=POLICY.working_hours_between(entered, left) if left else None))


def period(world, org, opened, due, closed=None, outcome=None):
    message = _message(world)
    world.session.add(AnswerPeriod(message_id=message.id, organization_id=world.org[org].id, opened_at=opened,
                                   entry_due_at=due, due_at=due, closed_at=closed, outcome=outcome,
                                   closed_action="approve" if closed else None,
                                   on_time=(closed <= due) if closed and outcome != "rejected" else None))


@pytest.fixture
def facts(session, world):
    session.exec(delete(StageVisit))
    session.exec(delete(AnswerPeriod))
    # A, coordination (calendar hours: its deadline is in working days).
    visit(world, "A", "coordination", L(11, 3), L(11, 4, 18), L(11, 4, 12))        # on time, 24 h
    visit(world, "A", "coordination", L(11, 5), L(11, 6, 18), L(11, 9, 10))        # late, 94 h
    visit(world, "A", "coordination", L(10, 29), L(10, 30, 18), L(11, 2))          # entered in October: late, 96 h
    visit(world, "A", "coordination", L(11, 26), L(11, 27, 18))                    # open, overdue at the end
    visit(world, "A", "coordination", L(11, 27), L(11, 30, 18), L(12, 2))          # open at the end, overdue
    visit(world, "A", "coordination", L(11, 30, 10), L(12, 1, 18))                 # open, not yet overdue
    visit(world, "A", "coordination", L(10, 5), L(10, 6, 18), L(10, 6, 10))        # ended in October: not counted
    visit(world, "A", "coordination", L(12, 2), L(12, 3, 18))                      # entered in December: not counted
    # A, moderation: its deadline is in working hours (9–13, 14–18 on working days; 04.11 is a holiday).
    visit(world, "A", "moderation", L(11, 2, 9), L(11, 2, 17), L(11, 2, 13, 30))   # 4 working h (13:00–13:30 lunch)
    visit(world, "A", "moderation", L(11, 3, 17), L(11, 5, 17), L(11, 5, 10))      # 1 + 1 = 2 working h (04.11 off)
    # B and the subordinate A1.
    visit(world, "B", "approval", L(11, 10), L(11, 11, 18), L(11, 10, 15))         # on time, 3 h
    visit(world, "A1", "coordination", L(11, 12), L(11, 13, 18), L(11, 14, 12))    # late, 48 h
    # The answer deadline.
    period(world, "A", L(11, 1), L(11, 20), L(11, 10), "answered")                 # on time
    period(world, "A", L(10, 20), L(11, 12), L(11, 15), "answered")                # late
    period(world, "A", L(11, 2), L(11, 30), L(11, 16), "postponed")                # «отложено»: the answer, on time
    period(world, "A", L(11, 2), L(11, 30), L(11, 17), "rejected")                 # rejected: no answer
    period(world, "A", L(10, 1), L(10, 31))                                        # open, overdue
    period(world, "A", L(11, 20), L(12, 20))                                       # open, not overdue
    period(world, "B", L(9, 1), L(10, 1), L(10, 20), "answered")                   # answered in October
    session.commit()
    return world


def _by(rows, world):
    ids = {o.id: k for k, o in world.org.items()}
    return {(ids[r.organization_id], r.stage): r for r in rows}


def test_stage_compliance_counts_each_case(session, facts):
    rows = _by(analytics.stage_compliance(session, scope(session), POLICY), facts)
    coordination = rows[("A", "coordination")]
    assert (coordination.on_time, coordination.late, coordination.open, coordination.overdue) == (1, 2, 3, 2)
    assert coordination.unit == analytics.CALENDAR_HOURS
    assert coordination.median_hours == pytest.approx(94)
    assert coordination.p90_hours == pytest.approx(94 + (96 - 94) * 0.8)
    moderation = rows[("A", "moderation")]
    assert (moderation.on_time, moderation.late, moderation.open, moderation.overdue) == (2, 0, 0, 0)
    assert moderation.unit == "working_hours"
    assert (moderation.median_hours, moderation.p90_hours) == (pytest.approx(3.0), pytest.approx(2 + 2 * 0.9))
    b = rows[("B", "approval")]
    assert (b.on_time, b.late, b.median_hours, b.p90_hours) == (1, 0, pytest.approx(3), pytest.approx(3))
    assert rows[("A1", "coordination")].late == 1
    assert set(rows) == {("A", "coordination"), ("A", "moderation"), ("B", "approval"), ("A1", "coordination")}


def test_overdue_is_judged_now_while_the_period_runs(session, facts):
    # On 27.11 at noon the open passages are due 27.11 18:00, 30.11 and 01.12: none is overdue yet.
    rows = _by(analytics.stage_compliance(session, scope(session, now=L(11, 27, 12)), POLICY), facts)
    assert rows[("A", "coordination")].overdue == 0  # nothing was past its deadline at that moment


def test_an_organization_filter_takes_its_subtree_only(session, facts):
    rows = _by(analytics.stage_compliance(session, scope(session, organization_id=facts.org["A"].id), POLICY), facts)
    assert {org for org, _ in rows} == {"A", "A1"}
    curator = _by(analytics.stage_compliance(session, scope(session, within=facts.org["B"].id), POLICY), facts)
    assert {org for org, _ in curator} == {"B"}
    # A curator of B asking for A's subtree gets nothing of A: the scope is the intersection.
    crossed = scope(session, organization_id=facts.org["A"].id, within=facts.org["B"].id)
    assert analytics.stage_compliance(session, crossed, POLICY) == []
    city = scope(session, jurisdiction_id=facts.org["city"].id)
    assert analytics.stage_compliance(session, city, POLICY) == []


def test_answer_compliance(session, facts):
    rows = {r.organization_id: r for r in analytics.answer_compliance(session, scope(session))}
    a = rows[facts.org["A"].id]
    assert (a.on_time, a.late, a.open, a.overdue) == (2, 1, 2, 1)
    assert facts.org["B"].id not in rows  # its answer was given in October


def test_percentile_is_percentile_cont():
    assert analytics.percentile([], 0.5) is None
    assert analytics.percentile([5.0], 0.9) == 5.0
    assert analytics.percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert analytics.percentile([10.0, 20.0, 30.0], 0.9) == pytest.approx(28.0)


def test_the_default_period_is_the_last_30_days_up_to_today(session, world):
    s = analytics.make_scope(session, "Asia/Yakutsk", None, None, None, None, None, L(12, 10, 1))
    assert (s.date_from, s.date_to, s.days) == (date(2026, 11, 11), date(2026, 12, 10), 30)
    assert s.start == L(11, 11, 0) and s.end == L(12, 11, 0) and s.org_ids is None


# --- satisfaction ---------------------------------------------------------------------------------

@pytest.fixture
def ratings(session, world):
    roads, housing = world.cat["roads"].id, world.cat["housing"].id
    A, B = world.org["A"].id, world.org["B"].id

    def answered(org, category, rating=None, at=L(11, 10), rated=L(11, 12), comment=""):
        return _message(world, organization_id=org, category_id=category, stage="answered", answered_at=at,
                        rating=rating, rated_at=rated if rating else None, rating_comment=comment)

    first = answered(A, roads, 1, comment="Яму так и не заделали")
    answered(A, roads, 2)
    answered(A, roads, 5, comment="Спасибо, быстро")
    answered(A, housing, 4)
    answered(A, roads)                                          # answered, not rated
    answered(B, housing, 3, at=L(10, 20), rated=L(11, 3))      # answered in October, rated in November
    answered(B, housing, 5, at=L(11, 5), rated=L(12, 3))       # rated in December: not this period
    answered(A, roads, 1, at=L(10, 1), rated=L(10, 2))         # all in October: not counted
    repeat = _message(world, organization_id=None, stage="moderation", is_repeated=True, repeated_of_id=first.id)
    assert repeat.repeated_of_id == first.id
    session.commit()
    return world


def test_satisfaction_per_organization(session, ratings):
    rows = {r.key: r for r in analytics.satisfaction(session, scope(session), "organization")}
    a = rows[ratings.org["A"].id]
    assert a.counts == {1: 1, 2: 1, 5: 1, 4: 1} and a.rated == 4
    assert a.mean == pytest.approx(3.0) and a.poor_share == pytest.approx(50.0)
    assert (a.answered, a.repeated, a.repeated_share) == (5, 1, pytest.approx(20.0))
    b = rows[ratings.org["B"].id]
    assert b.counts == {3: 1} and b.mean == 3 and b.poor_share == 100
    assert (b.answered, b.repeated, b.repeated_share) == (1, 0, 0)


def test_satisfaction_per_category(session, ratings):
    rows = {r.key: r for r in analytics.satisfaction(session, scope(session), "category")}
    roads = rows[ratings.cat["roads"].id]
    assert roads.counts == {1: 1, 2: 1, 5: 1} and (roads.answered, roads.repeated) == (4, 1)
    housing = rows[ratings.cat["housing"].id]
    assert housing.counts == {4: 1, 3: 1} and housing.mean == pytest.approx(3.5) and housing.answered == 2


def test_no_ratings_is_no_mean(session, world):
    session.exec(delete(StageVisit))
    assert analytics.satisfaction(session, scope(session, jurisdiction_id=world.org["city"].id)) == []
    empty = analytics.Satisfaction(None, {})
    assert (empty.mean, empty.poor_share, empty.repeated_share) == (None, None, None)


def test_rating_comments_latest_first_in_the_period_without_their_author(session, ratings):
    comments = analytics.rating_comments(session, scope(session))
    assert [(c.rating, c.text) for c in comments] == [(5, "Спасибо, быстро"), (1, "Яму так и не заделали")]
    assert not hasattr(comments[0], "applicant_id")


@pytest.mark.parametrize("start, end", [
    (L(11, 2, 9), L(11, 2, 13, 30)), (L(11, 3, 17), L(11, 5, 10)), (L(11, 2, 8), L(11, 2, 8, 30)),
    (L(11, 6, 19), L(11, 9, 9, 15)), (L(10, 30, 12, 10), L(11, 10, 14, 45)), (L(11, 2, 12), L(11, 2, 12)),
])
def test_the_working_clock_agrees_with_the_production_calendar(start, end):
    clock = WorkingClock(POLICY, date(2026, 10, 30), date(2026, 11, 30))
    assert clock.hours(start, end) == pytest.approx(POLICY.working_hours_between(start, end))
    assert WorkingClock(POLICY, date(2026, 11, 2), date(2026, 11, 2)).hours(
        L(11, 2, 9), L(11, 2, 13, 30)) == pytest.approx(4.0)
