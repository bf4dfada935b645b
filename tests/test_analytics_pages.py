"""The analytics pages «Сроки» and «Удовлетворённость» over the demo data: access, filters, exports,
no personal data, no inline style, the weight of a repeat visit."""
from __future__ import annotations

import csv
import gzip
import io
import re
from html.parser import HTMLParser

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from pos import clock
from pos.models import Message, User
from pos.services.messages import act
from pos.workflow import Action
from seed.messages import DEMO_APPLICANTS
from tests.staff_app import StaffApp

PAGES = ("/staff/analytics/deadlines", "/staff/analytics/satisfaction")
TABLES = {"/staff/analytics/deadlines": ("stages", "answers"),
          "/staff/analytics/satisfaction": ("organizations", "categories", "comments")}
COMMENT = "Ответ пришёл вовремя, но яму так и не заделали"


@pytest.fixture(scope="module")
def staff():
    app = StaffApp("analytics_pages")
    # A rating with a comment: the page shows the comment, never who wrote it.
    with app.session() as s:
        answered = s.exec(select(Message).where(Message.stage == "answered", Message.rating.is_(None))).first()
        if answered is None:  # the demo's answered messages are all rated: give one a comment afresh
            answered = s.exec(select(Message).where(Message.stage == "answered")).first()
            answered.rating, answered.rating_comment, answered.rated_at = 4, COMMENT, clock.now()
            s.add(answered)
            s.commit()
        else:
            author = s.exec(select(User).where(User.login == "citizen")).one()
            act(s, app.env, author, answered.id, Action.RATE, {"rating": 4, "comment": COMMENT})
    return app


class Tables(HTMLParser):
    """The text of each <table class="figures"> cell, row by row."""

    def __init__(self):
        super().__init__()
        self.tables, self._row, self._cell, self._in = [], None, None, False

    def handle_starttag(self, tag, attrs):
        if tag == "table" and ("class", "figures") in attrs:
            self.tables.append([])
            self._in = True
        elif self._in and tag == "tr":
            self._row = []
        elif self._in and tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self._in = False
        elif self._in and tag in ("td", "th") and self._cell is not None:
            self._row.append(self._cell.strip())
            self._cell = None
        elif self._in and tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def tables_of(html: str) -> list[list[list[str]]]:
    parser = Tables()
    parser.feed(html)
    return parser.tables


