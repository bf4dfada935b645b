"""The rating's pages, forms and exports for each role, over the demo data (issue 9, items 3, 6, 7)."""
from __future__ import annotations

import csv
import io
import re
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlmodel import select

from pos import clock
from pos.models import OutboxEvent, RatingRow
from pos.models.rating import INDICATOR_KEYS, PUBLISHED
from pos.services import rating, rating_snapshots
from pos.services.accounts import create_user, grant
from seed.messages import DEMO_APPLICANTS
from tests.staff_app import StaffApp


@pytest.fixture(scope="module")
def staff_app() -> StaffApp:
    app = StaffApp("rating_views")
    amurdor = app.org("Амурупрадор").id
    with app.session() as s:
        user = create_user(s, "amurdor.curator", "demo", "Кураторова Анна Ильинична", email="amurdor@pos.local")
        grant(s, user, "curator", amurdor)
        s.commit()
    return app


def months():
    local = clock.now().astimezone(ZoneInfo("Asia/Yakutsk")).date().replace(day=1)
    last = rating.previous_month(local)
    return last, rating.previous_month(last)


def snapshot_rows(staff_app, month) -> dict[str, RatingRow]:
    with staff_app.session() as s:
        return {r.organization_name: r for r in rating_snapshots.rows(s, rating_snapshots.get(s, month))}


ZHKH = "Министерство жилищно-коммунального хозяйства Амурской области"


def shown(row: RatingRow, key: str) -> str:
    """An indicator as the page writes it: «92,86 % 13/14»."""
    on_time, total, percent = row.figures(key)
    return f"{percent:.2f}".replace(".", ",") + f" % {on_time}/{total}"


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_analyst_sees_last_months_draft_by_default_with_every_indicator(staff_app):
    last, _ = months()
    page = staff_app.client("analyst").get("/staff/rating")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    body = text(html)
    assert f"Рейтинг ИОГВ за {last:%m.%Y}" in body
    assert "Статус: черновик" in body
    assert "Пересчитать" in body and "Опубликовать" in body
    # The seeded facts' figures (the demo's dates follow today's, so they are read from the snapshot).
    zhkh_row = snapshot_rows(staff_app, last)[ZHKH]
    assert zhkh_row.coordination_first_total >= 6 and shown(zhkh_row, "coordination_first") in body
    assert "нет данных" in body  # repeated messages: no passages, never 0 % or 100 %
    assert "для сведения" in body  # the subordinate organizations beside their ИОГВ
    assert "Показатель — доля прохождений этапа самим ИОГВ" in body  # the definition on the page
    # A figure opens the inbox filtered to the organization and the stage.
    zhkh = staff_app.org("МинЖКХ АО").id
    assert f"/staff/?organization_id={zhkh}&amp;stage=coordination" in html or \
        f"organization_id={zhkh}&amp;stage=coordination" in html
    assert 'href="/staff/rating/export.xlsx?month=' in html and 'href="/staff/rating/export.csv?month=' in html


def test_below_the_minimum_sample_is_marked_and_an_unplaced_body_has_no_place(staff_app):
    rows = snapshot_rows(staff_app, months()[0])
    body = text(staff_app.client("analyst").get("/staff/rating").get_data(as_text=True))
    few = [(r, key) for r in rows.values() for key in INDICATOR_KEYS if 0 < r.figures(key)[1] < 5]
    assert few  # the demo's agreement passages are fewer than five
    for row, key in few:
        assert f"{shown(row, key)} мало данных" in body
    enough = [(r, key) for r in rows.values() for key in INDICATOR_KEYS if r.figures(key)[1] >= 5]
    assert enough and all(f"{shown(r, key)} мало данных" not in body for r, key in enough)
    assert rows["Министерство культуры и архивного дела Амурской области"].place is None


def test_the_month_before_last_is_published_with_places_and_offers_no_buttons(staff_app):
    _, before = months()
    body = text(staff_app.client("analyst").get(f"/staff/rating?month={before:%Y-%m}").get_data(as_text=True))
    assert "Статус: опубликован" in body and "Ким Елена Викторовна" in body
    assert "Пересчитать" not in body and "Опубликовать" not in body
    place = snapshot_rows(staff_app, before)[ZHKH].place
    assert place and f"{place} {ZHKH}" in body


@pytest.mark.parametrize("month", ["2026-13", "abc", "2026-1-1", "99999-01", "0001-01", "9999-12", "2026-00"])
def test_a_bad_month_is_a_clear_400(staff_app, month):
    page = staff_app.client("analyst").get(f"/staff/rating?month={month}")
    assert page.status_code == 400
    assert "Месяц" in page.get_data(as_text=True)
    assert staff_app.client("analyst").get(f"/staff/rating/export.csv?month={month}").status_code == 400
    for action in ("recompute", "publish"):
        assert staff_app.client("analyst").post(f"/staff/rating/{action}", data={"month": month}).status_code == 400


