"""Votes and polls for tests: a publisher in each jurisdiction, votes of each style, a poll of every question type,
built through the real services."""
from __future__ import annotations

from datetime import date, time, timedelta

from sqlmodel import Session

from pos import clock
from pos.models import Applicant
from pos.models.votes import MULTI, POLL, SCALE, SINGLE, TEXT, VOTE
from pos.services import accounts, votes
from pos.services.directory import actor_for
from pos.workflow import Role

TZ = "Asia/Yakutsk"  # UTC+9, the tests' installation


def publisher(world, key: str = "B"):
    login = f"{key.lower()}.publisher"
    if login not in world.users:
        user = accounts.create_user(world.session, login, "secret", f"Организатор {key}")
        accounts.grant(world.session, user, Role.PUBLISHER, world.org[key].id)
        world.session.commit()
        world.users[login] = user
    return world.users[login]


def actor(world, login: str):
    return actor_for(world.session, world.users[login])


def local_day(days: int = 0) -> date:
    return (clock.now() + timedelta(hours=9) + timedelta(days=days)).date()


def fields(title="Благоустройство дворов", *, start_days=-1, end_days=7, style=SINGLE, max_choices=None,
           budget=None, start=time(0, 0), end=time(23, 59)) -> votes.VoteFields:
    return votes.VoteFields(title=title, description="Выберите проекты на следующий год.",
                            starts_on=local_day(start_days), starts_time=start, ends_on=local_day(end_days),
                            ends_time=end, style=style, max_choices=max_choices, budget=budget)


def make_vote(world, *, style=SINGLE, costs=(100, 200, 300, 400), budget=None, max_choices=None, key="B",
              schedule=True, **kw):
    user = publisher(world, key)
    who = actor(world, user.login)
    vote = votes.create(world.session, world.env, user, who, VOTE, world.org[key].id,
                        fields(style=style, budget=budget, max_choices=max_choices, **kw))
    for n, cost in enumerate(costs, 1):
        votes.add_option(world.session, world.env, who, vote.id, f"Проект {n}", f"Описание {n}", cost, None)
    if schedule:
        votes.schedule(world.session, world.env, who, vote.id)
    return vote


def make_poll(world, *, key="B", schedule=True, **kw):
    user = publisher(world, key)
    who = actor(world, user.login)
    poll = votes.create(world.session, world.env, user, who, POLL, world.org[key].id, fields("Опрос о транспорте", **kw))
    for f in (
        votes.QuestionFields("Чем вы ездите?", SINGLE, options_text="Автобус\nМашина\nПешком", other_allowed=True),
        votes.QuestionFields("Что улучшить?", MULTI, min_choices=1, max_choices=2,
                             options_text="Остановки\nРасписание\nДороги"),
        votes.QuestionFields("Ваши предложения", TEXT, required=False),
        votes.QuestionFields("Довольны ли вы транспортом?", SCALE),
    ):
        votes.add_question(world.session, who, poll.id, f)
    if schedule:
        votes.schedule(world.session, world.env, who, poll.id)
    return poll


def option_ids(session: Session, vote) -> list[int]:
    q = votes.questions(session, vote.id)[0]
    return [o.id for o in votes.options(session, vote.id)[q.id]]


def applicants(world, n: int, prefix: str = "voter") -> list[Applicant]:
    found = []
    for i in range(n):
        login = f"{prefix}{i}"
        user = accounts.create_user(world.session, login, "secret", f"Житель Номер{i}", is_staff=False,
                                    email=f"{login}@mail.example")
        person = Applicant(user_id=user.id, kind="citizen", full_name=f"Иванов{i} Житель", email=f"{login}@mail.example",
                           phone=f"+7914{i:07d}", consent_at=clock.now(), consent_version="t", created_at=clock.now())
        world.session.add(person)
        world.session.flush()
        found.append(person)
        world.users[login] = user
    world.session.commit()
    return found