def _csv(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def _page_cell(value: str) -> str:
    return "—" if value == "" else value


@pytest.mark.parametrize("path", PAGES)
def test_each_page_shows_a_chart_and_its_tables(staff, path):
    response = staff.client("analyst").get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(r'<svg class="chart"[^>]*role="img"[^>]*aria-labelledby="([\w-]+)-t \1-d"', html)
    assert "<title id=" in html and "<desc id=" in html
    assert len(tables_of(html)) == len(TABLES[path])
    assert "style=" not in html and "<style" not in html
    for name in TABLES[path]:
        assert f"format=csv&amp;table={name}" in html and f"format=xlsx&amp;table={name}" in html


def test_the_nav_offers_analytics_to_analysts_and_curators_only(staff):
    assert ">Аналитика</a>" in staff.client("analyst").get("/staff/").get_data(as_text=True)
    assert ">Аналитика</a>" in staff.client("zhkh.curator").get("/staff/").get_data(as_text=True)
    assert ">Аналитика</a>" not in staff.client("zhkh.executor").get("/staff/").get_data(as_text=True)


def test_the_index_opens_the_first_page_with_the_filters(staff):
    response = staff.client("analyst").get("/staff/analytics/?date_from=2026-01-01")
    assert response.status_code == 303
    assert response.location.endswith("/staff/analytics/deadlines?date_from=2026-01-01")


@pytest.mark.parametrize("login", ["zhkh.executor", "zhkh.coordinator", "zhkh.head1", "moderator", "citizen"])
@pytest.mark.parametrize("path", PAGES + ("/staff/analytics/deadlines?format=csv&table=stages",))
def test_other_roles_get_403(staff, login, path):
    assert staff.client(login).get(path).status_code == 403


def test_anonymous_is_sent_to_sign_in(staff):
    response = staff.client().get(PAGES[0])
    assert response.status_code in (302, 303) and "/login" in response.location


@pytest.mark.parametrize("path", PAGES)
def test_exports_have_the_rows_of_the_page(staff, path):
    client = staff.client("analyst")
    query = "?date_from=2026-01-01&date_to=2026-12-31"
    page_tables = tables_of(client.get(path + query).get_data(as_text=True))
    for name, shown in zip(TABLES[path], page_tables):
        rows = _csv(client.get(f"{path}{query}&format=csv&table={name}"))
        assert rows[0] == shown[0]
        body = shown[1:] if not (len(shown) == 2 and shown[1][0].startswith("Нет данных")) else []
        assert [[_page_cell(c) for c in r] for r in rows[1:]] == body
        response = client.get(f"{path}{query}&format=xlsx&table={name}")
        assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
        book = load_workbook(io.BytesIO(response.get_data()), read_only=True)
        sheet = book.worksheets[0]
        xlsx = [["" if v is None else str(v) for v in r] for r in sheet.iter_rows(values_only=True)]
        assert xlsx[0] == rows[0] and len(xlsx) == len(rows)
        assert [[_num(c) for c in r] for r in xlsx[1:]] == [[_num(c) for c in r] for r in rows[1:]]


def _num(text: str) -> str:
    try:
        return f"{float(text):.2f}"
    except ValueError:
        return text


def test_the_deadlines_page_counts_the_demo_and_links_to_the_inbox(staff):
    html = staff.client("analyst").get(PAGES[0] + "?date_from=2026-01-01&date_to=2026-12-31").get_data(as_text=True)
    stages = tables_of(html)[0]
    zhkh = [r for r in stages if r[0] == "МинЖКХ АО"]
    assert {r[1] for r in zhkh} >= {"Модерация", "Координация", "Исполнение"}
    assert all(r[-1] in ("рабочие часы", "календарные часы") for r in stages[1:])
    zhkh_id = staff.org("МинЖКХ АО").id
    assert f"/staff/?stage=execution&amp;organization_id={zhkh_id}&amp;deadline=overdue" in html
    assert f"/staff/?stage=all&amp;date_from=2026-01-01&amp;date_to=2026-12-31&amp;organization_id={zhkh_id}" in html


def test_the_satisfaction_page_shows_comments_without_their_author(staff):
    analyst = staff.client("analyst").get(PAGES[1]).get_data(as_text=True)
    assert COMMENT in analyst
    assert "/staff/messages/" not in analyst  # the analyst reads the comment, not the message
    curator = staff.client("zhkh.curator").get(PAGES[1]).get_data(as_text=True)
    assert re.search(r'<a href="/staff/messages/\d+">' + COMMENT, curator)


def test_a_curator_sees_only_the_subtree(staff):
    client = staff.client("transport.curator")
    html = client.get(PAGES[0] + "?date_from=2026-01-01&date_to=2026-12-31").get_data(as_text=True)
    names = {row[0] for table in tables_of(html) for row in table[1:]}
    assert names and names <= {"Минтранс АО", "Амурупрадор (Минтранс АО)"}, names
    options = re.findall(r'<option[^>]*value="(\d+)"', html.split('id="organization_id"')[1].split("</select>")[0])
    assert {int(o) for o in options} == {staff.org("Минтранс АО").id, staff.org("Амурупрадор").id}
    # Another body's subtree is not to be had, by the form or in an export.
    other = staff.org("МинЖКХ АО").id
    assert client.get(f"{PAGES[0]}?organization_id={other}").status_code == 400
    assert client.get(f"{PAGES[0]}?organization_id={other}&format=csv&table=stages").status_code == 400
    rows = _csv(client.get(PAGES[0] + "?date_from=2026-01-01&date_to=2026-12-31&format=csv&table=stages"))
    assert {r[0] for r in rows[1:]} <= {"Минтранс АО", "Амурупрадор (Минтранс АО)"}


def test_the_organization_filter_narrows_to_a_subtree(staff):
    client = staff.client("analyst")
    zhkh = staff.org("МинЖКХ АО").id
    rows = _csv(client.get(f"{PAGES[0]}?date_from=2026-01-01&date_to=2026-12-31&organization_id={zhkh}"
                           "&format=csv&table=stages"))
    assert rows[1:] and {r[0] for r in rows[1:]} == {"МинЖКХ АО"}
    tynda = staff.org("Администрация г. Тынды").id
    rows = _csv(client.get(f"{PAGES[0]}?date_from=2026-01-01&date_to=2026-12-31&jurisdiction_id={tynda}"
                           "&format=csv&table=stages"))
    assert all("Тынд" in r[0] for r in rows[1:])


@pytest.mark.parametrize("query, field", [
    ("date_from=2026-13-01", "date_from"), ("date_from=9999-01-01", "date_from"),
    ("date_from=2026-05-02&date_to=2026-05-01", "date_to"), ("date_from=2000-01-01&date_to=2099-01-01", "date_to"),
    ("organization_id=99999", "organization_id"), ("jurisdiction_id=abc", "jurisdiction_id"),
    ("organization_id=99999999999999", "organization_id"),
])
def test_a_bad_filter_is_a_russian_400_on_its_field(staff, query, field):
    response = staff.client("analyst").get(f"{PAGES[0]}?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html and "Исправьте фильтры" in html


@pytest.mark.parametrize("query", ["format=pdf&table=stages", "format=csv&table=nope", "format=csv"])
def test_an_unknown_export_is_a_400(staff, query):
    assert staff.client("analyst").get(f"{PAGES[0]}?{query}").status_code == 400


def test_the_form_shows_the_default_period_of_30_days(staff):
    html = staff.client("analyst").get(PAGES[0]).get_data(as_text=True)
    assert "(30 дн.; время местное)" in html
    assert re.search(r'id="date_from"[^>]*value="\d{4}-\d\d-\d\d"', html)


def test_no_personal_data_in_any_page_or_export(staff):
    secrets = [v for profile in DEMO_APPLICANTS.values()
               for k, v in profile.items() if k in ("full_name", "email", "phone", "inn", "ogrn", "contact_person")]
    for login in ("analyst", "zhkh.curator"):
        client = staff.client(login)
        for path in PAGES:
            for query in ("", "?date_from=2026-01-01&date_to=2026-12-31"):
                bodies = [client.get(path + query).get_data(as_text=True)]
                for name in TABLES[path]:
                    sep = "&" if query else "?"
                    bodies.append(client.get(f"{path}{query}{sep}format=csv&table={name}").get_data(as_text=True))
                    book = load_workbook(io.BytesIO(client.get(f"{path}{query}{sep}format=xlsx&table={name}")
                                                    .get_data()), read_only=True)
                    bodies.append(" ".join(str(v) for row in book.worksheets[0].iter_rows(values_only=True)
                                           for v in row if v is not None))
                for body in bodies:
                    for secret in secrets:
                        assert secret not in body, (login, path, secret)


@pytest.mark.parametrize("path", PAGES)
def test_a_repeat_visit_transfers_under_14_kb(staff, path):
    response = staff.client("analyst").get(path + "?date_from=2026-01-01&date_to=2026-12-31",
                                           headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    # The stylesheet and htmx are cached for a year (hashed URLs): a repeat visit is the document alone.
    assert len(response.get_data()) < 14 * 1024, len(response.get_data())
    assert b"<svg" in gzip.decompress(response.get_data())


def test_the_chart_macros_draw_plain_svg_for_any_data(staff):
    with staff.app.test_request_context():
        charts = staff.app.jinja_env.get_template("analytics/_charts.html").module
        drawn = [
            charts.hbar("h", "Заголовок", "Описание", [("Первая", 3, "/staff/?a=1"), ("Вторая", 0, None)]),
            charts.hbar("h0", "Пусто", "Нет данных", []),
            charts.stacked("s", "Стопки", "Описание", ["в срок", "с нарушением"], [("Орг", [2, 1], None)]),
            charts.stacked("s0", "Пусто", "Нет данных", ["a"], []),
            charts.daily("d", "По дням", "Описание", [("01.11", 4), ("02.11", 0), ("03.11", 7.5)]),
            charts.daily("d0", "Пусто", "Нет данных", []),
        ]
    for svg in map(str, drawn):
        assert svg.count("<svg") == 1 and 'role="img"' in svg and "style" not in svg
        assert re.search(r'aria-labelledby="(\w+)-t \1-d"', svg)
    first, _, stacked, _, daily, _ = map(str, drawn)
    assert '<a href="/staff/?a=1">' in first and "<title>Первая: 3</title>" in first
    assert 'width="350.0"' in first and 'width="0.0"' in first  # the largest bar takes the whole scale
    assert stacked.count('<rect class="s0"') == 2 and stacked.count('<rect class="s1"') == 2  # legend + bar
    assert daily.count("<rect") == 3 and "<title>03.11: 7.5</title>" in daily and "макс. 7.5" in daily
