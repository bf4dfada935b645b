"""/register: every problem at once, what was typed kept, and a registered address that nobody can tell
from a free one (the letter tells its owner); the letters sent by the notification job."""
from __future__ import annotations

import re
import statistics
import time

import pytest
from argon2 import PasswordHasher
from sqlmodel import select

from jobs import notify
from pos.models import OutboxEvent, PendingRegistration, User
from pos.services import accounts, applicants, registration
from pos.services import passwords as policy
from tests.applicant_app import app, client, counts, last_letter, register  # noqa: F401
from tests.background import (db_session, fresh_db, jobs_setup, namespace, redis_url, smtp,  # noqa: F401
                              start_worker)
from tests.test_applicant_service import VALID_OGRN
from tests.test_applicant_views import REGISTRATION, text_of

PASSWORD = REGISTRATION["password"]


def password_values(page: str) -> list[str]:
    """The passwords typed back into the page (an empty value is none)."""
    return [v for v in re.findall(r'<input[^>]*type="password"[^>]*value="([^"]*)"', page) if v]


def _without_csrf(page: str) -> str:
    return re.sub(r'("X-CSRFToken": "|name="csrf_token" type="hidden" value="|name="csrf_token" value=")[^"]+',
                  r"\1…", page)


def test_one_submit_shows_every_problem_at_once(client, session, world):
    """Item 7: the phone, the ИНН, the ОГРН, the contact person, the passwords and the consent — one submit."""
    before = counts(session)
    response = client.post("/register", data={
        "kind": "legal", "org_name": "ООО «Ромашка»", "inn": "7707083894", "ogrn": "10277", "contact_person": "",
        "email": "romashka@example.ru", "phone": "12", "password": "12345678", "password_confirm": "12345679"})
    page = text_of(response)
    assert response.status_code == 400
    expected = {
        "phone": "Номер телефона указан неверно",
        "inn": "ИНН указан с ошибкой: не сходится контрольная цифра.",
        "ogrn": "ОГРН юридического лица состоит из 13 цифр.",
        "contact_person": "Заполните поле «Контактное лицо».",
        "password": policy.ONLY_DIGITS,
        "password_confirm": "Пароли не совпадают.",
        "consent": "Без согласия на обработку персональных данных регистрация невозможна.",
    }
    for field, words in expected.items():
        assert words in page, field
        assert f'<p class="error" id="{field}-error">' in page, field
        assert f'href="#{field}"' in page, field  # listed above the form, linked to the field
    assert page.count('aria-invalid="true"') == len(expected) - 1  # the consent checkbox: described, not invalid
    assert counts(session) == before


def test_form_level_and_service_level_problems_come_together(client, session, world):
    """An empty required field (the form's check) and a bad ИНН (the service's) in one answer, once each."""
    response = client.post("/register", data={**REGISTRATION, "kind": "legal", "org_name": "ООО «Ромашка»",
                                              "inn": "7707083894", "ogrn": VALID_OGRN, "contact_person": "Иванов И.",
                                              "email": "", "phone": ""})
    page = text_of(response)
    assert response.status_code == 400
    assert page.count("Укажите адрес электронной почты.") == 2  # next to the field and in the list above
    assert page.count("Укажите номер телефона.") == 2
    assert "не сходится контрольная цифра" in page


def test_what_was_typed_is_kept_and_good_passwords_too(client, world):
    response = client.post("/register", data={**REGISTRATION, "phone": "12", "full_name": "Сидоров Пётр"})
    page = text_of(response)
    assert response.status_code == 400
    assert 'value="Сидоров Пётр"' in page and 'value="sidorov@example.ru"' in page
    assert password_values(page) == [PASSWORD, PASSWORD]


@pytest.mark.parametrize("change", [{"password": "password", "password_confirm": "password"},
                                    {"password_confirm": "другой-пароль"}])
def test_passwords_at_fault_are_cleared(client, world, change):
    """Both cleared: with a mistyped repeat nobody can tell which of the two is wrong."""
    response = client.post("/register", data={**REGISTRATION, **change})
    page = text_of(response)
    assert response.status_code == 400
    assert password_values(page) == [] and 'value="sidorov@example.ru"' in page


