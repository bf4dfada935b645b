"""The demo's votes and polls: in each jurisdiction a vote and a poll in every state — a draft, an open one, a
closed one with published results — with ballots from the demo applicants and residents (applicants without an
account), made through the real services at the moments they would have happened."""
from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from pos import clock
from pos.models import Applicant, User
from pos.models.votes import BUDGET, MULTI, POLL, SCALE, SINGLE, TEXT, VOTE
from pos.services import votes
from pos.services.directory import actor_for
from pos.services.messages import Env
from pos.votes import Choice

RESIDENTS = ["Алексеев", "Борисова", "Васильев", "Григорьева", "Дмитриев", "Егорова", "Жуков", "Зуева",
             "Ильин", "Калинина", "Лаптев", "Миронова", "Назаров", "Осипова", "Панов", "Родионова", "Сафонов",
             "Тихонова", "Уваров", "Федотова", "Харитонов", "Цветкова", "Шубин", "Юдина"]

PROJECTS = {
    "zhkh": ("Благоустройство общественных пространств Благовещенска", 10_000_000, [
        ("Сквер у Дома культуры", "Лавочки, освещение, детская площадка и дорожки.", 4_200_000),
        ("Набережная: спуск к воде", "Пандус, перила и смотровая площадка у ул. Ленина.", 3_600_000),
        ("Двор на ул. Горького, 250", "Парковка, тротуар и зелёная зона.", 2_800_000),
        ("Стадион школы № 5", "Беговые дорожки и уличные тренажёры.", 2_500_000),
    ]),
    "tynda": ("Народный бюджет Тынды", 6_000_000, [
        ("Каток в микрорайоне Орбита", "Заливной каток с освещением и раздевалкой.", 2_400_000),
        ("Тротуар на ул. Красная Пресня", "Тротуар и пешеходный переход у пекарни.", 1_900_000),
        ("Детская площадка на ул. Мохортова", "Горки, качели и мягкое покрытие.", 1_700_000),
        ("Освещение парка Железнодорожников", "Фонари вдоль главной аллеи.", 1_500_000),
    ]),
}
SCORES = (5, 4, 4, 3, 5, 2, 4, 3)


def _local(env: Env, days: int, hour: int = 9) -> datetime:
    tz = ZoneInfo(env.timezone)
    day = (clock.now().astimezone(tz) + timedelta(days=days)).date()
    return datetime.combine(day, time(hour, 0), tz)


def _fields(env: Env, title: str, description: str, start: int, end: int, **rules) -> votes.VoteFields:
    s, e = _local(env, start), _local(env, end, 21)
    return votes.VoteFields(title=title, description=description, starts_on=s.date(), starts_time=s.time(),
                            ends_on=e.date(), ends_time=e.time(), **rules)


def _residents(session: Session) -> list[Applicant]:
    now = clock.now()
    people = []
    for n, surname in enumerate(RESIDENTS):
        person = Applicant(kind="citizen", full_name=f"{surname} (демо-житель)", email=f"resident{n}@pos.local",
                           consent_at=now, consent_version="demo", created_at=now)
        session.add(person)
        people.append(person)
    session.flush()
    return people


def _vote(session, env, user, org_id, key, state, people, rng) -> None:
    title, budget, projects = PROJECTS[key]
    actor = actor_for(session, user)
    start, end = {"draft": (7, 21), "open": (-3, 10), "published": (-40, -10)}[state]
    names = {"draft": f"{title}: {clock.now().year + 1} год (черновик)", "open": title,
             "published": f"{title}: итоги прошлого этапа"}
    fields = _fields(env, names[state], "Выберите проекты, которые будут построены в первую очередь: их общая "
                     f"стоимость не должна превышать бюджет {budget:,} ₽.".replace(",", " "), start, end,
                     style=BUDGET, budget=budget)
    with clock.frozen(_local(env, start - 1)):
        vote = votes.create(session, env, user, actor, VOTE, org_id, fields)
        for name, text, cost in projects:
            votes.add_option(session, env, actor, vote.id, name, text, cost, None)
        if state != "draft":
            votes.schedule(session, env, actor, vote.id)
    if state == "draft":
        return
    q = votes.questions(session, vote.id)[0]
    opts = votes.options(session, vote.id)[q.id]
    for n, person in enumerate(people):
        picks, spent = [], 0
        for option in sorted(opts, key=lambda o: rng.random() - (0.3 if o.position == n % 2 else 0)):
            if spent + option.cost <= budget and len(picks) < 2:
                picks.append(option.id)
                spent += option.cost
        with clock.frozen(_local(env, start) + timedelta(hours=n)):
            votes.cast(session, env, vote.id, person.id, {q.id: Choice(option_ids=picks)})
    if state == "published":
        votes.publish_results(session, env, user, actor, vote.id)


