"""Notifications: who is told of an event, the Russian text (templates in pos/templates/mail/),
the in-app rows written idempotently, and the letters made from them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Mapping
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from pos import clock, mail
from pos.models import (Applicant, HistoryEntry, Message, Notification, Organization, OutboxEvent, RoleGrant,
                        User)
from pos.services import endings
from pos.services.directory import regulation_of
from pos.workflow import RESULT_LABELS, STAGE_LABELS, Role, rejection_reasons

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "mail"

# Every kind of notification has a template `mail/<kind>.txt`.
KINDS = ("accepted", "rejected", "redirected", "answered", "postponed", "resumed", "inbox", "reminder",
         "due_soon", "overdue", "escalated", "rating_published", "vote_opened", "vote_results")

_jinja = Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined, trim_blocks=True,
                     lstrip_blocks=True, keep_trailing_newline=False,
                     autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False))


@dataclass(frozen=True)
class Recipient:
    key: str  # "u<user id>" or "a<applicant id>" (an applicant without an account)
    user_id: int | None
    applicant_id: int | None
    name: str
    email: str
    email_enabled: bool
    digest: bool


# --- who ---------------------------------------------------------------------------

def _staff(user: User) -> Recipient:
    return Recipient(f"u{user.id}", user.id, None, user.full_name, user.email,
                     user.email_enabled and user.is_active, user.email_digest and user.is_staff)


def _applicant(session: Session, applicant_id: int) -> Recipient | None:
    applicant = session.get(Applicant, applicant_id)
    if applicant is None:
        return None
    user = session.get(User, applicant.user_id) if applicant.user_id else None
    name = applicant.contact_person or applicant.full_name or applicant.org_name or (user.full_name if user else "")
    return Recipient(f"u{user.id}" if user else f"a{applicant.id}", user.id if user else None, applicant.id, name,
                     applicant.email or (user.email if user else ""),
                     user.email_enabled if user else True, False)


def holders(session: Session, org_id: int | None, role: str) -> list[User]:
    """Active users holding `role` in the organization (platform-wide when `org_id` is None)."""
    query = (select(User).join(RoleGrant, RoleGrant.user_id == User.id)
             .where(RoleGrant.role == role, User.is_active).order_by(User.id))
    query = query.where(RoleGrant.organization_id == org_id if org_id is not None
                        else RoleGrant.organization_id.is_(None))
    users = session.exec(query).all()
    return list({user.id: user for user in users}.values())  # two grants of one role: one person


def curators(session: Session, org_id: int | None) -> list[User]:
    """The organization's curators; with none, those of the nearest organization above that has them."""
    org = session.get(Organization, org_id) if org_id is not None else None
    while org is not None:
        found = holders(session, org.id, Role.CURATOR)
        if found:
            return found
        org = session.get(Organization, org.parent_id) if org.parent_id else None
    return []


# The sweep's deadline reminders: about one stage's running deadline.
DEADLINE_KINDS = ("due_soon", "overdue", "escalated")


def recipients(session: Session, payload: Mapping, message: Message | None) -> list[Recipient]:
    if payload.get("event") in DEADLINE_KINDS and (
            message is None or not endings.is_running(message)
            or message.stage != (payload.get("data") or {}).get("stage")):
        return []  # delivered after the stage was over (answered, postponed, moved on): that deadline no longer runs
    found: dict[str, Recipient] = {}
    if payload.get("to_applicant") and message is not None and message.applicant_id:
        person = _applicant(session, message.applicant_id)
        if person:
            found[person.key] = person
    for applicant_id in payload.get("applicant_ids") or []:  # votes and polls: their applicants
        person = _applicant(session, int(applicant_id))
        if person:
            found.setdefault(person.key, person)
    for user_id in payload.get("user_ids") or []:
        user = session.get(User, int(user_id))
        if user is not None and user.is_active:
            found.setdefault(f"u{user.id}", _staff(user))
    if payload.get("org_role"):
        org_id, role = payload["org_role"]
        people = curators(session, org_id) if role == Role.CURATOR else holders(session, org_id, role)
        for user in people:
            found.setdefault(f"u{user.id}", _staff(user))
    return list(found.values())


# --- what --------------------------------------------------------------------------

def _local(config: Mapping, moment: datetime | None, with_time: bool = True) -> str:
    if moment is None:
        return ""
    moment = clock.as_utc(moment).astimezone(ZoneInfo(config.get("TIMEZONE") or "Asia/Yakutsk"))
    return moment.strftime("%d.%m.%Y %H:%M" if with_time else "%d.%m.%Y")


def _org_name(session: Session, org_id) -> str:
    org = session.get(Organization, int(org_id)) if org_id else None
    return org.name if org else ""


