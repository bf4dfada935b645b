"""Item 8: the same form sent twice (Back and resubmit, a double click, two requests at once) creates one
message: each form instance carries its own token, and the database keeps one message per token."""
from __future__ import annotations

import re
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from pos import create_app
from pos.db import make_engine
from pos.models import Message
from pos.services import applicants, outbox
from pos.workflow import Stage
from tests.web_redis import app_config
from tests.applicant_app import app, counts, signed_in  # noqa: F401
from tests.test_applicant_embed import FORM as EMBED_FORM

MESSAGE = {"text": "Яма на въезде во двор, дом 7", "address": "г. Благовещенск, ул. Ленина, 7"}


def token_of(page: str) -> str:
    """The repeat form's token (a hidden field of the message page)."""
    return re.search(r'name="form_token" type="hidden" value="([^"]+)"', page).group(1)


def new_form(c, path: str = "/my/messages/new") -> str:
    """Open the form as the menu does: the address of a new form instance, its token in it."""
    response = c.get(path)
    assert response.status_code == 303 and "form=" in response.location
    page = c.get(response.location).get_data(as_text=True)
    assert f'action="{response.location}"' in page.replace("&amp;", "&")  # the form posts back to its own address
    return response.location


def token_in(url: str) -> str:
    return parse_qs(urlsplit(url).query)["form"][0]


def test_each_opening_of_the_form_is_a_form_instance_of_its_own(app, world):
    c = signed_in(app, "citizen")
    first, second = new_form(c), new_form(c)
    assert first != second and applicants.form_token(token_in(first)) == token_in(first)


def test_the_message_form_sent_twice_makes_one_message(app, session, world):
    c = signed_in(app, "citizen")
    url = new_form(c)
    before = counts(session)["Message"]
    first = c.post(url, data=MESSAGE)
    assert first.status_code == 303
    # Back: the browser fetches the form's address again; the page says it was sent.
    message = session.exec(select(Message).where(Message.text == MESSAGE["text"])).one()
    back = c.get(url).get_data(as_text=True)
    assert "Эта форма уже отправлена: сообщение" in back and message.number in back
    again = c.post(url, data=MESSAGE)  # and «Подать сообщение» once more
    assert again.status_code == 303 and again.location == first.location
    page = c.get(again.location).get_data(as_text=True)
    assert f"Эта форма уже отправлена: сообщение {message.number} зарегистрировано, второе не создано." in page
    assert counts(session)["Message"] == before + 1
    # A new form (a new token) is a new message.
    assert c.post(new_form(c), data=MESSAGE).location != first.location
    assert counts(session)["Message"] == before + 2


def test_a_refused_form_keeps_its_token_and_sends_once_fixed(app, session, world):
    c = signed_in(app, "citizen")
    url = new_form(c)
    refused = c.post(url, data={**MESSAGE, "address": ""})
    assert refused.status_code == 400 and f'action="{url}"' in refused.get_data(as_text=True)
    assert c.post(url, data=MESSAGE).status_code == 303
    assert session.exec(select(func.count()).select_from(Message).where(
        Message.form_token == token_in(url))).one() == 1


def test_someone_elses_token_finds_nothing_of_theirs(app, session, world):
    url = new_form(signed_in(app, "citizen"))
    signed_in(app, "citizen").post(url, data=MESSAGE)
    other = signed_in(app, "citizen2").post(url, data=MESSAGE)
    assert other.status_code == 400  # the token is taken: nothing written, nothing of the other shown
    assert session.exec(select(func.count()).select_from(Message).where(
        Message.applicant_id == world.applicants["citizen2"].id)).one() == 0


def test_the_embedded_form_sent_twice_makes_one_message(app, session, world):
    c = app.test_client()
    url = new_form(c, f"/embed/{world.org['C'].id}")
    before = counts(session)["Message"]
    first = c.post(url, data=EMBED_FORM)
    again = c.post(url, data=EMBED_FORM)
    assert first.status_code == again.status_code == 303
    assert counts(session)["Message"] == before + 1
    page = c.get(again.location).get_data(as_text=True)
    message = session.exec(select(Message).where(Message.form_token == token_in(url))).one()
    assert message.number in page and "Эта форма уже была отправлена: второе сообщение не создано." in page


