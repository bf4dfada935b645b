"""Votes and polls, the rules and the service: every voting style and question type, the budget at its edges,
the lifecycle and its refusals in local time, one ballot per person, results only once published."""
from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlmodel import select

from pos import clock
from pos import votes as rules
from pos.models import OutboxEvent
from pos.models.votes import BUDGET, MULTI, VoteAnswer, VoteBallot, VoteParticipation
from pos.services import votes
from pos.votes import Choice, Refused
from tests.vote_factories import actor, applicants, fields, make_poll, make_vote, option_ids, publisher


def cast(world, vote, person, picks=None, **per_question):
    qs = votes.questions(world.session, vote.id)
    choices = {qs[0].id: Choice(option_ids=list(picks or []))} if picks is not None else {}
    for index, choice in per_question.items():
        choices[qs[int(index[1:])].id] = choice
    return votes.cast(world.session, world.env, vote.id, person.id, choices)


def publish(world, vote, key="B"):
    with clock.frozen(clock.as_utc(vote.ends_at) + timedelta(minutes=1)):
        return votes.publish_results(world.session, world.env, publisher(world, key), actor(world, f"{key.lower()}.publisher"),
                                     vote.id)


# --- voting styles ---------------------------------------------------------------------------

def test_single_choice_takes_one_option(world):
    vote = make_vote(world)
    a, b = applicants(world, 2)
    ids = option_ids(world.session, vote)
    with pytest.raises(Refused, match="только один"):
        cast(world, vote, a, ids[:2])
    with pytest.raises(Refused, match="Выберите вариант"):
        cast(world, vote, a, [])
    cast(world, vote, a, ids[:1])
    cast(world, vote, b, ids[1:2])
    results = publish(world, vote) and votes.results(world.session, vote)
    counts = [o.count for o in results.questions[0].options]
    assert counts == [1, 1, 0, 0] and results.participants == 2
    assert [o.percent for o in results.questions[0].options] == [50.0, 50.0, 0.0, 0.0]


def test_up_to_n_options(world):
    vote = make_vote(world, style=MULTI, max_choices=2)
    (a,) = applicants(world, 1)
    ids = option_ids(world.session, vote)
    with pytest.raises(Refused, match="не больше 2"):
        cast(world, vote, a, ids[:3])
    cast(world, vote, a, ids[:2])
    assert world.session.exec(select(VoteAnswer)).all().__len__() == 2


def test_budget_exactly_the_budget_is_taken_one_rouble_over_is_refused(world):
    vote = make_vote(world, style=BUDGET, budget=500, costs=(100, 200, 300, 401))
    a, b = applicants(world, 2)
    ids = option_ids(world.session, vote)
    with pytest.raises(Refused) as over:
        cast(world, vote, a, [ids[0], ids[3]])  # 501
    assert "больше бюджета" in over.value.problems[0][1] and "1\u00a0₽" in over.value.problems[0][1]
    cast(world, vote, a, [ids[1], ids[2]])  # 500 exactly
    cast(world, vote, b, [ids[0], ids[3]][1:])  # 401
    assert rules.remaining(vote, votes.options(world.session, vote.id)[votes.questions(world.session, vote.id)[0].id],
                           [ids[0], ids[3]]) == (501, -1)


def test_budget_results_rank_by_votes_and_say_which_fit(world):
    vote = make_vote(world, style=BUDGET, budget=500, costs=(100, 200, 300, 400))
    people = applicants(world, 4)
    ids = option_ids(world.session, vote)
    for person, picks in zip(people, ([ids[3]], [ids[3], ids[0]], [ids[2], ids[1]], [ids[2]])):
        cast(world, vote, person, picks)
    publish(world, vote)
    rows = votes.results(world.session, vote).questions[0].options
    # Two votes each for 300 and 400 (the cheaper first on a tie): 300 fits, 400 does not (700); of the
    # one-vote projects 100 fits (400 in all), 200 does not (600).
    assert [(r.place, r.title, r.count, r.fits, r.cumulative) for r in rows] == [
        (1, "Проект 3", 2, True, 300), (2, "Проект 4", 2, False, 300), (3, "Проект 1", 1, True, 400),
        (4, "Проект 2", 1, False, 400)]


