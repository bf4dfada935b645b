"""The applicant's pages: registration, sending, my messages, the answer, rating, repeat, files, notifications."""
import re

import pytest
from sqlmodel import select

from pos.models import Applicant, Attachment, Message, User
from pos.services.files import Upload
from pos.services.messages import act
from pos.workflow import MAX_TEXT, Action, Stage
from tests.applicant_app import (FORGED_PDF, app, client, counts, notification, pdf_bytes, png_bytes,  # noqa: F401
                                 register, signed_in, upload)
from tests.test_applicant_service import VALID_INN, VALID_OGRN


def text_of(response) -> str:
    return response.get_data(as_text=True)


# --- registration --------------------------------------------------------------------------------

REGISTRATION = {"kind": "citizen", "full_name": "Сидоров Пётр Ильич", "email": "sidorov@example.ru",
                "phone": "+7 914 000-11-22", "password": "длинный-пароль", "password_confirm": "длинный-пароль",
                "consent": "y"}


def test_login_page_links_to_registration(client):
    assert 'href="/register"' in text_of(client.get("/login"))


def test_registration_form_has_consent_text_and_both_kinds(client):
    page = text_of(client.get("/register"))
    for words in ("Гражданин", "Юридическое лицо", "ИНН организации", "ОГРН организации", "152-ФЗ",
                  "Я даю согласие на обработку персональных данных"):
        assert words in page


def test_citizen_registers_and_lands_on_my_messages(client, session, world):
    response = register(client, session, REGISTRATION)
    assert response.status_code == 303 and response.location.endswith("/my/messages")
    page = text_of(client.get("/my/messages", follow_redirects=True))
    assert "Регистрация завершена" in page and "Сидоров Пётр Ильич" in page
    assert "Вы ещё не подавали сообщений." in page
    applicant = session.exec(select(Applicant).where(Applicant.email == "sidorov@example.ru")).one()
    assert applicant.consent_at is not None and applicant.consent_version


def test_legal_entity_with_a_bad_inn_gets_a_clear_error_and_nothing_is_written(client, session, world):
    before = counts(session)
    response = client.post("/register", data={**REGISTRATION, "kind": "legal", "org_name": "ООО «Ромашка»",
                                              "inn": "7707083894", "ogrn": VALID_OGRN, "contact_person": "Иванов И."})
    assert response.status_code == 400
    assert "ИНН указан с ошибкой: не сходится контрольная цифра." in text_of(response)
    assert 'aria-invalid="true"' in text_of(response)
    assert counts(session) == before


def test_legal_entity_registers(client, session, world):
    response = register(client, session, {**REGISTRATION, "kind": "legal", "org_name": "ПАО Сбербанк",
                                          "inn": VALID_INN, "ogrn": VALID_OGRN,
                                          "contact_person": "Кузнецова Мария"})
    assert response.status_code == 303
    applicant = session.exec(select(Applicant).where(Applicant.inn == VALID_INN)).one()
    assert applicant.kind == "legal" and applicant.user_id is not None


def test_registration_without_consent_is_refused(client, session, world):
    before = counts(session)
    data = {k: v for k, v in REGISTRATION.items() if k != "consent"}
    response = client.post("/register", data=data)
    assert response.status_code == 400
    assert "Без согласия на обработку персональных данных регистрация невозможна." in text_of(response)
    assert counts(session) == before


# --- sending ---------------------------------------------------------------------------------------

def test_staff_and_strangers_do_not_get_applicant_pages(app, client, world):
    assert client.get("/my/messages").status_code == 302  # to the sign-in page
    staff = signed_in(app, "moderator")
    assert staff.get("/my/messages").status_code == 403
    assert staff.get("/my/messages/new").status_code == 403


def test_new_message_form_lists_categories_and_refreshes_subcategories_without_js(app, world):
    c = signed_in(app, "citizen")
    page = text_of(c.get("/my/messages/new", follow_redirects=True))
    assert "— не выбрана (определит модератор) —" in page and "Дороги" in page
    assert "<noscript>" in page and "Показать подкатегории" in page
    roads = world.cat["roads"].id
    response = c.post("/my/messages/new", data={"text": "Черновик", "category_id": str(roads), "refresh": "1"})
    page = text_of(response)
    assert response.status_code == 200 and "Ямы и выбоины на дороге" in page and "Черновик" in page
    assert "Отопление" not in page
    assert world.session.exec(select(Message).where(Message.text == "Черновик")).first() is None


