"""What one history entry does to a message's facts (stage visits, answer periods); pure.

The live recording (pos/services/facts.py, in the action's transaction) and the backfill from the history
(pos/facts_backfill.py, migration 0500) both walk a message's entries through `advance()`, so the two
cannot disagree about what a passage is:

- a passage of an active stage opens when the message enters it, and also when the stage clock restarts
  inside it (`RESTARTS_STAGE`: the next agreeing head, a delegation, «Вернуть»); it closes, with that
  action, on the next entry that moves the stage or restarts its clock. `on_time` = left_at <= due_at;
  `working_hours`, the time in the stage on the production calendar, is counted then.
- an entry that keeps the passage open may still move its deadline (a category change, a recomputation)
  or, in moderation, its organization: the open row follows, `due_changed_at` records when.
- the answer period opens whenever the message is in an active stage without one (arrival, the return
  from a postponement: clause 3.9 counts anew from the return); the approval of an answer closes it as
  answered, an approved «отложено» as postponed (both are the answer given, on time or not); the
  moderator's rejection (or, for an incident, «не требует ответа») closes it without an answer.

Rows are duck-typed: `advance()` reads and sets attributes of the open ones and makes new ones with the
factories it is given (the SQLModel tables live, plain records in the backfill).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from pos.workflow import ACTIVE_STAGES, RESTARTS_STAGE, Action, Stage

ANSWERED, POSTPONED, REJECTED, CLOSED = "answered", "postponed", "rejected", "closed"


@dataclass(frozen=True)
class Step:
    """One history entry with the message's deadlines as they are right after it."""
    at: datetime
    action: str
    from_stage: str | None
    to_stage: str
    organization_id: int | None  # the entry's to_org_id
    stage_due: datetime | None   # the deadline of the stage the message is in now (active stages)
    answer_due: datetime
    accelerated: bool
    is_repeated: bool
    is_incident: bool = False


@dataclass
class Advance:
    visit: Any = None         # the open passage after the step (new, the same, or None)
    period: Any = None        # the open answer period after the step
    closed_visit: Any = None  # the passage the step closed
    closed_period: Any = None
    new_visit: Any = None     # made by this step (to be added)
    new_period: Any = None


def restarts(action: str, from_stage: str | None, to_stage: str) -> bool:
    """Does the entry end the current passage (and open a new one, if the stage is active)?"""
    return from_stage != to_stage or action in RESTARTS_STAGE


def _answer_outcome(step: Step) -> str | None:
    if step.action == Action.APPROVE and step.to_stage == Stage.ANSWERED:
        return ANSWERED
    if step.action == Action.APPROVE and step.to_stage == Stage.POSTPONED:
        return POSTPONED
    if step.to_stage == Stage.REJECTED:
        return REJECTED
    if step.to_stage == Stage.CLOSED:  # an incident that needs no answer: no answer given, none due
        return CLOSED
    return None


def _follow(row, org_id, due, accelerated, at) -> None:
    row.organization_id = org_id
    row.accelerated = accelerated
    if due is not None and due != row.due_at:
        row.due_at, row.due_changed_at = due, at


def advance(visit, period, step: Step, *, message_id: int,
            make_visit: Callable[..., Any], make_period: Callable[..., Any],
            working_hours: Callable[[datetime, datetime], float]) -> Advance:
    """`working_hours(start, end)`: the production calendar's working hours between two moments (the
    deadline policy's `working_hours_between`), the time in the stage of a passage that closes."""
    out = Advance(visit=visit, period=period)
    active = step.to_stage in ACTIVE_STAGES
    if restarts(step.action, step.from_stage, step.to_stage):
        if visit is not None:
            visit.left_at, visit.left_action = step.at, str(step.action)
            visit.on_time = step.at <= visit.due_at
            visit.working_hours = working_hours(visit.entered_at, step.at)
            out.closed_visit, out.visit = visit, None
        if active:
            out.visit = out.new_visit = make_visit(
                message_id=message_id, organization_id=step.organization_id, stage=str(step.to_stage),
                entered_at=step.at, entry_due_at=step.stage_due, due_at=step.stage_due, due_changed_at=None,
                left_at=None, left_action=None, working_hours=None, on_time=None, is_repeated=step.is_repeated,
                accelerated=step.accelerated, is_incident=step.is_incident)
    elif visit is not None:
        _follow(visit, step.organization_id, step.stage_due if active else None, step.accelerated, step.at)

    outcome = _answer_outcome(step)
    if period is not None and outcome is not None:
        period.closed_at, period.closed_action, period.outcome = step.at, str(step.action), outcome
        period.organization_id = step.organization_id
        period.on_time = None if outcome in (REJECTED, CLOSED) else step.at <= period.due_at
        out.closed_period, out.period = period, None
    elif period is not None:
        _follow(period, step.organization_id, step.answer_due, step.accelerated, step.at)
    if out.period is None and active:
        out.period = out.new_period = make_period(
            message_id=message_id, organization_id=step.organization_id, opened_at=step.at,
            entry_due_at=step.answer_due, due_at=step.answer_due, due_changed_at=None, closed_at=None,
            closed_action=None, outcome=None, on_time=None, is_repeated=step.is_repeated,
            accelerated=step.accelerated, is_incident=step.is_incident)
    return out
