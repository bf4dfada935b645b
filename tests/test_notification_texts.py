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


def _event(world, message, action, kind):
    entry = world.session.exec(select(HistoryEntry).where(HistoryEntry.message_id == message.id,
                                                          HistoryEntry.action == action)).one()
    rows = world.session.exec(select(OutboxEvent).where(OutboxEvent.idempotency_key.like(f"notify:{entry.id}:%"))).all()
    return next(r for r in rows if r.payload["event"] == kind)


def _applicant(world):
    applicant = world.applicants["citizen"]
    return notifications.Recipient(key=f"a{applicant.id}", user_id=None, applicant_id=applicant.id, name="",
                                   email="", email_enabled=False, digest=False)


def test_a_rejection_letter_quotes_the_reason_of_the_messages_jurisdiction(world):
    for org, insulted, other in (("city", "Администрации и учреждений", "ИОГВ и организаций"),
                                 ("A", "ИОГВ и организаций", "Администрации и учреждений")):
        message = world.submit(org=org, sub="sport_ticket" if org == "city" else "pothole")
        world.act("moderator", message, Action.REJECT, reason="д")
        row = _event(world, message, Action.REJECT, "rejected")
        ctx = notifications.context(world.session, CONFIG, "rejected", row.payload, world.reload(message),
                                    _applicant(world))
        _title, body = notifications.render("rejected", ctx)
        assert f"подпункта «д»" in body and f"оскорбления в адрес {insulted}." in body and other not in body


def test_a_letter_delivered_after_the_answer_names_no_running_deadline(world):
    message = world.message(Stage.ANSWERED)
    row = _event(world, message, Action.ACCEPT, "accepted")
    ctx = notifications.context(world.session, CONFIG, "accepted", row.payload, world.reload(message),
                                _applicant(world))
    _title, body = notifications.render("accepted", ctx)
    assert "Ответ будет дан не позднее" not in body
    inbox = _inbox_event(world, message, Action.ASSIGN_EXECUTOR)
    ctx = notifications.context(world.session, CONFIG, "inbox", inbox.payload, world.reload(message),
                                _recipient(world, "a.executor"))
    _title, body = notifications.render("inbox", ctx)
    assert "Срок ответа заявителю" not in body and "Ответ дан" in body and "в срок" in body


def test_a_deadline_reminder_for_a_stage_that_is_over_goes_to_nobody(world):
    from pos import clock
    for stage in (Stage.ANSWERED, Stage.POSTPONED, Stage.AGREEMENT):
        message = world.reload(world.message(stage, agreeing=("a.head1",) if stage == Stage.AGREEMENT else ()))
        for kind in notifications.DEADLINE_KINDS:
            payload = {"event": kind, "message_id": message.id, "history_id": None, "to_applicant": False,
                       "user_ids": [world.uid("a.executor")], "org_role": [message.organization_id, "curator"],
                       "data": {"stage": "execution", "due": clock.now().isoformat()}}
            assert notifications.recipients(world.session, payload, message) == [], (stage, kind)
    running = world.reload(world.message(Stage.EXECUTION))
    payload = {"event": "overdue", "message_id": running.id, "user_ids": [world.uid("a.executor")],
               "data": {"stage": "execution"}}
    assert [p.user_id for p in notifications.recipients(world.session, payload, running)] == [world.uid("a.executor")]
