"""Inboxes: what waits for a person in a role, filtered and keyset-paginated; who may see which message."""
from __future__ import annotations

import base64
import json
import math
from collections import namedtuple
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Iterable

from markupsafe import Markup
from sqlalchemy import and_, false, func, literal, or_, tuple_
from sqlmodel import Session, select

from pos import params
from pos.deadlines import DeadlinePolicy
from pos.models import ApprovalStep, Message, User
from pos.services import choices, search
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


# What a list's row reads of its message (the template, the cursor, whom it waits for, the deadline, the snippet):
# these columns, read by Core into a named tuple. An ORM entity (its state, the identity map, the version
# counter) cost twice the reading, and each attribute of one or of a result row ten times a tuple's.
SHOWN = ("id", "version", "number", "kind", "is_repeated", "accelerated", "text", "answer_text", "address",
         "stage", "stage_due_at", "answer_due_at", "answered_at", "postponed_until", "stage_entered_at",
         "rejection_reason", "category_id", "organization_id", "assignee_id")
_SHOWN = tuple(getattr(Message, name) for name in SHOWN)
ShownMessage = namedtuple("ShownMessage", SHOWN)


def _shown(rows) -> list[ShownMessage]:
    """The SHOWN columns of each result row (a query may add its own after them)."""
    return [ShownMessage._make(row[:len(SHOWN)]) for row in rows]


@dataclass
class Row:
    message: ShownMessage
    category: str
    organization: str
    waits_for: str
    deadline_state: str  # ok | soon | overdue | ""
    snippet: Markup | None = None  # with a search: the matched words marked


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

def _subtree(session: Session, org_ids: Iterable[int]) -> list[int]:
    """The organizations and everything under them, as ids: a plain `IN` list the message indexes can use
    (a path `LIKE` inside the message query cannot), from the organizations the page has read anyway."""
    return choices.subtree_of(session, org_ids)


def _involved(actor: Actor):
    """Messages this person works or worked on personally (executor, a head in a chain)."""
    in_chain = select(ApprovalStep.message_id).where(
        or_(ApprovalStep.head_id == actor.user_id, ApprovalStep.delegated_from_id == actor.user_id))
    return or_(Message.executor_id == actor.user_id, Message.id.in_(in_chain))


def visible_clause(session: Session, actor: Actor):
    """Which messages `actor` may open: the platform roles all, staff their organization's once it reached
    the organization (not in moderation, not rejected by the moderator), curators the subtree's at every
    stage, and those they worked on; nobody anything outside that. Whether the author is shown is another
    question: pos.services.personal_data."""
    if actor.user_id is None:
        return false()
    if any(g.role in (Role.MODERATOR, Role.ANALYST) for g in actor.grants):
        return literal(True)
    conditions = []
    own = {g.organization_id for g in actor.grants if g.role in (Role.COORDINATOR, Role.EXECUTOR, Role.HEAD)}
    if own:
        conditions.append(and_(Message.organization_id.in_(list(own)),
                               Message.stage.not_in([Stage.MODERATION.value, Stage.REJECTED.value])))
    curated = _subtree(session, [g.organization_id for g in actor.grants if g.role == Role.CURATOR])
    if curated:
        conditions.append(Message.organization_id.in_(curated))
    if any(g.role in (Role.EXECUTOR, Role.COORDINATOR, Role.HEAD) for g in actor.grants):
        conditions.append(_involved(actor))
    return or_(*conditions) if conditions else false()


def can_view(session: Session, actor: Actor, message_id: int) -> bool:
    return session.exec(select(Message.id).where(Message.id == message_id, visible_clause(session, actor))).first() \
        is not None


# --- the inbox of a role -------------------------------------------------------------

def _scope(session: Session, actor: Actor, role: str, org_id: int | None):
    """What waits for this person in this role, but for the stages (`_possible_stages` says which)."""
    match role:
        case Role.MODERATOR:
            return literal(True)
        case Role.COORDINATOR:
            return Message.organization_id == org_id
        case Role.EXECUTOR:
            return Message.executor_id == actor.user_id
        case Role.HEAD:
            # The assignee of agreement and approval is the head whose turn it is.
            return and_(Message.assignee_id == actor.user_id, Message.organization_id == org_id)
        case Role.CURATOR:
            subtree = _subtree(session, [org_id])
            return Message.organization_id.in_(subtree) if subtree else false()
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


def _local_start(policy: DeadlinePolicy, day: date) -> datetime:
    return policy.to_utc(datetime.combine(day, time(0), policy.tz))


