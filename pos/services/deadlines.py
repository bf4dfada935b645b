"""Recomputing deadlines after the calendar, the stage settings or the accelerated lists change."""
from __future__ import annotations

from sqlmodel import Session, select

from pos.deadlines import INCIDENT, INCIDENT_ANSWER, MESSAGE, UNIT_LABELS
from pos.models import CalendarOverride, HistoryEntry, Message, Organization, StageDeadline
from pos.services import admin_audit, facts
from pos.services.messages import RECOMPUTED, Env, directory
from pos.workflow import ACTIVE_STAGES, STAGE_LABELS, Action, Stage


def _answer_base(session: Session, message: Message):
    """The answer period runs from arrival, or from the return after a postponement."""
    resumed = session.exec(select(HistoryEntry.at).where(HistoryEntry.message_id == message.id,
                                                         HistoryEntry.action == Action.RESUME)
                           .order_by(HistoryEntry.id.desc())).first()
    return resumed or message.received_at


def recompute(session: Session, env: Env, message_ids: list[int] | None = None,
              reason: str = "пересчёт сроков после изменения календаря или настроек", kind: str | None = None) -> int:
    """Recompute active messages' deadlines (of one kind, or all); every change is written to the history."""
    ctx = directory(session, env)
    query = select(Message).where(Message.stage.in_(list(ACTIVE_STAGES)))
    if kind is not None:
        query = query.where(Message.kind == kind)
    if message_ids:
        query = query.where(Message.id.in_(message_ids))
    changed = 0
    for message in session.exec(query).all():  # rows are written while we go
        org = ctx.org(message.organization_id)
        jurisdiction = org.root_id if org else None
        accelerated = ctx.is_accelerated(message.subcategory_id, jurisdiction)
        answer_due = ctx.deadlines.answer_due(_answer_base(session, message), accelerated, message.kind, jurisdiction)
        stage_due = min(ctx.deadlines.stage_due(message.stage, message.stage_entered_at, jurisdiction, message.kind),
                        answer_due)
        if (answer_due, stage_due, accelerated) == (message.answer_due_at, message.stage_due_at, message.accelerated):
            continue
        details = {"reason": reason,
                   "answer_due": {"from": message.answer_due_at.isoformat(sep=" ", timespec="minutes"),
                                  "to": answer_due.isoformat(sep=" ", timespec="minutes"),
                                  "accelerated": accelerated, "reason": reason},
                   "stage_due": {"from": message.stage_due_at.isoformat(sep=" ", timespec="minutes"),
                                 "to": stage_due.isoformat(sep=" ", timespec="minutes")}}
        message.answer_due_at, message.stage_due_at, message.accelerated = answer_due, stage_due, accelerated
        entry = HistoryEntry(message_id=message.id, at=ctx.now, actor_id=None, action=RECOMPUTED,
                             from_stage=message.stage, to_stage=message.stage,
                             from_org_id=message.organization_id, to_org_id=message.organization_id,
                             details=details)
        session.add(entry)
        facts.record(session, message, entry, ctx.deadlines)  # the open passage and answer period follow the new deadlines
        changed += 1
    session.commit()
    return changed


def set_stage_rule(session: Session, env: Env, stage: str, amount: int, unit: str,
                   jurisdiction_id: int | None = None, kind: str = MESSAGE, *, actor_id: int | None = None) -> int:
    """The administrator sets how long a stage may take (in one jurisdiction, or by default); recomputes.
    `kind` incident: the incidents' own clock, where the stage "answer" is the deadline of the public answer.
    The change log records it (`actor_id` empty: the command line)."""
    if kind not in (MESSAGE, INCIDENT):
        raise ValueError("Вид: message (сообщения) или incident (инциденты).")
    stages = [s.value for s in ACTIVE_STAGES] + ([INCIDENT_ANSWER] if kind == INCIDENT else [])
    if stage not in stages:
        raise ValueError(f"Неизвестный этап «{stage}».")
    if unit not in UNIT_LABELS:
        raise ValueError("Единица срока: working_hours (рабочие часы) или working_days (рабочие дни).")
    if not 1 <= amount <= 1000:
        raise ValueError("Срок этапа — целое число от 1 до 1000.")
    if jurisdiction_id is not None:
        org = session.get(Organization, jurisdiction_id)
        if org is None or org.parent_id is not None:
            raise ValueError("Укажите корневую организацию (юрисдикцию) или не указывайте никакую.")
    row = session.exec(select(StageDeadline).where(StageDeadline.stage == stage, StageDeadline.kind == kind,
                                                   StageDeadline.jurisdiction_id == jurisdiction_id)).first()
    before = {"amount": row.amount, "unit": row.unit} if row is not None else {}
    row = row or StageDeadline(stage=stage, kind=kind, jurisdiction_id=jurisdiction_id, amount=amount, unit=unit)
    row.amount, row.unit = amount, unit
    session.add(row)
    where = f"юрисдикция {jurisdiction_id}" if jurisdiction_id else "по умолчанию"
    if stage == INCIDENT_ANSWER:
        title = f"Срок ответа на инцидент ({where})"
    else:
        title = f"Срок этапа «{STAGE_LABELS[Stage(stage)]}»{' инцидентов' if kind == INCIDENT else ''} ({where})"
    admin_audit.record(session, actor_id, "stage_deadline", f"{kind}:{jurisdiction_id or ''}:{stage}", "set",
                       f"{title}: {amount} {UNIT_LABELS[unit]}",
                       old=before, new={"amount": amount, "unit": unit, "stage": stage, "kind": kind,
                                        "jurisdiction_id": jurisdiction_id})
    session.commit()
    what = "срок ответа на инцидент" if stage == INCIDENT_ANSWER else "срок этапа"
    return recompute(session, env, reason=f"изменён {what}: {amount} {UNIT_LABELS[unit]}", kind=kind)


def set_calendar_day(session: Session, env: Env, day, is_working: bool | None, note: str = "", *,
                     actor_id: int | None = None) -> int:
    """A local correction of the production calendar (None removes it); recomputes the deadlines of the
    active messages and the working hours of the passages that were in a stage that day. The change log
    records it (`actor_id` empty: the command line)."""
    row = session.get(CalendarOverride, day)
    before = {"is_working": row.is_working, "note": row.note} if row is not None else {}
    if is_working is None:
        if row is not None:
            session.delete(row)
    else:
        row = row or CalendarOverride(day=day, is_working=is_working)
        row.is_working, row.note = is_working, note
        session.add(row)
    session.flush()
    facts.recount_working_hours(session, directory(session, env).deadlines, day)
    what = "рабочий день" if is_working else ("выходной" if is_working is False else "по производственному календарю")
    admin_audit.record(session, actor_id, "calendar_day", day.isoformat(), "set" if is_working is not None else "unset",
                       f"Календарь: {day:%d.%m.%Y} — {what}", old=before,
                       new={"is_working": is_working, "note": note} if is_working is not None else {})
    session.commit()
    return recompute(session, env, reason=f"изменён календарь: {day:%d.%m.%Y} — {what}")
