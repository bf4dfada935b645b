"""Staff pages given values no person would type: each is a clear 4xx in Russian (or the first page for a
tampered cursor), never a 500, and nothing is written."""
from __future__ import annotations

import base64
import html as html_lib
import re

import pytest
from sqlalchemy import func
from sqlmodel import select

from pos.models import Attachment, HistoryEntry, Message
from pos.services.inbox import encode_cursor
from tests.staff_app import StaffApp, staff_app, version_of  # noqa: F401

HUGE = "9223372036854775808"  # 2**63: past SQLite's integers


def _text(response) -> str:
    return html_lib.unescape(response.get_data(as_text=True))


def _written(staff_app: StaffApp) -> tuple:
    with staff_app.session() as s:
        return (s.exec(select(func.count()).select_from(HistoryEntry)).one(),
                s.exec(select(func.sum(Message.version))).one(),
                s.exec(select(func.count()).select_from(Attachment)).one())


@pytest.mark.parametrize("path", [f"/staff/messages/{HUGE}", f"/staff/messages/{2**64}/template",
                                  f"/staff/attachments/{HUGE}", f"/my/messages/{HUGE}", f"/embed/{HUGE}",
                                  f"/my/attachments/{HUGE}"])
def test_ids_past_64_bits_in_paths_are_not_found(staff_app, path):
    assert staff_app.client("moderator").get(path).status_code == 404


def test_a_huge_id_posted_to_an_action_route_is_not_found(staff_app):
    assert staff_app.client("moderator").post(f"/staff/messages/{HUGE}/accept").status_code == 404


@pytest.mark.parametrize("query, field", [
    (f"organization_id={HUGE}", "Организация (с подведомственными)"), (f"category_id={HUGE}", "Категория"),
    (f"subcategory_id={2**64}", "Подкатегория"), (f"executor_id={HUGE}", "Исполнитель"),
])
def test_huge_ids_in_filters_are_refused_on_the_field(staff_app, query, field):
    response = staff_app.client("zhkh.curator").get(f"/staff/?{query}")
    assert response.status_code == 400
    assert f"Неверное значение поля «{field}»" in _text(response)


@pytest.mark.parametrize("query", ["date_to=9999-12-31", "date_from=0001-01-01", "date_from=1900-01-01&date_to=2026-01-01"])
def test_dates_out_of_range_in_filters_are_refused_on_the_field(staff_app, query):
    response = staff_app.client("moderator").get(f"/staff/?{query}")
    assert response.status_code == 400
    assert "должна быть в пределах 01.01.2000–31.12.2100" in _text(response)
    assert 'min="2000-01-01"' in _text(response) and 'max="2100-12-31"' in _text(response)


def _raw_cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize("raw", ['[0, "2026-01-01T00:00:00", 1]', '[0, "2026-01-01T00:00:00+00:00", Infinity]',
                                 '[0, "2026-01-01T00:00:00+00:00", 1e30]', f'[0, "2026-01-01T00:00:00+00:00", {HUGE}]'])
@pytest.mark.parametrize("direction", ["after", "before"])
def test_a_tampered_cursor_gives_the_first_page(staff_app, raw, direction):
    client = staff_app.client("moderator")
    first = _text(client.get("/staff/"))
    response = client.get(f"/staff/?{direction}={_raw_cursor(raw)}")
    assert response.status_code == 200
    numbers = re.findall(r"ПОС-\d{4}-\d{6}", _text(response))
    assert numbers == re.findall(r"ПОС-\d{4}-\d{6}", first)


def test_reserved_url_for_names_in_the_query_string_stay_out_of_the_links(staff_app):
    client = staff_app.client("moderator")
    with staff_app.session() as s:
        first = s.exec(select(Message).where(Message.stage == "moderation")
                       .order_by(Message.stage_due_at, Message.id)).first()
    cursor = encode_cursor(first)  # a second page: the pager links are built
    response = client.get(f"/staff/?after={cursor}&_external=1&_method=POST&_anchor=x&_scheme=javascript"
                          "&date_from=2020-01-01&unknown=1")
    assert response.status_code == 200
    html = _text(response)
    links = re.findall(r'href="(/staff/\?[^"]*)"', html)
    assert links, "no pager links"
    for link in links:
        query = link.split("?", 1)[1]
        assert "_" not in query.replace("date_from", "") and "#" not in link and "unknown" not in link
        assert "date_from=2020-01-01" in query


@pytest.mark.parametrize("action", ["nope", "accept", "", "agree"])
def test_the_template_route_knows_only_the_answer_forms(staff_app, action):
    m = staff_app.new_message(steps=[("moderator", "accept", {})])
    client = staff_app.client("zhkh.coordinator")
    assert client.get(f"/staff/messages/{m.id}/template", query_string={"action": action}).status_code == 404
    assert client.get(f"/staff/messages/{m.id}/template?action=send_for_approval"
                      f"&send_for_approval-template_id={HUGE}").status_code == 200


def _in_execution(staff_app):
    return staff_app.new_message("Нет горячей воды.", steps=[
        ("moderator", "accept", {}),
        ("zhkh.coordinator", "assign_executor", {"executor_id": staff_app.user("zhkh.executor").id})])


def _answer(staff_app, page: str, **override) -> dict:
    data = {"prepare_answer-version": version_of(page, "prepare_answer"), "prepare_answer-result": "resolved",
            "prepare_answer-answer_text": "Сделано.", "prepare_answer-executor_position": "Специалист",
            "prepare_answer-executor_name": "Волков С. Н.",
            "prepare_answer-approver_id": str(staff_app.user("zhkh.minister").id)}
    data.update(override)
    return data


