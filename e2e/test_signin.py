"""Signing in through the browser: a wrong password gets a clear Russian error; a right one gets in."""
from playwright.sync_api import expect


def test_wrong_password_is_refused_in_russian(page, base_url):
    page.goto(f"{base_url}/login")
    page.get_by_label("Логин").fill("moderator")
    page.get_by_label("Пароль").fill("не тот")
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_text("Неверный логин или пароль.")).to_be_visible()


def test_sign_in_and_out(login_as):
    page = login_as("zhkh.coordinator", fresh=True)  # signing out ends the session on the server
    page.goto("/")
    # Who is signed in, in the page's header (the coordinator's inbox names her in its executor list too).
    expect(page.get_by_role("banner").get_by_text("Белова Ольга Ивановна", exact=True)).to_be_visible()
    page.get_by_role("button", name="Выйти").click()
    expect(page.get_by_role("heading", name="Вход в ПОС")).to_be_visible()
