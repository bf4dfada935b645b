"""Grouping posts into incidents: a fixture whose right grouping is written here; the moderator's merge and split."""
import json
from pathlib import Path

import pytest
from sqlmodel import select

from pos import incident_grouping as grouping
from pos.models import HistoryEntry, Message
from pos.services import incidents, messages
from pos.workflow import Action, Stage

FIXTURE = Path(__file__).parent / "fixtures" / "grouping_posts.jsonl"
POSTS = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
# The right grouping, by the posts' numbers (the URL's tail):
RIGHT = [
    {101, 102, 103},  # the pothole on Lenina: other words and case forms, one without a place, a day later
    {104},  # the same words about another street (ул. Мира): another incident
    {105},  # the same words as 101 a week later: another incident
    {106, 107},  # rubbish: another problem at the same address as 101, and a post without a place joins it
]


def number(post) -> int:
    return int(post.url.rsplit("_", 1)[-1]) if "_" in post.url else int(post.url.rsplit("/", 1)[-1])


def grouping_of(session, results) -> list[set[int]]:
    ids = sorted({r.incident_id for r in results})
    return [{number(p) for p in incidents.posts_of(session, i)} for i in ids]


def test_the_fixture_is_grouped_as_written(session, env, world):
    results = incidents.intake(session, env, POSTS)
    assert all(r.status == "created" for r in results)
    assert sorted(grouping_of(session, results), key=min) == sorted(RIGHT, key=min)


def test_posts_one_by_one_group_the_same(session, env, world):
    results = [incidents.intake(session, env, [p])[0] for p in POSTS]
    assert sorted(grouping_of(session, results), key=min) == sorted(RIGHT, key=min)


def test_a_post_never_joins_an_incident_past_moderation_s_reach(session, env, world):
    first = incidents.intake(session, env, [POSTS[0]])[0]
    messages.act(session, env, world.users["moderator"], first.incident_id, Action.CLOSE_NO_ANSWER,
                 {"comment": "Уже устранено"})
    second = incidents.intake(session, env, [POSTS[1]])[0]
    assert second.incident_id != first.incident_id


def test_similarity_by_lemmas():
    a = grouping.text_lemmas("Огромная яма на дороге")
    b = grouping.text_lemmas("огромной ямой на дорогах")
    assert set(a) == set(b) and grouping.similarity(a, b) == 1.0
    assert grouping.similarity(a, grouping.text_lemmas("Не вывозят мусор")) == 0.0
    assert grouping.places_differ("ул. Ленина, 5", "ул. Мира") and not grouping.places_differ("ул. Ленина", "")


def test_the_window_is_a_setting(session, env, world):
    results = incidents.intake(session, env, [POSTS[0], POSTS[4]], window_hours=24 * 8)
    assert results[0].incident_id == results[1].incident_id


# --- the moderator's merge and split ----------------------------------------------------

@pytest.fixture
def grouped(session, env, world):
    results = incidents.intake(session, env, POSTS)
    by_post = {number(p): p for r in results for p in incidents.posts_of(session, r.incident_id)}
    return {n: by_post[n].incident_id for n in by_post}, by_post


def test_merge_moves_the_posts_and_closes_the_other_with_history(session, env, world, grouped):
    incident_of, _posts = grouped
    target, other = session.get(Message, incident_of[101]), session.get(Message, incident_of[104])
    incidents.merge(session, env, world.users["moderator"], target.id, other.number)
    assert {number(p) for p in incidents.posts_of(session, target.id)} == {101, 102, 103, 104}
    assert incidents.posts_of(session, other.id) == []
    assert other.stage == Stage.CLOSED
    actions = [h.action for h in session.exec(select(HistoryEntry).where(HistoryEntry.message_id == other.id))]
    assert actions[-2:] == [Action.CLOSE_NO_ANSWER, incidents.MERGED_INTO]
    entry = session.exec(select(HistoryEntry).where(HistoryEntry.message_id == target.id,
                                                    HistoryEntry.action == incidents.MERGED)).one()
    assert entry.details["other_number"] == other.number and entry.actor_id == world.users["moderator"].id


def test_merge_is_the_moderator_s_and_checks_its_input(session, env, world, grouped):
    incident_of, _posts = grouped
    target = session.get(Message, incident_of[101])
    with pytest.raises(PermissionError):
        incidents.merge(session, env, world.users["a.coordinator"], target.id, "x")
    with pytest.raises(LookupError, match="не найден"):
        incidents.merge(session, env, world.users["moderator"], target.id, "ПОС-0000-000000")
    with pytest.raises(ValueError, match="это он и есть"):
        incidents.merge(session, env, world.users["moderator"], target.id, target.number)
    official = world.message(Stage.MODERATION)
    with pytest.raises(LookupError):
        incidents.merge(session, env, world.users["moderator"], target.id, official.number)


def test_move_out_makes_a_new_incident_with_history_on_both(session, env, world, grouped):
    incident_of, posts = grouped
    source = session.get(Message, incident_of[101])
    new = incidents.move_out(session, env, world.users["moderator"], source.id, posts[103].id)
    assert (new.kind, new.source, new.stage) == ("incident", "internet", Stage.MODERATION)
    assert {number(p) for p in incidents.posts_of(session, new.id)} == {103}
    assert {number(p) for p in incidents.posts_of(session, source.id)} == {101, 102}
    moved_in = session.exec(select(HistoryEntry).where(HistoryEntry.message_id == new.id,
                                                       HistoryEntry.action == incidents.POST_MOVED_IN)).one()
    assert moved_in.details["other_number"] == source.number
    lone = session.get(Message, incident_of[104])
    with pytest.raises(ValueError, match="одна публикация"):
        incidents.move_out(session, env, world.users["moderator"], lone.id, posts[104].id)
