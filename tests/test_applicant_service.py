"""The applicant's services: ИНН/ОГРН check digits, registration and consent, sending, statuses in their words."""
import pytest
from hypothesis import given, strategies as st
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import select

from pos import clock
from pos.models import Applicant, Message, OutboxEvent, User
from pos.services import applicant_messages as mine
from pos.services import applicants, registration
from pos.services.files import Upload
from pos.workflow import REJECTION_REASONS, Action, Invalid, Stage
from tests.applicant_app import FORGED_PDF, counts, pdf_bytes

VALID_INN = "7707083893"  # ПАО Сбербанк
VALID_OGRN = "1027700132195"


def _check_inn(first9: str) -> str:
    total = sum(int(d) * w for d, w in zip(first9, (2, 4, 10, 3, 5, 9, 4, 6, 8)))
    return first9 + str(total % 11 % 10)


@pytest.mark.parametrize("inn, ok", [(VALID_INN, True), ("7707083894", False), ("770708389", False),
                                     ("77070838931", False), ("77070838a3", False), ("", False)])
def test_inn_check_digit(inn, ok):
    assert applicants.inn_is_valid(inn) is ok


@pytest.mark.parametrize("ogrn, ok", [(VALID_OGRN, True), ("1027700132196", False), ("102770013219", False),
                                      ("10277001321950", False), ("", False)])
def test_ogrn_check_digit(ogrn, ok):
    assert applicants.ogrn_is_valid(ogrn) is ok


@given(st.text(alphabet="0123456789", min_size=9, max_size=9), st.integers(min_value=1, max_value=9))
def test_inn_accepts_its_check_digit_only(first9, shift):
    inn = _check_inn(first9)
    assert applicants.inn_is_valid(inn)
    wrong = inn[:9] + str((int(inn[9]) + shift) % 10)
    assert not applicants.inn_is_valid(wrong)


@given(st.integers(min_value=10**11, max_value=10**12 - 1), st.integers(min_value=1, max_value=9))
def test_ogrn_accepts_its_check_digit_only(first12, shift):
    ogrn = f"{first12}{first12 % 11 % 10}"
    assert applicants.ogrn_is_valid(ogrn)
    assert not applicants.ogrn_is_valid(ogrn[:12] + str((int(ogrn[12]) + shift) % 10))


CITIZEN = {"kind": "citizen", "full_name": "  Сидоров   Пётр Ильич ", "email": "Sidorov@Mail.RU",
           "phone": "8 (914) 123-45-67"}
LEGAL = {"kind": "legal", "org_name": "ПАО Сбербанк", "inn": VALID_INN, "ogrn": VALID_OGRN,
         "contact_person": "Кузнецова Мария Андреевна", "email": "office@sber.example", "phone": "+7 495 500-55-50"}
PASSWORDS = {"password": "длинный-пароль", "password_confirm": "длинный-пароль"}


def letters(session) -> list[dict]:
    """The registration letters waiting in the outbox, oldest first."""
    return [row.payload for row in session.exec(select(OutboxEvent).order_by(OutboxEvent.id))
            if registration.is_letter(row.payload)]


def registered(session, data, passwords=PASSWORDS) -> User:
    """Register, then follow the link of the letter, as the owner of the address does."""
    applicants.identity_provider().register(session, data, passwords, consent=True)
    return applicants.identity_provider().confirm(session, letters(session)[-1]["token"])


def test_citizen_registers_with_consent_recorded(session):
    user = registered(session, CITIZEN)
    applicant = session.exec(select(Applicant).where(Applicant.user_id == user.id)).one()
    assert (user.login, user.is_staff, user.full_name) == ("sidorov@mail.ru", False, "Сидоров Пётр Ильич")
    assert (applicant.kind, applicant.email, applicant.phone) == ("citizen", "sidorov@mail.ru", "+79141234567")
    assert applicant.consent_at is not None and applicant.consent_version == applicants.CONSENT_VERSION
    assert applicants.identity_provider().authenticate(session, {"login": "sidorov@mail.ru",
                                                                 "password": "длинный-пароль"}).id == user.id