# --- a registered address ------------------------------------------------------------------

def _answer(app, data: dict):
    """What a stranger sees after «Зарегистрироваться»: the status, the redirect and the page it leads to."""
    c = app.test_client()
    started = time.perf_counter()
    response = c.post("/register", data=data)
    elapsed = time.perf_counter() - started
    page = text_of(c.get(response.location))
    return response.status_code, response.location, _without_csrf(page.replace(data["email"], "<e-mail>")), elapsed


def test_a_registered_address_is_indistinguishable_from_a_free_one(app, client, session, world, monkeypatch):
    register(client, session, REGISTRATION)
    before = counts(session)
    taken = _answer(app, {**REGISTRATION, "full_name": "Кто-то Другой"})
    free = _answer(app, {**REGISTRATION, "email": "petrov@example.ru"})
    assert taken[:3] == free[:3]
    assert taken[0] == 303 and "Проверьте почту" in taken[2] and "уже зарегистрирован" not in taken[2]
    assert counts(session)["User"] == before["User"]  # neither created an account yet
    # The owner of the taken address is told in a letter; the new one gets the link.
    taken_letter, free_letter = [row.payload for row in session.exec(select(OutboxEvent).order_by(
        OutboxEvent.id.desc()).limit(2))][::-1]
    assert (taken_letter["letter"], taken_letter["to"]) == (registration.TAKEN_LETTER, "sidorov@example.ru")
    assert taken_letter["name"] == "Сидоров Пётр Ильич"  # the owner's name, never what the stranger typed
    assert (free_letter["letter"], free_letter["to"]) == (registration.CONFIRM_LETTER, "petrov@example.ru")


def test_a_registered_address_takes_as_long_as_a_free_one(app, client, session, world, monkeypatch):
    """The production argon2 cost: both branches hash once, so the timing does not tell them apart."""
    monkeypatch.setitem(app.config, "REGISTER_LIMIT", "100 per minute")  # nine registrations from one address
    register(client, session, REGISTRATION)
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher())
    hashes = []
    real = accounts.hash_password
    monkeypatch.setattr(accounts, "hash_password", lambda password: hashes.append(1) or real(password))
    timings = {"taken": [], "free": []}
    for round_ in range(4):
        timings["taken"].append(_answer(app, {**REGISTRATION, "full_name": "Кто-то Другой"})[3])
        timings["free"].append(_answer(app, {**REGISTRATION, "email": f"new{round_}@example.ru"})[3])
    assert len(hashes) == 8  # one hash per submit, either way
    taken, free = statistics.median(timings["taken"]), statistics.median(timings["free"])
    assert abs(taken - free) < 0.5 * max(taken, free), timings


def test_the_link_page_creates_nothing_until_its_button_is_pressed(app, client, session, world):
    client.post("/register", data=REGISTRATION)
    link = registration.CONFIRM_PATH + last_letter(session)["token"]
    page = client.get(link)
    assert page.status_code == 200 and "Завершить регистрацию" in text_of(page)
    assert session.exec(select(User).where(User.login == "sidorov@example.ru")).first() is None
    done = client.post(link)
    assert done.status_code == 303 and done.location.endswith("/my/messages")
    assert "Регистрация завершена" in text_of(client.get(done.location))
    assert client.post(link).location.endswith("/my/messages")  # the button pressed twice: no error
    again = app.test_client().get(link)  # the link followed again, elsewhere
    assert again.status_code == 200 and "Регистрация по этому адресу уже завершена" in text_of(again)


def test_a_forged_link_is_a_clear_404(client, world):
    response = client.get(registration.CONFIRM_PATH + "x" * 43)
    assert response.status_code == 404 and "Зарегистрируйтесь ещё раз" in text_of(response)
    assert client.post(registration.CONFIRM_PATH + "x" * 500).status_code == 404
    assert client.get(registration.CONFIRM_PATH + "%ED%A0%80" + "x" * 30).status_code == 404  # a lone surrogate
    assert client.get(registration.CONFIRM_PATH + "..%2F" + "x" * 30).status_code == 404