def test_a_month_not_yet_ended_is_neither_computed_nor_published(staff_app):
    this_month = rating.next_month(months()[0])
    for month in (this_month, rating.next_month(this_month)):
        for action in ("recompute", "publish"):
            refused = staff_app.client("analyst").post(f"/staff/rating/{action}", data={"month": f"{month:%Y-%m}"})
            assert refused.status_code == 400 and "после окончания месяца" in refused.get_data(as_text=True)
        with staff_app.session() as s:
            assert rating_snapshots.get(s, month) is None


@pytest.mark.parametrize("login", ["zhkh.curator", "zhkh.minister"])
def test_a_curator_or_head_of_an_iogv_sees_only_their_published_place(staff_app, login):
    last, before = months()
    client = staff_app.client(login)
    body = text(client.get(f"/staff/rating?month={before:%Y-%m}").get_data(as_text=True))
    rows = snapshot_rows(staff_app, before)
    placed = sum(1 for r in rows.values() if r.place is not None)
    assert placed == 3 and f"Место: {rows[ZHKH].place} из 3" in body
    assert "Министерство транспорта" not in body and "Министерство здравоохранения" not in body
    assert shown(rows[ZHKH], "coordination_first") in body
    assert len(re.findall(r"\d,\d\d %", body)) == sum(1 for key in INDICATOR_KEYS if rows[ZHKH].figures(key)[1]) + 1  # + the mean
    # Last month is a draft: not shown to them.
    assert "ещё не опубликован" in text(client.get(f"/staff/rating?month={last:%Y-%m}").get_data(as_text=True))
    assert client.get(f"/staff/rating/export.csv?month={before:%Y-%m}").status_code == 403
    assert client.post("/staff/rating/publish", data={"month": f"{last:%Y-%m}"}).status_code == 403
    assert client.post("/staff/rating/recompute", data={"month": f"{last:%Y-%m}"}).status_code == 403
    assert "Рейтинг ИОГВ" in client.get("/staff/").get_data(as_text=True)  # the nav entry


def test_a_curator_of_a_subordinate_sees_its_figures_for_information_only(staff_app):
    _, before = months()
    body = text(staff_app.client("amurdor.curator").get(f"/staff/rating?month={before:%Y-%m}")
                .get_data(as_text=True))
    assert "ГКУ Амурской области «Амурупрадор»" in body and "для сведения" in body
    assert "Место:" not in body and "Министерство жилищно-коммунального" not in body


@pytest.mark.parametrize("login", ["zhkh.coordinator", "zhkh.executor", "moderator", "admin", "citizen"])
def test_others_get_403(staff_app, login):
    client = staff_app.client(login)
    assert client.get("/staff/rating").status_code == 403
    assert client.get("/staff/rating/export.xlsx").status_code == 403
    assert client.post("/staff/rating/publish", data={"month": "2026-01"}).status_code == 403
    assert "Рейтинг ИОГВ" not in client.get("/").get_data(as_text=True)


def test_signed_out_goes_to_the_login(staff_app):
    assert staff_app.client().get("/staff/rating").status_code in (302, 303)


def _page_rows(body: str, rows) -> None:
    for row in rows:
        assert row.organization_name in body


def test_the_exports_open_in_csv_and_openpyxl_and_match_the_page(staff_app):
    last, _ = months()
    client = staff_app.client("analyst")
    page = text(client.get(f"/staff/rating?month={last:%Y-%m}").get_data(as_text=True))
    raw = client.get(f"/staff/rating/export.csv?month={last:%Y-%m}")
    assert raw.status_code == 200 and raw.mimetype == "text/csv"
    assert raw.data.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(raw.data.decode("utf-8-sig"))))
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/staff/rating/export.xlsx?month={last:%Y-%m}").data))
    sheet = [list(r) for r in book.active.iter_rows(values_only=True)]
    assert table[0] == sheet[0]
    assert table[0][:5] == ["ID организации", "Организация", "1. Координация: в срок", "1. Координация: всего",
                            "1. Координация: %"]
    assert table[0][-4:] == ["Среднее, %", "Место", "Статус", "Опубликован"]
    with staff_app.session() as s:
        rated = [r for r in rating_snapshots.rows(s, rating_snapshots.get(s, last)) if r.is_rated]
    assert [int(r[0]) for r in table[1:]] == [r.organization_id for r in rated] == [r[0] for r in sheet[1:]]
    for csv_row, xlsx_row, row in zip(table[1:], sheet[1:], rated):
        assert csv_row[1] == xlsx_row[1] == row.organization_name and row.organization_name in page
        assert csv_row[2:4] == [str(row.coordination_first_on_time), str(row.coordination_first_total)]
        if row.coordination_first_percent is not None:
            shown = f"{row.coordination_first_percent:.2f}"
            assert csv_row[4] == shown and xlsx_row[4] == float(shown)
            assert f"{shown.replace('.', ',')} % {row.coordination_first_on_time}/{row.coordination_first_total}" \
                in page
        else:
            assert csv_row[4] == xlsx_row[4] == "нет данных"
        assert csv_row[-3] == ("" if row.place is None else str(row.place)) and csv_row[-2] == "draft"


