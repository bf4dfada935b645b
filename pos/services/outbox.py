"""The transactional outbox: events are rows written with the action, handed to RQ after commit."""
from __future__ import annotations

import logging
from typing import Callable, Iterable

from sqlmodel import Session

from pos.models import OutboxEvent
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
    except Exception:  # Redis down: the relay will pick the rows up
        log.warning("outbox dispatch deferred for %d rows", len(outbox_ids), exc_info=True)
