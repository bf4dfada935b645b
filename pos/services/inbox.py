"""Inboxes: what waits for a person in a role, filtered and keyset-paginated; who may see which message."""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Iterable

from sqlalchemy import and_, case, false, func, literal, or_, tuple_
from sqlmodel import Session, select

from pos import params
from pos.deadlines import DeadlinePolicy
from pos.models import ApprovalStep, Message, Organization, User
from pos.workflow import ACTIVE_STAGES, FINAL_STAGES, Actor, Role, Stage

PAGE_SIZE = 50
# The list never counts past this: a count over a huge table costs more than it tells.
COUNT_LIMIT = 1000
# Roles whose inbox is the whole platform's or an organization's (others: what waits for them).
INBOX_ROLES = (Role.MODERATOR, Role.COORDINATOR, Role.EXECUTOR, Role.HEAD, Role.CURATOR, Role.ANALYST)

# Stage filter values beyond the stages themselves.
IN_WORK = "in_work"  # active stages and postponed: the default
ALL = "all"


@dataclass(frozen=True)
class Filters:
    stage: str = ""
    category_id: int | None = None
    subcategory_id: int | None = None
    organization_id: int | None = None  # with its subtree
    executor_id: int | None = None
    deadline: str = ""  # "" | overdue | soon
    repeated: bool = False
    accelerated: bool = False
    source: str = ""  # "" | web | embed | api | seed | internet
    kind: str = ""  # "" | message | incident (public internet posts)
    result: str = ""  # "" | a Result value: the answer's result of consideration
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""


@dataclass
class Row:
    message: Message
    category: str
    organization: str
    waits_for: str
    deadline_state: str  # ok | soon | overdue | ""


@dataclass
class Page:
    rows: list[Row]
    total: int  # capped at COUNT_LIMIT
    total_capped: bool
    next_cursor: str | None
    prev_cursor: str | None
    filters: Filters
    role: str
    stage_choices: list[str] = field(default_factory=list)


# --- visibility ------------------------------------------------------------------

def _org_paths(session: Session, org_ids: Iterable[int]) -> list[str]:
    ids = [i for i in set(org_ids) if i is not None]
    if not ids:
        return []
    return list(session.exec(select(Organization.path).where(Organization.id.in_(ids))))


def _involved(actor: Actor):
    """Messages this person works or worked on personally (executor, a head in a chain)."""
    in_chain = select(ApprovalStep.message_id).where(
        or_(ApprovalStep.head_id == actor.user_id, ApprovalStep.delegated_from_id == actor.user_id))
    return or_(Message.executor_id == actor.user_id, Message.id.in_(in_chain))


def visible_clause(session: Session, actor: Actor):
    """Which messages `actor` may open: the platform roles all, staff their organization's (curators the
    subtree's) and those they worked on; nobody anything outside that."""
    if actor.user_id is None:
        return false()
    if any(g.role in (Role.MODERATOR, Role.ANALYST) for g in actor.grants):
        return literal(True)
    conditions = []
    own = {g.organization_id for g in actor.grants if g.role in (Role.COORDINATOR, Role.EXECUTOR, Role.HEAD)}
    if own:
        conditions.append(Message.organization_id.in_(list(own)))
    for path in _org_paths(session, [g.organization_id for g in actor.grants if g.role == Role.CURATOR]):
        conditions.append(Message.organization_id.in_(select(Organization.id).where(Organization.path.startswith(path))))
    if any(g.role in (Role.EXECUTOR, Role.COORDINATOR, Role.HEAD) for g in actor.grants):
        conditions.append(_involved(actor))
    return or_(*conditions) if conditions else false()


def can_view(session: Session, actor: Actor, message_id: int) -> bool:
    return session.exec(select(Message.id).where(Message.id == message_id, visible_clause(session, actor))).first() \
        is not None


def sees_personal_data(actor: Actor) -> bool:
    """Analysts work with depersonalized data only: everyone else who may open a message sees its author."""
    return any(g.role != Role.ANALYST for g in actor.grants)


# --- the inbox of a role -------------------------------------------------------------