def _filtered(session: Session, base, f: Filters, now: datetime, policy: DeadlinePolicy, found=None):
    """The filters but the stage (the role's and the filter's stages are one condition, `_stage_is`): the
    planner reads one stage condition right, where three overlapping ones made it misjudge how many rows
    pass and pick the wrong index."""
    conditions = [base]
    if f.category_id:
        conditions.append(Message.category_id == f.category_id)
    if f.subcategory_id:
        conditions.append(Message.subcategory_id == f.subcategory_id)
    if f.organization_id:
        subtree = _subtree(session, [f.organization_id])
        conditions.append(Message.organization_id.in_(subtree) if subtree else false())
    if f.executor_id:
        conditions.append(Message.executor_id == f.executor_id)
    if f.deadline == "overdue":  # of active messages only: see _possible_stages
        conditions.append(Message.stage_due_at < now)
    elif f.deadline == "soon":
        conditions += [Message.stage_due_at >= now, Message.stage_due_at < policy.due_soon_limit(now)]
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
    if found is not None:
        conditions.append(found)
    return and_(*conditions)


# The inbox's order: in work first (active and postponed), the finished after; in each half by stage deadline,
# then id. Each half is its own query, seeking in an index on (…, stage deadline, id) (migration 0700).
HALVES = ((0, (*[s.value for s in ACTIVE_STAGES], Stage.POSTPONED.value)), (1, tuple(s.value for s in FINAL_STAGES)))