def test_no_personal_data_of_applicants_in_the_pages_or_exports(staff_app):
    last, before = months()
    outputs = []
    analyst = staff_app.client("analyst")
    for month in (last, before):
        for url in ("/staff/rating?month={}", "/staff/rating/export.csv?month={}"):
            outputs.append(analyst.get(url.format(f"{month:%Y-%m}")).data.decode("utf-8-sig"))
        book = openpyxl.load_workbook(io.BytesIO(analyst.get(f"/staff/rating/export.xlsx?month={month:%Y-%m}").data))
        outputs.append(" ".join(str(c) for r in book.active.iter_rows(values_only=True) for c in r))
        for login in ("zhkh.curator", "zhkh.minister", "amurdor.curator"):
            outputs.append(staff_app.client(login).get(f"/staff/rating?month={month:%Y-%m}").get_data(as_text=True))
    everything = "\n".join(outputs)
    for profile in DEMO_APPLICANTS.values():
        for field in ("full_name", "email", "phone", "contact_person", "inn", "ogrn"):
            if profile.get(field):
                assert profile[field] not in everything, field


def test_recompute_keeps_a_draft_and_publish_makes_it_final_and_tells_curators_and_heads_once(staff_app):
    last, _ = months()
    value = f"{last:%Y-%m}"
    client = staff_app.client("analyst")
    with staff_app.session() as s:
        computed = rating_snapshots.get(s, last).computed_at
    done = client.post("/staff/rating/recompute", data={"month": value})
    assert done.status_code == 303 and done.location.endswith(f"/staff/rating?month={value}")
    assert "пересчитан" in text(client.get(done.location).get_data(as_text=True))
    with staff_app.session() as s:
        assert rating_snapshots.get(s, last).computed_at >= computed
    assert client.post("/staff/rating/recompute", data={"month": "2026-99"}).status_code == 400
    assert client.post("/staff/rating/publish", data={}).status_code == 400

    done = client.post("/staff/rating/publish", data={"month": value})
    assert done.status_code == 303
    body = text(client.get(done.location).get_data(as_text=True))
    assert "Статус: опубликован" in body and "Пересчитать" not in body and "Опубликовать" not in body
    with staff_app.session() as s:
        snapshot = rating_snapshots.get(s, last)
        assert snapshot.status == PUBLISHED and not snapshot.published_automatically
        events = s.exec(select(OutboxEvent).where(OutboxEvent.idempotency_key.like(f"rating:{value}:%"))).all()
    zhkh, transport = staff_app.org("МинЖКХ АО").id, staff_app.org("Минтранс АО").id
    by_org = {e.payload["data"]["organization_id"]: e for e in events}
    people = {staff_app.user(login).id for login in ("zhkh.curator", "zhkh.minister", "zhkh.head1", "zhkh.head2",
                                                     "zhkh.head3")}
    assert set(by_org[zhkh].payload["user_ids"]) == people
    assert set(by_org[transport].payload["user_ids"]) == {staff_app.user(x).id for x in
                                                          ("transport.curator", "transport.head")}
    rows = snapshot_rows(staff_app, last)
    assert by_org[zhkh].payload["data"]["place"] == rows[ZHKH].place
    # Published is final: a second publication or a recomputation changes nothing and writes no event.
    again = client.post("/staff/rating/publish", data={"month": value})
    assert "уже опубликован" in text(client.get(again.location).get_data(as_text=True))
    client.post("/staff/rating/recompute", data={"month": value})
    with staff_app.session() as s:
        assert len(s.exec(select(OutboxEvent).where(OutboxEvent.idempotency_key.like(f"rating:{value}:%"))).all()) \
            == len(events)
        assert s.exec(select(RatingRow).where(RatingRow.rating_id == snapshot.id)).all()
    # Now the curator sees last month's place and the change from the month before.
    body = text(staff_app.client("zhkh.curator").get(f"/staff/rating?month={value}").get_data(as_text=True))
    before = snapshot_rows(staff_app, rating.previous_month(last))[ZHKH].place
    now = rows[ZHKH].place
    assert f"Место: {now} из 3" in body
    assert ("без изменений" if now == before else f"в прошлом месяце {before}-е") in body


def test_the_forms_need_their_csrf_token_and_a_refused_post_writes_nothing(staff_app):
    from pos import create_app
    app = create_app({**staff_app.app.config, "WTF_CSRF_ENABLED": True})
    client = app.test_client()
    token = lambda html: re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)  # noqa: E731
    signed = client.post("/login", data={"login": "analyst", "password": "demo",
                                         "csrf_token": token(client.get("/login").get_data(as_text=True))})
    assert signed.status_code == 303
    month = rating.previous_month(months()[1])  # three months ago: no snapshot yet
    value = f"{month:%Y-%m}"
    page = client.get(f"/staff/rating?month={value}").get_data(as_text=True)
    assert "ещё не рассчитан" in page and "Рассчитать" in page
    assert client.post("/staff/rating/recompute", data={"month": value}).status_code == 400
    with staff_app.session() as s:
        assert rating_snapshots.get(s, month) is None
    done = client.post("/staff/rating/recompute", data={"month": value, "csrf_token": token(page)})
    assert done.status_code == 303
    with staff_app.session() as s:
        assert rating_snapshots.get(s, month).status == "draft"