def test_the_embedded_form_reports_every_problem_at_once(app, session, world):
    before = counts(session)
    response = app.test_client().post(f"/embed/{world.org['C'].id}", data={
        "full_name": "", "email": "нет", "text": "", "address": "", "phone": "12"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    for words in ("Укажите фамилию, имя, отчество.", "Адрес электронной почты указан неверно",
                  "Номер телефона указан неверно", "Заполните поле «Текст сообщения».",
                  "Укажите адрес, к которому относится сообщение.",
                  "Без согласия на обработку персональных данных сообщение не может быть принято."):
        assert words in page, words
    assert counts(session) == before


def test_the_repeat_form_sent_twice_makes_one_repeat(app, session, world):
    message = world.message(Stage.ANSWERED)
    c = signed_in(app, "citizen")
    c.post(f"/my/messages/{message.id}/rate", data={"rating": "2"})
    token = token_of(c.get(f"/my/messages/{message.id}").get_data(as_text=True))
    first = c.post(f"/my/messages/{message.id}/repeat", data={"text": "Яма снова", "form_token": token})
    again = c.post(f"/my/messages/{message.id}/repeat", data={"text": "Яма снова", "form_token": token})
    assert first.status_code == again.status_code == 303 and first.location == again.location
    repeat = session.exec(select(Message).where(Message.repeated_of_id == message.id)).one()
    assert repeat.form_token == token
    assert "Эта форма уже отправлена" in c.get(again.location).get_data(as_text=True)


# --- two requests at once, on a database of the test's own (real commits) -----------------------------

@pytest.fixture
def live(fresh_database, env, tmp_path):
    from tests.factories import World
    previous = outbox._dispatcher
    engine = make_engine(fresh_database)
    with Session(engine, expire_on_commit=False) as s:
        world = World(s, env)
        applicant_id = world.applicants["citizen"].id
        s.commit()
    app = create_app({"DATABASE_URL": fresh_database, "UPLOAD_DIR": env.upload_dir, "TESTING": True,
                      "WTF_CSRF_ENABLED": False, "SECRET_KEY": "resubmit-tests", "TIMEZONE": env.timezone,
                      **app_config()})
    outbox.set_dispatcher(previous)
    yield app, engine, applicant_id
    engine.dispose()


def _messages(engine) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(Message)).one()


def test_two_requests_of_one_form_at_once_make_one_message(live):
    app, engine, _applicant_id = live
    clients = [signed_in(app, "citizen"), signed_in(app, "citizen")]
    url = new_form(clients[0])
    before = _messages(engine)
    start = threading.Barrier(2)
    answers = []

    def send(c):
        start.wait()
        answers.append(c.post(url, data=MESSAGE))

    threads = [threading.Thread(target=send, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [a.status_code for a in answers] == [303, 303]
    assert answers[0].location == answers[1].location
    assert _messages(engine) == before + 1


def test_the_database_keeps_one_message_per_token_when_both_pass_the_check(live, env, monkeypatch):
    """Both requests past the look-up before either commits: the unique column decides, the loser is told."""
    _app, engine, applicant_id = live
    both_checked = threading.Barrier(2)
    real_submit = applicants.submit_message

    def submit_after_both_checked(*args, **kwargs):
        both_checked.wait(10)
        return real_submit(*args, **kwargs)

    monkeypatch.setattr(applicants, "submit_message", submit_after_both_checked)
    results = []

    def send():
        with Session(engine, expire_on_commit=False) as s:
            try:
                results.append(applicants.send(s, env, dict(MESSAGE), applicant_id=applicant_id,
                                               token="t" * 32).number)
            except applicants.AlreadySent as exc:
                results.append(("already", exc.message.number))

    before = _messages(engine)
    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    created = [r for r in results if isinstance(r, str)]
    told = [r for r in results if isinstance(r, tuple)]
    assert len(created) == 1 and told == [("already", created[0])]
    assert _messages(engine) == before + 1
