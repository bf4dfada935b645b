"""Votes and polls in Chromium: the organizer prepares and schedules, three applicants take part (one without
JavaScript), the organizer sees only the number of participants, the period ends (the clock moved), the organizer
publishes the results and an applicant sees them — which projects fit the budget, the answers of a poll.

These tests move the shared server's clock (`move_clock`), so they run after the others."""
from __future__ import annotations

import re
import uuid
from datetime import datetime, time as day_time, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from pos import clock
from tests.applicant_app import png_bytes

YAKUTSK = ZoneInfo("Asia/Yakutsk")
CLOCK_ORDER = 2  # after the rating's and the postponement's: the clock only moves forward


def _period(page: Page, days: int = 2) -> datetime:
    today = clock.now().astimezone(YAKUTSK).date()
    end = today + timedelta(days=days)
    page.get_by_label("Дата начала").fill(today.isoformat())
    page.get_by_label("Время начала").fill("00:00")
    page.get_by_label("Дата окончания").fill(end.isoformat())
    page.get_by_label("Время окончания").fill("21:00")
    return datetime.combine(end, day_time(21, 0), YAKUTSK)


def _no_results(page: Page) -> None:
    body = page.locator("main").inner_text()
    assert "%" not in body
    assert "Итоги опубликованы" not in body and "проходит в бюджет" not in body


def _open(page: Page, title: str) -> None:
    page.goto("/votes")
    page.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def test_a_budget_vote_from_the_draft_to_the_published_results(server, login_as, move_clock):
    title = f"Народный бюджет {uuid.uuid4().hex[:6]}"
    organizer = login_as("zhkh.publisher")
    organizer.goto("/")
    expect(organizer.get_by_role("heading", level=1)).to_have_text("Голосования и опросы")
    organizer.get_by_role("link", name="Новое голосование").click()
    organizer.get_by_label("Название").fill(title)
    organizer.get_by_label("Описание", exact=True).fill("Выберите проекты на 1 000 000 ₽.")
    end = _period(organizer)
    organizer.get_by_label("Способ голосования").select_option(label="бюджет (проекты в пределах суммы)")
    organizer.get_by_label("Бюджет, рублей").fill("1000000")
    organizer.get_by_role("button", name="Сохранить").click()
    expect(organizer.get_by_text("создано как черновик")).to_be_visible()
    for n, (name, cost) in enumerate((("Сквер", 400000), ("Каток", 300000), ("Фонтан", 500000),
                                      ("Тротуар", 200000))):
        organizer.get_by_label("Название проекта").fill(name)
        organizer.get_by_label("Оценочная стоимость, рублей").fill(str(cost))
        if n == 0:
            organizer.get_by_label("Картинка").set_input_files(
                files=[{"name": "сквер.png", "mimeType": "image/png", "buffer": png_bytes()}])
        organizer.get_by_role("button", name="Добавить проект").click()
        expect(organizer.get_by_text(f"Проект «{name}» добавлен.")).to_be_visible()
    expect(organizer.get_by_role("img", name="Сквер")).to_be_visible()
    organizer.get_by_role("button", name="Запланировать").click()
    expect(organizer.get_by_text("Назначено:")).to_be_visible()
    expect(organizer.get_by_text("идёт", exact=True)).to_be_visible()
    vote_url = organizer.url

    # Three applicants: htmx recounts what is left as boxes are ticked; without JavaScript «Пересчитать» does.
    citizen = login_as("citizen")
    _open(citizen, title)
    citizen.get_by_label("Сквер").check()
    citizen.get_by_label("Фонтан").check()
    expect(citizen.locator("#budget-left")).to_contain_text("осталось 100\u00a0000\u00a0₽")
    citizen.get_by_label("Тротуар").check()
    expect(citizen.locator("#budget-left")).to_contain_text("больше бюджета на 100\u00a0000\u00a0₽")
    citizen.get_by_role("button", name="Проголосовать").click()
    expect(citizen.get_by_text("больше бюджета").first).to_be_visible()
    citizen.get_by_label("Тротуар").uncheck()
    citizen.get_by_role("button", name="Проголосовать").click()
    expect(citizen.get_by_text("Ваш голос принят")).to_be_visible()

    plain = login_as("citizen2", javascript=False)
    _open(plain, title)
    plain.get_by_label("Сквер").check()
    plain.get_by_label("Каток").check()
    plain.get_by_label("Тротуар").check()
    plain.get_by_role("button", name="Пересчитать").click()
    expect(plain.locator("#budget-left")).to_contain_text("осталось 100\u00a0000\u00a0₽")
    plain.get_by_role("button", name="Проголосовать").click()
    expect(plain.get_by_text("Ваш голос принят")).to_be_visible()
    _open(plain, title)  # once cast, the page says so and offers no second ballot
    expect(plain.get_by_text("Вы уже приняли участие")).to_be_visible()
    expect(plain.get_by_role("button", name="Проголосовать")).to_have_count(0)

    company = login_as("company")
    _open(company, title)
    company.get_by_label("Сквер").check()
    company.get_by_label("Каток").check()
    company.get_by_role("button", name="Проголосовать").click()
    expect(company.get_by_text("Ваш голос принят")).to_be_visible()

    organizer.goto(vote_url)
    expect(organizer.locator("#participants")).to_have_text("3")
    _no_results(organizer)
    expect(organizer.get_by_role("button", name="Опубликовать итоги")).to_have_count(0)

    move_clock(end + timedelta(minutes=1))
    organizer.reload()
    expect(organizer.get_by_text("завершено", exact=True)).to_be_visible()
    _no_results(organizer)
    organizer.get_by_role("button", name="Опубликовать итоги").click()
    expect(organizer.get_by_text("Итоги опубликованы; участники уведомлены.")).to_be_visible()
    expect(organizer.get_by_role("img", name=re.compile(re.escape(title)))).to_have_count(1)  # the SVG chart

    # Сквер 3, Каток 2, Фонтан 1, Тротуар 1: Сквер and Каток fit (700 000), Фонтан does not (1 200 000),
    # Тротуар does (900 000).
    _open(citizen, title)
    fits = citizen.locator("ul.fits li")
    expect(fits).to_have_count(4)
    expect(fits.nth(0)).to_contain_text("1. Сквер — 3 (100.0 %)")
    expect(fits.nth(0)).to_contain_text("проходит в бюджет")
    expect(fits.nth(1)).to_contain_text("2. Каток")
    expect(fits.nth(1)).to_contain_text("проходит в бюджет")
    expect(fits.filter(has_text="Фонтан")).to_contain_text("не помещается в бюджет")
    expect(fits.filter(has_text="Тротуар")).to_contain_text("проходит в бюджет")
    expect(citizen.get_by_role("table").first).to_contain_text("Сквер")


