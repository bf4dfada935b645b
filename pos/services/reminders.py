"""A curator's reminder to whoever a message waits for; recorded in the history, delivered via the outbox."""
from __future__ import annotations

from sqlmodel import Session

from pos import clock
from pos.models import HistoryEntry, Message, User
from pos.services import choices, outbox
from pos.services.directory import actor_for
from pos.workflow import ACTIVE_STAGES, MAX_COMMENT, Event, Invalid, NotAllowed, Role, Stage

REMINDER = "reminder"

# Who a stage waits for when no single person is assigned: the organization's pool.
_POOL = {Stage.COORDINATION: Role.COORDINATOR, Stage.MODERATION: Role.MODERATOR}


def _curates(session: Session, actor, org_id: int | None) -> bool:
    """A curator of the message's organization or of an organization above it."""
    if org_id is None:
        return False
    path = choices.org_paths(session).get(org_id, "")
    ancestors = {int(part) for part in path.strip("/").split("/") if part}
    return any(g.role == Role.CURATOR and g.organization_id in ancestors for g in actor.grants)


def can_remind(session: Session, actor, message: Message) -> bool:
    return message.stage in ACTIVE_STAGES and _curates(session, actor, message.organization_id)


def remind(session: Session, curator: User, message_id: int, text: str = "") -> HistoryEntry:
    message = session.get(Message, message_id)
    if message is None:
        raise LookupError("Сообщение не найдено.")
    actor = actor_for(session, curator)
    if not _curates(session, actor, message.organization_id):
        raise NotAllowed("Напоминание может отправить только куратор организации, рассматривающей сообщение.")
    if message.stage not in ACTIVE_STAGES:
        raise NotAllowed("Рассмотрение сообщения завершено: напоминать некому.")
    text = (text or "").strip()
    if len(text) > MAX_COMMENT:
        raise Invalid(f"Текст напоминания длиннее {MAX_COMMENT} символов.", "text")
    if message.assignee_id is not None:
        event = Event(REMINDER, user_ids=(message.assignee_id,), data={"text": text})
        to = {"user_id": message.assignee_id}
    else:
        role = _POOL.get(Stage(message.stage), Role.COORDINATOR)
        event = Event(REMINDER, org_role=(message.organization_id, role), data={"text": text})
        to = {"role": str(role)}
    now = clock.now()
    entry = HistoryEntry(message_id=message.id, at=now, actor_id=curator.id, action=REMINDER,
                         from_stage=message.stage, to_stage=message.stage, from_org_id=message.organization_id,
                         to_org_id=message.organization_id, details={"text": text, **to})
    session.add(entry)
    session.flush()
    rows = outbox.write_events(session, message_id=message.id, history_id=entry.id, events=[event], now=now)
    session.commit()
    outbox.dispatch([r.id for r in rows])
    return entry