def _scope(session: Session, actor: Actor, role: str, org_id: int | None):
    """What waits for this person in this role."""
    match role:
        case Role.MODERATOR:
            return Message.stage == Stage.MODERATION
        case Role.COORDINATOR:
            return and_(Message.stage == Stage.COORDINATION, Message.organization_id == org_id)
        case Role.EXECUTOR:
            return and_(Message.stage == Stage.EXECUTION, Message.executor_id == actor.user_id)
        case Role.HEAD:
            # The assignee of agreement and approval is the head whose turn it is.
            return and_(Message.stage.in_([Stage.AGREEMENT, Stage.APPROVAL]),
                        Message.assignee_id == actor.user_id, Message.organization_id == org_id)
        case Role.CURATOR:
            paths = _org_paths(session, [org_id])
            if not paths:
                return false()
            return Message.organization_id.in_(select(Organization.id).where(Organization.path.startswith(paths[0])))
        case Role.ANALYST:
            return literal(True)
    return false()


def stage_choices(role: str) -> list[str]:
    """Stages worth filtering by in this role's inbox ("" is the role's default)."""
    if role in (Role.CURATOR, Role.ANALYST):
        return [IN_WORK, *[s.value for s in ACTIVE_STAGES], Stage.POSTPONED, *[s.value for s in FINAL_STAGES], ALL]
    if role == Role.HEAD:
        return [Stage.AGREEMENT, Stage.APPROVAL]
    return []


def _final_flag():
    return case((Message.stage.in_([s.value for s in FINAL_STAGES]), 1), else_=0)


def _local_start(policy: DeadlinePolicy, day: date) -> datetime:
    return policy.to_utc(datetime.combine(day, time(0), policy.tz))


def _search(q: str):
    """The number, words of the text or of the problem's address (the analytics link a street here);
    case-insensitive for Cyrillic on every database (no lower() reliance)."""
    q = q.strip()[:200]
    variants = {q, q.lower(), q.upper(), q.capitalize()}
    text_match = or_(*[Message.text.contains(v, autoescape=True) for v in variants])
    number_match = or_(*[Message.number.contains(v, autoescape=True) for v in variants])
    address_match = or_(*[Message.address.contains(v, autoescape=True) for v in variants])
    return or_(text_match, number_match, address_match)


def _filtered(session: Session, base, f: Filters, now: datetime, policy: DeadlinePolicy):
    conditions = [base]
    if f.stage in ("", IN_WORK):
        if f.stage == IN_WORK:
            conditions.append(Message.stage.in_([*[s.value for s in ACTIVE_STAGES], Stage.POSTPONED]))
    elif f.stage != ALL:
        conditions.append(Message.stage == f.stage)
    if f.category_id:
        conditions.append(Message.category_id == f.category_id)
    if f.subcategory_id:
        conditions.append(Message.subcategory_id == f.subcategory_id)
    if f.organization_id:
        paths = _org_paths(session, [f.organization_id])
        conditions.append(Message.organization_id.in_(
            select(Organization.id).where(Organization.path.startswith(paths[0]))) if paths else false())
    if f.executor_id:
        conditions.append(Message.executor_id == f.executor_id)
    active = Message.stage.in_([s.value for s in ACTIVE_STAGES])
    if f.deadline == "overdue":
        conditions += [active, Message.stage_due_at < now]
    elif f.deadline == "soon":
        conditions += [active, Message.stage_due_at >= now, Message.stage_due_at < policy.due_soon_limit(now)]
    if f.repeated:
        conditions.append(Message.is_repeated.is_(True))
    if f.accelerated:
        conditions.append(Message.accelerated.is_(True))
    if f.source:
        conditions.append(Message.source == f.source)
    if f.kind:
        conditions.append(Message.kind == f.kind)
    if f.result:
        conditions.append(Message.result == f.result)
    if f.date_from:
        conditions.append(Message.received_at >= _local_start(policy, f.date_from))
    if f.date_to:
        conditions.append(Message.received_at < _local_start(policy, f.date_to + timedelta(days=1)))
    if f.q.strip():
        conditions.append(_search(f.q))
    return and_(*conditions)


