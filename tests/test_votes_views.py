"""Votes and polls through the web: the organizer prepares and publishes, applicants cast without JavaScript and
with htmx, nothing of the results shows anywhere while they run, and no result page or export names anyone."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from pos import clock
from pos.models.votes import BUDGET, VoteBallot, VoteOption
from pos.services import votes
from pos.votes import Choice
from tests.applicant_app import app, png_bytes, signed_in, upload  # noqa: F401  (fixtures)
from tests.vote_factories import applicants, local_day, make_poll, make_vote, option_ids, publisher


@pytest.fixture
def organizer(app, world):  # noqa: F811
    publisher(world)
    return signed_in(app, "b.publisher")


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_organizer_creates_a_budget_vote_with_projects_and_a_picture_and_schedules_it(app, world, organizer):  # noqa: F811
    page = organizer.get("/staff/votes/new?kind=vote")
    assert page.status_code == 200 and "Способ голосования" in _text(page)
    made = organizer.post("/staff/votes/new?kind=vote", data={
        "title": "Парки Благовещенска", "description": "", "settlements": "Благовещенск",
        "starts_on": local_day(-1).isoformat(), "starts_time": "00:00", "ends_on": local_day(5).isoformat(),
        "ends_time": "20:00", "style": BUDGET, "budget": "1000"})
    assert made.status_code == 303, _text(made)
    vote_id = int(made.location.rstrip("/").split("/")[-1])
    over = organizer.post(f"/staff/votes/{vote_id}/options", data={"title": "Без цены", "description": ""})
    assert over.status_code == 400 and "оценочную стоимость" in _text(over)
    added = organizer.post(f"/staff/votes/{vote_id}/options", data={
        "title": "Сквер", "description": "Лавочки", "cost": "600", "picture": upload(png_bytes(), "сквер.png")},
        content_type="multipart/form-data")
    assert added.status_code == 303, _text(added)
    bad_picture = organizer.post(f"/staff/votes/{vote_id}/options", data={
        "title": "Фонтан", "cost": "100", "picture": upload(b"%PDF-1.4 not a picture", "x.png")},
        content_type="multipart/form-data")
    assert bad_picture.status_code == 400
    early = organizer.post(f"/staff/votes/{vote_id}/schedule")
    assert "хотя бы два варианта" in _text(organizer.get(early.location))
    organizer.post(f"/staff/votes/{vote_id}/options", data={"title": "Фонтан", "cost": "400"})
    organizer.post(f"/staff/votes/{vote_id}/schedule")
    shown = _text(organizer.get(f"/staff/votes/{vote_id}"))
    assert "идёт" in shown and "Участников" in shown
    option = world.session.exec(select(VoteOption).where(VoteOption.title == "Сквер")).one()
    picture = organizer.get(f"/votes/pictures/{option.id}")
    assert picture.status_code == 200 and picture.mimetype == "image/png"


def test_an_applicant_casts_a_budget_vote_without_javascript_recounts_and_gets_a_confirmation(app, world):  # noqa: F811
    vote = make_vote(world, style=BUDGET, budget=500, costs=(100, 200, 300, 401))
    ids = option_ids(world.session, vote)
    q = votes.questions(world.session, vote.id)[0]
    client = signed_in(app, "citizen")
    listing = _text(client.get("/votes"))
    assert vote.title in listing and "Идут и скоро начнутся" in listing
    recount = client.post(f"/votes/{vote.id}", data={f"q{q.id}": [ids[0], ids[3]], "recount": "1"})
    assert recount.status_code == 200 and "больше бюджета на" in _text(recount)
    live = client.post(f"/votes/{vote.id}/remaining", data={f"q{q.id}": [ids[1], ids[2]]},
                       headers={"HX-Request": "true", "HX-Target": "budget-left"})
    assert _text(live).startswith('<p id="budget-left"') and "осталось <strong>0\u00a0₽" in _text(live)
    refused = client.post(f"/votes/{vote.id}", data={f"q{q.id}": [ids[0], ids[3]]})
    assert refused.status_code == 400 and "больше бюджета" in _text(refused)
    cast = client.post(f"/votes/{vote.id}", data={f"q{q.id}": [ids[1], ids[2]]})
    assert cast.status_code == 303 and cast.location.endswith(f"/votes/{vote.id}/done")
    assert "Ваш голос принят" in _text(client.get(cast.location))
    again = client.post(f"/votes/{vote.id}", data={f"q{q.id}": [ids[0]]})
    assert "уже приняли участие" in _text(client.get(again.location))
    assert len(world.session.exec(select(VoteBallot)).all()) == 1


def test_an_applicant_answers_a_poll_and_sees_each_problem_at_its_question(app, world):  # noqa: F811
    poll = make_poll(world)
    qs = votes.questions(world.session, poll.id)
    opts = votes.options(world.session, poll.id)
    client = signed_in(app, "citizen")
    page = _text(client.get(f"/votes/{poll.id}"))
    assert "Другое" in page and "Отправить ответы" in page
    refused = client.post(f"/votes/{poll.id}", data={f"q{qs[0].id}": "other"})
    body = _text(refused)
    assert refused.status_code == 400 and "напишите свой вариант" in body and "Выберите оценку от 1 до 5." in body
    done = client.post(f"/votes/{poll.id}", data={
        f"q{qs[0].id}": "other", f"q{qs[0].id}_other": "Велосипед", f"q{qs[1].id}": [opts[qs[1].id][0].id],
        f"q{qs[2].id}_text": "Чаще автобусы", f"q{qs[3].id}": "5"})
    assert done.status_code == 303


def test_embed_shows_the_vote_and_asks_to_sign_in_to_cast(app, world):  # noqa: F811
    vote = make_vote(world)
    page = app.test_client().get(f"/embed/votes/{vote.id}")
    assert page.status_code == 200 and "Войти и проголосовать" in _text(page)
    assert "frame-ancestors" in page.headers["Content-Security-Policy"]
    assert app.test_client().post(f"/votes/{vote.id}").status_code in (302, 303)  # casting wants a sign-in


# --- nothing shown early; the figures after publication; nobody named ----------------------------

RESULT_MARKERS = ("% участников", "Итоги опубликованы", 'id="chart-q', "Нарастающим итогом", "проходит в бюджет")


def _ballots(world, vote, people):
    """5 ballots for the first project, 3 for the second: 62.5 % and 37.5 %."""
    ids = option_ids(world.session, vote)
    q = votes.questions(world.session, vote.id)[0]
    for n, person in enumerate(people):
        votes.cast(world.session, world.env, vote.id, person.id, {q.id: Choice(option_ids=[ids[0] if n < 5 else ids[1]])})


def _pages(vote_id: int) -> list[str]:
    return ["/staff/votes", f"/staff/votes/{vote_id}", f"/staff/votes/{vote_id}/export.csv?table=results",
            f"/staff/votes/{vote_id}/export.xlsx?table=results", f"/staff/votes/{vote_id}/export.csv?table=responses",
            f"/staff/votes/{vote_id}/export.xlsx?table=responses", f"/embed/votes/{vote_id}",
            "/staff/analytics/summary", "/staff/analytics/summary?format=csv&table=votes",
            "/staff/analytics/summary?format=xlsx&table=votes", "/open311/v2/requests.json"]


def _body(response) -> str:
    if response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
        book = load_workbook(io.BytesIO(response.data))
        return "\n".join(" ".join(str(c) for c in row if c is not None) for s in book for row in s.iter_rows(values_only=True))
    return response.get_data(as_text=True)


def test_nothing_of_the_results_shows_while_open_and_the_figures_match_after_publication(app, world):  # noqa: F811
    vote = make_vote(world, style=BUDGET, budget=500, costs=(100, 200, 300, 400))
    people = applicants(world, 8)
    _ballots(world, vote, people)
    publisher(world)
    viewers = {login: signed_in(app, login) for login in ("b.publisher", "admin", "analyst")}
    citizen = signed_in(app, "voter0")
    for login, client in [*viewers.items(), ("voter0", citizen)]:
        for url in _pages(vote.id) + [f"/votes/{vote.id}", "/votes"]:
            response = client.get(url)
            assert response.status_code < 500, (login, url)
            body = _body(response)
            for marker in RESULT_MARKERS + ("62.5", "62,5", "37.5", "37,5"):
                assert marker not in body, (login, url, marker)
    assert re.search(r'id="participants">8<', _text(viewers["b.publisher"].get(f"/staff/votes/{vote.id}")))
    with clock.frozen(clock.as_utc(vote.ends_at) + timedelta(minutes=1)):
        closed = _text(viewers["b.publisher"].get(f"/staff/votes/{vote.id}"))
        assert "Опубликовать итоги" in closed and "62.5" not in closed
        viewers["b.publisher"].post(f"/staff/votes/{vote.id}/publish")
    for login, client in [*viewers.items(), ("voter0", citizen)]:
        page = _text(client.get(f"/staff/votes/{vote.id}" if login != "voter0" else f"/votes/{vote.id}"))
        assert "62.5" in page and "37.5" in page and 'id="chart-q' in page, login
        assert "проходит в бюджет" in page
    rows = list(csv.reader(io.StringIO(_text(viewers["analyst"].get(
        f"/staff/votes/{vote.id}/export.csv?table=results")).lstrip("\ufeff"))))
    counts = {r[1]: (int(r[2]), r[3]) for r in rows[1:] if r[0] != "Всего"}
    assert counts["Проект 1"] == (5, "62.5") and counts["Проект 2"] == (3, "37.5") and counts["Проект 3"] == (0, "0.0")
    responses = list(csv.reader(io.StringIO(_text(viewers["analyst"].get(
        f"/staff/votes/{vote.id}/export.csv?table=responses")).lstrip("\ufeff"))))
    assert len(responses) == 9 and sorted(r[1] for r in responses[1:]) == ["Проект 1"] * 5 + ["Проект 2"] * 3


def test_no_result_page_or_export_names_a_participant(app, world):  # noqa: F811
    vote = make_vote(world)
    poll = make_poll(world)
    people = applicants(world, 6)
    _ballots(world, vote, people)
    qs = votes.questions(world.session, poll.id)
    opts = votes.options(world.session, poll.id)
    for person in people:
        votes.cast(world.session, world.env, poll.id, person.id, {
            qs[0].id: Choice(other=True, other_text="Самокат"), qs[1].id: Choice(option_ids=[opts[qs[1].id][0].id]),
            qs[2].id: Choice(text="Нужен автобус"), qs[3].id: Choice(value=4)})
    publisher(world)
    organizer = signed_in(app, "b.publisher")
    with clock.frozen(clock.as_utc(vote.ends_at) + timedelta(minutes=1)):
        organizer.post(f"/staff/votes/{vote.id}/publish")
        organizer.post(f"/staff/votes/{poll.id}/publish")
    clients = [organizer, signed_in(app, "analyst"), signed_in(app, "admin"), signed_in(app, "citizen")]
    personal = [p.full_name for p in people] + [p.email for p in people] + [p.phone for p in people] + \
               [f"Житель Номер{i}" for i in range(6)] + [f"voter{i}" for i in range(6)]
    for item in (vote, poll):
        urls = _pages(item.id) + [f"/votes/{item.id}"]
        for client in clients:
            for url in urls:
                body = _body(client.get(url))
                for value in personal:
                    assert value not in body, (url, value)
    assert "Самокат" in _text(clients[1].get(f"/staff/votes/{poll.id}"))  # the analyst reads the free answers


def test_the_summary_counts_held_votes_and_polls_only_once_published(app, world):  # noqa: F811
    vote = make_vote(world, end_days=1)
    poll = make_poll(world, end_days=1)
    people = applicants(world, 8)
    _ballots(world, vote, people)
    qs = votes.questions(world.session, poll.id)
    opts = votes.options(world.session, poll.id)
    for person in people[:3]:
        votes.cast(world.session, world.env, poll.id, person.id, {
            qs[0].id: Choice(option_ids=[opts[qs[0].id][0].id]), qs[1].id: Choice(option_ids=[opts[qs[1].id][0].id]),
            qs[3].id: Choice(value=3)})
    analyst = signed_in(app, "analyst")
    period = f"date_from={local_day(-3).isoformat()}&date_to={local_day(3).isoformat()}"

    def rows(table):
        text = _text(analyst.get(f"/staff/analytics/summary?{period}&format=csv&table={table}")).lstrip("\ufeff")
        return list(csv.reader(io.StringIO(text)))[1:]

    assert rows("votes") == [["Всего", "0", "0", "0"]] and rows("polls") == [["Всего", "0", "0", "0"]]
    assert "Ещё 1 — идут или" in _text(analyst.get(f"/staff/analytics/summary?{period}"))
    publisher(world)
    organizer = signed_in(app, "b.publisher")
    with clock.frozen(clock.as_utc(vote.ends_at) + timedelta(minutes=1)):
        organizer.post(f"/staff/votes/{vote.id}/publish")
        organizer.post(f"/staff/votes/{poll.id}/publish")
    name = world.org["B"].name
    assert rows("votes") == [[name, "1", "8", "8"], ["Всего", "1", "8", "8"]]
    assert rows("polls") == [[name, "1", "3", "3"], ["Всего", "1", "3", "3"]]
    book = load_workbook(io.BytesIO(analyst.get(f"/staff/analytics/summary?{period}&format=xlsx&table=votes").data))
    assert list(book.active.iter_rows(values_only=True))[1] == (name, 1, 8, 8)
