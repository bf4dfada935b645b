"""Security in the browser: signing out ends the session on the server, guessing passwords is limited, and
Chromium finds nothing that breaks the Content-Security-Policy on the staff's and the applicant's pages."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from pos.limits import MESSAGES


def test_after_signing_out_the_old_cookie_is_refused(browser, base_url, login_as):
    page = login_as("zhkh.executor", fresh=True)
    page.goto("/staff/")
    expect(page.get_by_role("button", name="Выйти")).to_be_visible()
    copied = page.context.cookies()
    assert any(cookie["name"] == "pos_session" for cookie in copied)
    page.get_by_role("button", name="Выйти").click()
    expect(page.get_by_role("heading", name="Вход в ПОС")).to_be_visible()

    thief = browser.new_context(base_url=base_url, locale="ru-RU")
    try:
        thief.add_cookies(copied)
        stolen = thief.new_page()
        stolen.goto("/staff/")
        assert "/login" in stolen.url
        expect(stolen.get_by_role("heading", name="Вход в ПОС")).to_be_visible()
    finally:
        thief.close()


def test_the_sixth_wrong_password_within_a_minute_is_refused_with_the_message(page, base_url):
    def attempt() -> int:
        page.get_by_label("Логин").fill("analyst")
        page.get_by_label("Пароль").fill("не тот пароль")
        with page.expect_response(lambda r: r.url.endswith("/login") and r.request.method == "POST") as answer:
            page.get_by_role("button", name="Войти").click()
        return answer.value.status

    page.goto(f"{base_url}/login")
    for _ in range(5):
        assert attempt() == 401
        expect(page.get_by_text("Неверный логин или пароль.")).to_be_visible()
    page.goto(f"{base_url}/login")
    assert attempt() == 429
    expect(page.get_by_text(MESSAGES["login"])).to_be_visible()


def _watch(page) -> list[str]:
    """What Chromium says about the policy (it reports every violation on the console) and page errors."""
    found: list[str] = []
    page.on("console", lambda msg: found.append(msg.text) if re.search(
        "Content Security Policy|Refused to", msg.text) else None)
    page.on("pageerror", lambda exc: found.append(str(exc)))
    return found


def test_no_csp_violation_on_the_inbox_a_message_and_an_applicant_page(login_as):
    staff = login_as("moderator")
    reports = _watch(staff)
    staff.goto("/staff/")
    expect(staff.get_by_role("table")).to_be_visible()
    # htmx at work under the policy: the filter form swaps the rows in place.
    with staff.expect_response(lambda r: "/staff/" in r.url and r.request.headers.get("hx-request") == "true"):
        staff.get_by_role("button", name="Показать").click()
    expect(staff.get_by_role("table")).to_be_visible()
    staff.get_by_role("table").get_by_role("link").first.click()
    expect(staff.get_by_role("heading", name=re.compile(r"^Сообщение ПОС-"))).to_be_visible()
    staff.wait_for_load_state("networkidle")

    citizen = login_as("citizen")
    reports += _watch(citizen)
    citizen.goto("/my/messages")
    expect(citizen.get_by_role("heading").first).to_be_visible()
    citizen.goto("/my/messages/new")
    citizen.wait_for_load_state("networkidle")
    assert reports == []
