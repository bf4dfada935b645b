"""The password policy (pos/services/passwords.py) and every place that sets a password: registration,
`flask create-user`, «Сменить пароль»."""
import pytest
from sqlmodel import Session, select

from pos.db import make_engine
from pos.models import User
from pos.services import accounts
from pos.services import passwords as policy
from pos.services.passwords import password_problems
from tests.applicant_app import app, client, signed_in  # noqa: F401
from tests.test_seed_cli import make_app, run

GOOD = "зимний-лес-над-зеей"


@pytest.mark.parametrize("password, problem", [
    ("12345678", policy.ONLY_DIGITS),
    ("password", policy.COMMON),
    ("Password1", policy.COMMON),
    ("iloveyou", policy.COMMON),
    ("qwertyuiop", policy.COMMON),
    ("zxcvbnm,./", policy.KEYBOARD),
    ("йцукенгшщз", policy.COMMON),  # `qwertyuiop`, typed in the Russian layout
    ("gfhjkm123", policy.COMMON),   # «пароль» in the Latin layout
    ("пароль12", policy.COMMON),
    ("abcdefghij", policy.SEQUENCE),
    ("aaaaaaaaaa", policy.REPEAT),
    ("short", policy.TOO_SHORT),
    ("x" * 201, policy.TOO_LONG),
    ("ivanov@mail.ru", policy.SAME_AS_LOGIN),
    ("IVANOV", policy.TOO_SHORT),
    ("ivanov1990", policy.HAS_PERSONAL),
    ("Иванов Иван", policy.SAME_AS_NAME),
])
def test_common_and_trivial_passwords_are_refused(password, problem):
    problems = password_problems(password, login="ivanov.ii", email="ivanov@mail.ru", name="Иванов Иван Петрович")
    assert problem in problems


@pytest.mark.parametrize("password", [GOOD, "пароль-заявителя", "Tr0ub4dor&3x", "correct horse battery staple",
                                      "Amur-2026-рыбалка"])
def test_good_passwords_pass(password):
    assert password_problems(password, login="ivanov.ii", email="ivanov@mail.ru", name="Иванов Иван") == []


def test_problems_are_in_russian_and_all_reported():
    problems = password_problems("1234", login="x")
    assert problems == [policy.TOO_SHORT, policy.ONLY_DIGITS]


# --- the CLI ------------------------------------------------------------------------------------

@pytest.fixture
def cli_app(fresh_database, tmp_path):
    return make_app(fresh_database, tmp_path)


@pytest.mark.parametrize("password, words", [("12345678", "только из цифр"), ("password", "распространённых"),
                                             ("petrov.pp", "логином")])
def test_create_user_refuses_a_weak_password(cli_app, fresh_database, password, words):
    result = run(cli_app, "create-user", "--login", "petrov.pp", "--password", password, "--name", "Петров П. П.",
                 ok=False)
    assert result.exit_code == 1 and "Пароль не подходит" in result.output and words in result.output
    with Session(make_engine(fresh_database)) as session:
        assert session.exec(select(User)).first() is None


def test_create_user_takes_a_good_password(cli_app, fresh_database):
    run(cli_app, "create-user", "--login", "petrov.pp", "--password", GOOD, "--name", "Петров П. П.")
    with Session(make_engine(fresh_database)) as session:
        user = session.exec(select(User)).one()
        assert accounts.authenticate(session, "petrov.pp", GOOD).id == user.id


# --- «Сменить пароль» ---------------------------------------------------------------------------

def change(client, current, new, confirm=None):
    return client.post("/account/password", data={"current_password": current, "new_password": new,
                                                   "new_password_confirm": new if confirm is None else confirm})


@pytest.mark.parametrize("login", ["citizen", "a.coordinator"])
def test_change_password_then_the_old_one_stops_working(app, session, world, login):
    c = signed_in(app, login)
    page = c.get("/my/messages" if login == "citizen" else "/account/password").get_data(as_text=True)
    assert 'href="/account/password">Сменить пароль</a>' in page  # in the header, for staff and applicants
    assert c.get("/account/password").status_code == 200
    response = change(c, "secret", GOOD)
    assert response.status_code == 303
    assert "Пароль изменён" in c.get(response.location, follow_redirects=True).get_data(as_text=True)
    assert app.test_client().post("/login", data={"login": login, "password": "secret"}).status_code == 401
    signed_in(app, login, GOOD)


def test_a_new_password_ends_the_other_sessions_and_keeps_this_one(app, session, world):
    here, elsewhere = signed_in(app, "a.coordinator"), signed_in(app, "a.coordinator")
    assert elsewhere.get("/staff/").status_code == 200
    assert change(here, "secret", GOOD).status_code == 303
    assert here.get("/staff/").status_code == 200  # the person who changed it goes on working
    gone = elsewhere.get("/staff/")
    assert gone.status_code == 302 and "/login" in gone.location


def test_change_password_reports_every_problem_at_once_and_changes_nothing(app, session, world):
    c = signed_in(app, "citizen")
    before = session.exec(select(User.password_hash).where(User.login == "citizen")).one()
    response = change(c, "не тот", "12345678", "87654321")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    for words in ("Текущий пароль указан неверно.", policy.ONLY_DIGITS, "Пароли не совпадают."):
        assert words in page
    assert 'value="12345678"' not in page and 'value="не тот"' not in page  # never typed back in
    session.expire_all()
    assert session.exec(select(User.password_hash).where(User.login == "citizen")).one() == before


@pytest.mark.parametrize("new, words", [("password", "распространённых"), ("qwertyuiop", "распространённых"),
                                        ("secret", "не короче 8"), ("citizen", "не короче 8")])
def test_change_password_refuses_common_passwords(app, world, new, words):
    c = signed_in(app, "citizen")
    response = change(c, "secret", new)
    assert response.status_code == 400 and words in response.get_data(as_text=True)
    signed_in(app, "citizen", "secret")


def test_change_password_needs_a_signed_in_person(client):
    assert client.get("/account/password").status_code == 302
    assert client.post("/account/password", data={"current_password": "x"}).status_code == 302
