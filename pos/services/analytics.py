"""The analytics pages' figures (issue 9, item 4), counted with SQL aggregates from the facts.

Interface of the framework (the pages build on it):

- `Scope`: what a page counts over — the period [start, end) in aware UTC (local midnights of
  `date_from` and the day after `date_to`), `now`, the organizations (`org_ids`: None for all, else
  the ids of the chosen subtree within the person's own) and the filter values as chosen.
- `make_scope(session, tz, date_from, date_to, jurisdiction_id, organization_id, within, now)`:
  the scope; `within` is the organization whose subtree limits a curator (None for an analyst).
- `allowed_organizations(session, within)`: the organizations a person may filter by, tree order.
- `jurisdictions(session, within)`: the roots (jurisdictions) among them.
- `org_condition(column, scope)`: a SQL condition "column is one of the scope's organizations" — and its row
  is of the scope's kind: official messages, incidents, or both (clause 2.2.5: counted apart and together;
  `Message.kind`, or the facts' `is_incident`, both plain indexed columns of the row's own table).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import String, and_, case, column, exists, func, literal, or_, true, values
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from pos.deadlines import WORKING_HOURS
from pos.models import AnswerPeriod, Message, Organization, StageVisit
from pos.services import choices
from pos.workflow import ACTIVE_STAGES, POOR_RATING_MAX


@dataclass(frozen=True)
class Scope:
    date_from: date
    date_to: date
    start: datetime
    end: datetime
    now: datetime
    tz: str
    org_ids: tuple[int, ...] | None = None  # None: every organization
    jurisdiction_id: int | None = None
    organization_id: int | None = None
    kind: str | None = None  # None: official messages and incidents together; "message" | "incident"

    @property
    def until(self) -> datetime:
        """The moment "open and overdue" is judged at: the period's end, or now if it is still running."""
        return min(self.end, self.now)

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1


def local_midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(tz)).astimezone(ZoneInfo("UTC"))


def allowed_organizations(session: Session, within: int | None) -> list[Organization]:
    orgs = choices.organizations(session, active_only=False)
    if within is None:
        return orgs
    allowed = set(choices.subtree_ids(session, within))
    return [o for o in orgs if o.id in allowed]


def jurisdictions(session: Session, within: int | None) -> list[Organization]:
    return [o for o in allowed_organizations(session, within) if o.parent_id is None]


def make_scope(session: Session, tz: str, date_from: date | None, date_to: date | None,
               jurisdiction_id: int | None, organization_id: int | None, within: int | None,
               now: datetime, default_days: int = 30, kind: str | None = None) -> Scope:
    today = now.astimezone(ZoneInfo(tz)).date()
    date_to = date_to or (today if date_from is None or date_from <= today else date_from)
    date_from = date_from or date_to - timedelta(days=default_days - 1)
    ids: set[int] | None = None
    for root in (within, jurisdiction_id, organization_id):
        if root is not None:
            subtree = set(choices.subtree_ids(session, root))
            ids = subtree if ids is None else ids & subtree
    return Scope(date_from=date_from, date_to=date_to, start=local_midnight(date_from, tz),
                 end=local_midnight(date_to + timedelta(days=1), tz), now=now, tz=tz,
                 org_ids=None if ids is None else tuple(sorted(ids)), jurisdiction_id=jurisdiction_id,
                 organization_id=organization_id, kind=kind if kind in KINDS else None)


KINDS = ("message", "incident")


def kind_condition(model, scope: Scope):
    """The rows of the scope's kind, for the table of `model` (Message, or a fact table)."""
    if scope.kind is None:
        return literal(True)
    if model is Message:
        return Message.kind == scope.kind
    if not hasattr(model, "is_incident"):
        return literal(True)  # votes and polls: the kind of messages does not apply to them
    return model.is_incident.is_(scope.kind == "incident")


def org_condition(column, scope: Scope):
    kind = kind_condition(column.class_, scope)
    if scope.org_ids is None:
        return kind
    return and_(column.in_(scope.org_ids), kind)


# --- percentiles, portable ----------------------------------------------------------------

