"""Postponements: a message answered «отложено (до определенной даты)» goes back to execution on that date.

The system action RESUME does it through the service layer, one transaction per
message, with its notifications to the executor and the applicant. A message
already resumed (by a second run, or a second worker) is skipped by the guard.
"""
from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import select
from sqlmodel import Session

from pos import clock
from pos.models import Message
from pos.services.messages import Conflict, Env, act
from pos.services.directory import load_policy
from pos.workflow import Action, Refused, Stage

log = logging.getLogger(__name__)


def due_ids(session: Session, today: date) -> list[int]:
    return list(session.execute(select(Message.id).where(Message.stage == Stage.POSTPONED,
                                                         Message.postponed_until <= today)
                                .order_by(Message.id)).scalars())


def resume_due(session: Session, env: Env) -> list[int]:
    """Resume every postponed message whose date has come (in the installation's time zone)."""
    today = load_policy(session, env.timezone).local_today(clock.now())
    ids = due_ids(session, today)
    session.commit()
    resumed = []
    for message_id in ids:
        try:
            act(session, env, None, message_id, Action.RESUME)
            resumed.append(message_id)
        except (Refused, Conflict, LookupError) as exc:  # resumed meanwhile: nothing to do
            log.info("message %s not resumed: %s", message_id, exc)
    if resumed:
        log.info("resumed after postponement: %s", resumed)
    return resumed


def run() -> list[int]:
    """RQ job."""
    from jobs import runtime

    with runtime.session() as session:
        return resume_due(session, runtime.env())