def test_subcategory_fragment_for_htmx(app, world):
    c = signed_in(app, "citizen")
    fragment = text_of(c.get(f"/classifier/subcategories?category_id={world.cat['culture'].id}",
                             headers={"HX-Request": "true"}))
    assert fragment.strip().startswith('<div id="subcategory-field">')
    assert "вернуть денежные средства" in fragment and "<html" not in fragment


def test_applicant_sends_a_message_with_a_file_and_sees_the_number_at_once(app, session, world):
    c = signed_in(app, "citizen")
    sub = world.sub["pothole"]
    response = c.post("/my/messages/new", content_type="multipart/form-data", data={
        "text": "Яма на въезде во двор", "category_id": str(sub.category_id), "subcategory_id": str(sub.id),
        "address": "г. Благовещенск, ул. Ленина, 1", "latitude": "50.2906", "longitude": "127.5272",
        "files": [upload(png_bytes(), "яма.png"), upload(pdf_bytes(), "акт.pdf")]})
    assert response.status_code == 303
    message = session.exec(select(Message).where(Message.text == "Яма на въезде во двор")).one()
    assert response.location.endswith(f"/my/messages/{message.id}")
    assert (message.source, message.applicant_id, message.latitude) == ("web", world.applicants["citizen"].id,
                                                                        50.2906)
    page = text_of(c.get(response.location))
    assert f"Сообщение зарегистрировано под номером {message.number}" in page
    assert "На модерации" in page and "Срок ответа" in page
    assert "яма.png" in page and "акт.pdf" in page


@pytest.mark.parametrize("data, words", [
    ({"text": ""}, "Заполните поле «Текст сообщения»."),
    ({"text": "я" * (MAX_TEXT + 1)}, f"Поле «Текст сообщения» длиннее {MAX_TEXT} символов."),
    ({"address": ""}, "Укажите адрес, к которому относится сообщение."),
    ({"latitude": "95", "longitude": "10"}, "Широта должна быть от −90 до 90 градусов."),
    ({"files": [upload(FORGED_PDF, "договор.pdf")]}, "содержимое не является документом допустимого типа"),
    ({"category_id": "", "subcategory_id": "-1"}, "Подкатегория"),
])
def test_bad_message_gets_a_clear_error_and_writes_nothing(app, session, world, data, words):
    c = signed_in(app, "citizen")
    before = counts(session)
    form = {"text": "Яма", "address": "ул. Мира, 1", **data}
    response = c.post("/my/messages/new", data=form, content_type="multipart/form-data")
    assert response.status_code == 400
    assert words in text_of(response)
    assert counts(session) == before


def test_control_characters_never_reach_the_database(app, session, world):
    c = signed_in(app, "citizen")
    response = c.post("/my/messages/new", data={"text": "Нуль\x00 в тексте", "address": "ул.\x00 Мира, 1"})
    assert response.status_code == 303
    message = session.exec(select(Message).where(Message.text == "Нуль в тексте")).one()
    assert message.address == "ул. Мира, 1"
    response = register(app.test_client(), session, {**REGISTRATION, "full_name": "Сидоров\x00 Пётр"})
    assert response.status_code == 303
    assert session.exec(select(Applicant).where(Applicant.full_name == "Сидоров Пётр")).one()


def test_subcategory_of_another_category_is_refused(app, session, world):
    c = signed_in(app, "citizen")
    before = counts(session)
    response = c.post("/my/messages/new", data={"text": "Яма", "address": "ул. Мира, 1",
                                                "category_id": str(world.cat["roads"].id),
                                                "subcategory_id": str(world.sub["heating"].id)})
    assert response.status_code == 400 and "Подкатегория не относится к выбранной категории." in text_of(response)
    assert counts(session) == before


# --- following -------------------------------------------------------------------------------------

