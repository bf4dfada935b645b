"""The monthly rating's cycle (decree 232, clause 4.3): the previous month's draft from the 1st, its
publication by the platform itself on the 15th at RATING_PUBLISH_HOUR (local) when nobody published it.

The ticker enqueues `run` under a Redis key per month and step, so the cluster runs it once; `run` itself
may run twice: a stored draft is not recomputed here (the analyst may have recomputed it), and a published
month is left alone.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from pos import clock
from pos.services import rating, rating_snapshots
from pos.services.rating_snapshots import AlreadyPublished

log = logging.getLogger(__name__)

PUBLISH_DAY = 15


def due(local: datetime, hour: int) -> tuple[date, bool]:
    """The month the cycle is about at this local moment, and whether its automatic publication is due."""
    month = rating.previous_month(local.date().replace(day=1))
    deadline = datetime.combine(local.date().replace(day=PUBLISH_DAY), time(hour), local.tzinfo)
    return month, local >= deadline


def step(session, cfg: dict, env) -> str:
    """Do what the cycle needs now: the draft if the month has none, the publication when it is due."""
    local = clock.now().astimezone(ZoneInfo(cfg["TIMEZONE"]))
    month, publish = due(local, int(cfg.get("RATING_PUBLISH_HOUR", 9)))
    rules = rating.Rules.from_config(cfg)
    snapshot = rating_snapshots.get(session, month)
    session.rollback()
    done = "nothing to do"
    if snapshot is None:
        rating_snapshots.compute_draft(session, env, month, rules)
        done = f"draft {month:%Y-%m}"
    if publish:
        try:
            rating_snapshots.publish(session, env, month, None, rules)
            done = f"published {month:%Y-%m} automatically"
        except AlreadyPublished:
            pass
    return done


def run() -> str:
    """RQ job."""
    from jobs import runtime

    with runtime.session() as session:
        result = step(session, runtime.config(), runtime.env())
    log.info("rating: %s", result)
    return result
