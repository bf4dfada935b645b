"""The applicant's side and Open311 given values no person would type, and uploaded files with tricky names:
a clear 4xx (or the value cleaned), never a 500, and nothing written on a refusal."""
from __future__ import annotations

import io
import zipfile

import pytest
from sqlmodel import select

from pos.models import Attachment, Message
from pos.services import files, open311
from tests.applicant_app import app, client, counts, pdf_bytes, png_bytes, signed_in  # noqa: F401

HUGE = "9223372036854775808"


def _text(response) -> str:
    import html
    return html.unescape(response.get_data(as_text=True))


def test_a_huge_page_number_and_category_are_no_server_error(app, world):
    c = signed_in(app, "citizen")
    assert c.get(f"/my/messages?page={HUGE}").status_code == 200
    assert c.get(f"/classifier/subcategories?category_id={HUGE}").status_code == 200


@pytest.mark.parametrize("field", ["category_id", "subcategory_id"])
def test_a_huge_classifier_id_in_the_message_form_is_refused(app, session, world, field):
    c = signed_in(app, "citizen")
    before = counts(session)
    response = c.post("/my/messages/new", data={"text": "Яма", "address": "ул. Мира, 1", field: HUGE})
    assert response.status_code == 400 and "Неверное значение поля" in _text(response)
    assert counts(session) == before


# --- Open311 -------------------------------------------------------------------------------------------

@pytest.fixture
def key(session, world):
    return open311.create_client(session, "Проверка")[1]


def test_a_lone_surrogate_in_a_json_body_is_dropped(client, session, world, key):
    response = client.post("/open311/v2/requests.json", json={
        "api_key": key, "service_code": str(world.sub["pothole"].id), "description": "Яма\ud800 у дома\udfff",
        "address_string": "ул. Мира\ud83d, 1", "last_name": "\udc00Иванов"})
    assert response.status_code == 200, response.get_data(as_text=True)
    number = response.get_json()[0]["service_request_id"]
    message = session.exec(select(Message).where(Message.number == number)).one()
    assert (message.text, message.address) == ("Яма у дома", "ул. Мира, 1")


def test_a_surrogate_only_description_is_refused_and_nothing_is_written(client, session, world, key):
    before = counts(session)
    response = client.post("/open311/v2/requests.json", json={
        "api_key": key, "service_code": str(world.sub["pothole"].id), "description": "\ud800\x00",
        "address_string": "ул. Мира, 1"})
    assert response.status_code == 400 and response.get_json()[0]["code"] == 400
    assert counts(session) == before


@pytest.mark.parametrize("path", [f"/open311/v2/services/{HUGE}.json", "/open311/v2/tokens/%00.json",
                                  "/open311/v2/requests/%00.json", "/open311/v2/discovery.yaml"])
def test_bad_path_values_are_not_found_in_the_api_shape(client, world, path):
    response = client.get(path)
    assert response.status_code == 404 and response.get_json()[0]["code"] == 404


@pytest.mark.parametrize("query", [f"service_code={HUGE}", "start_date=9999-12-31T00:00:00%2B00:00",
                                   "start_date=0001-01-01", "end_date=2026-13-01"])
def test_bad_filters_are_refused_in_the_api_shape(client, world, query):
    response = client.get(f"/open311/v2/requests.json?{query}")
    assert response.status_code == 400 and response.get_json()[0]["code"] == 400


def test_nul_in_the_api_query_is_dropped(client, world):
    assert client.get("/open311/v2/requests.json?service_request_id=%00&status=open%00").status_code == 200


@pytest.mark.parametrize("method, path, allowed", [
    ("put", "/open311/v2/requests.json", {"GET", "POST", "HEAD", "OPTIONS"}),
    ("post", "/open311/v2/services.xml", {"GET", "HEAD", "OPTIONS"}),
    ("delete", "/open311/v2/requests/ПОС-2026-000001.json", {"GET", "HEAD", "OPTIONS"}),
])
def test_api_405_carries_allow(client, world, method, path, allowed):
    response = getattr(client, method)(path)
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == allowed
    assert "405" in response.get_data(as_text=True)


# --- uploaded files ----------------------------------------------------------------------------------

