"""The notification job: one outbox row → in-app notifications for every recipient, and their letters.

The row is claimed with a lease (`locked_until`) so two copies never work at once;
notifications have unique keys, so a second run writes none; a letter is marked
sent right after the server took it, so a retry sends only what is left.
"""
from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta

from sqlalchemy import and_, or_, update
from sqlmodel import Session

from jobs import runtime
from pos import clock, mail
from pos.models import OutboxEvent
from pos.services import notifications, public_reply, registration

log = logging.getLogger(__name__)

LEASE_MARGIN = timedelta(seconds=5)  # beyond the job's own time limit, after which RQ has killed it
_t = OutboxEvent.__table__


def claim(session: Session, outbox_id: int, timeout: int) -> bool:
    """Take the row for this run; False when it is finished, failed, or another run holds it."""
    now = runtime.wall_now()
    result = session.execute(
        update(_t).where(_t.c.id == outbox_id,
                         or_(_t.c.status.in_(("pending", "sent")),
                             and_(_t.c.status == "running", _t.c.locked_until < now)))
        .values(status="running", attempts=_t.c.attempts + 1, locked_until=now + timedelta(seconds=timeout)
                + LEASE_MARGIN))
    session.commit()
    return result.rowcount == 1


def finish(session: Session, outbox_id: int) -> None:
    session.execute(update(_t).where(_t.c.id == outbox_id)
                    .values(status="done", done_at=runtime.wall_now(), locked_until=None, last_error=""))
    session.commit()


def record_failure(outbox_id: int, error: str, *, final: bool) -> None:
    """After a failed attempt: wait for RQ's retry (`sent`), or give up (`failed`, shown to the administrator)."""
    values = {"last_error": error[:2000], "locked_until": None}
    values.update({"status": "failed"} if final else {"status": "sent", "sent_at": runtime.wall_now()})
    with runtime.session() as session:
        session.execute(update(_t).where(_t.c.id == outbox_id, _t.c.status.in_(("pending", "sent", "running")))
                        .values(**values))
        session.commit()


def send_letters(session: Session, cfg: dict, notes) -> int:
    """Mail the notifications that go out one by one and have not gone yet."""
    todo = [(note, person) for note, person in notes if note.email_mode == "single" and note.emailed_at is None]
    if not todo:
        return 0
    with mail.connection(cfg) as conn:
        for note, person in todo:
            letter = notifications.letter(cfg, note.title, note.body, token=note.idempotency_key)
            conn.send(dataclasses.replace(letter, to=person.email))
            note.emailed_at = clock.now()
            session.add(note)
            session.commit()
    return len(todo)


def deliver(outbox_id: int) -> str:
    """RQ job: deliver one `notify` outbox row."""
    cfg = runtime.config()
    with runtime.session() as session:
        if not claim(session, outbox_id, int(cfg["JOB_TIMEOUT"])):
            return "nothing to do"
        row = session.get(OutboxEvent, outbox_id)
        if public_reply.is_publication(row.payload or {}):  # an incident's answer, to its network
            url = public_reply.publish(session, cfg, row)
            finish(session, outbox_id)
            return f"published {url}"
        if registration.is_letter(row.payload or {}):  # a letter to an address, not to a person we know
            letters = registration.send_letter(session, cfg, row)
            finish(session, outbox_id)
            return f"{letters} letters"
        notes = notifications.write_for(session, cfg, row)
        letters = send_letters(session, cfg, notes)
        finish(session, outbox_id)
    return f"{len(notes)} notifications, {letters} letters"


def _will_retry(job) -> bool:
    return bool(job.retries_left and job.retries_left > 0)


def on_failure(job, connection, exc_type, exc_value, traceback) -> None:
    """RQ failure callback (before RQ decides on a retry)."""
    name = getattr(exc_type, "__name__", str(exc_type))
    record_failure(int(job.args[0]), f"{name}: {exc_value}", final=not _will_retry(job))


def horse_killed(job, retpid, ret_val, rusage) -> None:
    """The worker's handler for a work horse that died (OOM, SIGKILL): RQ retries it, the row waits."""
    if job.func_name == "jobs.notify.deliver":
        record_failure(int(job.args[0]), f"the work horse died (wait status {ret_val})", final=not _will_retry(job))


def warm_up() -> None:
    """Before forking work horses: compile the templates and the job's queries once, in the parent,
    so that each horse starts warm (a cold one spends most of its time compiling)."""
    from sqlmodel import select

    from pos.models import Applicant, HistoryEntry, Message, Notification, Organization, User

    notifications.preload()
    mail.helo_name(runtime.config())
    with runtime.session() as session:
        claim(session, -1, 1)
        for model in (OutboxEvent, Message, HistoryEntry, User, Applicant, Organization):
            session.get(model, -1)
        session.exec(select(Notification).where(Notification.idempotency_key.in_(["-"]))).all()
        notifications.holders(session, -1, "coordinator")
        session.rollback()
