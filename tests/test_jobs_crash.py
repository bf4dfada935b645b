"""A worker killed with SIGKILL in the middle of a job: the job is run again by the next worker
and the notification is delivered once (one in-app row, one letter)."""
from __future__ import annotations

from sqlmodel import select

from pos.models import Notification, OutboxEvent
from pos.workflow import Action
from tests.background import (db_session, fresh_db, jobs_setup, live_world, namespace, redis_url,  # noqa: F401
                              smtp, start_worker, wait_until)


def test_a_worker_killed_mid_job_is_replaced_and_the_letter_goes_once(live_world, db_session, jobs_setup, smtp,
                                                                      start_worker):
    cfg = jobs_setup
    cfg.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port, JOB_TIMEOUT=3)
    world = live_world
    smtp.hold_rcpt = True  # the first letter stalls in the SMTP dialogue: the job is mid-way
    first = start_worker(cfg)
    message = world.submit(org="A")
    [row_id] = world.act("moderator", message, Action.REJECT, reason="а").outbox_ids

    assert smtp.in_rcpt.wait(30), first.output()
    db_session.expire_all()
    row = db_session.get(OutboxEvent, row_id)
    assert (row.status, row.attempts) == ("running", 1)
    [note] = db_session.exec(select(Notification).where(Notification.message_id == message.id)).all()
    assert note.emailed_at is None  # written, not yet mailed
    db_session.commit()
    first.kill9()
    smtp.release.set()  # the dead worker's SMTP session ends without a letter

    second = start_worker(cfg)

    def done():
        db_session.expire_all()
        row = db_session.get(OutboxEvent, row_id)
        db_session.commit()
        return row if row.status == "done" else None

    row = wait_until(done, 40, 0.2, what="the row done by the second worker")
    assert row.attempts == 2, second.output()
    letters = smtp.to("citizen@example.ru")
    assert len(letters) == 1 and message.number in letters[0]["subject"]
    notes = db_session.exec(select(Notification).where(Notification.message_id == message.id)).all()
    assert [n.id for n in notes] == [note.id] and notes[0].emailed_at is not None
