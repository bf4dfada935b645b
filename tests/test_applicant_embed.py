"""The embeddable form: framed by any site, no JavaScript, no session, addressed to its organization."""
import pytest
from sqlmodel import select

from pos.models import Applicant, Attachment, Message
from pos.workflow import Stage
from tests.applicant_app import FORGED_PDF, app, counts, pdf_bytes, upload  # noqa: F401

FORM = {"full_name": "Петров Пётр Петрович", "email": "petrov@example.ru", "phone": "", "text": "Не горит фонарь",
        "address": "г. Тында, ул. Мира, 5", "consent": "y"}


@pytest.fixture
def csrf_app(app):
    # The real thing: CSRF on everywhere else; the framed form must work without a session cookie.
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def test_embed_page_may_be_framed_and_loads_no_script(csrf_app, world):
    response = csrf_app.test_client().get(f"/embed/{world.org['C'].id}", follow_redirects=True)
    assert response.status_code == 200
    assert "X-Frame-Options" not in response.headers
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    assert "script-src 'none'" in response.headers["Content-Security-Policy"]
    page = response.get_data(as_text=True)
    assert "<script" not in page and "Управление городского хозяйства" in page
    assert "Set-Cookie" not in response.headers


def test_the_operator_may_limit_who_frames_the_form(csrf_app, world):
    csrf_app.config["EMBED_FRAME_ANCESTORS"] = "https://tynda.example"
    response = csrf_app.test_client().get(f"/embed/{world.org['C'].id}")
    assert "frame-ancestors https://tynda.example;" in response.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in response.headers


def test_other_pages_still_refuse_framing(csrf_app):
    assert csrf_app.test_client().get("/login").headers["X-Frame-Options"] == "SAMEORIGIN"


def test_embed_sends_to_its_organization_without_a_session(csrf_app, session, world):
    client = csrf_app.test_client(use_cookies=False)
    org = world.org["C"]
    response = client.post(f"/embed/{org.id}", content_type="multipart/form-data",
                           data={**FORM, "files": [upload(pdf_bytes(), "схема.pdf")]})
    assert response.status_code == 303, response.get_data(as_text=True)
    message = session.exec(select(Message).where(Message.text == "Не горит фонарь")).one()
    assert (message.source, message.organization_id, message.stage) == ("embed", org.id, Stage.MODERATION)
    author = session.get(Applicant, message.applicant_id)
    assert (author.user_id, author.full_name, author.email) == (None, "Петров Пётр Петрович", "petrov@example.ru")
    assert author.consent_version and author.consent_at is not None
    assert session.exec(select(Attachment).where(Attachment.message_id == message.id)).one().filename == "схема.pdf"
    sent = client.get(response.location)
    assert sent.status_code == 200 and "X-Frame-Options" not in sent.headers
    assert f"зарегистрировано под номером <strong>{message.number}</strong>" in sent.get_data(as_text=True)


@pytest.mark.parametrize("change, words", [
    ({"text": ""}, "Заполните поле «Текст сообщения»."),
    ({"text": "я" * 4001}, "длиннее 4000 символов"),
    ({"consent": ""}, "Без согласия на обработку персональных данных сообщение не может быть принято."),
    ({"email": ""}, "Укажите адрес электронной почты."),
    ({"email": "петров"}, "Адрес электронной почты указан неверно"),
    ({"full_name": ""}, "Укажите фамилию, имя, отчество."),
    ({"phone": "0"}, "Номер телефона указан неверно"),
    ({"files": [upload(FORGED_PDF, "план.pdf")]}, "содержимое не является документом допустимого типа"),
])
def test_bad_embed_input_gets_a_clear_error_and_writes_nothing(csrf_app, session, world, change, words):
    before = counts(session)
    data = {**FORM, **change}
    if data["consent"] == "":
        del data["consent"]
    response = csrf_app.test_client().post(f"/embed/{world.org['C'].id}", data=data,
                                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert words in response.get_data(as_text=True)
    assert counts(session) == before


def test_unknown_or_closed_organization_is_not_found(csrf_app, session, world):
    client = csrf_app.test_client()
    assert client.get("/embed/999999").status_code == 404
    org = world.org["C"]
    org.is_active = False
    session.add(org)
    session.commit()
    assert client.get(f"/embed/{org.id}").status_code == 404


def test_sent_page_needs_a_valid_signature(csrf_app, world):
    client = csrf_app.test_client()
    assert client.get(f"/embed/{world.org['C'].id}/sent/forged-token").status_code == 404
    own = world.submit()  # a web message: its number is not shown through the embedded form
    from itsdangerous import URLSafeTimedSerializer
    token = URLSafeTimedSerializer("applicant-tests", salt="pos.embed.sent").dumps(own.id)
    assert client.get(f"/embed/{world.org['C'].id}/sent/{token}").status_code == 404