def multipart(fields: dict, name: str, data: bytes, boundary: str = "pos-boundary-7MA4YWxk") -> tuple[bytes, str]:
    """A form with one file whose name goes as RFC 2231 `filename*` (percent-encoded UTF-8): so a name can
    carry a line break, as a crafted request's can."""
    from urllib.parse import quote
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    parts.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
                 f"filename*=UTF-8''{quote(name, safe='')}\r\nContent-Type: application/octet-stream\r\n\r\n"
                 .encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _send(app, session, name: str, data: bytes, text: str):
    c = signed_in(app, "citizen")
    body, content_type = multipart({"text": text, "address": "ул. Мира, 3"}, name, data)
    return c, c.post("/my/messages/new", data=body, content_type=content_type)


def _attachment(session, text: str) -> Attachment:
    message = session.exec(select(Message).where(Message.text == text)).one()
    return session.exec(select(Attachment).where(Attachment.message_id == message.id)).one()


def test_a_line_break_in_a_file_name_is_dropped_and_the_file_downloads(app, session, world):
    c, response = _send(app, session, "акт\r\nосмотра.pdf", pdf_bytes(), "Файл с переводом строки")
    assert response.status_code == 303
    row = _attachment(session, "Файл с переводом строки")
    assert row.filename == "актосмотра.pdf"
    download = c.get(f"/my/attachments/{row.id}")
    assert download.status_code == 200 and download.data == pdf_bytes()
    assert "\n" not in download.headers["Content-Disposition"]


def test_a_stored_name_with_a_line_break_still_downloads(app, session, world):
    c, _ = _send(app, session, "акт.pdf", pdf_bytes(), "Старая строка")
    row = _attachment(session, "Старая строка")
    row.filename = "акт\nосмотра\u202e.pdf"  # as rows written before names were cleaned may hold
    session.add(row)
    session.commit()
    download = c.get(f"/my/attachments/{row.id}")
    assert download.status_code == 200
    assert "\n" not in download.headers["Content-Disposition"] and "\u202e" not in download.headers["Content-Disposition"]
    page = _text(c.get(f"/my/messages/{row.message_id}"))
    assert "актосмотра.pdf" in page and "\u202e" not in page


def test_a_bidirectional_override_cannot_disguise_an_extension(app, session, world):
    _c, response = _send(app, session, "счёт\u202efdp.exe", pdf_bytes(), "Подмена расширения")
    assert response.status_code == 303
    assert _attachment(session, "Подмена расширения").filename == "счётfdp.pdf"


def test_a_png_named_pdf_is_stored_and_served_as_png_with_its_size_in_bytes(app, session, world):
    c, response = _send(app, session, "справка.pdf", png_bytes(), "PNG под видом PDF")
    assert response.status_code == 303
    row = _attachment(session, "PNG под видом PDF")
    assert (row.filename, row.content_type) == ("справка.png", "image/png")
    download = c.get(f"/my/attachments/{row.id}")
    assert download.headers["Content-Type"] == "image/png"
    assert ".png" in download.headers["Content-Disposition"] and ".pdf" not in download.headers["Content-Disposition"]
    page = _text(c.get(f"/my/messages/{row.message_id}"))
    assert f"({row.size} байт)" in page and "0 КБ" not in page


def test_an_office_file_that_unpacks_to_200_mib_is_refused(app, session, world):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"<w:document/>" + b"\0" * (files.MAX_UNPACKED_BYTES + 1))
    bomb = buffer.getvalue()
    assert len(bomb) < 1024 * 1024
    before = counts(session)
    _c, response = _send(app, session, "отчёт.docx", bomb, "Бомба")
    assert response.status_code == 400
    assert "в распакованном виде документ занимает больше 100 МБ" in _text(response)
    assert counts(session) == before


@pytest.mark.parametrize("depth", [900, 100_000])
def test_json_nested_too_deep_is_no_server_error(client, world, key, depth):
    body = '{"api_key": "%s", "x": %s1%s}' % (key, "[" * depth, "]" * depth)
    response = client.post("/open311/v2/requests.json", data=body, content_type="application/json")
    assert response.status_code in (400, 403) and response.get_json()[0]["code"] == response.status_code


@pytest.mark.parametrize("query", ["service_request_id=ПОС-2026-000001&start_date=вчера",
                                   "service_request_id=ПОС-2026-000001&status=lost",
                                   "start_date=2026-11-01&start_date=вчера", "status=open&status=closed"])
def test_every_filter_given_is_checked_once(client, world, query):
    response = client.get(f"/open311/v2/requests.json?{query}")
    assert response.status_code == 400 and response.get_json()[0]["code"] == 400
