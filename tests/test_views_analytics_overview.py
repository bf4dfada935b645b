"""The pages «Частые проблемы» and «Сводка» over the seeded demo: figures, links to the inbox, every table's
CSV and XLSX with the page's rows, a curator's subtree, 403 for others, no personal data anywhere."""
from __future__ import annotations

import csv
import html
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from openpyxl import load_workbook

from seed.messages import DEMO_APPLICANTS
from tests.staff_app import staff_app  # noqa: F401  (the fixture)

PAGES = {"problems": ("categories", "places", "words"),
         "summary": ("shares", "sources", "stages", "results", "days")}


def _csv_rows(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith("\ufeff".encode())  # the BOM: Excel opens Cyrillic
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def _xlsx_rows(response) -> list[list]:
    book = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    return [["" if v is None else v for v in row] for row in book.active.iter_rows(values_only=True)]


def _table(page: str, caption: str) -> str:
    """The HTML of the table with this caption."""
    start = page.index(f"<caption>{caption}")
    return page[start:page.index("</table>", start)]


def _cells(table_html: str) -> list[list[str]]:
    rows = re.findall(r"<tr>(.*?)</tr>", table_html, re.S)
    return [[html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td>(.*?)</td>", r, re.S)]
            for r in rows if "<td>" in r]


def _links(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]+)"', page)]


def _no_inline_script_or_style(page: str) -> None:
    """What the strict Content-Security-Policy would refuse: a script without src, a style element or attribute."""
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert "<style" not in page and " style=" not in page


@pytest.fixture(scope="module")
def analyst(staff_app):  # noqa: F811
    return staff_app.client("analyst")


def test_problems_page_ranks_categories_places_and_words(analyst):
    response = analyst.get("/staff/analytics/problems")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'aria-current="page">Частые проблемы' in page
    categories = _cells(_table(page, "Категории и подкатегории"))
    assert categories[0][:3] == ["Жилищно-коммунальное хозяйство", "все подкатегории", categories[0][2]]
    assert int(categories[0][2]) >= 5  # the seed's most frequent category
    places = _cells(_table(page, "Места: населённый пункт и улица"))
    assert ["г. Благовещенск", "ул. Ленина", "1"] in places
    assert ["г. Тында", "ул. Профсоюзная", "1"] in places
    words = {row[0]: int(row[1]) for row in _cells(_table(page, "Частые слова"))}
    assert words["мусор"] >= 1 and words["двор"] >= 2
    assert not {"не", "в", "по", "на"} & set(words)
    assert page.count('role="img"') == 3
    _no_inline_script_or_style(page)


def test_every_figure_links_to_the_inbox_filtered(analyst):
    page = analyst.get("/staff/analytics/problems").get_data(as_text=True)
    inbox = [parse_qs(urlsplit(h).query) for h in _links(page) if urlsplit(h).path == "/staff/" and urlsplit(h).query]
    assert len(inbox) > 20
    assert any("category_id" in q and "subcategory_id" in q for q in inbox)
    assert all(q["stage"] == ["all"] and "date_from" in q and "date_to" in q for q in inbox)
    # «ул. Профсоюзная» is in the address only (the text says «На ул. Профсоюзной»): the inbox search reads it.
    street = next(h for h in _links(page) if parse_qs(urlsplit(h).query).get("q") == ["Профсоюзная"])
    assert "не горят фонари" in analyst.get(street).get_data(as_text=True)
    word = next(h for h in _links(page) if parse_qs(urlsplit(h).query).get("q") == ["мусор"])
    assert "мусор" in analyst.get(word).get_data(as_text=True)


def _received_in_period(app, page: str) -> dict[str, int]:
    """Messages by stage that arrived within the page's period (its date fields, local days)."""
    from datetime import date, datetime, time, timedelta
    from zoneinfo import ZoneInfo
    from sqlalchemy import func
    from sqlmodel import select
    from pos.models import Message
    day = {name: date.fromisoformat(re.search(rf'name="{name}" type="date" value="([0-9-]+)"', page).group(1))
           for name in ("date_from", "date_to")}
    tz = ZoneInfo("Asia/Yakutsk")
    start = datetime.combine(day["date_from"], time(), tz)
    end = datetime.combine(day["date_to"] + timedelta(days=1), time(), tz)
    with app.session() as s:
        return dict(s.exec(select(Message.stage, func.count()).where(Message.received_at >= start,
                                                                     Message.received_at < end)
                           .group_by(Message.stage)).all())


def test_summary_page_by_source_stage_result_and_day(analyst, staff_app):  # noqa: F811
    response = analyst.get("/staff/analytics/summary")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    sources = _cells(_table(page, "По источнику"))
    # The demo's messages, and its incidents from public internet posts (seed/incidents.py).
    assert [row[0] for row in sources] == ["демо", "интернет"]
    assert sum(float(row[2]) for row in sources) == pytest.approx(100.0, abs=0.2)
    stages = {row[0]: int(row[1]) for row in _cells(_table(page, "По этапу"))}
    # The demo's rating months lie before today, so how many of them the default period (the last 30 days)
    # holds depends on the date: the expected figures are counted from the database over that period.
    by_stage = _received_in_period(staff_app, page)
    assert stages["Модерация"] == by_stage.get("moderation", 0) >= 4
    assert stages["Ответ дан"] == by_stage.get("answered", 0) >= 2
    assert stages["Отклонено модератором"] == by_stage.get("rejected", 0) == 1
    results = {row[0]: int(row[1]) for row in _cells(_table(page, "По результату рассмотрения"))}
    assert results == {"решено": by_stage["answered"], "отложено": 1, "отклонено модератором": 1}
    days = _cells(_table(page, "По дням"))
    assert len(days) == 30 and sum(int(row[1]) for row in days) == sum(stages.values())
    shares = {row[0]: row[1] for row in _cells(_table(page, "Повторные и ускоренные"))}
    assert shares["Повторные сообщения"] == "1"
    # The messages' four charts, and one each for the seed's votes and polls with published results.
    assert page.count('role="img"') == 6
    held = _cells(_table(page, "Голосования с опубликованными итогами"))
    assert held[-1] == ["Всего", "2", "54", "54"]  # seed/votes.py: one published vote per jurisdiction, 27 each
    _no_inline_script_or_style(page)
    links = [parse_qs(urlsplit(h).query) for h in _links(page) if urlsplit(h).path == "/staff/" and urlsplit(h).query]
    assert any(q.get("repeated") == ["1"] for q in links) and any(q.get("accelerated") == ["1"] for q in links)
    assert any(q.get("stage") == ["rejected"] for q in links)
    assert any(q.get("date_from") == q.get("date_to") for q in links)  # a day


def _found(client, href: str) -> int:
    listed = client.get(href)
    assert listed.status_code == 200, href
    return int(re.search(r"Найдено: (\d+)", listed.get_data(as_text=True)).group(1))


@pytest.mark.parametrize("login", ["analyst", "zhkh.curator"])
def test_the_inbox_behind_a_figure_finds_that_many_messages(staff_app, login):  # noqa: F811
    client = staff_app.client(login)
    checked = 0
    for page, tables in PAGES.items():
        text = client.get(f"/staff/analytics/{page}").get_data(as_text=True)
        for caption in ("Категории и подкатегории", "Повторные и ускоренные", "По источнику", "По этапу",
                        "По результату рассмотрения", "По дням"):
            if f"<caption>{caption}" not in text:
                continue
            for href, figure in re.findall(r'<td><a href="([^"]+)">(\d+)</a></td>', _table(text, caption)):
                assert _found(client, html.unescape(href)) == int(figure), (caption, html.unescape(href))
                checked += 1
        # A place is found by the inbox's substring search of its street: at least the messages counted.
        # A word by the beginning its forms share, or its most frequent form: some of them at least.
        for caption, least in (("Места: населённый пункт и улица", int), ("Частые слова", lambda figure: 1)):
            if f"<caption>{caption}" in text:
                for href, figure in re.findall(r'<td><a href="([^"]+)">(\d+)</a></td>', _table(text, caption)):
                    assert _found(client, html.unescape(href)) >= least(figure), (caption, html.unescape(href))
                    checked += 1
    assert checked > 40


@pytest.mark.parametrize("page, table", [(p, t) for p, tables in PAGES.items() for t in tables])
def test_every_table_downloads_as_csv_and_xlsx_with_the_page_rows(analyst, page, table):
    html_page = analyst.get(f"/staff/analytics/{page}").get_data(as_text=True)
    csv_response = analyst.get(f"/staff/analytics/{page}?format=csv&table={table}")
    assert csv_response.status_code == 200 and csv_response.mimetype == "text/csv"
    rows = _csv_rows(csv_response)
    xlsx_response = analyst.get(f"/staff/analytics/{page}?format=xlsx&table={table}")
    assert xlsx_response.status_code == 200
    sheet = _xlsx_rows(xlsx_response)
    assert [str(v) for v in sheet[0]] == rows[0]
    assert len(sheet) == len(rows)
    caption = next(c for c in re.findall(r"<caption>([^<]+)", html_page) if c.strip() and
                   f"table={table}" in html_page[html_page.index(c):html_page.index(c) + 600])
    shown = _cells(_table(html_page, caption.strip()))
    body = rows[1:]
    if not body:
        assert shown == [["Нет данных за период."]]
        return
    assert [r[0] for r in body] == [r[0] for r in shown]
    assert [r[1] for r in body] == [r[1] for r in shown]


def test_unknown_table_or_format_is_400(analyst):
    assert analyst.get("/staff/analytics/problems?format=csv&table=nope").status_code == 400
    assert analyst.get("/staff/analytics/summary?format=pdf&table=days").status_code == 400
    bad = analyst.get("/staff/analytics/summary?date_from=2026-13-01")
    assert bad.status_code == 400 and "Исправьте фильтры" in bad.get_data(as_text=True)


def test_a_curator_sees_the_subtree_only(staff_app):  # noqa: F811
    curator = staff_app.client("zhkh.curator")
    page = curator.get("/staff/analytics/problems").get_data(as_text=True)
    assert "Жилищно-коммунальное хозяйство" in page
    assert "Горячее питание" not in page and "г. Тында" not in page and "Скорая" not in page
    summary = curator.get("/staff/analytics/summary").get_data(as_text=True)
    zhkh_total = int(re.search(r"Поступило за период: <a [^>]+><strong>(\d+)", summary).group(1))
    analyst_page = staff_app.client("analyst").get("/staff/analytics/summary").get_data(as_text=True)
    everything = int(re.search(r"Поступило за период: <a [^>]+><strong>(\d+)", analyst_page).group(1))
    assert 0 < zhkh_total < everything
    places = _csv_rows(curator.get("/staff/analytics/problems?format=csv&table=places"))
    assert len(places) > 1 and all("Тында" not in cell for row in places for cell in row)


@pytest.mark.parametrize("login", ["zhkh.executor", "zhkh.coordinator", "moderator", "citizen"])
def test_others_get_403(staff_app, login):  # noqa: F811
    client = staff_app.client(login)
    for page in PAGES:
        assert client.get(f"/staff/analytics/{page}").status_code == 403
        assert client.get(f"/staff/analytics/{page}?format=csv&table=days").status_code == 403


def test_no_personal_data_in_pages_or_exports(staff_app):  # noqa: F811
    people = [value for profile in DEMO_APPLICANTS.values()
              for key, value in profile.items() if key in ("full_name", "email", "phone", "contact_person")]
    surnames = {name.split()[0] for name in people if " " in name}
    for login in ("analyst", "zhkh.curator"):
        client = staff_app.client(login)
        for page, tables in PAGES.items():
            texts = [client.get(f"/staff/analytics/{page}").get_data(as_text=True)]
            for table in tables:
                texts.append(client.get(f"/staff/analytics/{page}?format=csv&table={table}").get_data(as_text=True))
                texts += [str(v) for row in _xlsx_rows(client.get(f"/staff/analytics/{page}?format=xlsx&table={table}"))
                          for v in row]
            found = [p for p in [*people, *surnames] if any(p in t for t in texts)]
            assert found == [], (login, page, found)
