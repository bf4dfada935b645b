"""What an applicant sees of their messages: the status in their words, the published answer, notifications.

Internal stages, the approval chain and staff comments stay inside: the
applicant sees whether the message is on moderation, in work, redirected,
rejected (with the reason), answered or postponed, and the answer once approved.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, select

from pos import clock
from pos.models import Attachment, Category, HistoryEntry, Message, Notification, Organization, Subcategory
from pos.services import endings
from pos.services.directory import regulation_of
from pos.wording import result_text
from pos.workflow import POOR_RATING_MAX, Action, Stage, rejection_reason_text

PAGE_SIZE = 20
# Stages in which the approved answer is the author's to read.
PUBLISHED = (Stage.ANSWERED, Stage.POSTPONED)
RATING_LABELS = {1: "1 — очень плохо", 2: "2 — плохо", 3: "3 — удовлетворительно", 4: "4 — хорошо",
                 5: "5 — отлично"}


@dataclass(frozen=True)
class Status:
    code: str  # moderation | in_work | redirected | rejected | answered | postponed
    label: str  # the applicant's words
    detail: str = ""  # the rejection reason, the organization


def org_name(session: Session, org_id: int | None) -> str:
    org = session.get(Organization, org_id) if org_id else None
    return (org.short_name or org.name) if org else ""


def status_of(session: Session, message: Message) -> Status:
    stage = message.stage
    if stage == Stage.MODERATION:
        return Status("moderation", "На модерации")
    if stage == Stage.REJECTED:
        # The reason in the words of the message's jurisdiction's regulation (the letter is what is stored).
        return Status("rejected", "Отклонено модератором",
                      rejection_reason_text(message.rejection_reason, regulation_of(session, message.organization_id)))
    if stage == Stage.ANSWERED:
        return Status("answered", "Ответ готов")
    if stage == Stage.POSTPONED:
        until = message.postponed_until
        return Status("postponed", f"Отложено до {until:%d.%m.%Y}" if until else "Отложено")
    if message.passed_from_id and stage == Stage.COORDINATION:
        name = org_name(session, message.organization_id)
        return Status("redirected", f"Перенаправлено в {name}", name)
    return Status("in_work", "В работе", org_name(session, message.organization_id))


def local(moment: datetime | None, tz: str) -> datetime | None:
    return clock.as_utc(moment).astimezone(ZoneInfo(tz)) if moment else None


# --- lists and pages ---------------------------------------------------------------

@dataclass
class Item:
    message: Message
    status: Status
    received: datetime
    due: date | None  # the answer deadline while it runs (not postponed, not final)
    answered: datetime | None
    ended: list[str]  # how it ended (or waits, postponed), in words: «Ответ дан 12.12.2026, в срок»


def _item(session: Session, message: Message, tz: str) -> Item:
    status = status_of(session, message)
    return Item(message, status, local(message.received_at, tz),
                local(message.answer_due_at, tz).date() if endings.is_running(message) else None,
                local(message.answered_at, tz) if status.code in ("answered", "postponed") else None,
                endings.ending_lines(message, tz))


def own_messages(session: Session, applicant_id: int, tz: str, page: int = 1) -> tuple[list[Item], int]:
    total = session.exec(select(func.count(Message.id)).where(Message.applicant_id == applicant_id)).one()
    rows = session.exec(select(Message).where(Message.applicant_id == applicant_id)
                        .order_by(Message.received_at.desc(), Message.id.desc())
                        .offset((max(page, 1) - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    return [_item(session, m, tz) for m in rows], total


def own_message(session: Session, applicant_id: int | None, message_id: int) -> Message | None:
    message = session.get(Message, message_id)
    if message is None or applicant_id is None or message.applicant_id != applicant_id:
        return None
    return message


@dataclass
class Card:
    """One message as its author sees it."""
    item: Item
    category: str
    subcategory: str
    files: list[Attachment]
    answer_files: list[Attachment]
    answer_published: bool
    result: str
    timeline: list[tuple[datetime, str]]
    repeated_of: Message | None
    repeat: Message | None
    may_rate: bool
    may_repeat: bool


def card(session: Session, message: Message, tz: str) -> Card:
    published = message.stage in PUBLISHED
    attachments = session.exec(select(Attachment).where(Attachment.message_id == message.id)
                               .order_by(Attachment.id)).all()
    category = session.get(Category, message.category_id) if message.category_id else None
    sub = session.get(Subcategory, message.subcategory_id) if message.subcategory_id else None
    repeat = session.exec(select(Message).where(Message.repeated_of_id == message.id)).first()
    answered = message.stage == Stage.ANSWERED
    return Card(
        item=_item(session, message, tz),
        category=category.name if category else "",
        subcategory=sub.name if sub else "",
        files=[a for a in attachments if a.kind == "applicant"],
        answer_files=[a for a in attachments if a.kind == "answer"] if published else [],
        answer_published=published,
        result=result_text(message.result, message.postponed_until) if published else "",
        timeline=timeline(session, message, tz),
        repeated_of=session.get(Message, message.repeated_of_id) if message.repeated_of_id else None,
        repeat=repeat,
        may_rate=answered and message.rating is None,
        may_repeat=(answered and message.rating is not None and message.rating <= POOR_RATING_MAX
                    and repeat is None),
    )


def timeline(session: Session, message: Message, tz: str) -> list[tuple[datetime, str]]:
    """The steps the author is told about; the internal ones (assignments, the chain) stay hidden."""
    entries = session.exec(select(HistoryEntry).where(HistoryEntry.message_id == message.id)
                           .order_by(HistoryEntry.id)).all()
    steps = []
    for h in entries:
        text = None
        match h.action:
            case Action.SUBMIT:
                text = "Сообщение зарегистрировано"
            case Action.ACCEPT:
                text = f"Принято в работу: {org_name(session, h.to_org_id)}"
            case Action.CHANGE_ORGANIZATION:
                text = f"Направлено на рассмотрение: {org_name(session, h.to_org_id)}"
            case Action.REJECT:
                text = "Отклонено модератором" + (f": причина {h.details['reason']})" if h.details.get("reason") else "")
            case Action.RETURN:
                text = f"Перенаправлено в {org_name(session, h.to_org_id)}"
            case Action.APPROVE if h.to_stage == Stage.COORDINATION:
                text = f"Перенаправлено в {org_name(session, h.to_org_id)}"
            case Action.APPROVE if h.to_stage == Stage.POSTPONED:
                text = "Дан ответ: рассмотрение отложено"
            case Action.APPROVE:
                text = "Дан ответ"
            case Action.RESUME:
                text = "Рассмотрение возобновлено"
                due = (h.details.get("answer_due") or {}).get("to")
                if due:
                    text += f", новый срок ответа — до {local(datetime.fromisoformat(due), tz):%d.%m.%Y}"
            case Action.RATE:
                text = f"Ответ оценён: {h.details.get('rating')} из 5"
            case Action.REPEAT:
                text = f"Подано повторное сообщение {h.details.get('repeat_number', '')}".rstrip()
        if text:
            steps.append((local(h.at, tz), text))
    return steps


def own_attachment(session: Session, applicant_id: int | None, attachment_id: int) -> Attachment | None:
    """A file the author may download: their own, and the answer's documents once the answer is published."""
    row = session.get(Attachment, attachment_id)
    if row is None:
        return None
    message = own_message(session, applicant_id, row.message_id)
    if message is None:
        return None
    if row.kind != "applicant" and message.stage not in PUBLISHED:
        return None
    return row


# --- notifications -----------------------------------------------------------------

def notifications(session: Session, applicant_id: int, limit: int = 100) -> list[Notification]:
    return list(session.exec(select(Notification).where(Notification.applicant_id == applicant_id)
                             .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)))


def unread_count(session: Session, applicant_id: int) -> int:
    return session.exec(select(func.count(Notification.id)).where(Notification.applicant_id == applicant_id,
                                                                  Notification.read_at.is_(None))).one()


def mark_read(session: Session, applicant_id: int) -> int:
    rows = session.exec(select(Notification).where(Notification.applicant_id == applicant_id,
                                                   Notification.read_at.is_(None))).all()
    now = clock.now()
    for row in rows:
        row.read_at = now
        session.add(row)
    session.commit()
    return len(rows)


def numbers(session: Session, message_ids: set[int]) -> dict[int, str]:
    if not message_ids:
        return {}
    return dict(session.exec(select(Message.id, Message.number).where(Message.id.in_(list(message_ids)))).all())