@pytest.mark.parametrize("field, label", [("approver_id", "Утверждающий руководитель"),
                                          ("agreeing-0", "Согласующий руководитель")])
def test_huge_ids_in_action_forms_are_refused_and_nothing_is_written(staff_app, field, label):
    m = _in_execution(staff_app)
    client = staff_app.client("zhkh.executor")
    page = _text(client.get(f"/staff/messages/{m.id}"))
    before = _written(staff_app)
    response = client.post(f"/staff/messages/{m.id}/prepare_answer",
                           data=_answer(staff_app, page, **{f"prepare_answer-{field}": HUGE}))
    assert response.status_code == 422
    assert f"Неверное значение поля «{label}»" in _text(response)
    assert _written(staff_app) == before and staff_app.message(m.id).stage == "execution"


def _refused(staff_app, login: str, message_id: int, action: str, data: dict, words: str) -> None:
    """The action posted with `data` (names without the action's prefix) is refused with `words`; nothing
    is written."""
    client = staff_app.client(login)
    page = _text(client.get(f"/staff/messages/{message_id}/act/{action}"))
    before = _written(staff_app)
    response = client.post(f"/staff/messages/{message_id}/{action}", data={
        f"{action}-version": version_of(page, action), **{f"{action}-{k}": v for k, v in data.items()}})
    assert response.status_code == 422 and words in _text(response)
    assert _written(staff_app) == before


def test_a_huge_executor_id_is_refused(staff_app):
    m = staff_app.new_message(steps=[("moderator", "accept", {})])
    _refused(staff_app, "zhkh.coordinator", m.id, "assign_executor", {"executor_id": HUGE},
             "Неверное значение поля «Исполнитель»")


def test_a_huge_head_id_in_a_delegation_is_refused(staff_app):
    m = _in_execution(staff_app)
    client = staff_app.client("zhkh.executor")
    page = _text(client.get(f"/staff/messages/{m.id}"))
    assert client.post(f"/staff/messages/{m.id}/prepare_answer", data=_answer(staff_app, page)).status_code == 303
    _refused(staff_app, "zhkh.minister", m.id, "delegate_approval", {"head_id": HUGE},
             "Неверное значение поля «Руководитель»")


def test_a_postponement_date_out_of_range_is_refused(staff_app):
    m = _in_execution(staff_app)
    _refused(staff_app, "zhkh.executor", m.id, "prepare_answer", {
        "result": "postponed", "postponed_until": "9999-12-31", "answer_text": "Отложено.",
        "executor_position": "Специалист", "executor_name": "Волков С. Н.",
        "approver_id": str(staff_app.user("zhkh.minister").id)}, "должна быть в пределах")


def test_405_says_which_methods_are_allowed(staff_app):
    response = staff_app.client("moderator").post("/staff/")
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS"}
    assert "Метод не поддерживается" in _text(response)
    response = staff_app.client().delete("/login")
    assert response.status_code == 405 and "POST" in response.headers["Allow"]


def test_unstorable_characters_in_queries_and_forms_are_dropped(staff_app):
    client = staff_app.client("moderator")
    assert client.get("/staff/?q=%00%ED%A0%80").status_code == 200
    assert staff_app.client().post("/login", data={"login": "moder\x00ator", "password": "demo"}).status_code == 303


@pytest.mark.parametrize("target", ["/staff/%0D%0AX-Evil:%201", "/%5Cevil.example", "//evil.example", "/staff/%7F"])
def test_a_line_break_or_another_host_in_next_and_back_is_ignored(staff_app, target):
    client = staff_app.client()
    response = client.post(f"/login?next={target}", data={"login": "zhkh.coordinator", "password": "demo"})
    assert response.status_code == 303 and response.location == "/staff/"
    m = staff_app.new_message(steps=[("moderator", "accept", {})])
    page = _text(client.get(f"/staff/messages/{m.id}/act/take?back={target}"))
    assert "evil" not in page and "X-Evil" not in page
    response = client.post(f"/staff/messages/{m.id}/take?back={target}",
                           data={"take-version": version_of(page, "take")})
    assert response.status_code == 303 and "evil" not in response.location.lower()


def test_a_stored_file_name_with_a_line_break_downloads_for_staff(staff_app):
    from pos.services.files import Upload
    from pos.services.messages import act
    from tests.applicant_app import png_bytes
    m = _in_execution(staff_app)
    with staff_app.session() as s:
        act(s, staff_app.env, staff_app.user("zhkh.executor"), m.id, "prepare_answer", dict(
            result="resolved", answer_text="Сделано.", executor_position="Специалист", executor_name="Волков С. Н.",
            approver_id=staff_app.user("zhkh.minister").id, agreeing_ids=[]),
            uploads=[Upload("фото.pdf", png_bytes())])
        row = s.exec(select(Attachment).where(Attachment.message_id == m.id)).one()
        assert (row.filename, row.content_type) == ("фото.png", "image/png")
        row.filename = "фото\r\nX-Evil: 1.pdf"  # a row stored before names were cleaned
        s.add(row)
        s.commit()
    client = staff_app.client("zhkh.executor")
    response = client.get(f"/staff/attachments/{row.id}")
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"
    assert "\n" not in response.headers["Content-Disposition"] and ".png" in response.headers["Content-Disposition"]
    page = _text(client.get(f"/staff/messages/{m.id}"))
    assert "байт)" in page and "0.0 КБ" not in page and "0 КБ" not in page