def _excerpt(text: str, limit: int = 500) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def context(session: Session, config: Mapping, kind: str, payload: Mapping, message: Message | None,
            recipient: Recipient) -> dict:
    data = dict(payload.get("data") or {})
    history = session.get(HistoryEntry, payload["history_id"]) if payload.get("history_id") else None
    ctx = {
        "kind": kind, "name": recipient.name, "data": data, "url": config.get("PUBLIC_URL") or "",
        "action": history.action if history else "", "number": "", "received": "", "answer_due": "",
        "stage": "", "stage_due": "", "org_name": "", "excerpt": "", "category": "", "ended": "",
    }
    if message is not None:
        ctx.update(
            number=message.number or f"№{message.id}",
            received=_local(config, message.received_at, with_time=False),
            # Only while it runs: a letter delivered after the answer (or a postponement) names no deadline.
            answer_due=_local(config, message.answer_due_at, with_time=False) if endings.is_running(message) else "",
            ended="; ".join(endings.ending_lines(message, config.get("TIMEZONE") or "Asia/Yakutsk")),
            # The stage of the event, not of delivery time (a letter may go out after the message moved on).
            stage=STAGE_LABELS.get(history.to_stage if history else message.stage, message.stage),
            stage_due=_local(config, message.stage_due_at)
            if history is None or history.to_stage == message.stage else "",
            org_name=_org_name(session, history.to_org_id if history else message.organization_id),
            excerpt=_excerpt(message.text),
            answer_text=message.answer_text,
            result=RESULT_LABELS.get(message.result, ""),
            executor=" ".join(part for part in (message.executor_position, message.executor_name) if part),
        )
    if kind == "rejected":
        code = data.get("reason", "")
        regulation = regulation_of(session, message.organization_id if message is not None else None)
        ctx.update(reason_code=code, reason_text=rejection_reasons(regulation).get(code, ""))
    if kind == "redirected":
        ctx["org_name"] = _org_name(session, data.get("organization_id")) or ctx["org_name"]
    if kind == "postponed":
        until = data.get("until")
        ctx["until"] = datetime.fromisoformat(until).strftime("%d.%m.%Y") if until else ""
    if kind in ("due_soon", "overdue", "escalated"):
        ctx["stage"] = STAGE_LABELS.get(data.get("stage"), ctx["stage"])
        ctx["due"] = _local(config, datetime.fromisoformat(data["due"])) if data.get("due") else ctx["stage_due"]
        responsible = session.get(User, message.assignee_id) if message is not None and message.assignee_id else None
        ctx["responsible"] = responsible.full_name if responsible else ""
    if kind == "rating_published":
        month = data.get("month", "")
        ctx.update(month=f"{month[5:7]}.{month[:4]}" if month else "", place=data.get("place"),
                   placed=data.get("placed"), automatically=bool(data.get("automatically")),
                   org_name=_org_name(session, data.get("organization_id")))
    if kind in ("vote_opened", "vote_results"):
        poll = data.get("kind") == "poll"
        ctx.update(title=data.get("title", ""), what="опрос" if poll else "голосование",
                   started="Начался опрос" if poll else "Началось голосование",
                   ended_word="завершён" if poll else "завершено", vote_id=data.get("vote_id"))
    return ctx


def preload() -> None:
    """Compile every mail template now (a worker does it once before forking its work horses)."""
    for name in (*KINDS, "digest"):
        _jinja.get_template(f"{name}.txt")
    _jinja.get_template("_footer.txt")
    _jinja.get_template("_layout.html")


def render(kind: str, ctx: Mapping) -> tuple[str, str]:
    """(title, plain-text body) of a notification."""
    template = _jinja.get_template(f"{kind}.txt")
    blocks = template.new_context(dict(ctx))
    title = " ".join("".join(template.blocks["title"](blocks)).split())
    body = "".join(template.blocks["body"](template.new_context(dict(ctx)))).strip()
    return title, body


def letter(config: Mapping, title: str, body: str, *, token: str) -> mail.Mail:
    """The e-mail for a notification: the text with a footer, and the same as HTML."""
    url = config.get("PUBLIC_URL") or ""
    footer = _jinja.get_template("_footer.txt").render(url=url).strip()
    html = _jinja.get_template("_layout.html").render(title=title, paragraphs=body.split("\n\n"), url=url)
    return mail.Mail(to="", subject=title, text=f"{body}\n\n{footer}\n", html=html,
                     message_id=mail.message_id(config, token))


def email_mode(config: Mapping, person: Recipient) -> str:
    if not mail.enabled(config) or not person.email or not person.email_enabled:
        return "none"
    return "digest" if person.digest else "single"


# --- writing -------------------------------------------------------------------------

def notification_key(row: OutboxEvent, person: Recipient) -> str:
    return f"{row.idempotency_key}:{person.key}"


def write_for(session: Session, config: Mapping, row: OutboxEvent) -> list[tuple[Notification, Recipient]]:
    """The in-app notifications of one outbox row, one per recipient; running it again writes nothing new."""
    payload = row.payload or {}
    kind = payload.get("event") or row.kind
    message = session.get(Message, payload["message_id"]) if payload.get("message_id") else None
    people = recipients(session, payload, message)
    keys = {notification_key(row, p): p for p in people}
    for _attempt in range(2):
        existing = {n.idempotency_key: n for n in session.exec(
            select(Notification).where(Notification.idempotency_key.in_(list(keys))))} if keys else {}
        now = clock.now()
        for key, person in keys.items():
            if key in existing:
                continue
            title, body = render(kind, context(session, config, kind, payload, message, person))
            note = Notification(user_id=person.user_id, applicant_id=person.applicant_id,
                                message_id=message.id if message else None, kind=kind, title=title[:300],
                                body=body, created_at=now, idempotency_key=key,
                                email_mode=email_mode(config, person))
            session.add(note)
            existing[key] = note
        try:
            session.commit()
            break
        except IntegrityError:  # another run wrote some of them first: read theirs
            session.rollback()
    else:
        raise RuntimeError(f"could not write the notifications of outbox row {row.id}")
    return [(existing[key], person) for key, person in keys.items()]
