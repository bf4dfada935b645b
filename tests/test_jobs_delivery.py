"""Notifications end to end: an action commits its outbox rows, a real worker process delivers them
in-app and by e-mail (a real SMTP server on loopback), once, retrying with backoff when mail fails."""
from __future__ import annotations

from sqlmodel import select

from jobs import notify
from pos.models import Notification, OutboxEvent
from pos.services import outbox
from pos.workflow import Action
from tests.background import (SmtpSink, db_session, fresh_db, jobs_setup, live_world, namespace,  # noqa: F401
                              redis_url, smtp, start_worker, wait_until)


def _notes(session, **where):
    session.expire_all()
    query = select(Notification)
    for name, value in where.items():
        query = query.where(getattr(Notification, name) == value)
    rows = list(session.exec(query))
    session.commit()
    return rows


def _rows(session, message_id):
    session.expire_all()
    rows = [r for r in session.exec(select(OutboxEvent).order_by(OutboxEvent.id)) if r.payload["message_id"] == message_id]
    session.commit()
    return rows


def test_an_accepted_message_reaches_the_applicant_and_the_coordinators(live_world, db_session, jobs_setup, smtp,
                                                                        start_worker):
    cfg = jobs_setup
    cfg.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port)
    world = live_world
    world.users["a.coordinator"].email = "coordinator@example.ru"
    db_session.add(world.users["a.coordinator"])
    db_session.commit()
    start_worker(cfg)
    message = world.submit(org="A")
    world.act("moderator", message, Action.ACCEPT)

    letter = wait_until(lambda: smtp.to("citizen@example.ru"), 30, what="the applicant's letter")[0]
    assert letter["subject"] == f"Сообщение № {message.number} принято к рассмотрению"
    assert message.number in letter["text"]
    assert "Министерство транспорта" in letter["text"]
    assert letter["message"].get_body(("html",)) is not None
    wait_until(lambda: smtp.to("coordinator@example.ru"), 30, what="the coordinator's letter")
    [applicant_note] = _notes(db_session, applicant_id=world.applicants["citizen"].id)
    assert applicant_note.kind == "accepted" and applicant_note.user_id == world.uid("citizen")
    assert message.number in applicant_note.title and applicant_note.emailed_at is not None
    [coordinator_note] = _notes(db_session, user_id=world.uid("a.coordinator"))
    assert coordinator_note.kind == "inbox" and message.number in coordinator_note.body
    wait_until(lambda: all(r.status == "done" for r in _rows(db_session, message.id)), 10, what="rows done")
    assert [r.attempts for r in _rows(db_session, message.id)] == [1, 1]


def test_a_job_run_twice_notifies_once(live_world, db_session, jobs_setup, smtp):
    cfg = jobs_setup
    cfg.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port)
    world = live_world
    message = world.submit(org="A")
    done = world.act("moderator", message, Action.REJECT, reason="б")
    [row_id] = done.outbox_ids
    assert notify.deliver(row_id) == "1 notifications, 1 letters"
    assert notify.deliver(row_id) == "nothing to do"
    # Even a copy that runs after the row was handed out again (a lost lease) writes and sends nothing new.
    db_session.get(OutboxEvent, row_id).status = "sent"
    db_session.commit()
    assert notify.deliver(row_id) == "1 notifications, 0 letters"
    notes = _notes(db_session, message_id=message.id)
    assert [n.kind for n in notes] == ["rejected"]
    assert "текст сообщения не поддается прочтению" in notes[0].body
    assert len(smtp.to("citizen@example.ru")) == 1


def test_mail_failures_retry_then_fail_and_the_administrator_retries(live_world, db_session, jobs_setup,
                                                                     start_worker):
    cfg = jobs_setup
    sink = SmtpSink()  # its port, with nobody listening yet: every attempt is refused
    cfg.update(SMTP_HOST="127.0.0.1", SMTP_PORT=sink.port, JOB_RETRY_INTERVALS="1,2")
    world = live_world
    start_worker(cfg)
    message = world.submit(org="A")
    [row_id] = world.act("moderator", message, Action.REJECT, reason="з").outbox_ids

    def failed():
        db_session.expire_all()
        row = db_session.get(OutboxEvent, row_id)
        db_session.commit()
        return row if row.status == "failed" else None

    row = wait_until(failed, 40, what="the row to fail after its retries")
    assert row.attempts == 3  # the first try and two retries, 1 s and 2 s apart
    assert "ConnectionRefusedError" in row.last_error
    assert [r.id for r in outbox.list_failed(db_session)] == [row_id]
    # The in-app notification was written on the first try, once.
    assert len(_notes(db_session, message_id=message.id)) == 1

    sink.start()
    try:
        from pos import create_app
        app = create_app({"DATABASE_URL": cfg["DATABASE_URL"], "REDIS_URL": cfg["REDIS_URL"],
                          "QUEUE_NAMESPACE": cfg["QUEUE_NAMESPACE"], "JOB_RETRY_INTERVALS": "1,2",
                          "JOB_TIMEOUT": 3})
        runner = app.test_cli_runner()
        listed = runner.invoke(args=["outbox-retry"])
        assert listed.exit_code == 0 and f"{row_id}\t" in listed.output and "Не доставлено: 1." in listed.output
        retried = runner.invoke(args=["outbox-retry", str(row_id)])
        assert retried.exit_code == 0, retried.output
        wait_until(lambda: sink.to("citizen@example.ru"), 20, what="the letter after the retry")
        db_session.expire_all()
        wait_until(lambda: _rows(db_session, message.id)[0].status == "done", 10, what="the row done")
        assert len(sink.to("citizen@example.ru")) == 1
        assert len(_notes(db_session, message_id=message.id)) == 1
        assert outbox.list_failed(db_session) == []
    finally:
        outbox.set_dispatcher(None)
        sink.stop()