def percentile(ordered: list[float], q: float) -> float | None:
    """Linear interpolation between the closest ranks, as PostgreSQL's percentile_cont."""
    if not ordered:
        return None
    k = (len(ordered) - 1) * q
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ZoneInfo("UTC"))


# --- «Сроки»: stage passages and answer periods ------------------------------------------------

CALENDAR_HOURS = "calendar_hours"


@dataclass
class StageFigures:
    organization_id: int
    stage: str
    on_time: int = 0
    late: int = 0
    open: int = 0
    overdue: int = 0
    median_hours: float | None = None
    p90_hours: float | None = None
    unit: str = CALENDAR_HOURS  # WORKING_HOURS where the stage's deadline is counted in them


@dataclass
class AnswerFigures:
    organization_id: int
    on_time: int = 0
    late: int = 0
    open: int = 0
    overdue: int = 0


def _count(condition):
    return func.sum(case((condition, 1), else_=0))


def _ended_counts(session: Session, scope: Scope, stages: list[str]) -> dict[tuple[int, str], tuple[int, int]]:
    """(organization, stage) → (ended on time, ended late) of the passages that ended in the period: a range
    of ix_stage_visit_rating (stage, left_at), read from the index alone."""
    v = StageVisit
    query = (select(v.organization_id, v.stage, _count(v.left_at <= v.due_at), _count(v.left_at > v.due_at))
             .where(v.stage.in_(stages), v.organization_id.is_not(None), org_condition(v.organization_id, scope),
                    v.left_at >= scope.start, v.left_at < scope.end).group_by(v.organization_id, v.stage))
    return {(org, stage): (int(on_time or 0), int(late or 0)) for org, stage, on_time, late in session.exec(query)}


def _open_counts(session: Session, scope: Scope, stages: list[str]) -> dict[tuple[int, str], list[int]]:
    """(organization, stage) → [open at the period's end, of those overdue]: still open now (the partial
    index of open passages) or left after the end (ix_stage_visit_rating from the end on). One query with
    an OR of the two read the table for every passage of the period."""
    v = StageVisit
    counts: dict[tuple[int, str], list[int]] = {}
    for still_open in (v.left_at.is_(None), v.left_at >= scope.end):
        query = (select(v.organization_id, v.stage, func.count(), _count(v.due_at < scope.until))
                 .where(v.stage.in_(stages), v.organization_id.is_not(None), org_condition(v.organization_id, scope),
                        still_open, v.entered_at < scope.end).group_by(v.organization_id, v.stage))
        for org, stage, n, overdue in session.exec(query):
            row = counts.setdefault((org, stage), [0, 0])
            row[0] += int(n)
            row[1] += int(overdue or 0)
    return counts


def _hours_in_stage(session: Session, units: dict[str, str]):
    """The time of a passage in its stage, in its stage's unit: the working hours it recorded when it closed
    (`StageVisit.working_hours`), or calendar hours (left_at − entered_at)."""
    v = StageVisit
    if session.get_bind().dialect.name == "postgresql":
        calendar = func.extract("epoch", v.left_at - v.entered_at) / 3600.0
    else:
        calendar = (func.julianday(v.left_at) - func.julianday(v.entered_at)) * 24.0
    working = [s for s, unit in units.items() if unit == WORKING_HOURS]
    return case((v.stage.in_(working), v.working_hours), else_=calendar) if working else calendar


def _ended_postgres(session: Session, scope: Scope, stages: list[str], units: dict[str, str]) -> dict:
    """(organization, stage) → (on time, late, median hours, 90th percentile) of the passages ended in the
    period, in one statement: for each organization and stage a range of ix_stage_visit_org_period, so each
    group is sorted alone for its percentiles (sorting a month of passages by organization first cost more
    than the rest of the page)."""
    v = StageVisit
    orgs = select(Organization.id.label("id"))
    if scope.org_ids is not None:
        orgs = orgs.where(Organization.id.in_(scope.org_ids))
    orgs = orgs.subquery("o")
    stage = values(column("stage", String), name="s").data([(s,) for s in stages])
    group = (select(func.count().label("n"), _count(v.left_at <= v.due_at).label("on_time"),
                    _count(v.left_at > v.due_at).label("late"),
                    func.percentile_cont(postgresql.array([0.5, 0.9])).within_group(
                        _hours_in_stage(session, units)).label("hours"))
             .where(v.stage == stage.c.stage, v.organization_id == orgs.c.id, v.left_at.is_not(None),
                    v.left_at >= scope.start, v.left_at < scope.end, kind_condition(v, scope))
             .lateral("g"))
    query = (select(orgs.c.id, stage.c.stage, group.c.on_time, group.c.late, group.c.hours)
             .select_from(orgs).join(stage, true()).join(group, true()).where(group.c.n > 0))
    return {(org, st): (int(on_time), int(late), *(None if h is None else float(h) for h in hours))
            for org, st, on_time, late, hours in session.exec(query)}


