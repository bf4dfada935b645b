"""The daily digest: staff who chose it get one letter a day instead of one per notification."""
from __future__ import annotations

import dataclasses
import logging
from datetime import datetime

from rq import Retry
from rq.exceptions import DuplicateJobError
from sqlalchemy import update
from sqlmodel import Session, select

from pos import clock, mail, queue
from pos.models import Notification, User
from pos.services import notifications

log = logging.getLogger(__name__)

_n = Notification.__table__


def waiting_users(session: Session, cutoff: datetime) -> list[int]:
    return list(session.execute(select(_n.c.user_id).where(_n.c.email_mode == "digest", _n.c.emailed_at.is_(None),
                                                           _n.c.created_at <= cutoff).distinct()).scalars())


def send_digest(session: Session, cfg: dict, user_id: int, cutoff: datetime, day: str) -> int:
    """One letter with the user's waiting notifications up to `cutoff`; returns how many it carried."""
    notes = list(session.exec(select(Notification).where(
        Notification.user_id == user_id, Notification.email_mode == "digest", Notification.emailed_at.is_(None),
        Notification.created_at <= cutoff).order_by(Notification.id)))
    session.commit()
    if not notes:
        return 0
    user = session.get(User, user_id)
    ids = [n.id for n in notes]
    if user is None or not user.email or not user.email_enabled or not user.is_active:
        # Mail turned off since: these will not go out, now or in a later digest.
        session.execute(update(_n).where(_n.c.id.in_(ids)).values(email_mode="none"))
        session.commit()
        return 0
    title, body = notifications.render("digest", {"name": user.full_name, "day": day, "notes": notes})
    letter = notifications.letter(cfg, title, body, token=f"digest.{user_id}.{day}.{ids[-1]}")
    mail.send(cfg, dataclasses.replace(letter, to=user.email))
    session.execute(update(_n).where(_n.c.id.in_(ids), _n.c.emailed_at.is_(None)).values(emailed_at=clock.now()))
    session.commit()
    return len(notes)


def send_one(user_id: int, cutoff_iso: str, day: str) -> int:
    """RQ job: one user's digest."""
    from jobs import runtime

    with runtime.session() as session:
        return send_digest(session, runtime.config(), user_id, datetime.fromisoformat(cutoff_iso), day)


def run(cutoff_iso: str, day: str) -> int:
    """RQ job: a digest job for everyone with waiting notifications."""
    from jobs import runtime

    cfg = runtime.config()
    with runtime.session() as session:
        users = waiting_users(session, datetime.fromisoformat(cutoff_iso))
        session.commit()
    q = queue.queue(cfg, queue.DEFAULT, runtime.redis())
    intervals = queue.retry_intervals(cfg)
    for user_id in users:
        try:
            q.enqueue_call("jobs.digest.send_one", args=(user_id, cutoff_iso, day), unique=True,
                           job_id=f"{cfg['QUEUE_NAMESPACE']}-digest-{user_id}-{day}", timeout=int(cfg["JOB_TIMEOUT"]),
                           retry=Retry(max=len(intervals), interval=intervals) if intervals else None)
        except DuplicateJobError:
            pass
    return len(users)