# --- poll question types ----------------------------------------------------------------------

def _poll_choices(world, poll, *, single=None, other="", multi=(), text="", scale=None):
    qs = votes.questions(world.session, poll.id)
    opts = votes.options(world.session, poll.id)
    return {
        qs[0].id: Choice(option_ids=[opts[qs[0].id][single].id] if single is not None else [], other=bool(other),
                         other_text=other),
        qs[1].id: Choice(option_ids=[opts[qs[1].id][i].id for i in multi]),
        qs[2].id: Choice(text=text),
        qs[3].id: Choice(value=scale),
    }


def test_poll_every_question_type_and_its_refusals(world):
    poll = make_poll(world)
    a, b, c = applicants(world, 3)
    with pytest.raises(Refused) as empty:
        votes.cast(world.session, world.env, poll.id, a.id, _poll_choices(world, poll))
    found = dict(empty.value.problems)
    qs = votes.questions(world.session, poll.id)
    assert found[f"q{qs[0].id}"] == "Выберите вариант."
    assert found[f"q{qs[1].id}"] == "Выберите хотя бы один вариант."
    assert f"q{qs[2].id}" not in found  # free text is not required here
    assert found[f"q{qs[3].id}"] == "Выберите оценку от 1 до 5."
    with pytest.raises(Refused, match="не больше 2"):
        votes.cast(world.session, world.env, poll.id, a.id, _poll_choices(world, poll, single=0, multi=(0, 1, 2),
                                                                           scale=3))
    with pytest.raises(Refused):
        votes.cast(world.session, world.env, poll.id, a.id, _poll_choices(world, poll, single=0, multi=(0,), scale=6))
    with pytest.raises(Refused) as both:
        choices = _poll_choices(world, poll, single=0, other="Велосипед", multi=(0,), scale=3)
        votes.cast(world.session, world.env, poll.id, a.id, choices)
    assert "только один" in dict(both.value.problems)[f"q{qs[0].id}"]
    votes.cast(world.session, world.env, poll.id, a.id, _poll_choices(world, poll, single=0, multi=(0, 1),
                                                                       text="Больше автобусов", scale=4))
    votes.cast(world.session, world.env, poll.id, b.id, _poll_choices(world, poll, other="Велосипед", multi=(1,),
                                                                       scale=2))
    missing_other = _poll_choices(world, poll, multi=(1,), scale=2)
    missing_other[qs[0].id].other = True
    with pytest.raises(Refused, match="Другое"):
        votes.cast(world.session, world.env, poll.id, c.id, missing_other)
    publish(world, poll)
    results = votes.results(world.session, poll)
    first, second, third, fourth = results.questions
    assert [(o.title, o.count) for o in first.options] == [("Автобус", 1), ("Машина", 0), ("Пешком", 0), ("Другое", 1)]
    assert first.texts == ["Велосипед"]
    assert [o.count for o in second.options] == [1, 2, 0]
    assert third.texts == ["Больше автобусов"] and third.answered == 1
    assert [o.count for o in fourth.options] == [0, 1, 0, 1, 0] and fourth.mean == 3.0
    header, rows = votes.responses(world.session, poll)
    assert header == ["№", "Чем вы ездите?", "Что улучшить?", "Ваши предложения", "Довольны ли вы транспортом?"]
    cells = sorted(tuple(r[1:]) for r in rows)
    assert cells == [("Автобус", "Остановки; Расписание", "Больше автобусов", "4"),
                     ("Другое: Велосипед", "Расписание", "", "2")]


def test_a_minimum_above_one_is_checked(world):
    poll = make_poll(world, schedule=False)
    who = actor(world, "b.publisher")
    question = votes.add_question(world.session, who, poll.id, votes.QuestionFields(
        "Три из четырёх", MULTI, min_choices=2, max_choices=3, options_text="а\nб\nв\nг", required=False))
    votes.schedule(world.session, world.env, who, poll.id)
    (a,) = applicants(world, 1)
    opts = [o.id for o in votes.options(world.session, poll.id)[question.id]]
    base = {q.id: Choice(option_ids=[votes.options(world.session, poll.id)[q.id][0].id]) for q in
            votes.questions(world.session, poll.id)[:2]}
    base[votes.questions(world.session, poll.id)[3].id] = Choice(value=1)
    with pytest.raises(Refused, match="не меньше 2 вариантов \\(выбрано 1\\)"):
        votes.cast(world.session, world.env, poll.id, a.id, {**base, question.id: Choice(option_ids=opts[:1])})
    votes.cast(world.session, world.env, poll.id, a.id, {**base, question.id: Choice(option_ids=opts[:2])})


