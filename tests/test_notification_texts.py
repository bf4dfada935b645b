"""A letter describes the event it reports, even when it goes out after the message moved on."""
from sqlmodel import select

from pos.models import HistoryEntry, OutboxEvent
from pos.services import notifications
from pos.workflow import Action, Stage

CONFIG = {"TIMEZONE": "Asia/Yakutsk", "PUBLIC_URL": "http://pos.test"}


def _inbox_event(world, message, action):
    entry = world.session.exec(select(HistoryEntry).where(HistoryEntry.message_id == message.id,
                                                          HistoryEntry.action == action)).one()
    row = world.session.exec(select(OutboxEvent).where(
        OutboxEvent.idempotency_key.like(f"notify:{entry.id}:%"))).all()
    return next(r for r in row if r.payload["event"] == "inbox")


def _recipient(world, login):
    user = world.u(login)
    return notifications.Recipient(key=f"u{user.id}", user_id=user.id, applicant_id=None, name=user.full_name,
                                   email="x@example.ru", email_enabled=True, digest=False)


def test_a_late_letter_names_the_stage_of_its_event(world):
    message = world.message(Stage.EXECUTION)
    row = _inbox_event(world, message, Action.ASSIGN_EXECUTOR)
    world.act("a.executor", message, Action.PREPARE_ANSWER, **world.answer_params())  # the message moves on
    message = world.reload(message)
    ctx = notifications.context(world.session, CONFIG, "inbox", row.payload, message, _recipient(world, "a.executor"))
    title, body = notifications.render("inbox", ctx)
    assert "(Исполнение)" in title and "«Исполнение»" in body
    assert "Срок этапа" not in body  # that deadline belongs to a later stage now
    assert "Срок ответа заявителю" in body


def test_a_timely_letter_has_the_stage_deadline(world):
    message = world.message(Stage.EXECUTION)
    row = _inbox_event(world, message, Action.ASSIGN_EXECUTOR)
    ctx = notifications.context(world.session, CONFIG, "inbox", row.payload, message, _recipient(world, "a.executor"))
    _title, body = notifications.render("inbox", ctx)
    assert "Срок этапа:" in body
