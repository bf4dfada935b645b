"""Recomputing deadlines after the calendar, the stage settings or the accelerated lists change."""
from __future__ import annotations

from sqlmodel import Session, select

from pos.models import HistoryEntry, Message
from pos.services.messages import RECOMPUTED, Env, directory
from pos.workflow import ACTIVE_STAGES, Action


def _answer_base(session: Session, message: Message):
    """The answer period runs from arrival, or from the return after a postponement."""
    resumed = session.exec(select(HistoryEntry.at).where(HistoryEntry.message_id == message.id,
                                                         HistoryEntry.action == Action.RESUME)
                           .order_by(HistoryEntry.id.desc())).first()
    return resumed or message.received_at


def recompute(session: Session, env: Env, message_ids: list[int] | None = None,
              reason: str = "пересчёт сроков после изменения календаря или настроек") -> int:
    """Recompute active messages' deadlines; every change is written to the message's history."""
    ctx = directory(session, env)
    query = select(Message).where(Message.stage.in_(list(ACTIVE_STAGES)))
    if message_ids:
        query = query.where(Message.id.in_(message_ids))
    changed = 0
    for message in session.exec(query):
        org = ctx.org(message.organization_id)
        jurisdiction = org.root_id if org else None
        accelerated = ctx.is_accelerated(message.subcategory_id, jurisdiction)
        answer_due = ctx.deadlines.answer_due(_answer_base(session, message), accelerated)
        stage_due = min(ctx.deadlines.stage_due(message.stage, message.stage_entered_at, jurisdiction), answer_due)
        if (answer_due, stage_due, accelerated) == (message.answer_due_at, message.stage_due_at, message.accelerated):
            continue
        details = {"reason": reason,
                   "answer_due": {"from": message.answer_due_at.isoformat(sep=" ", timespec="minutes"),
                                  "to": answer_due.isoformat(sep=" ", timespec="minutes"),
                                  "accelerated": accelerated, "reason": reason},
                   "stage_due": {"from": message.stage_due_at.isoformat(sep=" ", timespec="minutes"),
                                 "to": stage_due.isoformat(sep=" ", timespec="minutes")}}
        message.answer_due_at, message.stage_due_at, message.accelerated = answer_due, stage_due, accelerated
        session.add(HistoryEntry(message_id=message.id, at=ctx.now, actor_id=None, action=RECOMPUTED,
                                 from_stage=message.stage, to_stage=message.stage,
                                 from_org_id=message.organization_id, to_org_id=message.organization_id,
                                 details=details))
        changed += 1
    session.commit()
    return changed
