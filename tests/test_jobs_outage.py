"""Redis down: actions still succeed, their notifications wait in the outbox, and go out exactly once
when Redis returns (a redis-server of the test's own, stopped and started again on its port)."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import func
from sqlmodel import select

from jobs import runtime
from pos.models import Notification, OutboxEvent
from pos.workflow import Action, Stage
from tests.background import (db_session, fresh_db, job_config, live_world, own_redis, smtp,  # noqa: F401
                              start_worker, wait_until)

ACTIONS = 200


def _count(session, model, *where) -> int:
    session.expire_all()
    n = session.exec(select(func.count()).select_from(model).where(*where)).one()
    session.commit()
    return n


def test_redis_stopped_while_200_actions_are_taken(live_world, db_session, own_redis, fresh_db, smtp,
                                                   start_worker, tmp_path):
    world = live_world
    cfg = job_config(fresh_db, own_redis.url, "outage", tmp_path, SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port,
                     WORKER_PROCESSES=2)
    runtime.use(cfg)  # this process dispatches after each commit, as the web app does
    try:
        messages = [world.submit(org="A", text=f"Яма у дома {i}") for i in range(ACTIONS)]
        start_worker(cfg)
        own_redis.stop()

        for message in messages:  # every action succeeds with Redis down
            done = world.act("moderator", message, Action.REJECT, reason="г")
            assert done.message.stage == Stage.REJECTED
        assert _count(db_session, OutboxEvent, OutboxEvent.status == "pending") == ACTIONS
        assert _count(db_session, Notification) == 0

        own_redis.start()  # the same port: the worker and the relay find it again
        wait_until(lambda: _count(db_session, Notification) >= ACTIONS, 90, 0.5, what="200 notifications")
        wait_until(lambda: len(smtp.letters) >= ACTIONS, 30, 0.5, what="200 letters")
        wait_until(lambda: _count(db_session, OutboxEvent, OutboxEvent.status == "done") == ACTIONS, 30,
                   what="every row done")
    finally:
        from pos.services import outbox
        outbox.set_dispatcher(None)
        runtime._config = None

    db_session.expire_all()
    notes = list(db_session.exec(select(Notification)))
    assert len(notes) == ACTIONS
    assert sorted(n.message_id for n in notes) == sorted(m.id for m in messages)
    assert {n.kind for n in notes} == {"rejected"}
    assert len(smtp.letters) == ACTIONS  # and no second copy of any letter
    numbers = Counter(next(m.number for m in messages if m.number in letter["subject"]) for letter in smtp.letters)
    assert set(numbers.values()) == {1} and len(numbers) == ACTIONS
    assert all(letter["to"] == ["citizen@example.ru"] for letter in smtp.letters)
