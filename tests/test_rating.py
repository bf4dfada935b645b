"""The six indicators of decree 232, clause 4.2, on hand-built passages; the place; the monthly snapshots.

The reporting month is November 2026 in Asia/Yakutsk (UTC+9): [01.11 00:00, 01.12 00:00) local.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import delete, select

from pos import clock
from pos.models import RatingMonth, RatingRow, StageVisit
from pos.models.rating import PublishedRatingChanged
from pos.services import rating, rating_snapshots
from pos.services.rating import Org, Passage, Rules, fetch_tally, month_bounds, rate, tally
from pos.workflow import Stage

TZ = ZoneInfo("Asia/Yakutsk")
NOVEMBER = date(2026, 11, 1)
START, END = month_bounds(NOVEMBER, "Asia/Yakutsk")


def L(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=TZ)


def P(org, stage, entered, due, left=None, repeated=False) -> Passage:
    return Passage(org, stage, repeated, entered, due, left)


# Organization 1, coordination of first messages, each case of the definition:
CASES = {
    "on time": P(1, "coordination", L(11, 3), L(11, 4, 18), L(11, 4, 12)),
    "late": P(1, "coordination", L(11, 5), L(11, 6, 18), L(11, 9, 10)),
    "open, overdue at the end": P(1, "coordination", L(11, 26), L(11, 27, 18)),
    "open, not yet overdue": P(1, "coordination", L(11, 30, 10), L(12, 1, 18)),
    "entered in October, left late in November": P(1, "coordination", L(10, 29), L(10, 30, 18), L(11, 2)),
    "open and overdue at the end, left in December": P(1, "coordination", L(11, 27), L(11, 30, 18), L(12, 2)),
    "left at the very end, not yet overdue": P(1, "coordination", L(11, 30), L(12, 1, 18), L(12, 1, 0)),
    "ended in October": P(1, "coordination", L(10, 5), L(10, 6, 18), L(10, 6, 10)),
    "entered in December": P(1, "coordination", L(12, 2), L(12, 3, 18)),
}


def test_each_case_of_the_definition():
    counts = tally(CASES.values(), START, END)
    # counted: on time (on time), late, open overdue, October→November (late), overdue at the end (late)
    assert counts[(1, "coordination_first")] == rating.Count(on_time=1, total=5)
    assert set(counts) == {(1, "coordination_first")}


@pytest.mark.parametrize("case, counted, on_time", [
    ("on time", 1, 1), ("late", 1, 0), ("open, overdue at the end", 1, 0), ("open, not yet overdue", 0, 0),
    ("entered in October, left late in November", 1, 0), ("open and overdue at the end, left in December", 1, 0),
    ("left at the very end, not yet overdue", 0, 0), ("ended in October", 0, 0), ("entered in December", 0, 0),
])
def test_one_case_alone(case, counted, on_time):
    c = tally([CASES[case]], START, END).get((1, "coordination_first"), rating.Count())
    assert (c.total, c.on_time) == (counted, on_time)


def test_a_passage_crossing_the_boundary_counts_in_both_months_it_was_late_in():
    october = month_bounds(date(2026, 10, 1), "Asia/Yakutsk")
    december = month_bounds(date(2026, 12, 1), "Asia/Yakutsk")
    crossing = CASES["entered in October, left late in November"]
    assert tally([crossing], *october)[(1, "coordination_first")] == rating.Count(0, 1)  # open, overdue at the end
    assert tally([crossing], START, END)[(1, "coordination_first")] == rating.Count(0, 1)  # ended late
    open_at_end = CASES["left at the very end, not yet overdue"]
    assert tally([open_at_end], *december)[(1, "coordination_first")] == rating.Count(1, 1)  # ended in time


def test_month_edges_are_local_midnights():
    assert (START, END) == (datetime(2026, 10, 31, 15, tzinfo=ZoneInfo("UTC")),
                            datetime(2026, 11, 30, 15, tzinfo=ZoneInfo("UTC")))
    assert rating.parse_month("2026-12") == date(2026, 12, 1)
    assert rating.next_month(date(2026, 12, 1)) == date(2027, 1, 1)
    assert rating.previous_month(date(2027, 1, 1)) == date(2026, 12, 1)
    with pytest.raises(ValueError):
        rating.parse_month("2026-13")


def test_stages_and_repeated_messages_go_to_their_own_indicators():
    passages = [
        P(1, "agreement", L(11, 3), L(11, 4, 18), L(11, 4)),
        P(1, "approval", L(11, 3), L(11, 4, 18), L(11, 5)),
        P(1, "coordination", L(11, 3), L(11, 4, 18), L(11, 4), repeated=True),
        P(1, "agreement", L(11, 3), L(11, 4, 18), L(11, 5), repeated=True),
        P(1, "approval", L(11, 3), L(11, 4, 18), L(11, 4), repeated=True),
        P(1, "execution", L(11, 3), L(11, 4, 18), L(11, 5)),   # not one of the six
        P(1, "moderation", L(11, 3), L(11, 4, 18), L(11, 5)),
    ]
    counts = tally(passages, START, END)
    assert counts == {(1, "agreement_first"): rating.Count(1, 1), (1, "approval_first"): rating.Count(0, 1),
                      (1, "coordination_repeated"): rating.Count(1, 1), (1, "agreement_repeated"): rating.Count(0, 1),
                      (1, "approval_repeated"): rating.Count(1, 1)}


def _passages(org: int, stage: str, on_time: int, late: int, repeated=False) -> list[Passage]:
    good = [P(org, stage, L(11, 3), L(11, 4, 18), L(11, 4), repeated) for _ in range(on_time)]
    return good + [P(org, stage, L(11, 3), L(11, 4, 18), L(11, 9), repeated) for _ in range(late)]


ORGS = [Org(1, "Министерство А", "executive_body", 100), Org(2, "Министерство Б", "executive_body", 100),
        Org(3, "Министерство В", "executive_body", 100), Org(4, "Министерство Г", "executive_body", 100),
        Org(5, "Управление при А", "subordinate", 1), Org(100, "Правительство", "region"),
        Org(6, "Администрация города", "municipal_admin"), Org(7, "Отраслевой орган", "branch_body", 6)]


def _rate(passages, rules=Rules()):
    return {r.organization_id: r for r in rate(tally(passages, START, END), ORGS, rules)}


def test_indicators_keep_numerator_and_denominator_and_no_passages_is_no_data():
    results = _rate(_passages(1, "coordination", 4, 1) + _passages(1, "approval", 3, 3))
    a = results[1]
    assert (a.indicators["coordination_first"].on_time, a.indicators["coordination_first"].total) == (4, 5)
    assert a.indicators["coordination_first"].percent == 80
    assert a.indicators["approval_first"].percent == 50
    # No passages: «нет данных», neither 100 % nor 0 %.
    assert a.indicators["agreement_first"].total == 0 and a.indicators["agreement_first"].percent is None
    assert a.mean == 65 and a.place == 1
    # An ИОГВ without a single passage is listed, without a mean or a place.
    b = results[2]
    assert all(i.percent is None for i in b.indicators.values()) and (b.mean, b.place) == (None, None)
    # Only ИОГВ are rated (clause 4.1): the region, the city and its bodies are not listed.
    assert set(results) == {1, 2, 3, 4}


def test_below_the_minimum_sample_an_indicator_does_not_decide_the_place():
    passages = (_passages(1, "coordination", 4, 1)            # 80 %, significant
                + _passages(1, "agreement", 0, 4)             # 0 % of 4: not significant
                + _passages(2, "coordination", 1, 0)          # a single fast answer: 100 % of 1
                + _passages(3, "coordination", 3, 2))         # 60 %
    results = _rate(passages)
    a, b, c = results[1], results[2], results[3]
    assert not a.indicators["agreement_first"].significant and a.indicators["agreement_first"].percent == 0
    assert a.mean == 80 and a.place == 1
    assert b.indicators["coordination_first"].percent == 100 and not b.indicators["coordination_first"].significant
    assert (b.mean, b.place) == (None, None)                  # it must not top the list
    assert (c.mean, c.place) == (60, 2)
    assert [r.organization_id for r in rate(tally(passages, START, END), ORGS)] == [1, 3, 2, 4]
    # With a smaller minimum sample the same figures decide otherwise.
    small = _rate(passages, Rules(min_sample=1))
    assert (small[2].place, small[1].mean, small[1].place) == (1, 40, 3)


def test_ties_go_to_more_passages_and_equal_ones_share_the_place():
    passages = (_passages(1, "coordination", 4, 1)            # 80 % of 5
                + _passages(2, "coordination", 8, 2)          # 80 % of 10: ranks higher
                + _passages(3, "coordination", 4, 1)          # 80 % of 5: the same as 1
                + _passages(4, "coordination", 5, 5))         # 50 %
    results = _rate(passages)
    assert [(results[i].place, results[i].mean) for i in (2, 1, 3, 4)] == [(1, 80), (2, 80), (2, 80), (4, 50)]


def test_the_mean_follows_the_weights():
    passages = _passages(1, "coordination", 5, 0) + _passages(1, "approval", 0, 5)     # 100 % and 0 %
    assert _rate(passages)[1].mean == 50
    weights = (Fraction(3), Fraction(1), Fraction(1), Fraction(1), Fraction(1), Fraction(1))
    assert _rate(passages, Rules(weights=weights))[1].mean == 75
    assert Rules.from_config({"RATING_WEIGHTS": "3, 1, 1, 1, 1, 1", "RATING_MIN_SAMPLE": "2"}) == Rules(2, weights)
    with pytest.raises(ValueError):
        Rules.from_config({"RATING_WEIGHTS": "1,1"})
    with pytest.raises(ValueError):
        Rules(min_sample=0)


def test_a_subordinate_organization_is_information_beside_its_body_and_never_counts_for_it():
    passages = _passages(1, "coordination", 5, 0) + _passages(5, "coordination", 0, 5)
    a = _rate(passages)[1]
    assert a.indicators["coordination_first"].percent == 100 and a.place == 1
    (sub,) = a.subordinates
    assert (sub.organization_id, sub.rated, sub.parent_id, sub.place) == (5, False, 1, None)
    assert sub.indicators["coordination_first"].percent == 0 and sub.mean == 0


def test_a_closed_organization_stays_only_in_the_months_it_worked_in():
    orgs = ORGS + [Org(8, "Упразднённое министерство", "executive_body", 100, is_active=False)]
    assert 8 not in {r.organization_id for r in rate({}, orgs)}
    worked = tally(_passages(8, "approval", 5, 0), START, END)
    assert {r.organization_id: r.place for r in rate(worked, orgs)}[8] == 1


# --- the SQL gives what the definition gives ------------------------------------------------------

@pytest.fixture
def built(session, world):
    """The hand-built passages of CASES and more as stage_visit rows (one message each)."""
    session.exec(delete(StageVisit))
    orgs = {1: world.org["A"].id, 2: world.org["B"].id, 5: world.org["A1"].id}
    extra = (_passages(1, "agreement", 2, 1) + _passages(2, "approval", 1, 1, repeated=True)
             + _passages(5, "coordination", 1, 0))
    for p in list(CASES.values()) + extra:
        message = world.submit()
        session.exec(delete(StageVisit).where(StageVisit.message_id == message.id))
        session.add(StageVisit(message_id=message.id, organization_id=orgs[p.organization_id], stage=p.stage,
                               entered_at=p.entered_at, entry_due_at=p.due_at, due_at=p.due_at, left_at=p.left_at,
                               left_action="take" if p.left_at else None,
                               on_time=(p.left_at <= p.due_at) if p.left_at else None, is_repeated=p.is_repeated))
    session.commit()
    return orgs, list(CASES.values()) + extra


def test_the_query_counts_as_the_definition(session, built):
    orgs, passages = built
    ids = {v: k for k, v in orgs.items()}
    expected = tally(passages, START, END)
    assert {(ids[o], k): c for (o, k), c in fetch_tally(session, START, END).items()} == expected
    assert expected[(1, "coordination_first")] == rating.Count(1, 5)


# --- snapshots ------------------------------------------------------------------------------------

def test_a_draft_is_recomputed_and_a_published_month_never_changes(session, world, built):
    orgs, _ = built
    A = orgs[1]
    with clock.frozen(L(12, 1, 3)):
        draft = rating_snapshots.compute_draft(session, world.env, NOVEMBER)
    row = {r.organization_id: r for r in rating_snapshots.rows(session, draft)}
    assert draft.status == "draft" and draft.published_at is None
    assert rating_snapshots.places(session, NOVEMBER) == {}                # a draft is nobody's place yet
    assert rating_snapshots.published_by(session, draft) == ""
    assert row[A].figures("coordination_first") == (1, 5, Decimal("20.00"))
    assert row[A].figures("agreement_first") == (2, 3, Decimal("66.67"))     # 3 < 5: not significant
    assert (row[A].mean, row[A].place, row[A].passages) == (Decimal("20.00"), 1, 8)
    assert row[world.org["A1"].id].is_rated is False and row[world.org["A1"].id].parent_id == A
    assert row[orgs[2]].figures("approval_repeated") == (1, 2, Decimal("50.00")) and row[orgs[2]].place is None
    assert all(r.figures("coordination_first")[2] is None for r in row.values() if r.organization_id not in (A, orgs[5]))

    # A later edit while it is a draft: recomputing takes it in.
    late = session.exec(select(StageVisit).where(StageVisit.organization_id == A,
                                                 StageVisit.stage == "coordination",
                                                 StageVisit.entered_at == L(11, 3))).one()
    late.left_at, late.on_time = L(11, 20), False
    session.add(late)
    session.commit()
    with clock.frozen(L(12, 2, 3)):
        rating_snapshots.compute_draft(session, world.env, NOVEMBER)
    assert {r.organization_id: r for r in rating_snapshots.rows(session, draft)}[A].figures("coordination_first")[:2] \
        == (0, 5)

    analyst = world.u("analyst")
    with clock.frozen(L(12, 5, 10)):
        published = rating_snapshots.publish(session, world.env, NOVEMBER, analyst)
    assert (published.status, published.published_at, published.published_by_id) == (
        "published", L(12, 5, 10), analyst.id)
    assert rating_snapshots.published_by(session, published) == analyst.full_name
    assert rating_snapshots.places(session, NOVEMBER)[A] == 1 and rating_snapshots.places(session, date(2026, 10, 1)) == {}
    frozen_rows = [r.model_dump() for r in rating_snapshots.rows(session, published)]

    # Later edits to messages and facts do not reach a published month ...
    late.left_at, late.on_time = L(11, 4, 10), True
    session.add(late)
    session.commit()
    with clock.frozen(L(11, 10)):
        world.message(Stage.EXECUTION)                     # one more coordination passage of A in November
    assert rating.compute(session, NOVEMBER, "Asia/Yakutsk")[0].indicators["coordination_first"].total == 6
    with pytest.raises(rating_snapshots.AlreadyPublished):
        rating_snapshots.compute_draft(session, world.env, NOVEMBER)
    with pytest.raises(rating_snapshots.AlreadyPublished):
        rating_snapshots.publish(session, world.env, NOVEMBER, None)
    session.expire_all()
    assert [r.model_dump() for r in rating_snapshots.rows(session, published)] == frozen_rows
    # ... nor does a direct change of its rows.
    row = rating_snapshots.rows(session, published)[0]
    row.place = 99
    session.add(row)
    with pytest.raises(PublishedRatingChanged):
        session.flush()
    session.rollback()
    month = rating_snapshots.get(session, NOVEMBER)
    month.status = "draft"
    session.add(month)
    with pytest.raises(PublishedRatingChanged):
        session.flush()
    session.rollback()
    assert [r.model_dump() for r in rating_snapshots.rows(session, rating_snapshots.get(session, NOVEMBER))] \
        == frozen_rows


def test_nobody_published_it_the_platform_does_and_says_so(session, world):
    with clock.frozen(L(12, 15, 8)):
        snapshot = rating_snapshots.publish(session, world.env, NOVEMBER, None)   # no draft yet: computed first
    assert (snapshot.status, snapshot.published_automatically, snapshot.published_by_id) == ("published", True, None)
    assert rating_snapshots.published_by(session, snapshot) == "автоматически"
    assert session.exec(select(RatingMonth).where(RatingMonth.month == NOVEMBER)).one().id == snapshot.id
    assert len(rating_snapshots.rows(session, snapshot)) == len(
        session.exec(select(RatingRow).where(RatingRow.rating_id == snapshot.id)).all()) > 0


# --- the command ------------------------------------------------------------------------------------

def test_the_rating_command_prints_and_writes_the_month(fresh_database, env, tmp_path):
    import csv
    import json

    import seed
    from pos.db import make_engine
    from pos.models import Organization
    from sqlmodel import Session
    from tests.test_seed_cli import make_app, run

    with Session(make_engine(fresh_database), expire_on_commit=False) as s:
        seed.load_demo(s, env)
        bodies = {o.id: o.name for o in s.exec(select(Organization).where(Organization.kind == "executive_body"))}
    app = make_app(fresh_database, tmp_path)
    month = rating.previous_month(clock.now().astimezone(TZ).date().replace(day=1))
    printed = run(app, "rating", "--month", month.strftime("%Y-%m"))
    table = list(csv.reader(printed.stdout.splitlines()))
    assert table[0][:5] == ["ID организации", "Организация", "1. Координация: в срок", "1. Координация: всего",
                            "1. Координация: %"]
    assert table[0][-4:] == ["Среднее, %", "Место", "Статус", "Опубликован"] and len(table[0]) == 2 + 18 + 4
    assert {int(r[0]): r[1] for r in table[1:]} == bodies                 # one row per ИОГВ, no one else
    assert {r[-2] for r in table[1:]} == {"draft"}
    assert all(r[4] == "нет данных" for r in table[1:] if r[3] == "0")
    assert any(int(r[3]) > 0 for r in table[1:])                        # the seeded month has passages
    assert printed.stderr == ""  # the demo's stored draft
    this_month = rating.next_month(month).strftime("%Y-%m")
    assert "сохранён как черновик" in run(app, "rating", "--month", this_month).stderr  # none stored: computed

    with Session(make_engine(fresh_database)) as s:
        with clock.frozen(datetime(2026, 12, 15, 9, tzinfo=TZ)):
            rating_snapshots.publish(s, env, month, None)
    again = json.loads(run(app, "rating", "--month", month.strftime("%Y-%m"), "--format", "json").stdout)
    assert (again["status"], again["automatically"], again["published_at"]) == ("published", True, "2026-12-15 09:00+09:00")
    assert {r["organization_id"] for r in again["rows"] if r["is_rated"]} == set(bodies)

    out = tmp_path / "rating.csv"
    run(app, "rating", "--month", month.strftime("%Y-%m"), "--output", str(out))
    raw = out.read_bytes()
    assert raw.startswith("\ufeff".encode())                          # Excel reads the Cyrillic
    written = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert [r[:-2] for r in written] == [r[:-2] for r in table] and {tuple(r[-2:]) for r in written[1:]} == {
        ("published", "2026-12-15 09:00+09:00")}
    book_file = tmp_path / "rating.xlsx"
    run(app, "rating", "--month", month.strftime("%Y-%m"), "--format", "xlsx", "--output", str(book_file))
    import openpyxl
    sheet = [list(r) for r in openpyxl.load_workbook(book_file).active.iter_rows(values_only=True)]
    assert sheet[0] == written[0] and [[str(c) for c in r[:4]] for r in sheet[1:]] == [r[:4] for r in written[1:]]
    assert "--output" in run(app, "rating", "--month", month.strftime("%Y-%m"), "--format", "xlsx", ok=False).output
    # No personal data: the seeded applicants' names, e-mails and phones are nowhere in it.
    text = printed.stdout + json.dumps(again, ensure_ascii=False) + raw.decode("utf-8-sig")
    for profile in seed.messages.DEMO_APPLICANTS.values():
        for value in (profile["full_name"], profile["email"], profile["phone"]):
            assert value not in text

    bad = run(app, "rating", "--month", "2026-13", ok=False)
    assert bad.exit_code != 0 and "ГГГГ-ММ" in bad.output
