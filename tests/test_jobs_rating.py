"""The rating's monthly cycle in a real worker, the clock moved through the configuration: the previous
month's draft on the 1st, its automatic publication on the morning of the 15th (clause 4.3), the curators
and heads of each ИОГВ told in-app and by e-mail, once."""
from __future__ import annotations

import time as walltime
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from jobs import rating as rating_job
from pos import clock
from pos.models import Notification, OutboxEvent, RatingMonth, User
from pos.workflow import Stage
from tests.background import (db_session, fresh_db, jobs_setup, live_world, namespace, redis_url,  # noqa: F401
                              smtp, start_worker, wait_until)

TZ = ZoneInfo("Asia/Yakutsk")


@pytest.mark.parametrize("local, month, publish", [
    (datetime(2026, 11, 1, 0, 0, tzinfo=TZ), date(2026, 10, 1), False),
    (datetime(2026, 11, 15, 8, 59, tzinfo=TZ), date(2026, 10, 1), False),
    (datetime(2026, 11, 15, 9, 0, tzinfo=TZ), date(2026, 10, 1), True),
    (datetime(2026, 11, 30, 23, 59, tzinfo=TZ), date(2026, 10, 1), True),
    (datetime(2027, 1, 1, 0, 0, tzinfo=TZ), date(2026, 12, 1), False),
])
def test_the_cycle_follows_the_local_date_and_hour(local, month, publish):
    assert rating_job.due(local, 9) == (month, publish)


def _month(session, month: date) -> RatingMonth | None:
    session.expire_all()
    row = session.exec(select(RatingMonth).where(RatingMonth.month == month)).first()
    session.commit()
    return row


def _notes(session) -> list[Notification]:
    session.expire_all()
    rows = list(session.exec(select(Notification).where(Notification.kind == "rating_published")))
    session.commit()
    return rows


def test_the_worker_drafts_on_the_1st_publishes_on_the_15th_and_tells_each_body_once(
        live_world, db_session, jobs_setup, smtp, start_worker, tmp_path):
    world = live_world
    with clock.frozen(datetime(2026, 10, 5, 10, tzinfo=TZ)):
        world.message(Stage.ANSWERED)  # ИОГВ «A»: a coordination and an approval passage in October
    for row in db_session.exec(select(OutboxEvent)):  # what came before went out long ago
        row.status = "done"
    told = {"a.curator", "a.head1", "a.head2", "a.head3", "a.approver", "a.approver2", "a.head_housing", "b.head"}
    for login in told | {"a.coordinator", "analyst"}:
        user = db_session.get(User, world.uid(login))
        user.email = f"{login}@example.ru"
        db_session.add(user)
    db_session.commit()
    clock_file = tmp_path / "clock.txt"
    clock_file.write_text(datetime(2026, 11, 1, 0, 30, tzinfo=TZ).isoformat())
    start_worker({**jobs_setup, "CLOCK_FILE": str(clock_file), "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port,
                  "RATING_MIN_SAMPLE": 1})
    october = date(2026, 10, 1)

    draft = wait_until(lambda: _month(db_session, october), 30, 0.2, what="October's draft on the 1st")
    assert draft.status == "draft" and draft.published_at is None
    # The 15th before the hour: still a draft, nobody told.
    clock_file.write_text(datetime(2026, 11, 15, 8, 50, tzinfo=TZ).isoformat())
    walltime.sleep(2)
    assert _month(db_session, october).status == "draft" and not _notes(db_session)

    clock_file.write_text(datetime(2026, 11, 15, 9, 0, tzinfo=TZ).isoformat())
    published = wait_until(lambda: (m := _month(db_session, october)) and m.status == "published" and m, 30, 0.2,
                           what="the automatic publication on the 15th")
    assert published.published_automatically and published.published_by_id is None
    assert published.published_at == datetime(2026, 11, 15, 9, 0, tzinfo=TZ)
    assert published.computed_at == draft.computed_at  # the draft as reviewed, not recomputed

    ids = {world.uid(login) for login in told}
    notes = wait_until(lambda: (n := _notes(db_session)) and {x.user_id for x in n} == ids and n, 30, 0.2,
                       what="the notifications of the publication")
    assert len(notes) == len(ids)
    mine = next(n for n in notes if n.user_id == world.uid("a.curator"))
    assert mine.title == "Опубликован рейтинг ИОГВ за 10.2026"
    assert "опубликован автоматически" in mine.body and "«Министерство транспорта»: 1-е место из 1" in mine.body
    other = next(n for n in notes if n.user_id == world.uid("b.head"))  # an ИОГВ without passages
    assert "«Министерство ЖКХ»: места нет" in other.body
    for login in told:
        wait_until(lambda: smtp.to(f"{login}@example.ru"), 30, 0.2, what=f"the letter to {login}")
    # The job again (a second ticker, a retry): nothing more is published or sent.
    with clock.frozen(datetime(2026, 11, 16, 10, tzinfo=TZ)):
        assert rating_job.step(db_session, jobs_setup, world.env) == "nothing to do"
    walltime.sleep(2)
    assert len(_notes(db_session)) == len(ids)
    for login in told:
        assert len(smtp.to(f"{login}@example.ru")) == 1
    assert not smtp.to("a.coordinator@example.ru") and not smtp.to("analyst@example.ru")