def test_my_messages_shows_statuses_in_the_applicants_words(app, world):
    world.message(Stage.MODERATION, text="На модерации текст")
    world.message(Stage.EXECUTION, text="В работе текст")
    world.message(Stage.ANSWERED, text="Отвеченный текст")
    world.message(Stage.POSTPONED, text="Отложенный текст")
    rejected = world.submit(text="Отклонённый текст")
    world.act("moderator", rejected, Action.REJECT, reason="з")
    world.message(Stage.EXECUTION, text="Чужое сообщение", applicant="citizen2")
    page = text_of(signed_in(app, "citizen").get("/my/messages"))
    for words in ("На модерации", "В работе", "Ответ готов", "Отложено до", "Отклонено модератором",
                  "Причина: з) сообщение содержит послания, просьбы, прошения личного характера"):
        assert words in page, words
    assert "Чужое сообщение" not in page
    for internal in ("Исполнение", "Координация", "Согласование", "Утверждение"):
        assert internal not in page


def test_someone_elses_message_is_not_found(app, world):
    other = world.message(Stage.ANSWERED, applicant="citizen2")
    assert signed_in(app, "citizen").get(f"/my/messages/{other.id}").status_code == 404


def test_answer_page_shows_the_answer_and_executor_and_hides_internal_comments(app, world):
    message = world.message(Stage.EXECUTION)
    world.act("a.executor", message, Action.PREPARE_ANSWER,
              **world.answer_params(agreeing=("a.head1",), comment="СЛУЖЕБНЫЙ комментарий исполнителя"))
    world.act("a.head1", message, Action.AGREE)
    c = signed_in(app, "citizen")
    page = text_of(c.get(f"/my/messages/{message.id}"))
    assert "В работе" in page and "Яма заделана." not in page and "Иванов Пётр Сергеевич" not in page
    world.act("a.approver", message, Action.APPROVE)
    page = text_of(c.get(f"/my/messages/{message.id}"))
    assert "Ответ готов" in page and "Яма заделана." in page
    assert "Главный специалист, Иванов Пётр Сергеевич" in page
    assert "Результат рассмотрения: <strong>решено</strong>" in page
    assert "СЛУЖЕБНЫЙ" not in page and "Согласовано" not in page and "Сотрудник a.head1" not in page


def test_rating_once_then_repeat_once_after_a_poor_rating(app, session, world):
    message = world.message(Stage.ANSWERED)
    c = signed_in(app, "citizen")
    page = text_of(c.get(f"/my/messages/{message.id}"))
    assert "Оценить ответ" in page and "Подать повторное сообщение" not in page
    missing = c.post(f"/my/messages/{message.id}/rate", data={})
    assert missing.status_code == 400 and "Выберите оценку от 1 до 5." in text_of(missing)
    response = c.post(f"/my/messages/{message.id}/rate", data={"rating": "2", "comment": "Яма осталась"})
    assert response.status_code == 303
    page = text_of(c.get(f"/my/messages/{message.id}"))
    assert "Ваша оценка ответа: <strong>2 из 5</strong>" in page and "Оценить ответ" not in page
    again = c.post(f"/my/messages/{message.id}/rate", data={"rating": "5"})  # the form sent again
    assert again.status_code == 303
    assert "Ваша оценка этого ответа уже учтена" in text_of(c.get(again.location))
    assert world.reload(message).rating == 2
    assert "Подать повторное сообщение" in page
    before = counts(session)
    empty = c.post(f"/my/messages/{message.id}/repeat", data={"text": "  "})
    assert empty.status_code == 400 and counts(session) == before
    response = c.post(f"/my/messages/{message.id}/repeat", data={"text": "Яма снова появилась"})
    assert response.status_code == 303
    repeat = session.exec(select(Message).where(Message.repeated_of_id == message.id)).one()
    assert response.location.endswith(f"/my/messages/{repeat.id}")
    assert (repeat.is_repeated, repeat.stage, repeat.organization_id) == (True, Stage.MODERATION,
                                                                         message.organization_id)
    page = text_of(c.get(response.location))
    assert f"Повторное сообщение зарегистрировано под номером {repeat.number}" in page
    assert "На модерации" in page  # like every message, in the applicant's words
    assert "повторное" in page and message.number in page
    twice = c.post(f"/my/messages/{message.id}/repeat", data={"text": "Ещё раз"})
    assert twice.status_code == 400 and "уже подано" in text_of(twice)