def test_no_account_exists_until_the_link_is_followed(session):
    before = counts(session)
    applicants.identity_provider().register(session, CITIZEN, PASSWORDS, consent=True)
    assert session.exec(select(User).where(User.login == "sidorov@mail.ru")).first() is None
    (letter,) = letters(session)
    assert (letter["letter"], letter["to"]) == (registration.CONFIRM_LETTER, "sidorov@mail.ru")
    assert counts(session)["User"] == before["User"] and counts(session)["Applicant"] == before["Applicant"]
    assert applicants.identity_provider().authenticate(
        session, {"login": "sidorov@mail.ru", "password": "длинный-пароль"}) is None
    user = applicants.identity_provider().confirm(session, letter["token"])
    assert user.login == "sidorov@mail.ru"
    with pytest.raises(Invalid, match="уже завершена|недействительна"):
        applicants.identity_provider().confirm(session, letter["token"])  # a link works once


def test_a_link_dies_after_a_day(session):
    applicants.identity_provider().register(session, CITIZEN, PASSWORDS, consent=True)
    token = letters(session)[-1]["token"]
    with clock.frozen(clock.now() + timedelta(hours=registration.CONFIRM_HOURS, minutes=1)):
        with pytest.raises(Invalid, match="недействительна или устарела"):
            applicants.identity_provider().confirm(session, token)
    with pytest.raises(Invalid, match="недействительна или устарела"):
        applicants.identity_provider().confirm(session, "forged-" + token[7:])


def test_legal_entity_registers_with_contact_person(session):
    user = registered(session, LEGAL)
    applicant = session.exec(select(Applicant).where(Applicant.user_id == user.id)).one()
    assert (applicant.kind, applicant.org_name, applicant.inn, applicant.ogrn) == ("legal", "ПАО Сбербанк",
                                                                                  VALID_INN, VALID_OGRN)
    assert applicant.contact_person == applicant.full_name == "Кузнецова Мария Андреевна"


@pytest.mark.parametrize("change, field, words", [
    ({"inn": "7707083894"}, "inn", "контрольная цифра"),
    ({"inn": "12345"}, "inn", "10 цифр"),
    ({"inn": ""}, "inn", "Укажите ИНН"),
    ({"ogrn": "1027700132196"}, "ogrn", "контрольная цифра"),
    ({"ogrn": "10277"}, "ogrn", "13 цифр"),
    ({"org_name": ""}, "org_name", "Наименование организации"),
    ({"contact_person": ""}, "contact_person", "Контактное лицо"),
    ({"email": "not-an-email"}, "email", "электронной почты"),
    ({"phone": "12"}, "phone", "телефона"),
    ({"kind": "robot"}, "kind", "гражданин или юридическое лицо"),
])
def test_bad_registration_is_refused_and_writes_nothing(session, world, change, field, words):
    before = counts(session)
    with pytest.raises(Invalid) as refused:
        applicants.identity_provider().register(session, {**LEGAL, **change}, PASSWORDS, consent=True)
    assert any(f == field and words in text for f, text in refused.value.problems)
    assert counts(session) == before


def test_every_problem_of_a_registration_is_reported_at_once(session, world):
    """Item 7: the phone, the ИНН, the ОГРН, the password, its repeat and the consent, in one answer."""
    before = counts(session)
    data = {**LEGAL, "phone": "12", "inn": "7707083894", "ogrn": "10277", "email": "кто-то"}
    with pytest.raises(Invalid) as refused:
        applicants.identity_provider().register(session, data, {"password": "12345678", "password_confirm": "1"},
                                                consent=False)
    fields = [field for field, _text in refused.value.problems]
    assert fields == ["email", "phone", "inn", "ogrn", "password", "password_confirm", "consent"]
    assert counts(session) == before


