"""What staff and the applicant see of deadlines: running ones while a message is worked on; once it is answered,
rejected or postponed, when and how it ended. A repeat in moderation with its first message; reasons per regulation."""
from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from pos import clock
from pos.models import HistoryEntry, Message
from pos.workflow import Action, Stage
from tests.applicant_app import app, counts, signed_in  # noqa: F401

TZ = ZoneInfo("Asia/Yakutsk")
D_REGION = "оскорбления в адрес ИОГВ и организаций"
D_CITY = "оскорбления в адрес Администрации и учреждений"


def day(moment) -> str:
    return clock.as_utc(moment).astimezone(TZ).strftime("%d.%m.%Y")


def words(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def card(client, message) -> str:
    """The staff card's particulars (the history below is another matter)."""
    return words(client, f"/staff/messages/{message.id}").split("История")[0]


def rows(client, query: str) -> str:
    """The inbox rows, past the filter form."""
    return words(client, f"/staff/?{query}").split("Найдено:")[1]


def mine(client, message) -> str:
    return words(client, f"/my/messages/{message.id}").split("Ход рассмотрения")[0]


# --- item 4: postponement -----------------------------------------------------------------------

def test_a_postponed_message_shows_its_date_and_no_stale_answer_deadline(app, world):
    message = world.reload(world.message(Stage.POSTPONED))
    until, old_due = f"{message.postponed_until:%d.%m.%Y}", day(message.answer_due_at)
    staff = card(signed_in(app, "a.curator"), message)
    assert f"Отложено до {until}" in staff
    assert f"Ответ дан {day(message.answered_at)}, в срок" in staff  # the «отложено» answer is the answer given
    assert "Срок ответа" not in staff and "Срок этапа" not in staff and old_due not in staff
    citizen = signed_in(app, "citizen")
    own = mine(citizen, message)
    assert f"Отложено до {until}" in own
    assert "Срок ответа" not in own and old_due not in own
    listed = words(citizen, "/my/messages")
    assert f"Отложено до {until}" in listed and f"до {old_due}" not in listed
    listed = rows(signed_in(app, "a.curator"), "stage=postponed")
    assert f"Отложено до {until}" in listed and old_due not in listed


def test_after_the_return_a_new_answer_deadline_is_shown_with_its_reason(app, world):
    message = world.reload(world.message(Stage.POSTPONED))
    old_due = message.answer_due_at
    with clock.frozen(clock.as_utc(message.stage_due_at) - timedelta(hours=1)):
        world.act(None, message, Action.RESUME)
        returned = clock.now()
    message = world.reload(message)
    new_due = day(message.answer_due_at)
    assert message.answer_due_at > old_due and new_due == (clock.as_utc(returned).astimezone(TZ).date()
                                                           + timedelta(days=30)).strftime("%d.%m.%Y")
    staff_page = words(signed_in(app, "a.curator"), f"/staff/messages/{message.id}")
    staff = staff_page.split("История")[0]
    assert f"Срок ответа {new_due}" in staff and "Отложено до" not in staff
    history = staff_page.split("История")[1]
    assert "Срок ответа пересчитан (возврат на исполнение после отсрочки: срок ответа исчисляется заново со дня " \
           "возврата (п. 3.9))" in history and new_due in history
    citizen = signed_in(app, "citizen")
    assert f"Срок ответа до {new_due}" in mine(citizen, message)
    assert f"Рассмотрение возобновлено, новый срок ответа — до {new_due}" in words(citizen, f"/my/messages/{message.id}")


def test_a_postponement_past_the_limit_is_refused_in_russian_and_writes_nothing(app, session, world):
    message = world.message(Stage.EXECUTION)
    executor = signed_in(app, "a.executor")
    before = counts(session)
    response = executor.post(f"/staff/messages/{message.id}/prepare_answer", data={
        "prepare_answer-version": str(world.reload(message).version), "prepare_answer-result": "postponed",
        "prepare_answer-postponed_until": "2099-12-31", "prepare_answer-answer_text": "Отложено навсегда.",
        "prepare_answer-executor_position": "Специалист", "prepare_answer-executor_name": "Иванов И. И.",
        "prepare_answer-approver_id": str(world.uid("a.approver"))})
    assert response.status_code == 422
    latest = (clock.now().astimezone(TZ).date() + timedelta(days=365)).strftime("%d.%m.%Y")
    assert f"Рассмотрение можно отложить не более чем на 365 дн.: укажите дату не позднее {latest}." \
        in response.get_data(as_text=True)
    assert counts(session) == before and world.reload(message).stage == Stage.EXECUTION


# --- item 5: final states -------------------------------------------------------------------------

def test_an_answered_message_shows_when_and_that_it_was_on_time(app, world):
    message = world.reload(world.message(Stage.ANSWERED))
    staff = card(signed_in(app, "a.curator"), message)
    assert f"Ответ дан {day(message.answered_at)}, в срок" in staff
    assert "Срок ответа" not in staff and "просрочено" not in staff
    own = mine(signed_in(app, "citizen"), message)
    assert f"Ответ дан {day(message.answered_at)}, в срок" in own and "Срок ответа" not in own


def test_a_late_answer_says_so_and_no_row_shows_a_deadline_or_a_badge(app, world):
    message = world.reload(world.message(Stage.APPROVAL))
    with clock.frozen(clock.as_utc(message.answer_due_at) + timedelta(days=2)):
        world.act("a.approver", message, Action.APPROVE)
    message = world.reload(message)
    curator = signed_in(app, "a.curator")
    staff = card(curator, message)
    assert f"Ответ дан {day(message.answered_at)}, с нарушением срока" in staff
    assert "Срок ответа" not in staff and "просрочено" not in staff
    listed = rows(curator, "stage=answered")
    assert f"Ответ дан {day(message.answered_at)}, с нарушением срока" in listed
    assert "просрочено" not in listed and "истекает" not in listed
    entry = world.session.exec(select(HistoryEntry).where(HistoryEntry.message_id == message.id,
                                                          HistoryEntry.action == Action.APPROVE)).one()
    assert entry.details["answered"]["on_time"] is False  # the fact the analytics count
    assert "с нарушением срока" in mine(signed_in(app, "citizen"), message)


def test_a_city_rejection_shows_the_date_the_letter_and_decree_608s_words(app, world):
    message = world.submit(org="city", sub="sport_ticket", text="Оскорбительный текст")
    moderator = signed_in(app, "moderator")
    form = moderator.get(f"/staff/messages/{message.id}/act/reject").get_data(as_text=True)
    assert D_CITY in form and D_REGION not in form  # the moderator picks from the city's wording
    world.act("moderator", message, Action.REJECT, reason="д")
    message = world.reload(message)
    assert message.rejection_reason == "д"
    page = words(moderator, f"/staff/messages/{message.id}")
    staff, history = page.split("История")
    assert f"Отклонено модератором {day(message.stage_entered_at)}: причина д)" in staff
    assert D_CITY in staff and D_CITY in history and D_REGION not in page
    assert "Срок ответа" not in staff
    own = mine(signed_in(app, "citizen"), message)
    assert f"Отклонено модератором {day(message.stage_entered_at)}: причина д)" in own
    assert D_CITY in own and D_REGION not in own and "Срок ответа" not in own


def test_a_region_rejection_keeps_decree_232s_words(app, world):
    message = world.submit(org="A", text="Оскорбительный текст")
    world.act("moderator", message, Action.REJECT, reason="д")
    page = words(signed_in(app, "moderator"), f"/staff/messages/{message.id}")
    assert D_REGION in page and D_CITY not in page


# --- item 2: a repeat goes through moderation -------------------------------------------------------

def test_a_repeat_waits_for_the_moderator_with_its_first_message_beside_it(app, world):
    first = world.message(Stage.ANSWERED)
    world.act("citizen", first, Action.RATE, rating=2, comment="Яма осталась")
    done = world.act("citizen", first, Action.REPEAT, text="Яма снова появилась")
    repeat = world.reload(done.new_message)
    assert (repeat.stage, repeat.organization_id) == (Stage.MODERATION, first.organization_id)
    moderator = signed_in(app, "moderator")
    inbox = words(moderator, "/staff/")
    assert f"{repeat.number} повторное" in inbox
    assert repeat.number not in words(signed_in(app, "a.coordinator"), "/staff/")  # not theirs yet
    html = moderator.get(f"/staff/messages/{repeat.id}").get_data(as_text=True)
    assert f'href="/staff/messages/{first.id}"' in html
    # «Принять» defaults to the organization that answered.
    html = moderator.get(f"/staff/messages/{repeat.id}/act/accept").get_data(as_text=True)
    accept = html[html.index('name="accept-organization_id"'):]
    assert re.match(r'[^>]*>\s*(<option[^>]*>[^<]*</option>\s*)*?<option selected value="%d"' % first.organization_id,
                    accept)
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert f"Подано повторно по сообщению {first.number}" in text
    assert "Ответ дан" in text and "Яма заделана." in text  # the first message's answer
    assert "Результат рассмотрения решено" in text
    assert "Оценка заявителя 2 из 5" in text and "«Яма осталась»" in text
    assert "Этап: — → Модерация" in text and "Этап: — → Координация" not in text
    first_html = moderator.get(f"/staff/messages/{first.id}").get_data(as_text=True)
    assert f'Повторное сообщение:\n        <a href="/staff/messages/{repeat.id}">{repeat.number}</a>' in first_html
    assert "На модерации" in mine(signed_in(app, "citizen"), repeat)
    world.act("moderator", repeat, Action.ACCEPT)
    assert world.reload(repeat).stage == Stage.COORDINATION
    assert repeat.number in words(signed_in(app, "a.coordinator"), "/staff/")
    assert world.session.get(Message, repeat.id).is_repeated
