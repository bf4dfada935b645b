"""Recording the analytics' facts live, inside the transaction of the action that makes them.

Every place that changes a message's stage, organization or deadlines calls `record()` after it has
changed the message and written the history entry (and before its commit): pos/services/messages.py
(`act`, hence also the return of postponed messages, jobs/postponed.py) and pos/services/deadlines.py
(`recompute`); a new message (`_create` there) calls `record_new()`.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import bindparam, insert
from sqlmodel import Session, select

from pos import clock, facts
from pos.deadlines import DeadlinePolicy
from pos.models import AnswerPeriod, HistoryEntry, Message, StageVisit
from pos.workflow import ACTIVE_STAGES


def step_of(message: Message, action: str, from_stage: str | None, to_stage: str, organization_id: int | None,
            at: datetime) -> facts.Step:
    return facts.Step(at=at, action=action, from_stage=from_stage, to_stage=to_stage,
                      organization_id=organization_id,
                      stage_due=message.stage_due_at if message.stage in ACTIVE_STAGES else None,
                      answer_due=message.answer_due_at, accelerated=message.accelerated,
                      is_repeated=message.is_repeated, is_incident=message.kind == "incident")


def record(session: Session, message: Message, entry: HistoryEntry, policy: DeadlinePolicy) -> facts.Advance:
    """Apply one history entry of `message` (already changed by it) to its facts; the caller commits.
    `policy`: the deadline policy in force (its calendar counts a closing passage's working hours)."""
    step = step_of(message, entry.action, entry.from_stage, entry.to_stage, entry.to_org_id, entry.at)
    visit = session.exec(select(StageVisit).where(StageVisit.message_id == message.id,
                                                  StageVisit.left_at.is_(None))).first()
    period = session.exec(select(AnswerPeriod).where(AnswerPeriod.message_id == message.id,
                                                     AnswerPeriod.closed_at.is_(None))).first()
    done = facts.advance(visit, period, step, message_id=message.id, make_visit=StageVisit,
                         make_period=AnswerPeriod, working_hours=policy.working_hours_between)
    # The closed rows are written before the new ones: one open row per message (unique indexes).
    closed = [row for row in (done.closed_visit, done.closed_period) if row is not None]
    if closed:
        session.add_all(closed)
        session.flush()
    session.add_all([row for row in (done.new_visit, done.new_period) if row is not None])
    session.flush()
    return done


_NEW_ENTRY, _NEW_VISIT, _NEW_PERIOD = (insert(model.__table__) for model in (HistoryEntry, StageVisit, AnswerPeriod))


def _named(model, prefix: str):
    """An INSERT of one row of `model`, each value a parameter named `prefix` + its column."""
    return insert(model.__table__).values({c.key: bindparam(prefix + c.key, type_=c.type)
                                           for c in model.__table__.columns if not c.primary_key})


# PostgreSQL: the three rows in one statement (data-modifying CTEs), the entry's id returned.
_FIRST_ENTRY = _named(HistoryEntry, "h_").returning(HistoryEntry.id).cte("first_entry")
_FIRST_ROWS = (_named(AnswerPeriod, "p_").add_cte(_FIRST_ENTRY, _named(StageVisit, "v_").cte("first_visit"))
               .returning(select(_FIRST_ENTRY.c.id).scalar_subquery()))


def record_new(session: Session, message: Message, entry: dict) -> int:
    """A message written now (already flushed): its first history entry (`entry`, its values) and the facts
    it opens, written as plain rows (no ORM objects to build and flush: the larger part of an Open311 POST's
    cost), on PostgreSQL in one statement. Nothing to look up or close (so no working hours to count).
    Returns the entry's id."""
    step = step_of(message, entry["action"], entry["from_stage"], entry["to_stage"], entry["to_org_id"],
                   entry["at"])
    done = facts.advance(None, None, step, message_id=message.id, make_visit=dict, make_period=dict,
                         working_hours=_nothing_closes)
    visit, period = done.new_visit, done.new_period
    if visit is not None and period is not None and session.get_bind().dialect.name == "postgresql":
        return session.execute(_FIRST_ROWS, {**_prefixed("h_", entry), **_prefixed("v_", visit),
                                             **_prefixed("p_", period)}).scalar_one()
    entry_id = session.execute(_NEW_ENTRY, entry).inserted_primary_key[0]
    for statement, row in ((_NEW_VISIT, visit), (_NEW_PERIOD, period)):
        if row is not None:
            session.execute(statement, row)
    return entry_id


def _prefixed(prefix: str, row: dict) -> dict:
    return {prefix + key: value for key, value in row.items()}


def _nothing_closes(_start: datetime, _end: datetime) -> float:
    raise AssertionError("a new message has no passage to close")


def recount_working_hours(session: Session, policy: DeadlinePolicy, day: date) -> int:
    """After a correction of the calendar: the working hours of the closed passages that spanned the local
    `day`, counted again with `policy` (the corrected calendar), so the figures stay what the calendar
    says. A day ahead (the usual case: next year's holidays) touches nothing. The passages recounted."""
    start = policy.to_utc(datetime.combine(day, time(0), policy.tz))
    end = policy.to_utc(datetime.combine(day + timedelta(days=1), time(0), policy.tz))
    visits = session.exec(select(StageVisit).where(StageVisit.stage.in_([s.value for s in ACTIVE_STAGES]),
                                                   StageVisit.left_at > start, StageVisit.entered_at < end)).all()
    for visit in visits:
        visit.working_hours = policy.working_hours_between(clock.as_utc(visit.entered_at), clock.as_utc(visit.left_at))
        session.add(visit)
    session.flush()
    return len(visits)


def visits_of(session: Session, message_id: int) -> list[StageVisit]:
    return list(session.exec(select(StageVisit).where(StageVisit.message_id == message_id)
                             .order_by(StageVisit.entered_at, StageVisit.id)))


def periods_of(session: Session, message_id: int) -> list[AnswerPeriod]:
    return list(session.exec(select(AnswerPeriod).where(AnswerPeriod.message_id == message_id)
                             .order_by(AnswerPeriod.opened_at, AnswerPeriod.id)))
