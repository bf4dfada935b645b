"""The curator's «Напомнить» on the message page: with and without htmx, recorded, refused to others."""
from sqlmodel import select

from pos.models import HistoryEntry, OutboxEvent
from tests.staff_app import StaffApp, staff_app  # noqa: F401


def _in_execution(staff_app: StaffApp):
    return staff_app.new_message("Нет горячей воды.", steps=[
        ("moderator", "accept", {}),
        ("zhkh.coordinator", "assign_executor", {"executor_id": staff_app.user("zhkh.executor").id})])


def _reminders(staff_app: StaffApp, message_id: int):
    with staff_app.session() as s:
        return list(s.exec(select(HistoryEntry).where(HistoryEntry.message_id == message_id,
                                                      HistoryEntry.action == "reminder")))


def test_curator_sees_the_form_and_reminds_without_javascript(staff_app):
    message = _in_execution(staff_app)
    client = staff_app.client("zhkh.curator")
    page = client.get(f"/staff/messages/{message.id}").get_data(as_text=True)
    assert "Напомнить о сроке" in page and "Волков Сергей Николаевич" in page
    response = client.post(f"/staff/messages/{message.id}/remind", data={"remind-text": "Срок завтра"})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Напоминание отправлено." in page
    assert "Напоминание куратора" in page and "Срок завтра" in page
    [entry] = _reminders(staff_app, message.id)
    with staff_app.session() as s:
        row = s.exec(select(OutboxEvent).where(OutboxEvent.idempotency_key == f"notify:{entry.id}:0")).one()
    assert row.payload["event"] == "reminder"
    assert row.payload["user_ids"] == [staff_app.user("zhkh.executor").id]


def test_reminder_with_htmx_returns_the_card(staff_app):
    message = _in_execution(staff_app)
    response = staff_app.client("zhkh.curator").post(
        f"/staff/messages/{message.id}/remind", data={"remind-text": ""},
        headers={"HX-Request": "true", "HX-Target": "card"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html and "Напоминание отправлено." in html


def test_too_long_reminder_is_refused_next_to_the_field(staff_app):
    message = _in_execution(staff_app)
    response = staff_app.client("zhkh.curator").post(f"/staff/messages/{message.id}/remind",
                                                      data={"remind-text": "я" * 5000})
    assert response.status_code == 422
    assert "Не длиннее" in response.get_data(as_text=True)
    assert _reminders(staff_app, message.id) == []


def test_others_get_no_form_and_403(staff_app):
    message = _in_execution(staff_app)
    client = staff_app.client("zhkh.coordinator")
    assert "Напомнить о сроке" not in client.get(f"/staff/messages/{message.id}").get_data(as_text=True)
    assert client.post(f"/staff/messages/{message.id}/remind", data={}).status_code == 403
    assert _reminders(staff_app, message.id) == []