def _poll(session, env, user, org_id, key, state, people, rng) -> None:
    actor = actor_for(session, user)
    place = "Благовещенске" if key == "zhkh" else "Тынде"
    start, end = {"draft": (5, 20), "open": (-2, 12), "published": (-35, -8)}[state]
    names = {"draft": f"Качество уборки снега в {place} (черновик)", "open": f"Общественный транспорт в {place}",
             "published": f"Вывоз мусора в {place}: итоги опроса"}
    period = _fields(env, names[state], "Социологический опрос: ответы анонимны, итоги публикуются после окончания.",
                     start, end)
    with clock.frozen(_local(env, start - 1)):
        poll = votes.create(session, env, user, actor, POLL, org_id, period)
        for fields in (
            votes.QuestionFields("Как часто вы сталкиваетесь с проблемой?", SINGLE,
                                 options_text="Каждый день\nРаз в неделю\nРеже\nНикогда", other_allowed=True),
            votes.QuestionFields("Что нужно улучшить в первую очередь?", MULTI, min_choices=1, max_choices=2,
                                 options_text="Расписание\nЧистоту\nИнформирование\nЦены"),
            votes.QuestionFields("Насколько вы довольны сейчас?", SCALE),
            votes.QuestionFields("Ваши предложения", TEXT, required=False),
        ):
            votes.add_question(session, actor, poll.id, fields)
        if state != "draft":
            votes.schedule(session, env, actor, poll.id)
    if state == "draft":
        return
    qs = votes.questions(session, poll.id)
    opts = votes.options(session, poll.id)
    for n, person in enumerate(people):
        other = n % 7 == 3
        choices = {
            qs[0].id: Choice(option_ids=[] if other else [opts[qs[0].id][n % 4].id], other=other,
                             other_text="По-разному, зависит от сезона" if other else ""),
            qs[1].id: Choice(option_ids=[o.id for o in rng.sample(opts[qs[1].id], 1 + n % 2)]),
            qs[2].id: Choice(value=SCORES[n % len(SCORES)]),
            qs[3].id: Choice(text=["Чаще информировать жителей.", "", "Поставить больше урн.", ""][n % 4]),
        }
        with clock.frozen(_local(env, start) + timedelta(hours=n)):
            votes.cast(session, env, poll.id, person.id, choices)
    if state == "published":
        votes.publish_results(session, env, user, actor, poll.id)


def load(session: Session, env: Env, orgs) -> int:
    """Returns how many votes and polls it made."""
    rng = random.Random(10)
    demo = list(session.exec(select(Applicant).where(Applicant.user_id.is_not(None)).order_by(Applicant.id)))
    residents = _residents(session)
    session.commit()
    made = 0
    for key, login in (("zhkh", "zhkh.publisher"), ("tynda", "tynda.publisher")):
        user = session.exec(select(User).where(User.login == login)).one()
        for state in ("draft", "open", "published"):
            # The demo's own applicants took part in the past ones; the open ones are left for them to try.
            people = residents + demo if state == "published" else residents[:15 if key == "zhkh" else 11]
            _vote(session, env, user, orgs[key].id, key, state, people, rng)
            _poll(session, env, user, orgs[key].id, key, state, people, rng)
            made += 2
    return made