def test_no_repeat_after_a_good_rating(app, world):
    message = world.message(Stage.ANSWERED)
    c = signed_in(app, "citizen")
    c.post(f"/my/messages/{message.id}/rate", data={"rating": "4"})
    assert "Подать повторное сообщение" not in text_of(c.get(f"/my/messages/{message.id}"))
    refused = c.post(f"/my/messages/{message.id}/repeat", data={"text": "Всё же повторю"})
    assert refused.status_code == 400 and "после оценки ответа на 1–3 балла" in text_of(refused)


def test_attachments_are_served_to_the_author_only(app, session, world):
    c = signed_in(app, "citizen")
    c.post("/my/messages/new", content_type="multipart/form-data",
           data={"text": "С вложением", "address": "ул. Мира, 2", "files": [upload(pdf_bytes(), "акт.pdf")]})
    message = session.exec(select(Message).where(Message.text == "С вложением")).one()
    row = session.exec(select(Attachment).where(Attachment.message_id == message.id)).one()
    response = c.get(f"/my/attachments/{row.id}")
    assert response.status_code == 200 and response.data == pdf_bytes()
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    assert signed_in(app, "citizen2").get(f"/my/attachments/{row.id}").status_code == 404
    assert app.test_client().get(f"/my/attachments/{row.id}").status_code == 302


def test_answer_documents_are_downloadable_once_published(app, world):
    message = world.message(Stage.EXECUTION)
    act(world.session, world.env, world.u("a.executor"), message.id, Action.PREPARE_ANSWER, world.answer_params(),
        uploads=[Upload("ответ.pdf", pdf_bytes())])
    doc = world.session.exec(select(Attachment).where(Attachment.message_id == message.id)).one()
    c = signed_in(app, "citizen")
    assert c.get(f"/my/attachments/{doc.id}").status_code == 404
    world.act("a.approver", message, Action.APPROVE)
    page = text_of(c.get(f"/my/messages/{message.id}"))
    assert "Документы к ответу" in page and "ответ.pdf" in page
    assert c.get(f"/my/attachments/{doc.id}").status_code == 200


# --- notifications ------------------------------------------------------------------------------------

def test_notifications_list_and_mark_read(app, session, world):
    message = world.message(Stage.COORDINATION)
    applicant_id = world.applicants["citizen"].id
    notification(session, applicant_id, message.id, "Сообщение перенаправлено в Министерство ЖКХ",
                 body="Ваше сообщение перенаправлено по компетенции.")
    notification(session, applicant_id, None, "Старое уведомление", kind="accepted", read=True)
    notification(session, world.applicants["citizen2"].id, None, "Чужое уведомление", kind="accepted")
    c = signed_in(app, "citizen")
    page = text_of(c.get("/my/notifications"))
    assert "Сообщение перенаправлено в Министерство ЖКХ" in page and "Старое уведомление" in page
    assert "Чужое уведомление" not in page
    assert "Непрочитанных: 1." in page and f"Сообщение {message.number}" in page
    assert page.count("badge-new") == 1
    assert c.post("/my/notifications/read").status_code == 303
    page = text_of(c.get("/my/notifications"))
    assert "Непрочитанных" not in page and "badge-new" not in page


def test_applicant_navigation(app, world):
    page = text_of(signed_in(app, "citizen").get("/my/messages"))
    nav = re.search(r'<nav aria-label="Разделы">(.*?)</nav>', page, re.S).group(1)
    assert "Мои сообщения" in nav and "Подать сообщение" in nav and "Уведомления" in nav
    assert signed_in(app, "citizen").get("/").location.endswith("/my/messages")


def test_user_row_for_registration_is_not_staff(client, session, world):
    register(client, session, REGISTRATION)
    user = session.exec(select(User).where(User.login == "sidorov@example.ru")).one()
    assert user.is_staff is False