def _ended_sqlite(session: Session, scope: Scope, stages: list[str], units: dict[str, str]) -> dict:
    """As `_ended_postgres`; SQLite has no percentile_cont: the hours come ordered from the database, one group
    after another."""
    v = StageVisit
    query = (select(v.organization_id, v.stage, _hours_in_stage(session, units).label("hours"))
             .where(v.stage.in_(stages), v.left_at >= scope.start, v.left_at < scope.end,
                    v.organization_id.is_not(None), org_condition(v.organization_id, scope))
             .order_by(v.organization_id, v.stage, "hours"))
    groups: dict[tuple[int, str], list[float]] = {}
    for org, stage, value in session.exec(query):
        if value is not None:
            groups.setdefault((org, stage), []).append(float(value))
    return {key: (on_time, late, *(percentile(groups.get(key, []), q) for q in (0.5, 0.9)))
            for key, (on_time, late) in _ended_counts(session, scope, stages).items()}


def stage_units(policy, stages) -> dict[str, str]:
    """How each stage's time is shown: working hours where its deadline (the default rule) is counted in them."""
    return {s: WORKING_HOURS if policy.rule(s, None).unit == WORKING_HOURS else CALENDAR_HOURS for s in stages}


def stage_compliance(session: Session, scope: Scope, policy) -> list[StageFigures]:
    """Per organization and stage: ended on time, ended late (in the period), open at its end (or now), of
    those overdue, and the median and 90th percentile of the time in the stage of those that ended."""
    stages = [s.value for s in ACTIVE_STAGES]
    units = stage_units(policy, stages)
    ended = (_ended_postgres if session.get_bind().dialect.name == "postgresql" else _ended_sqlite)(
        session, scope, stages, units)
    rows = {key: StageFigures(*key, on_time, late, median_hours=median, p90_hours=p90,
                              unit=units.get(key[1], CALENDAR_HOURS))
            for key, (on_time, late, median, p90) in ended.items()}
    for key, (n, overdue) in _open_counts(session, scope, stages).items():
        row = rows.setdefault(key, StageFigures(*key, unit=units.get(key[1], CALENDAR_HOURS)))
        row.open, row.overdue = n, overdue
    order = {s: i for i, s in enumerate(stages)}
    return sorted(rows.values(), key=lambda r: (r.organization_id, order.get(r.stage, 99)))


def answer_compliance(session: Session, scope: Scope) -> list[AnswerFigures]:
    """Per organization, the answer deadline of clause 3.9: answers given in the period on time and late,
    periods open at its end (or now) and, of those, overdue. Rejections by the moderator are no answer.
    As for the stages: the answers given (ix_answer_period_closed, the index alone), then the periods open
    at the end — open now, or closed after it."""
    a = AnswerPeriod
    rows: dict[int, AnswerFigures] = {}
    common = (a.organization_id.is_not(None), org_condition(a.organization_id, scope))
    given = (select(a.organization_id, _count(a.on_time.is_(True)), _count(a.on_time.is_(False)))
             .where(*common, a.closed_at >= scope.start, a.closed_at < scope.end,
                    a.outcome.in_(("answered", "postponed")))
             .group_by(a.organization_id))
    for org, on_time, late in session.exec(given):
        rows[org] = AnswerFigures(org, int(on_time or 0), int(late or 0))
    for still_open in (a.closed_at.is_(None), a.closed_at >= scope.end):
        query = (select(a.organization_id, func.count(), _count(a.due_at < scope.until))
                 .where(*common, still_open, a.opened_at < scope.end).group_by(a.organization_id))
        for org, n, overdue in session.exec(query):
            row = rows.setdefault(org, AnswerFigures(org))
            row.open += int(n)
            row.overdue += int(overdue or 0)
    return [rows[org] for org in sorted(rows)]


