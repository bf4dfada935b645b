"""The public answer of an incident: published by the network's adapter where the first post was.

When the approving head approves an incident's answer (a public text: `pos.public_text` refused personal
data in it at every edit), the workflow's «public_reply» event becomes, in the same transaction, a
`public_reply` row (pending) and an outbox row; the notification job (`jobs.notify.deliver`) hands that row
here: the adapter publishes, the result is recorded on the row and in the incident's history (published with
the reply's link / failed with the reason). A failure raises, so RQ retries it with the notifications'
backoff, and after the last retry the outbox row is on the administrator's failures page
(«Отправить повторно» there tries again). An operator may instead publish it by hand and record the link
(`mark_published`); a later retry then publishes nothing.
"""
from __future__ import annotations

import re

from sqlmodel import Session, select

from pos import adapters, clock
from pos.models import HistoryEntry, Message, OutboxEvent, PublicPost, PublicReply, User
from pos.services.directory import grants_for
from pos.workflow import Role

EVENT = "public_reply"
PUBLISHED, FAILED, MANUAL, PENDING = "published", "failed", "manual", "pending"
STATUS_LABELS = {PENDING: "ожидает публикации", PUBLISHED: "опубликован", FAILED: "не опубликован",
                 MANUAL: "опубликован вручную"}
# The incident's history entries of the publication (no stage changes).
H_PUBLISHED, H_FAILED, H_MANUAL = "public_reply_published", "public_reply_failed", "public_reply_manual"
PAST = {H_PUBLISHED: "Ответ опубликован в сети", H_FAILED: "Ответ не удалось опубликовать",
        H_MANUAL: "Ответ опубликован вручную"}
_URL = re.compile(r"^https?://\S{3,490}$")


def is_publication(payload: dict) -> bool:
    return (payload or {}).get("event") == EVENT


def reply_of(session: Session, incident_id: int) -> PublicReply | None:
    return session.exec(select(PublicReply).where(PublicReply.incident_id == incident_id)).first()


def open_reply(session: Session, incident: Message, now) -> PublicReply:
    """In the approval's transaction: the text to publish, addressed to the incident's first post."""
    post = session.exec(select(PublicPost).where(PublicPost.incident_id == incident.id)
                        .order_by(PublicPost.published_at, PublicPost.id)).first()
    if post is None:
        raise ValueError("У инцидента нет публикаций: отвечать некуда.")
    reply = reply_of(session, incident.id) or PublicReply(incident_id=incident.id, post_id=post.id, text="",
                                                          created_at=now)
    reply.post_id, reply.text, reply.status, reply.error = post.id, incident.answer_text, PENDING, ""
    session.add(reply)
    return reply


def _note(session: Session, incident: Message, action: str, actor_id: int | None, **details) -> None:
    session.add(HistoryEntry(message_id=incident.id, at=clock.now(), actor_id=actor_id, action=action,
                             from_stage=incident.stage, to_stage=incident.stage,
                             from_org_id=incident.organization_id, to_org_id=incident.organization_id,
                             details=details))


def publish(session: Session, cfg, row: OutboxEvent) -> str:
    """The job's work for one outbox row: publish, record the result; raise on failure (RQ retries)."""
    incident = session.get(Message, int(row.payload["message_id"]))
    reply = reply_of(session, incident.id)
    if reply is None or reply.status in (PUBLISHED, MANUAL):
        return "nothing to publish"
    post = session.get(PublicPost, reply.post_id)
    reply.attempts += 1
    try:
        url = adapters.publisher_for(post.network, cfg).publish_reply(post.url, reply.text)
    except Exception as exc:
        reason = str(exc) if isinstance(exc, adapters.AdapterError) else f"{exc.__class__.__name__}: {exc}"
        reply.status, reply.error = FAILED, reason[:2000]
        session.add(reply)
        _note(session, incident, H_FAILED, None, reason=reason[:500], attempt=reply.attempts)
        session.commit()
        raise
    reply.status, reply.reply_url, reply.error, reply.published_at = PUBLISHED, url[:500], "", clock.now()
    session.add(reply)
    _note(session, incident, H_PUBLISHED, None, url=url[:500])
    session.commit()
    return url


def may_mark(session: Session, user: User, incident: Message) -> bool:
    """The operator (moderator) and the staff of the organization that answered (coordinator, curator)."""
    return any(g.role == Role.MODERATOR or (g.role in (Role.COORDINATOR, Role.CURATOR)
                                            and g.organization_id == incident.organization_id)
               for g in grants_for(session, user.id))


def mark_published(session: Session, user: User, incident_id: int, url: str) -> PublicReply:
    """An operator published the answer by hand: the link is recorded, the outbox publishes nothing more."""
    incident = session.get(Message, incident_id)
    reply = reply_of(session, incident_id) if incident is not None else None
    if reply is None:
        raise LookupError("У инцидента нет утверждённого ответа для публикации.")
    if not may_mark(session, user, incident):
        raise PermissionError("Отметить публикацию может модератор или координатор и куратор организации.")
    url = (url or "").strip()
    if not _URL.match(url):
        raise ValueError("Укажите ссылку на опубликованный ответ: адрес http:// или https://.")
    if reply.status in (PUBLISHED, MANUAL):
        raise ValueError("Ответ уже опубликован.")
    reply.status, reply.reply_url, reply.error = MANUAL, url, ""
    reply.published_at, reply.published_by_id = clock.now(), user.id
    session.add(reply)
    _note(session, incident, H_MANUAL, user.id, url=url)
    session.commit()
    return reply
