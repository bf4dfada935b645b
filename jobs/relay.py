"""The outbox relay: hands pending rows to RQ, and brings back rows whose job was lost or whose worker died.

Runs every few seconds in the worker (and right after each commit through the
dispatcher, for the rows of that commit). With Redis down it fails and the rows
wait; the next run sends them.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from rq.job import Job, JobStatus
from sqlalchemy import select, update
from sqlmodel import Session

from jobs import runtime
from pos import queue
from pos.models import OutboxEvent

log = logging.getLogger(__name__)

# A row handed out this long ago and still not done gets its job looked up in Redis.
CHECK_SENT_AFTER = timedelta(seconds=60)
LIVE = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED, JobStatus.STARTED}
_t = OutboxEvent.__table__


def _ids(session: Session, *where, batch: int) -> list[tuple[int, str]]:
    return [tuple(r) for r in session.execute(select(_t.c.id, _t.c.kind).where(*where).order_by(_t.c.id).limit(batch))]


def _last_error(job: Job | None) -> str:
    try:
        result = job.latest_result() if job is not None else None
    except Exception:  # an old or foreign job hash: the status is what matters
        result = None
    text = (getattr(result, "exc_string", None) or "").strip().splitlines()
    return ("RQ gave up: " + text[-1]) if text else "RQ gave up on the job"


def relay(session: Session, cfg: dict, conn, *, batch: int = 500) -> dict[str, int]:
    """One pass; returns how many rows were enqueued, marked sent, and given up."""
    now = runtime.wall_now()
    pending = _ids(session, _t.c.status == "pending", batch=batch)
    expired = _ids(session, _t.c.status == "running", _t.c.locked_until < now, batch=batch)
    stale = _ids(session, _t.c.status == "sent", _t.c.sent_at < now - CHECK_SENT_AFTER, batch=batch)
    session.commit()  # end the read (SQLite holds the write lock for the whole transaction)
    rows = pending + expired + stale
    if not rows:
        return {"enqueued": 0, "sent": 0, "failed": 0}
    jobs = Job.fetch_many([queue.outbox_job_id(cfg, i) for i, _k in rows], connection=conn)
    found = {i: job for (i, _k), job in zip(rows, jobs)}
    status = {i: (job.get_status(refresh=False) if job is not None else None) for i, job in found.items()}

    enqueue: list[tuple[int, str, str]] = []
    sent_from: dict[str, list[int]] = {"pending": [], "running": []}
    touch: list[int] = []
    failed: dict[int, str] = {}
    for seen, group in (("pending", pending), ("running", expired), ("sent", stale)):
        for outbox_id, kind in group:
            st = status[outbox_id]
            if kind not in queue.OUTBOX_JOBS:
                failed[outbox_id] = f"no job handles outbox rows of kind «{kind}»"
            elif seen == "pending" and st in LIVE:
                sent_from["pending"].append(outbox_id)  # the dispatcher's job is there already
            elif seen == "pending":
                enqueue.append((outbox_id, kind, seen))
            elif st == JobStatus.FAILED:
                failed[outbox_id] = _last_error(found[outbox_id])
            elif seen == "running" and st in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED):
                sent_from["running"].append(outbox_id)  # RQ is retrying it already
            elif seen == "sent" and st in LIVE:
                touch.append(outbox_id)
            else:  # lost with Redis, finished without the row, or started by a worker that died
                enqueue.append((outbox_id, kind, seen))
    for outbox_id, _kind, _seen in enqueue:
        if found[outbox_id] is not None:
            found[outbox_id].delete()
    queue.enqueue_outbox(cfg, conn, [(outbox_id, kind) for outbox_id, kind, _seen in enqueue])
    for outbox_id, _kind, seen in enqueue:
        (touch if seen == "sent" else sent_from[seen]).append(outbox_id)

    if sent_from["pending"]:
        session.execute(update(_t).where(_t.c.id.in_(sent_from["pending"]), _t.c.status == "pending")
                        .values(status="sent", sent_at=now))
    if sent_from["running"]:
        session.execute(update(_t).where(_t.c.id.in_(sent_from["running"]), _t.c.status == "running",
                                         _t.c.locked_until < now)
                        .values(status="sent", sent_at=now, locked_until=None))
    if touch:
        session.execute(update(_t).where(_t.c.id.in_(touch), _t.c.status == "sent").values(sent_at=now))
    for outbox_id, error in failed.items():
        session.execute(update(_t).where(_t.c.id == outbox_id, _t.c.status.in_(("pending", "sent", "running")))
                        .values(status="failed", last_error=error[:2000], locked_until=None))
    session.commit()
    if enqueue or failed:
        log.info("outbox relay: %d enqueued, %d given up", len(enqueue), len(failed))
    return {"enqueued": len(enqueue), "sent": len(sent_from["pending"]) + len(sent_from["running"]),
            "failed": len(failed)}


def run() -> dict[str, int]:
    """One relay pass with the process's configuration (the worker's ticker calls this)."""
    conn = runtime.redis()
    if conn is None:
        return {"enqueued": 0, "sent": 0, "failed": 0}
    total = {"enqueued": 0, "sent": 0, "failed": 0}
    with runtime.session() as session:
        for _batch in range(20):  # a backlog (after an outage) goes out in batches
            counts = relay(session, runtime.config(), conn)
            total = {key: total[key] + counts[key] for key in total}
            if sum(counts.values()) < 500:
                break
    return total