def test_question_rules_are_checked_when_added(world):
    poll = make_poll(world, schedule=False)
    who = actor(world, "b.publisher")
    with pytest.raises(Refused) as few:
        votes.add_question(world.session, who, poll.id, votes.QuestionFields("?", "single", options_text="Одно"))
    assert "два варианта" in few.value.problems[0][1]
    with pytest.raises(Refused) as bounds:
        votes.add_question(world.session, who, poll.id,
                           votes.QuestionFields("?", MULTI, min_choices=3, max_choices=2, options_text="а\nб\nв"))
    assert "Минимум" in dict(bounds.value.problems)["min_choices"]


# --- lifecycle ---------------------------------------------------------------------------------

def test_lifecycle_from_the_period_and_the_marks(world):
    vote = make_vote(world, schedule=False, start_days=1, end_days=2)
    assert rules.status(vote) == rules.DRAFT
    votes.schedule(world.session, world.env, actor(world, "b.publisher"), vote.id)
    assert rules.status(vote) == rules.SCHEDULED
    assert rules.status(vote, clock.as_utc(vote.starts_at)) == rules.OPEN
    assert rules.status(vote, clock.as_utc(vote.ends_at)) == rules.CLOSED
    publish(world, vote)
    assert rules.status(vote) == rules.PUBLISHED


def test_cast_before_start_and_after_end_across_local_midnight(world):
    # Open from 00:00 tomorrow local to 23:59 tomorrow local (UTC+9: the day starts at 15:00 UTC the day before).
    vote = make_vote(world, start_days=1, end_days=1, start=time(0, 0), end=time(23, 59))
    a, b, c = applicants(world, 3)
    ids = option_ids(world.session, vote)
    start = clock.as_utc(vote.starts_at)
    assert start.hour == 15  # local midnight, in UTC
    with clock.frozen(start - timedelta(seconds=1)):  # 23:59:59 local, the day before
        with pytest.raises(Refused, match="ещё не началось"):
            cast(world, vote, a, ids[:1])
    with clock.frozen(start):
        cast(world, vote, a, ids[:1])
    end = clock.as_utc(vote.ends_at)
    with clock.frozen(end - timedelta(seconds=1)):
        cast(world, vote, b, ids[:1])
    with clock.frozen(end + timedelta(minutes=2)):  # 00:01 local, the day after
        with pytest.raises(Refused, match="завершено .* 23:59"):
            cast(world, vote, c, ids[:1])


def test_no_change_after_the_first_ballot(world):
    vote = make_vote(world)
    who = actor(world, "b.publisher")
    votes.add_option(world.session, world.env, who, vote.id, "Ещё один", "", 50, None)  # before: freely
    (a,) = applicants(world, 1)
    cast(world, vote, a, option_ids(world.session, vote)[:1])
    with pytest.raises(Refused, match="уже подан первый голос"):
        votes.add_option(world.session, world.env, who, vote.id, "Поздно", "", 50, None)
    with pytest.raises(Refused, match="уже подан первый голос"):
        votes.delete_option(world.session, who, vote.id, option_ids(world.session, vote)[0])
    with pytest.raises(Refused, match="уже подан первый голос"):
        votes.update_fields(world.session, world.env, who, vote.id, fields(style=MULTI, max_choices=3))
    with pytest.raises(Refused, match="уже подан первый голос"):
        votes.unschedule(world.session, who, vote.id)


def test_one_ballot_per_person_and_the_ballot_holds_no_person(world):
    vote = make_vote(world)
    (a,) = applicants(world, 1)
    ids = option_ids(world.session, vote)
    cast(world, vote, a, ids[:1])
    with pytest.raises(votes.AlreadyCast, match="уже приняли участие"):
        cast(world, vote, a, ids[1:2])
    assert len(world.session.exec(select(VoteBallot)).all()) == 1
    assert len(world.session.exec(select(VoteParticipation)).all()) == 1
    columns = set(VoteBallot.__table__.columns.keys()) | set(VoteAnswer.__table__.columns.keys())
    assert not columns & {"applicant_id", "user_id", "cast_at", "created_at"}


