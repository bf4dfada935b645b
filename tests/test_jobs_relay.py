"""The relay's decisions against a real Redis: pending rows go out once, a job lost with Redis is
sent again, a row whose job RQ gave up on becomes `failed`, an unknown kind is not left pending."""
from __future__ import annotations

from datetime import timedelta

import redis
from rq import Queue
from rq.job import Job, JobStatus
from sqlmodel import select

from jobs import relay, runtime
from pos import clock, queue
from pos.models import OutboxEvent
from pos.workflow import Action
from tests.background import job_config, namespace, redis_url  # noqa: F401


def _rows(session):
    session.expire_all()
    return {r.id: r for r in session.exec(select(OutboxEvent))}


def test_the_relay_decides_by_the_row_and_its_job(world, session, redis_url, namespace, tmp_path):
    cfg = job_config("sqlite://", redis_url, namespace, tmp_path)
    conn = redis.Redis.from_url(redis_url)
    notify_queue = Queue(queue.queue_name(cfg, queue.NOTIFY), connection=conn)
    message = world.submit(org="A")
    first, second = world.act("moderator", message, Action.ACCEPT).outbox_ids  # no dispatcher: both pending

    assert relay.relay(session, cfg, conn) == {"enqueued": 2, "sent": 2, "failed": 0}
    assert {r.status for r in _rows(session).values()} == {"sent"}
    assert sorted(notify_queue.job_ids) == sorted(queue.outbox_job_id(cfg, i) for i in (first, second))
    assert relay.relay(session, cfg, conn) == {"enqueued": 0, "sent": 0, "failed": 0}

    # Redis lost its data: a minute on, the rows still undone are sent again.
    for job_id in notify_queue.job_ids:
        Job.fetch(job_id, connection=conn).delete()
    for row in _rows(session).values():
        row.sent_at = runtime.wall_now() - timedelta(minutes=2)
    session.commit()
    assert relay.relay(session, cfg, conn)["enqueued"] == 2
    assert len(notify_queue.job_ids) == 2

    # The dispatcher was first: the relay only marks the row.
    third = world.act("a.coordinator", message, Action.ASSIGN_EXECUTOR, executor_id=world.uid("a.executor"))
    [third_id] = third.outbox_ids
    queue.enqueue_outbox(cfg, conn, [(third_id, "notify")])
    assert relay.relay(session, cfg, conn) == {"enqueued": 0, "sent": 1, "failed": 0}

    # A worker died holding a row whose job RQ then gave up on: the administrator sees it failed.
    row = _rows(session)[third_id]
    row.status, row.locked_until = "running", runtime.wall_now() - timedelta(seconds=1)
    session.commit()
    Job.fetch(queue.outbox_job_id(cfg, third_id), connection=conn).set_status(JobStatus.FAILED)
    assert relay.relay(session, cfg, conn)["failed"] == 1
    assert _rows(session)[third_id].status == "failed"

    # A kind nobody handles is not left pending forever.
    session.add(OutboxEvent(created_at=clock.now(), kind="fax", payload={}, idempotency_key="fax:1"))
    session.commit()
    assert relay.relay(session, cfg, conn)["failed"] == 1
    fax = next(r for r in _rows(session).values() if r.kind == "fax")
    assert fax.status == "failed" and "«fax»" in fax.last_error
