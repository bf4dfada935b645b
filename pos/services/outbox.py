"""The transactional outbox: events are rows written with the action, handed to RQ after commit."""
from __future__ import annotations

import logging
from datetime import timezone
from typing import Callable, Iterable

from sqlalchemy import func
from sqlmodel import Session, select

from pos.models import OutboxEvent
from pos.wording import OUTBOX_STATUS
from pos.workflow import Event

log = logging.getLogger(__name__)

# Set by the app (pos.queue): hands committed outbox rows to the workers. When it
# is missing or Redis is down the rows stay pending and the relay sends them later.
_dispatcher: Callable[[list[int]], None] | None = None


def set_dispatcher(dispatcher: Callable[[list[int]], None] | None) -> None:
    global _dispatcher
    _dispatcher = dispatcher


def write_events(session: Session, *, message_id: int | None, history_id: int, events: Iterable[Event],
                 now) -> list[OutboxEvent]:
    rows = []
    for index, event in enumerate(events):
        row = OutboxEvent(
            created_at=now,
            kind="notify",
            idempotency_key=f"notify:{history_id}:{index}",
            payload={
                "event": event.kind,
                "message_id": message_id,
                "history_id": history_id,
                "to_applicant": event.to_applicant,
                "user_ids": [u for u in event.user_ids if u is not None],
                "org_role": list(event.org_role) if event.org_role else None,
                "data": event.data,
            },
        )
        session.add(row)
        rows.append(row)
    return rows


def dispatch(outbox_ids: list[int]) -> None:
    """After commit: try to hand the rows to RQ now; failure only delays them."""
    if not outbox_ids or _dispatcher is None:
        return
    try:
        _dispatcher(outbox_ids)
    except Exception as exc:  # Redis down: the relay will pick the rows up
        log.warning("outbox dispatch deferred for %d rows: %s: %s", len(outbox_ids), exc.__class__.__name__, exc)


# --- what the administrator sees ---------------------------------------------------------

UNSENT = ("pending", "sent", "running")


def list_failed(session: Session, limit: int = 200) -> list[OutboxEvent]:
    """Rows whose job gave up after its last retry, newest first, with the last error."""
    return list(session.exec(select(OutboxEvent).where(OutboxEvent.status == "failed")
                             .order_by(OutboxEvent.id.desc()).limit(limit)))


def retry(session: Session, outbox_id: int) -> OutboxEvent:
    """Send a failed row again: it becomes pending (attempts start over) and goes to RQ after the commit."""
    row = session.get(OutboxEvent, outbox_id)
    if row is None:
        raise LookupError(f"Событие {outbox_id} не найдено.")
    if row.status != "failed":
        raise ValueError(f"Событие {outbox_id} нельзя отправить повторно: оно не в состоянии "
                         f"«{OUTBOX_STATUS['failed']}» (сейчас «{OUTBOX_STATUS.get(row.status, row.status)}»).")
    row.status, row.attempts, row.locked_until = "pending", 0, None
    session.add(row)
    session.commit()
    dispatch([row.id])
    return row


def status_counts(session: Session) -> dict[str, int]:
    rows = session.exec(select(OutboxEvent.status, func.count()).group_by(OutboxEvent.status)).all()
    return {status: count for status, count in rows}


def oldest_unsent_age(session: Session, now) -> float | None:
    """Seconds since the oldest row not yet delivered was written; None when everything went out."""
    oldest = session.exec(select(func.min(OutboxEvent.created_at)).where(OutboxEvent.status.in_(UNSENT))).one()
    if oldest is None:
        return None
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=timezone.utc)
    return max(0.0, (now - oldest).total_seconds())