@pytest.mark.parametrize("passwords, consent, field", [
    ({"password": "short", "password_confirm": "short"}, True, "password"),
    ({"password": "12345678", "password_confirm": "12345678"}, True, "password"),
    ({"password": "password", "password_confirm": "password"}, True, "password"),
    ({"password": "sidorov@mail.ru", "password_confirm": "sidorov@mail.ru"}, True, "password"),
    ({"password": "длинный-пароль", "password_confirm": "другой-пароль"}, True, "password_confirm"),
    (PASSWORDS, False, "consent"),
])
def test_password_and_consent_are_required(session, world, passwords, consent, field):
    before = counts(session)
    with pytest.raises(Invalid) as refused:
        applicants.identity_provider().register(session, CITIZEN, passwords, consent=consent)
    assert [f for f, _text in refused.value.problems] == [field]
    assert counts(session) == before


def test_a_registered_email_gets_a_letter_not_a_refusal(session, world):
    """Nothing tells the person at the form that the address is registered: its owner gets a letter."""
    user = registered(session, CITIZEN)
    applicants.identity_provider().register(session, {**CITIZEN, "full_name": "Другой"}, PASSWORDS, consent=True)
    last = letters(session)[-1]
    assert (last["letter"], last["to"], last["name"]) == (registration.TAKEN_LETTER, user.login, user.full_name)
    assert "token" not in last
    assert session.exec(select(func.count()).select_from(User).where(User.login == user.login)).one() == 1


@pytest.mark.parametrize("data, field", [
    ({"latitude": "91", "longitude": "10"}, "latitude"),
    ({"latitude": "50", "longitude": "-180.5"}, "longitude"),
    ({"latitude": "50.1"}, "longitude"),
    ({"latitude": "север", "longitude": "10"}, "latitude"),
    ({"address": ""}, "address"),
    ({"address": "д" * 501}, "address"),
])
def test_message_place_is_checked(data, field):
    with pytest.raises(Invalid) as refused:
        applicants.message_fields({"text": "Яма", "address": "ул. Ленина, 1", **data})
    assert refused.value.field == field


def test_coordinates_alone_are_a_place_and_comma_decimals_are_read():
    fields = applicants.message_fields({"text": "Яма", "latitude": "50,2906", "longitude": "127.5272"})
    assert (fields["latitude"], fields["longitude"], fields["address"]) == (50.2906, 127.5272, "")


def test_send_infers_the_category_from_the_subcategory(world):
    sub = world.sub["pothole"]
    message = applicants.send(world.session, world.env, {"text": "Яма", "address": "ул. Ленина, 1",
                                                         "subcategory_id": str(sub.id)},
                              applicant_id=world.applicants["citizen"].id, user=world.u("citizen"))
    assert (message.category_id, message.subcategory_id) == (sub.category_id, sub.id)
    assert message.organization_id == world.org["A"].id  # routed by the category


@pytest.mark.parametrize("fields, uploads, field", [
    ({"text": ""}, [], "text"),
    ({"text": "я" * 4001}, [], "text"),
    ({"text": "Яма"}, [Upload("акт.pdf", FORGED_PDF)], "files"),
    ({"text": "Яма", "category_id": "999999"}, [], "category_id"),
])
def test_a_refused_message_with_a_contact_writes_nothing(world, fields, uploads, field):
    before = counts(world.session)
    contact = applicants.contact_applicant({"full_name": "Иванов", "email": "i@example.ru"},
                                           consent_version=applicants.CONSENT_VERSION, require_email=True)
    with pytest.raises(Invalid) as refused:
        applicants.send(world.session, world.env, {"address": "ул. Ленина, 1", **fields}, uploads=uploads,
                        source="embed", contact=contact)
    assert refused.value.field == field
    assert counts(world.session) == before