def test_two_registrations_of_one_address_make_one_account(app, session, world):
    """A second registration of an address still waiting: either link works once, the other dies."""
    first, second = app.test_client(), app.test_client()
    first.post("/register", data=REGISTRATION)
    token1 = last_letter(session)["token"]
    second.post("/register", data={**REGISTRATION, "password": "второй-длинный-пароль",
                                   "password_confirm": "второй-длинный-пароль"})
    token2 = last_letter(session)["token"]
    assert second.post(registration.CONFIRM_PATH + token2).status_code == 303
    assert first.post(registration.CONFIRM_PATH + token1).status_code == 404
    assert len(session.exec(select(User).where(User.login == "sidorov@example.ru")).all()) == 1
    assert applicants.identity_provider().authenticate(
        session, {"login": "sidorov@example.ru", "password": "второй-длинный-пароль"}) is not None


# --- the letters, sent by the notification job ---------------------------------------------------

def test_the_job_sends_both_letters_and_forgets_the_link(db_session, jobs_setup, smtp):
    jobs_setup.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port, PUBLIC_URL="https://pos.example.ru/")
    provider = applicants.identity_provider()
    data = {k: v for k, v in REGISTRATION.items() if k not in ("password", "password_confirm", "consent")}
    provider.register(db_session, data, {"password": PASSWORD, "password_confirm": PASSWORD}, consent=True)
    provider.register(db_session, {**data, "full_name": "Кто-то Другой"},
                      {"password": PASSWORD, "password_confirm": PASSWORD}, consent=True)
    first, second = db_session.exec(select(OutboxEvent).order_by(OutboxEvent.id)).all()
    token = first.payload["token"]
    db_session.commit()  # SQLite: an open read would hold the lock the job needs
    assert notify.deliver(first.id) == "1 letters"
    (letter,) = smtp.to("sidorov@example.ru")
    assert letter["subject"] == "Подтвердите регистрацию на платформе обратной связи"
    assert f"https://pos.example.ru/register/confirm/{token}" in letter["text"]
    db_session.expire_all()
    assert db_session.get(OutboxEvent, first.id).payload["token"] == ""  # the outbox keeps no working link
    assert db_session.get(OutboxEvent, first.id).status == "done"
    db_session.commit()
    assert notify.deliver(first.id) == "nothing to do"

    # Both registrations were still waiting, so the second got a link too; once confirmed, a third try
    # gets the letter for a registered address.
    provider.confirm(db_session, token)
    provider.register(db_session, {**data, "full_name": "Кто-то Другой"},
                      {"password": PASSWORD, "password_confirm": PASSWORD}, consent=True)
    third = db_session.exec(select(OutboxEvent).order_by(OutboxEvent.id.desc())).first()
    db_session.commit()
    assert notify.deliver(third.id) == "1 letters"
    taken = smtp.to("sidorov@example.ru")[-1]
    assert taken["subject"] == "Попытка регистрации с вашим адресом электронной почты"
    assert "https://pos.example.ru/login" in taken["text"] and "/register/confirm/" not in taken["text"]
    assert "Здравствуйте, Сидоров Пётр Ильич!" in taken["text"] and "Кто-то Другой" not in taken["text"]
    # The other registration of the address, still waiting when the first was confirmed, is void.
    with pytest.raises(applicants.Invalid, match="недействительна"):
        provider.confirm(db_session, second.payload["token"])
    assert db_session.exec(select(PendingRegistration)).all()[0].confirmed_at is not None


def test_an_applicants_address_is_taken_even_when_the_login_is_another(client, session, world):
    """The demo applicants sign in as `citizen`; their address is theirs all the same."""
    client.post("/register", data={**REGISTRATION, "email": "citizen@example.ru"})
    letter = last_letter(session)
    assert (letter["letter"], letter["name"]) == (registration.TAKEN_LETTER, "Заявитель citizen")
