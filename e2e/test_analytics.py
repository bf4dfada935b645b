"""Analytics pages in a browser: without JavaScript they filter, show a chart and its table, and download."""
from __future__ import annotations

import csv
import io
import re

from playwright.sync_api import expect


def test_deadlines_page_works_without_javascript(login_as):
    page = login_as("analyst", javascript=False)
    page.goto("/staff/")
    page.get_by_role("navigation", name="Разделы").get_by_role("link", name="Аналитика").click()
    expect(page.get_by_role("heading", name="Сроки по этапам")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Прохождения этапов по срокам"))).to_be_visible()
    expect(page.get_by_role("table", name=re.compile("Сроки по этапам")).get_by_role("row").nth(1)).to_be_visible()

    filters = page.get_by_role("search", name="Фильтры аналитики")
    filters.get_by_label("Период с").fill("2026-01-01")
    filters.get_by_label("Организация (с подведомственными)").select_option(label="МинЖКХ АО")
    filters.get_by_role("button", name="Показать").click()
    expect(page).to_have_url(re.compile(r"date_from=2026-01-01.*organization_id=\d+"))
    stages = page.get_by_role("table", name=re.compile("Сроки по этапам"))
    expect(stages.get_by_role("row", name=re.compile("МинЖКХ АО Модерация"))).to_be_visible()
    expect(stages.get_by_role("cell", name="Минтранс АО")).to_have_count(0)

    with page.expect_download() as download:
        stages.get_by_role("link", name="CSV").click()
    rows = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8-sig").read())))
    assert rows[0][:2] == ["Организация", "Этап"] and {r[0] for r in rows[1:]} == {"МинЖКХ АО"}

    page.get_by_role("navigation", name="Страницы аналитики").get_by_role("link", name="Удовлетворённость").click()
    expect(page).to_have_url(re.compile(r"/satisfaction\?date_from=2026-01-01"))
    expect(page.get_by_role("img", name=re.compile("Распределение оценок"))).to_be_visible()


def test_a_curators_page_breaks_no_content_security_policy(login_as):
    page = login_as("zhkh.curator")
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto("/staff/analytics/satisfaction")
    expect(page.get_by_role("img", name=re.compile("Распределение оценок"))).to_be_visible()
    page.goto("/staff/analytics/deadlines")
    expect(page.get_by_role("img", name=re.compile("Срок ответа по организациям"))).to_be_visible()
    assert violations == []
