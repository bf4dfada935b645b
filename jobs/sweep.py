"""The deadline sweep: set-based UPDATEs over the whole message table, reminders in the same transaction.

Each UPDATE marks what crossed a line since the last sweep (`ok` → `due_soon`,
anything → `overdue`) and returns those rows only; their reminders are written to
the outbox in the same transaction, so a reminder is never lost nor sent twice
(its idempotency key names the message, the deadline and the state). Messages
whose deadline moved later (recomputed) go back without a reminder.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import bindparam, case, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from pos import clock
from pos.deadlines import DeadlinePolicy
from pos.models import Message, OutboxEvent
from pos.services.directory import load_policy
from pos.workflow import ACTIVE_STAGES, Role, Stage

log = logging.getLogger(__name__)

_m = Message.__table__
_o = OutboxEvent.__table__
# Inlined, not bound: the partial index ix_message_sweep is only used for the literal list.
_ACTIVE = _m.c.stage.in_(bindparam("active_stages", [str(s) for s in ACTIVE_STAGES], expanding=True,
                                   literal_execute=True))
# Literal too, so the «settled» UPDATE matches the partial index of exactly those rows (ix_message_unsettled).
_UNSETTLED = _m.c.deadline_state.in_(bindparam("unsettled_states", ["due_soon", "overdue"], expanding=True,
                                               literal_execute=True))
_RETURNING = (_m.c.id, _m.c.stage, _m.c.assignee_id, _m.c.organization_id, _m.c.stage_due_at)


def _responsible(stage: str, assignee_id: int | None, org_id: int | None) -> dict:
    """Who a message waits for: its assignee, or the pool of the stage."""
    if assignee_id is not None:
        return {"user_ids": [assignee_id], "org_role": None}
    if stage == Stage.MODERATION:
        return {"user_ids": [], "org_role": [None, str(Role.MODERATOR)]}
    return {"user_ids": [], "org_role": [org_id, str(Role.COORDINATOR)]}


def _event(event: str, row, now: datetime, **to) -> dict:
    due = clock.as_utc(row.stage_due_at)
    return {
        "created_at": now, "kind": "notify", "status": "pending", "attempts": 0, "last_error": "",
        "idempotency_key": f"sweep:{event}:{row.id}:{due:%Y%m%dT%H%M%S}",
        "payload": {"event": event, "message_id": row.id, "history_id": None, "to_applicant": False,
                    "user_ids": to.get("user_ids", []), "org_role": to.get("org_role"),
                    "data": {"stage": row.stage, "due": due.isoformat()}},
    }


def _insert_ignoring_duplicates(session: Session, rows: list[dict]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt = postgresql.insert(_o).on_conflict_do_nothing(index_elements=["idempotency_key"])
    elif dialect == "sqlite":
        stmt = sqlite.insert(_o).on_conflict_do_nothing(index_elements=["idempotency_key"])
    else:
        stmt = insert(_o)
    session.execute(stmt, rows)


def sweep(session: Session, now: datetime, policy: DeadlinePolicy) -> dict[str, int]:
    """Mark due-soon and overdue messages and write their reminders; one transaction. Returns counts."""
    now = clock.as_utc(now)
    limit = policy.due_soon_limit(now)
    overdue = session.execute(
        update(_m).where(_ACTIVE, _m.c.deadline_state.in_(("ok", "due_soon")), _m.c.stage_due_at < now)
        .values(deadline_state="overdue").returning(*_RETURNING)).all()
    due_soon = session.execute(
        update(_m).where(_ACTIVE, _m.c.deadline_state == "ok", _m.c.stage_due_at >= now, _m.c.stage_due_at < limit)
        .values(deadline_state="due_soon").returning(*_RETURNING)).all()
    # A deadline moved later (recomputed): back, quietly.
    relaxed = session.execute(
        update(_m).where(_ACTIVE, or_((_m.c.deadline_state == "overdue") & (_m.c.stage_due_at >= now),
                                      (_m.c.deadline_state == "due_soon") & (_m.c.stage_due_at >= limit)))
        .values(deadline_state=case((_m.c.stage_due_at < limit, "due_soon"), else_="ok"))).rowcount
    settled = session.execute(
        update(_m).where(_UNSETTLED, ~_ACTIVE)
        .values(deadline_state="ok")).rowcount
    events = []
    for row in overdue:
        events.append(_event("overdue", row, now, **_responsible(row.stage, row.assignee_id, row.organization_id)))
        if row.organization_id is not None and row.stage != Stage.MODERATION:
            events.append(_event("escalated", row, now, org_role=[row.organization_id, str(Role.CURATOR)]))
    for row in due_soon:
        events.append(_event("due_soon", row, now, **_responsible(row.stage, row.assignee_id, row.organization_id)))
    _insert_ignoring_duplicates(session, events)
    session.commit()
    counts = {"overdue": len(overdue), "due_soon": len(due_soon), "relaxed": relaxed + settled,
              "reminders": len(events)}
    if overdue or due_soon:
        log.info("deadline sweep: %s", counts)
    return counts


def overdue_ids(session: Session) -> list[int]:
    return list(session.execute(select(_m.c.id).where(_m.c.deadline_state == "overdue").order_by(_m.c.id)).scalars())


def run() -> dict[str, int]:
    """RQ job: one sweep at the platform's time; the new reminders go to RQ at once."""
    from jobs import runtime
    from pos.services import outbox

    with runtime.session() as session:
        before = session.execute(select(_o.c.id).order_by(_o.c.id.desc()).limit(1)).scalar() or 0
        session.commit()
        counts = sweep(session, clock.now(), load_policy(session, runtime.env().timezone, runtime.env().max_postpone_days))
        new = list(session.execute(select(_o.c.id).where(_o.c.id > before, _o.c.status == "pending",
                                                         _o.c.idempotency_key.like("sweep:%"))).scalars())
        session.commit()
    outbox.dispatch(new)
    return counts
