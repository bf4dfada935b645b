"""Counted apart (clause 2.2.5): every analytics figure for official messages, for incidents, and together;
the rating of official messages unless incidents are switched in."""
from datetime import timedelta

import pytest

from pos import clock
from pos.services import analytics, analytics_problems, analytics_summary, incidents, rating
from pos.services.messages import act, directory
from pos.workflow import Action, Stage
from tests.applicant_app import app, signed_in  # noqa: F401

TZ = "Asia/Yakutsk"


@pytest.fixture
def mixed(session, env, world):
    """Three official messages and two incidents, all accepted by the ministry of transport (A); one of each
    answered."""
    u = world.users
    official = [world.message(Stage.COORDINATION, org="A") for _ in range(2)] + [world.message(Stage.ANSWERED, org="A")]
    posts = [{"network": "vk", "url": f"https://vk.com/wall-5_{i}", "author": f"author{i}",
              "text": text, "published_at": clock.now().isoformat(), "place": place}
             for i, (text, place) in enumerate([("Яма на дороге у школы, пробил колесо", "ул. Школьная, 1"),
                                                ("Не вывозят мусор у рынка, контейнеры переполнены", "ул. Рыночная, 2")])]
    made = [session.get(incidents.Message, r.incident_id) for r in incidents.intake(session, env, posts)]
    for incident in made:
        incident.category_id, incident.subcategory_id = world.cat["roads"].id, world.sub["pothole"].id
        session.commit()
        act(session, env, u["moderator"], incident.id, Action.ACCEPT, {"organization_id": world.org["A"].id})
    act(session, env, u["a.coordinator"], made[0].id, Action.ASSIGN_EXECUTOR, {"executor_id": u["a.executor"].id})
    act(session, env, u["a.executor"], made[0].id, Action.PREPARE_ANSWER,
        {"result": "resolved", "answer_text": "Яма заделана.", "executor_position": "Специалист",
         "executor_name": "Иванов Пётр Сергеевич", "approver_id": u["a.approver"].id})
    act(session, env, u["a.approver"], made[0].id, Action.APPROVE, {})
    return official, made


def scope(session, kind=None):
    today = clock.now().date()
    return analytics.make_scope(session, TZ, today - timedelta(days=2), today + timedelta(days=1), None, None, None,
                                clock.now(), kind=kind)


def test_the_summary_counts_apart_and_together(session, mixed):
    counts = {kind: analytics_summary.messages(session, scope(session, kind)) for kind in (None, "message", "incident")}
    assert (counts["message"].total, counts["incident"].total, counts[None].total) == (3, 2, 5)
    sources = {p.key: p.count for p in counts["incident"].by_source}
    assert sources == {"internet": 2}
    assert {p.label for p in counts[None].by_source} >= {"интернет"}


def test_deadlines_and_answers_count_apart_and_together(session, env, mixed):
    policy = directory(session, env).deadlines

    def passages(kind):
        rows = analytics.stage_compliance(session, scope(session, kind), policy)
        return sum(r.on_time + r.late + r.open for r in rows if r.stage == "coordination")

    def answers(kind):
        return sum(r.on_time + r.late for r in analytics.answer_compliance(session, scope(session, kind)))

    assert (passages("message"), passages("incident"), passages(None)) == (3, 2, 5)
    assert (answers("message"), answers("incident"), answers(None)) == (1, 1, 2)


def test_the_frequent_problems_count_apart(session, mixed):
    ranked, _ = analytics_problems.categories(session, scope(session, "incident"))
    assert sum(r.count for r in ranked) == 2
    ranked_all, _ = analytics_problems.categories(session, scope(session))
    assert sum(r.count for r in ranked_all) == 5


def test_the_rating_stays_on_official_messages_unless_incidents_are_switched_in(session, world, mixed):
    today = clock.now()
    start, end = today - timedelta(days=40), today + timedelta(days=40)
    official = rating.fetch_tally(session, start, end)
    with_incidents = rating.fetch_tally(session, start, end, with_incidents=True)
    org = world.org["A"].id
    assert official[(org, "coordination_first")].total == 3
    assert with_incidents[(org, "coordination_first")].total == 5
    assert with_incidents[(org, "approval_first")].total == official[(org, "approval_first")].total + 1


def test_the_analytics_page_filters_by_kind_and_its_export_too(app, session, world, mixed):
    client = signed_in(app, "analyst")
    page = client.get("/staff/analytics/summary?kind=incident").get_data(as_text=True)
    assert 'name="kind"' in page and "интернет" in page
    export = client.get("/staff/analytics/summary?kind=incident&format=csv&table=sources").get_data(as_text=True)
    assert "интернет" in export and "сайт" not in export
    assert "author0" not in page and "author0" not in export  # no handles in the analytics
    bad = client.get("/staff/analytics/summary?kind=other")
    assert bad.status_code == 400


def test_the_analyst_switches_incidents_into_the_rating_draft(app, session, env, world, mixed):
    from pos.services import rating_snapshots
    month = rating.previous_month(clock.now().date().replace(day=1))
    draft = rating_snapshots.compute_draft(session, env, month)
    assert draft.with_incidents is False
    client = signed_in(app, "analyst")
    page = client.get(f"/staff/rating?month={month:%Y-%m}").get_data(as_text=True)
    assert "Учитывать инциденты" in page and "инциденты не учтены" in page
    response = client.post("/staff/rating/recompute", data={"month": f"{month:%Y-%m}", "with_incidents": "y"})
    assert response.status_code == 303
    session.refresh(draft)
    assert draft.with_incidents is True
    assert "Учтены и инциденты" in client.get(f"/staff/rating?month={month:%Y-%m}").get_data(as_text=True)