def test_a_poll_with_every_question_type_from_the_draft_to_the_published_results(server, login_as, move_clock):
    title = f"Опрос о дворах {uuid.uuid4().hex[:6]}"
    organizer = login_as("tynda.publisher")
    organizer.goto("/staff/votes")
    organizer.get_by_role("link", name="Новый опрос").click()
    organizer.get_by_label("Название").fill(title)
    end = _period(organizer)
    organizer.get_by_role("button", name="Сохранить").click()
    expect(organizer.get_by_text("Опрос создан как черновик")).to_be_visible()

    def question(text, kind, options="", low=None, high=None, other=False, required=True):
        organizer.get_by_label("Вопрос", exact=True).fill(text)
        organizer.get_by_label("Тип вопроса").select_option(label=kind)
        organizer.get_by_label("Варианты ответа").fill(options)
        if low is not None:
            organizer.get_by_label("Выбрать не меньше").fill(str(low))
        if high is not None:
            organizer.get_by_label("Выбрать не больше").fill(str(high))
        organizer.get_by_label("Вариант «Другое»").set_checked(other)
        organizer.get_by_label("Обязательный вопрос").set_checked(required)
        organizer.get_by_role("button", name="Добавить вопрос").click()
        expect(organizer.get_by_text("Вопрос добавлен.")).to_be_visible()

    question("Где вы живёте?", "один вариант ответа", "Центр\nОрбита\nЗападный", other=True)
    question("Что нужно двору?", "несколько вариантов (от и до)", "Скамейки\nОсвещение\nПарковка", low=1, high=2)
    question("Что ещё предложите?", "свободный ответ", required=False)
    question("Довольны ли вы двором?", "шкала от 1 до 5")
    organizer.get_by_role("button", name="Запланировать").click()
    expect(organizer.get_by_text("Назначено:")).to_be_visible()
    poll_url = organizer.url

    def answer(page: Page, place: str, wants: list[str], idea: str, score: str, other: str = ""):
        _open(page, title)
        if other:
            page.get_by_label("Другое").check()
            page.get_by_label("Свой вариант к вопросу «Где вы живёте?»").fill(other)
        else:
            page.get_by_label(place).check()
        for want in wants:
            page.get_by_label(want).check()
        page.get_by_label("Что ещё предложите?").fill(idea)
        page.get_by_label(score, exact=True).check()
        page.get_by_role("button", name="Отправить ответы").click()

    citizen = login_as("citizen")
    _open(citizen, title)
    citizen.get_by_label("Скамейки").check()
    citizen.get_by_label("Освещение").check()
    citizen.get_by_label("Парковка").check()
    citizen.get_by_role("button", name="Отправить ответы").click()
    expect(citizen.get_by_text("Можно выбрать не больше 2 вариантов (выбрано 3).")).to_be_visible()
    expect(citizen.get_by_text("Выберите вариант.")).to_be_visible()
    expect(citizen.get_by_text("Выберите оценку от 1 до 5.")).to_be_visible()
    answer(citizen, "Центр", ["Скамейки"], "Больше зелени", "4")
    expect(citizen.get_by_text("Ваш ответ принят")).to_be_visible()
    plain = login_as("citizen2", javascript=False)
    answer(plain, "", ["Освещение", "Парковка"], "", "2", other="Привокзальный")
    expect(plain.get_by_text("Ваш ответ принят")).to_be_visible()
    company = login_as("company")
    answer(company, "Центр", ["Скамейки", "Освещение"], "Парковка для грузовиков", "5")
    expect(company.get_by_text("Ваш ответ принят")).to_be_visible()

    organizer.goto(poll_url)
    expect(organizer.locator("#participants")).to_have_text("3")
    _no_results(organizer)
    move_clock(end + timedelta(minutes=1))
    organizer.reload()
    organizer.get_by_role("button", name="Опубликовать итоги").click()
    expect(organizer.get_by_text("Итоги опубликованы; участники уведомлены.")).to_be_visible()
    expect(organizer.get_by_text("Парковка для грузовиков")).to_be_visible()  # free answers, for the organizer
    expect(organizer.get_by_text("Привокзальный")).to_be_visible()
    expect(organizer.get_by_text("Средняя оценка: 3.67")).to_be_visible()

    _open(citizen, title)
    table = citizen.get_by_role("table").filter(has_text="Центр")
    expect(table.get_by_role("row").filter(has_text="Центр")).to_contain_text("66.7")
    expect(citizen.get_by_text("Парковка для грузовиков")).to_have_count(0)  # not for the public