def encode_cursor(message: Message, found_rank: float | None = None) -> str:
    """Where a page ends: (half, stage deadline, id) in the inbox's order, ("r", rank, id) in a search's."""
    if found_rank is not None:
        raw = json.dumps(["r", found_rank, message.id])
    else:
        final = 1 if message.stage in FINAL_STAGES else 0
        raw = json.dumps([final, message.stage_due_at.isoformat(), message.id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decoded(value: str | None) -> list | None:
    if not value or len(value) > 200:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (ValueError, TypeError, RecursionError):
        return None
    return raw if isinstance(raw, list) and len(raw) == 3 else None


def decode_cursor(value: str | None) -> tuple[int, datetime, int] | None:
    """The page cursor, or None (the first page) for anything this module did not write: a cursor is a
    link's query string, so it may come back tampered (a naive moment, Infinity or 1e30 for the id)."""
    raw = _decoded(value)
    if raw is None:
        return None
    final, due, message_id = raw
    try:
        if final not in (0, 1) or not params.is_json_int(final) or not params.is_json_int(message_id) \
                or not isinstance(due, str):
            return None
        due_at = params.parse_moment(due)  # aware and within the years messages have
        return final, due_at, params.parse_id(message_id)
    except (ValueError, TypeError):
        return None


def decode_rank_cursor(value: str | None) -> tuple[float, int] | None:
    """A search page's cursor: (rank, id), or None for anything else (a finite rank, a bounded id)."""
    raw = _decoded(value)
    if raw is None or raw[0] != "r":
        return None
    _, found_rank, message_id = raw
    try:
        if isinstance(found_rank, bool) or not isinstance(found_rank, (int, float)) \
                or not math.isfinite(found_rank) or abs(found_rank) > 1e6 or not params.is_json_int(message_id):
            return None
        return float(found_rank), params.parse_id(message_id)
    except (ValueError, TypeError):
        return None


def deadline_state(message: Message, now: datetime, soon_limit: datetime) -> str:
    if message.stage not in ACTIVE_STAGES:
        return ""
    if message.stage_due_at < now or message.answer_due_at < now:
        return "overdue"
    if message.stage_due_at < soon_limit:
        return "soon"
    return "ok"


def role_filters(role: str, filters: Filters) -> Filters:
    """The filters as this role's inbox takes them (a stage it does not offer is dropped)."""
    return replace(filters, stage="") if filters.stage and filters.stage not in stage_choices(role) else filters


def _effective(role: str, filters: Filters) -> Filters:
    """A curator's or an analyst's inbox without a stage shows the messages in work."""
    if not filters.stage and role in (Role.CURATOR, Role.ANALYST):
        return replace(filters, stage=IN_WORK)
    return filters


def _where(session: Session, actor: Actor, role: str, org_id: int | None, effective: Filters, now: datetime,
           policy: DeadlinePolicy, found):
    where = _filtered(session, _scope(session, actor, role, org_id), effective, now, policy, found)
    if not _holds(actor, role, org_id):
        where = and_(where, visible_clause(session, actor))
    return where


def inbox_clause(session: Session, actor: Actor, role: str, org_id: int | None, filters: Filters, *,
                 now: datetime, policy: DeadlinePolicy):
    """The condition of the role's inbox under `filters` (also what its export holds)."""
    if role not in INBOX_ROLES or actor.user_id is None:
        return false()
    effective = _effective(role, filters)
    found = search.match(session.get_bind().dialect.name, filters.q)
    return and_(_where(session, actor, role, org_id, effective, now, policy, found),
                _stage_is(_possible_stages(role, effective)))


def _holds(actor: Actor, role: str, org_id: int | None) -> bool:
    """The person holds this role here: then the role's scope is within what they may see."""
    return any(g.role == role and (g.organization_id == org_id or role in (Role.MODERATOR, Role.ANALYST))
               for g in actor.grants)


def inbox(session: Session, actor: Actor, role: str, org_id: int | None, filters: Filters, *, now: datetime,
          policy: DeadlinePolicy, after: str | None = None, before: str | None = None,
          page_size: int = PAGE_SIZE) -> Page:
    """One page of the role's inbox, the most urgent first (finished messages last); with a search, the
    best matches first.

    Keyset pagination: each page costs the same however deep it is; `after`/`before` are the cursors of
    the neighbouring pages. A page costs a fixed number of statements, whatever its size.
    """
    if role not in INBOX_ROLES or actor.user_id is None:
        return Page([], 0, False, None, None, filters, role)
    filters = role_filters(role, filters)
    effective = _effective(role, filters)
    dialect = session.get_bind().dialect.name
    found = search.match(dialect, filters.q)
    stages = _possible_stages(role, effective)
    where = _where(session, actor, role, org_id, effective, now, policy, found)
    if found is not None:
        messages, ranks, counted, has_prev, has_next = _ranked(session, and_(where, _stage_is(stages)),
                                                               search.rank(dialect, filters.q), after, before,
                                                               page_size, rare=_rare(session, found))
    else:
        total = select(func.count()).select_from(
            select(Message.id).where(where, _stage_is(stages)).limit(COUNT_LIMIT + 1).subquery())
        messages, counted, has_prev, has_next = _in_order(session, where, stages, after, before, page_size,
                                                          total.scalar_subquery())
        if counted is None:  # no row to carry it: nothing matches, or a cursor past the end
            counted = session.exec(total).one() if after or before else 0
        ranks = None
    rows = _rows(session, messages, now, policy.due_soon_limit(now), filters.q)

    def cursor(i: int) -> str:
        return encode_cursor(messages[i], ranks[i] if ranks is not None else None)

    return Page(rows=rows, total=min(counted, COUNT_LIMIT), total_capped=counted > COUNT_LIMIT,
                next_cursor=cursor(-1) if messages and has_next else None,
                prev_cursor=cursor(0) if messages and has_prev else None,
                filters=filters, role=role, stage_choices=stage_choices(role))


def _possible_stages(role: str, f: Filters) -> set[str]:
    """The stages a role's inbox with these filters can show: the halves of the order it needs."""
    every = {s.value for s in Stage}
    match role:
        case Role.MODERATOR:
            stages = {Stage.MODERATION.value}
        case Role.COORDINATOR:
            stages = {Stage.COORDINATION.value}
        case Role.EXECUTOR:
            stages = {Stage.EXECUTION.value}
        case Role.HEAD:
            stages = {Stage.AGREEMENT.value, Stage.APPROVAL.value}
        case _:
            stages = every
    if f.stage == IN_WORK:
        stages &= set(HALVES[0][1])
    elif f.stage and f.stage != ALL:
        stages &= {f.stage}
    if f.deadline in ("overdue", "soon"):
        stages &= {s.value for s in ACTIVE_STAGES}
    return stages


def _stage_is(stages: Iterable[str]):
    stages = sorted(stages)
    if not stages:
        return false()
    if len(stages) == len(Stage):
        return literal(True)
    return Message.stage == stages[0] if len(stages) == 1 else Message.stage.in_(stages)


def _in_order(session: Session, where, stages: set[str], after: str | None, before: str | None,
              page_size: int, total):
    """A page in the inbox's order: a seek on (stage deadline, id) in the half the page starts in, and in the
    next half only when that one ends within the page (a page of both halves, the last in work and the first
    finished, is two statements; the usual page one). The count `total` (a scalar subquery, run once) is the
    last column of the first statement's rows, so a page and its count are one statement; it is None when no
    row came back."""
    cursor = decode_cursor(before) if before else decode_cursor(after)
    backwards = bool(before and cursor)
    got, counted = [], None
    for final, half in reversed(HALVES) if backwards else HALVES:
        if not stages & set(half) or (cursor and (final > cursor[0] if backwards else final < cursor[0])):
            continue  # nothing of this half can be here, or the cursor is past it
        query = select(*_SHOWN).where(where, _stage_is(stages & set(half)))
        if cursor and final == cursor[0]:
            key = tuple_(Message.stage_due_at, Message.id)
            bound = tuple_(literal(cursor[1], Message.stage_due_at.type), literal(cursor[2]))
            query = query.where(key < bound if backwards else key > bound)
        if backwards:
            query = query.order_by(Message.stage_due_at.desc(), Message.id.desc())
        else:
            query = query.order_by(Message.stage_due_at, Message.id)
        query = query.limit(page_size + 1 - len(got))
        if counted is None:
            query = query.add_columns(total.label("total"))
        rows = session.connection().execute(query).all()
        if rows and counted is None:
            counted = rows[0].total
        got += _shown(rows)
        if len(got) > page_size:
            break
    more = len(got) > page_size
    messages = got[:page_size]
    if backwards:
        messages.reverse()
    return messages, counted, (bool(cursor) and not backwards) or (backwards and more), \
        more if not backwards else True


def _rare(session: Session, found) -> bool:
    """Whether fewer than COUNT_LIMIT + 1 messages match the words at all, on PostgreSQL (SQLite's FTS5 query is
    always read first). Asked of the full-text index alone, it stops at the limit: 0.1 ms for a word in no
    message, 8 ms for one in a tenth of them at 1,000,000. PostgreSQL's estimate of a word it has no statistics
    for is too high to tell: it walked a million rows newest first looking for a word that was in none."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    matched = select(literal(1)).select_from(Message).where(found).limit(COUNT_LIMIT + 1).subquery()
    return session.exec(select(func.count()).select_from(matched)).one() <= COUNT_LIMIT


def _ranked(session: Session, where, found_rank, after: str | None, before: str | None, page_size: int,
            rare: bool = False):
    """A page of search results, the best match first (then the newest), and how many matched (capped).

    A common word is in a tenth of all messages, and ranking every match means reading every one of them
    (seconds at 1,000,000). So the matches ranked are the newest COUNT_LIMIT + 1, found newest first through
    the primary key, or for a rare word (`rare`) all of them from the full-text index: the same set the count
    stops at, so the list says «более 1000» exactly when a narrower search would rank others. One statement:
    the candidates, the page of them by rank, and their count.
    """
    cursor = decode_rank_cursor(before) if before else decode_rank_cursor(after)
    backwards = bool(before and cursor)
    if rare:  # every match, from the full-text index (OFFSET 0 keeps the primary key's order out of it)
        matches = select(Message.id).where(where).offset(0).subquery("matches")
        candidates = select(matches.c.id).order_by(matches.c.id.desc()).limit(COUNT_LIMIT + 1).cte("candidates")
    else:
        candidates = select(Message.id).where(where).order_by(Message.id.desc()).limit(COUNT_LIMIT + 1) \
            .cte("candidates")
    total = select(func.count()).select_from(candidates).scalar_subquery()
    query = select(*_SHOWN, found_rank.label("found_rank"), total.label("total")) \
        .where(Message.id.in_(select(candidates.c.id)))
    if cursor:
        bound = tuple_(literal(cursor[0]), literal(cursor[1]))
        key = tuple_(found_rank, Message.id)
        query = query.where(key > bound if backwards else key < bound)
    order = (found_rank, Message.id) if backwards else (found_rank.desc(), Message.id.desc())
    got = session.connection().execute(query.order_by(*order).limit(page_size + 1)).all()
    if got:
        counted = got[0].total
    else:  # nothing on this page: the count is not in it (a cursor past the end, or nothing matched)
        counted = session.exec(select(func.count()).select_from(candidates)).one() if cursor else 0
    more = len(got) > page_size
    got = got[:page_size]
    if backwards:
        got.reverse()
    has_prev = (bool(cursor) and not backwards) or (backwards and more)
    return _shown(got), [float(m.found_rank) for m in got], counted, has_prev, more if not backwards else True


def _rows(session: Session, messages: list[ShownMessage], now: datetime, soon: datetime, q: str) -> list[Row]:
    """The page's rows with the names they show: the classifier, the organizations and the staff as the process
    keeps them (pos.services.reference), none read per row."""
    def wanted(ids) -> list[int]:
        return sorted({i for i in ids if i is not None})

    categories = choices.category_names(session)
    organizations = choices.org_short_names(session)
    assignees = wanted(m.assignee_id for m in messages)
    staff = choices.staff_names(session)
    people = {i: staff[i] for i in assignees if i in staff}
    if missing := [i for i in assignees if i not in staff]:  # no longer staff: their names read
        people.update(session.exec(select(User.id, User.full_name).where(User.id.in_(missing))).all())
    return [Row(message=m, category=categories.get(m.category_id, ""),
                organization=organizations.get(m.organization_id, ""),
                waits_for=waits_for(m, lambda uid: people.get(uid, "")),
                deadline_state=deadline_state(m, now, soon), snippet=_snippet(m, q)) for m in messages]


def _snippet(message: Message, q: str) -> Markup | None:
    """The words found, marked: in the text, else in the answer or the address; None without a search."""
    if not q.strip():
        return None
    for value in (message.text, message.answer_text, message.address):
        if value and (marked := search.highlight(value, q)) is not None:
            return marked
    return None


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