# --- «Удовлетворённость» ---------------------------------------------------------------------

@dataclass
class Satisfaction:
    key: int | None  # organization or category id
    counts: dict[int, int]  # rating 1..5 → how many
    answered: int = 0  # answers given in the period
    repeated: int = 0  # of them, followed by a repeated message

    @property
    def rated(self) -> int:
        return sum(self.counts.values())

    @property
    def mean(self) -> float | None:
        return sum(r * n for r, n in self.counts.items()) / self.rated if self.rated else None

    @property
    def poor_share(self) -> float | None:
        """Ratings 1–3, per cent of the ratings."""
        return 100 * sum(n for r, n in self.counts.items() if r <= POOR_RATING_MAX) / self.rated if self.rated else None

    @property
    def repeated_share(self) -> float | None:
        return 100 * self.repeated / self.answered if self.answered else None


def satisfactions(session: Session, scope: Scope) -> dict[str, list[Satisfaction]]:
    """Ratings given in the period (1–5) and answers given in it that were followed by a repeated message,
    grouped by the message's organization (the one that answered) and by its category: {"organization": [...],
    "category": [...]}. One query per figure grouped by both (ix_message_rated, ix_message_answered:
    the period's rows from the index alone), summed up each way here."""
    m = Message
    in_scope = org_condition(m.organization_id, scope)
    result: dict[str, dict[int | None, Satisfaction]] = {"organization": {}, "category": {}}
    rated = (select(m.organization_id, m.category_id, m.rating, func.count())
             .where(m.rated_at >= scope.start, m.rated_at < scope.end, m.rating.between(1, 5), in_scope)
             .group_by(m.organization_id, m.category_id, m.rating))
    for org, cat, rating, n in session.exec(rated):
        for by, key in (("organization", org), ("category", cat)):
            counts = result[by].setdefault(key, Satisfaction(key, {})).counts
            counts[int(rating)] = counts.get(int(rating), 0) + int(n)
    repeat = aliased(m)
    followed = exists().where(repeat.repeated_of_id == m.id)
    answered = (select(m.organization_id, m.category_id, func.count(), func.sum(case((followed, 1), else_=0)))
                .where(m.answered_at >= scope.start, m.answered_at < scope.end, in_scope)
                .group_by(m.organization_id, m.category_id))
    for org, cat, n, repeated in session.exec(answered):
        for by, key in (("organization", org), ("category", cat)):
            row = result[by].setdefault(key, Satisfaction(key, {}))
            row.answered += int(n)
            row.repeated += int(repeated or 0)
    return {by: sorted(rows.values(), key=lambda r: (r.key is None, r.key or 0)) for by, rows in result.items()}


def satisfaction(session: Session, scope: Scope, by: str = "organization") -> list[Satisfaction]:
    """The figures of `satisfactions` one way: by "organization" or by "category"."""
    return satisfactions(session, scope)["organization" if by == "organization" else "category"]


@dataclass(frozen=True)
class Comment:
    message_id: int
    rating: int
    text: str
    rated_at: datetime
    organization_id: int | None
    category_id: int | None


def rating_comments(session: Session, scope: Scope, limit: int = 100) -> list[Comment]:
    """The comments of the ratings given in the period, the latest first — never their author."""
    m = Message
    query = (select(m.id, m.rating, m.rating_comment, m.rated_at, m.organization_id, m.category_id)
             .where(m.rated_at >= scope.start, m.rated_at < scope.end, m.rating.is_not(None), m.rating_comment != "",
                    org_condition(m.organization_id, scope))
             .order_by(m.rated_at.desc(), m.id.desc()).limit(limit))
    return [Comment(i, int(r), t, _aware(at), org, cat) for i, r, t, at, org, cat in session.exec(query)]