def test_results_refused_before_publication_and_publication_only_after_the_end(world):
    vote = make_vote(world)
    (a,) = applicants(world, 1)
    cast(world, vote, a, option_ids(world.session, vote)[:1])
    with pytest.raises(votes.NotPublished):
        votes.results(world.session, vote)
    with pytest.raises(votes.NotPublished):
        votes.responses(world.session, vote)
    with pytest.raises(Refused, match="после окончания"):
        votes.publish_results(world.session, world.env, publisher(world), actor(world, "b.publisher"), vote.id)
    publish(world, vote)
    with pytest.raises(Refused, match="уже опубликованы"):
        publish(world, vote)
    rows = world.session.exec(select(OutboxEvent).where(OutboxEvent.idempotency_key == f"vote-results:{vote.id}")).all()
    assert len(rows) == 1 and rows[0].payload["applicant_ids"] == [a.id]


def test_only_the_organizers_of_its_organization_and_the_administrator_manage(world):
    vote = make_vote(world)
    publisher(world, "A")
    with pytest.raises(PermissionError):
        votes.add_option(world.session, world.env, actor(world, "a.publisher"), vote.id, "Чужой", "", 1, None)
    with pytest.raises(Refused, match="только своей организации"):
        votes.create(world.session, world.env, world.u("a.publisher"), actor(world, "a.publisher"), "vote",
                     world.org["B"].id, fields())
    assert votes.can_manage(actor(world, "admin"), vote)
    assert not votes.can_manage(actor(world, "analyst"), vote)


def test_the_opening_is_announced_once_to_those_who_asked(world):
    vote = make_vote(world, start_days=1, end_days=3)
    a, b = applicants(world, 2)
    votes.subscribe(world.session, a.id, world.org["region"].id, True)
    votes.subscribe(world.session, b.id, world.org["city"].id, True)  # another territory
    assert votes.announce_openings(world.session) == 0  # not yet open
    with clock.frozen(clock.as_utc(vote.starts_at) + timedelta(minutes=5)):
        assert votes.announce_openings(world.session) == 1
        assert votes.announce_openings(world.session) == 0
    rows = world.session.exec(select(OutboxEvent).where(OutboxEvent.idempotency_key == f"vote-opened:{vote.id}")).all()
    assert len(rows) == 1 and rows[0].payload["applicant_ids"] == [a.id]


def test_opening_and_results_notifications_reach_the_applicants(world):
    from pos.services import notifications
    vote = make_vote(world, start_days=1, end_days=3)
    (a,) = applicants(world, 1)
    votes.subscribe(world.session, a.id, None, True)
    with clock.frozen(clock.as_utc(vote.starts_at) + timedelta(minutes=5)):
        votes.announce_openings(world.session)
        cast(world, vote, a, option_ids(world.session, vote)[:1])
    publish(world, vote)
    for key, title in ((f"vote-opened:{vote.id}", "Началось голосование"), (f"vote-results:{vote.id}",
                                                                            "Опубликованы итоги")):
        row = world.session.exec(select(OutboxEvent).where(OutboxEvent.idempotency_key == key)).one()
        written = notifications.write_for(world.session, {"TIMEZONE": "Asia/Yakutsk"}, row)
        assert [(n.applicant_id, n.title.startswith(title)) for n, _ in written] == [(a.id, True)]
        assert f"/votes/{vote.id}" in written[0][0].body


def test_a_period_that_ends_before_it_starts_is_refused(world):
    with pytest.raises(Refused) as bad:
        votes.create(world.session, world.env, publisher(world), actor(world, "b.publisher"), "vote",
                     world.org["B"].id, fields(start_days=2, end_days=1))
    assert "позже начала" in dict(bad.value.problems)["ends_on"]
    with pytest.raises(Refused) as budget:
        votes.create(world.session, world.env, publisher(world), actor(world, "b.publisher"), "vote",
                     world.org["B"].id, fields(style=BUDGET))
    assert "бюджет" in dict(budget.value.problems)["budget"]

