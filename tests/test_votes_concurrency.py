"""One ballot per person under real concurrency, on a database of the test's own (real commits): threads, each
with its own session and connection. Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from pos.db import make_engine
from pos.models.votes import VoteAnswer, VoteBallot, VoteParticipation
from pos.services import votes
from pos.votes import Choice
from tests.vote_factories import applicants, make_vote, option_ids


@pytest.fixture
def live(fresh_database, env):
    from tests.factories import World
    engine = make_engine(fresh_database)
    with Session(engine, expire_on_commit=False) as s:
        world = World(s, env)
        vote = make_vote(world)
        people = [p.id for p in applicants(world, 200)]
        ids = option_ids(s, vote)
        question = votes.questions(s, vote.id)[0].id
    yield engine, vote.id, question, ids, people
    engine.dispose()


def _count(engine, model) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def _cast(engine, env, vote_id, question, option, applicant_id, start: threading.Barrier | None = None) -> str:
    with Session(engine, expire_on_commit=False) as s:
        if start is not None:
            start.wait(30)
        try:
            votes.cast(s, env, vote_id, applicant_id, {question: Choice(option_ids=[option])})
            return "cast"
        except votes.AlreadyCast:
            return "already"


def test_twenty_concurrent_casts_by_one_person_give_one_ballot(live, env):
    engine, vote_id, question, ids, people = live
    start = threading.Barrier(20)
    with ThreadPoolExecutor(20) as pool:
        outcomes = list(pool.map(lambda n: _cast(engine, env, vote_id, question, ids[n % 4], people[0], start),
                                 range(20)))
    assert sorted(outcomes) == ["already"] * 19 + ["cast"]
    assert _count(engine, VoteBallot) == 1 and _count(engine, VoteParticipation) == 1
    assert _count(engine, VoteAnswer) == 1


def test_the_unique_record_decides_when_every_request_passed_the_check(live, env, monkeypatch):
    """All 20 past the look-up before any commits: the database's constraint keeps one, the rest are told."""
    engine, vote_id, question, ids, people = live
    monkeypatch.setattr(votes, "has_taken_part", lambda *_args: False)
    start = threading.Barrier(20)
    with ThreadPoolExecutor(20) as pool:
        outcomes = list(pool.map(lambda n: _cast(engine, env, vote_id, question, ids[0], people[1], start),
                                 range(20)))
    assert outcomes.count("cast") == 1 and outcomes.count("already") == 19
    assert _count(engine, VoteBallot) == 1 and _count(engine, VoteAnswer) == 1


def test_two_hundred_people_at_once_give_exactly_two_hundred_ballots(live, env):
    engine, vote_id, question, ids, people = live
    with ThreadPoolExecutor(20) as pool:
        outcomes = list(pool.map(lambda n: _cast(engine, env, vote_id, question, ids[n % 4], people[n]),
                                 range(200)))
    assert outcomes == ["cast"] * 200
    assert _count(engine, VoteBallot) == 200 and _count(engine, VoteParticipation) == 200
    with Session(engine) as s:
        by_option = dict(s.exec(select(VoteAnswer.option_id, func.count()).group_by(VoteAnswer.option_id)).all())
    assert by_option == {i: 50 for i in ids}
