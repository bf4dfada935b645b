"""The administrator in the browser: a new organization and a user with a role there, who signs in, sets
their own password and sees their inbox; a new subcategory appears in the applicant's form."""
from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect


def ready(page: Page) -> None:
    page.wait_for_load_state("load")


def test_an_organization_and_a_user_with_a_role_who_signs_in_and_sees_the_inbox(browser, base_url, login_as):
    tag = uuid.uuid4().hex[:6]
    admin = login_as("admin")
    admin.goto("/")
    expect(admin.get_by_role("heading", name="Администрирование")).to_be_visible()  # the admin home
    admin.get_by_role("navigation", name="Администрирование").get_by_role("link", name="Организации").click()
    admin.get_by_role("link", name="Создать организацию").click()
    expect(admin.get_by_role("heading", name="Новая организация")).to_be_visible()  # htmx swapped the page in
    admin.get_by_label("Полное название").fill(f"Государственное учреждение «Автодор-{tag}»")
    admin.get_by_label("Краткое название").fill(f"Автодор-{tag}")
    admin.get_by_label("Вид", exact=True).select_option(label="Подведомственная организация")
    parent = admin.get_by_label("Вышестоящая организация")
    value = parent.locator("option").filter(has_text=re.compile(r"^\W*Минтранс АО$")).get_attribute("value")
    parent.select_option(value=value)
    admin.get_by_label("Дороги", exact=True).check()
    admin.get_by_role("button", name="Создать организацию").click()
    expect(admin.get_by_role("heading", name=f"Автодор-{tag}")).to_be_visible()
    expect(admin.get_by_text(f"Организация «Автодор-{tag}» создана.")).to_be_visible()

    admin.get_by_role("navigation", name="Администрирование").get_by_role("link", name="Пользователи").click()
    admin.get_by_role("link", name="Создать пользователя").click()
    expect(admin.get_by_role("heading", name="Новый пользователь")).to_be_visible()
    login = f"avtodor.{tag}"
    admin.get_by_label("Логин").fill(login)
    admin.get_by_label("Фамилия, имя, отчество").fill("Смирнов Олег Ильич")
    admin.get_by_label("Должность").fill("Координатор учреждения")
    admin.get_by_role("button", name="Создать пользователя").click()
    secret = admin.get_by_role("status").filter(has_text="Временный пароль").locator("code")
    expect(secret).to_be_visible()
    password = secret.inner_text().strip()
    admin.get_by_label("Роль", exact=True).select_option(label="Координатор")
    organization = admin.get_by_label(re.compile("^Организация"))
    value = organization.locator("option").filter(has_text=re.compile(rf"^\W*Автодор-{tag}")).get_attribute("value")
    organization.select_option(value=value)
    admin.get_by_role("button", name="Выдать роль").click()
    expect(admin.get_by_role("cell", name=f"Автодор-{tag}", exact=True)).to_be_visible()

    ctx = browser.new_context(base_url=base_url, locale="ru-RU")
    try:
        person = ctx.new_page()
        person.goto("/login")
        person.get_by_label("Логин").fill(login)
        person.get_by_label("Пароль").fill(password)
        person.get_by_role("button", name="Войти").click()
        expect(person.get_by_role("heading", name="Сменить пароль")).to_be_visible()  # a temporary password
        person.get_by_label("Текущий пароль").fill(password)
        person.get_by_label("Новый пароль", exact=True).fill("тёплый-ветер-над-зеёй")
        person.get_by_label("Новый пароль ещё раз").fill("тёплый-ветер-над-зеёй")
        person.get_by_role("button", name="Сменить пароль").click()
        expect(person.get_by_role("heading", name="Координация")).to_be_visible()
        expect(person.get_by_text("Смирнов Олег Ильич")).to_be_visible()
    finally:
        ctx.close()


def test_a_new_subcategory_appears_in_the_applicants_form(login_as):
    name = f"Нет пешеходного перехода {uuid.uuid4().hex[:6]}"
    admin = login_as("admin")
    admin.goto("/staff/admin/classifier")
    admin.get_by_role("link", name="Дороги", exact=True).click()
    expect(admin.get_by_role("heading", name="Дороги")).to_be_visible()
    admin.get_by_label("Название новой подкатегории").fill(name)
    admin.get_by_role("button", name="Создать подкатегорию").click()
    expect(admin.get_by_role("link", name=name)).to_be_visible()

    citizen = login_as("citizen")
    citizen.goto("/my/messages/new")
    ready(citizen)
    citizen.get_by_label("Категория", exact=True).select_option(label="Дороги")
    expect(citizen.get_by_label("Подкатегория", exact=True).locator("option", has_text=name)).to_have_count(1)