def encode_cursor(message: Message) -> str:
    final = 1 if message.stage in FINAL_STAGES else 0
    raw = json.dumps([final, message.stage_due_at.isoformat(), message.id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(value: str | None) -> tuple[int, datetime, int] | None:
    """The page cursor, or None (the first page) for anything this module did not write: a cursor is a
    link's query string, so it may come back tampered (a naive moment, Infinity or 1e30 for the id)."""
    if not value or len(value) > 200:
        return None
    try:
        final, due, message_id = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
        if final not in (0, 1) or not params.is_json_int(final) or not params.is_json_int(message_id) \
                or not isinstance(due, str):
            return None
        due_at = params.parse_moment(due)  # aware and within the years messages have
        return final, due_at, params.parse_id(message_id)
    except (ValueError, TypeError, RecursionError):
        return None


def deadline_state(message: Message, now: datetime, soon_limit: datetime) -> str:
    if message.stage not in ACTIVE_STAGES:
        return ""
    if message.stage_due_at < now or message.answer_due_at < now:
        return "overdue"
    if message.stage_due_at < soon_limit:
        return "soon"
    return "ok"


def inbox(session: Session, actor: Actor, role: str, org_id: int | None, filters: Filters, *, now: datetime,
          policy: DeadlinePolicy, after: str | None = None, before: str | None = None,
          page_size: int = PAGE_SIZE) -> Page:
    """One page of the role's inbox, the most urgent first (finished messages last).

    Keyset pagination over (finished, stage deadline, id): each page costs the same
    however deep it is; `after`/`before` are the cursors of the neighbouring pages.
    """
    if role not in INBOX_ROLES:
        return Page([], 0, False, None, None, filters, role)
    if filters.stage and filters.stage not in stage_choices(role):
        filters = replace(filters, stage="")
    effective = filters
    if not filters.stage and role in (Role.CURATOR, Role.ANALYST):
        effective = replace(filters, stage=IN_WORK)
    where = and_(_filtered(session, _scope(session, actor, role, org_id), effective, now, policy),
                 visible_clause(session, actor))
    key = tuple_(_final_flag(), Message.stage_due_at, Message.id)
    query = select(Message).where(where)
    cursor = decode_cursor(before) if before else decode_cursor(after)
    backwards = bool(before and cursor)
    if cursor:
        final, due, message_id = cursor
        bound = tuple_(literal(final), literal(due, Message.stage_due_at.type), literal(message_id))
        query = query.where(key < bound if backwards else key > bound)
    if backwards:
        query = query.order_by(_final_flag().desc(), Message.stage_due_at.desc(), Message.id.desc())
    else:
        query = query.order_by(_final_flag(), Message.stage_due_at, Message.id)
    messages = list(session.exec(query.limit(page_size + 1)))
    more = len(messages) > page_size
    messages = messages[:page_size]
    if backwards:
        messages.reverse()
    has_next = more if not backwards else True
    has_prev = (bool(cursor) and not backwards) or (backwards and more)
    counted = session.exec(select(func.count()).select_from(
        select(Message.id).where(where).limit(COUNT_LIMIT + 1).subquery())).one()
    soon = policy.due_soon_limit(now)
    rows = [_row(session, m, now, soon) for m in messages]
    return Page(rows=rows, total=min(counted, COUNT_LIMIT), total_capped=counted > COUNT_LIMIT,
                next_cursor=encode_cursor(messages[-1]) if messages and has_next else None,
                prev_cursor=encode_cursor(messages[0]) if messages and has_prev else None,
                filters=filters, role=role, stage_choices=stage_choices(role))


def _row(session: Session, message: Message, now: datetime, soon: datetime) -> Row:
    from pos.models import Category
    cache = session.info.setdefault("inbox_names", {})

    def name(model, pk, attr):
        if pk is None:
            return ""
        k = (model.__name__, pk)
        if k not in cache:
            obj = session.get(model, pk)
            cache[k] = getattr(obj, attr) if obj else ""
            if model is Organization and obj is not None:
                cache[k] = obj.short_name or obj.name
        return cache[k]

    return Row(message=message, category=name(Category, message.category_id, "name"),
               organization=name(Organization, message.organization_id, "name"),
               waits_for=waits_for(message, lambda uid: name(User, uid, "full_name")),
               deadline_state=deadline_state(message, now, soon))


def waits_for(message: Message, user_name) -> str:
    """Whom the message waits for, in words."""
    match message.stage:
        case Stage.MODERATION:
            return "Модератор"
        case Stage.COORDINATION:
            return "Координатор"
        case Stage.EXECUTION | Stage.AGREEMENT | Stage.APPROVAL:
            return user_name(message.assignee_id) if message.assignee_id else "—"
        case Stage.POSTPONED:
            return f"Отложено до {message.postponed_until:%d.%m.%Y}" if message.postponed_until else "—"
    return "—"