def test_contact_applicant_has_no_login(world):
    contact = applicants.contact_applicant({"first_name": "Анна", "last_name": "Петрова", "phone": "89140000000"},
                                           consent_version=applicants.API_CONSENT_VERSION, require_email=False)
    message = applicants.send(world.session, world.env, {"text": "Яма", "address": "ул. Мира, 3"},
                              uploads=[Upload("акт.pdf", pdf_bytes())], source="api", contact=contact)
    row = world.session.get(Applicant, message.applicant_id)
    assert (row.user_id, row.full_name, row.phone, row.consent_version) == (None, "Петрова Анна", "+79140000000",
                                                                            "api-client")
    assert world.session.exec(select(User).where(User.full_name == "Петрова Анна")).first() is None


# --- the applicant's words ------------------------------------------------------------------

def test_statuses_in_the_applicants_words(world):
    s = world.session
    assert mine.status_of(s, world.message(Stage.MODERATION)).label == "На модерации"
    for stage in (Stage.COORDINATION, Stage.EXECUTION, Stage.AGREEMENT, Stage.APPROVAL):
        status = mine.status_of(s, world.message(stage, agreeing=("a.head1",)))
        assert (status.code, status.label) == ("in_work", "В работе"), stage
    assert mine.status_of(s, world.message(Stage.ANSWERED)).label == "Ответ готов"
    postponed = world.message(Stage.POSTPONED)
    assert mine.status_of(s, postponed).label == f"Отложено до {postponed.postponed_until:%d.%m.%Y}"
    rejected = world.submit()
    world.act("moderator", rejected, Action.REJECT, reason="г")
    status = mine.status_of(s, world.reload(rejected))
    assert status.label == "Отклонено модератором" and status.detail == f"г) {REJECTION_REASONS['г']}"


def test_an_approved_transfer_reads_redirected_with_the_target(world):
    message = world.message(Stage.APPROVAL, transfer_to="B")
    world.act("a.approver", message, Action.APPROVE)
    status = mine.status_of(world.session, world.reload(message))
    assert (status.code, status.label) == ("redirected", "Перенаправлено в Министерство ЖКХ")
    texts = [text for _at, text in mine.timeline(world.session, world.reload(message), world.env.timezone)]
    assert texts == ["Сообщение зарегистрировано", "Принято в работу: Министерство транспорта",
                     "Перенаправлено в Министерство ЖКХ"]


def test_the_timeline_keeps_internal_steps_inside(world):
    message = world.message(Stage.ANSWERED, agreeing=("a.head1", "a.head2"))
    texts = [text for _at, text in mine.timeline(world.session, message, world.env.timezone)]
    assert texts == ["Сообщение зарегистрировано", "Принято в работу: Министерство транспорта", "Дан ответ"]


def test_only_the_author_reads_attachments_and_answer_documents_once_published(world):
    applicant_id = world.applicants["citizen"].id
    sub = world.sub["pothole"]
    own = applicants.send(world.session, world.env, {"text": "С файлом", "address": "ул. Мира, 1",
                                                     "category_id": sub.category_id, "subcategory_id": sub.id},
                          uploads=[Upload("фото.pdf", pdf_bytes())], applicant_id=applicant_id)
    from pos.models import Attachment
    row = world.session.exec(select(Attachment).where(Attachment.message_id == own.id)).one()
    assert mine.own_attachment(world.session, applicant_id, row.id) is not None
    assert mine.own_attachment(world.session, world.applicants["citizen2"].id, row.id) is None
    assert mine.own_attachment(world.session, None, row.id) is None
    world.act("moderator", own, Action.ACCEPT)
    world.act("a.coordinator", own, Action.TAKE)
    from pos.services.messages import act
    act(world.session, world.env, world.u("a.coordinator"), own.id, Action.PREPARE_ANSWER,
        world.answer_params(), uploads=[Upload("ответ.pdf", pdf_bytes())])
    answer_doc = world.session.exec(select(Attachment).where(Attachment.message_id == own.id,
                                                             Attachment.kind == "answer")).one()
    assert mine.own_attachment(world.session, applicant_id, answer_doc.id) is None  # not yet approved
    world.act("a.approver", own, Action.APPROVE)
    assert mine.own_attachment(world.session, applicant_id, answer_doc.id) is not None
    assert world.session.get(Message, own.id).stage == Stage.ANSWERED
