"""Summary data (clause 2.1.9) over the messages of a period: by source, stage, result and day; the
repeated and accelerated shares.

Every figure counts messages *received* in the scope's period whose organization is in the scope (as on
«Частые проблемы», pos/services/analytics_problems.py). The stage is where the message is now; the result
is that of the answer given (stage «Ответ дан» or «Отложено»), and a rejection by the moderator is a
result of its own. Days are local days of the installation's time zone: the database counts each day's
range [local midnight, next local midnight), on SQLite and PostgreSQL alike, and every figure of the page
is summed from that one grouped scan of the period (by day, source, stage, result, repeated, accelerated).

Votes and polls (issue 10) join here: `Summary` is the page's whole content, one section per field:
`messages`, then `votes` and `polls` (`held`): per organization (the organizer's), those whose period
ended in the scope's period and whose results are published — how many, their participants and ballots.
A vote still running, or closed and not yet published, is counted only as such (how many), never with a
figure of its participants or ballots: nothing of a vote shows before its results do.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Integer, and_, func, literal, union_all
from sqlmodel import Session, select

from pos.models import Message, Organization
from pos.models.votes import POLL, VOTE, Vote, VoteBallot, VoteParticipation
from pos.services.analytics import Scope, local_midnight, org_condition
from pos.wording import SOURCE_LABELS
from pos.workflow import RESULT_LABELS, STAGE_LABELS, Result, Stage

SOURCES = tuple(SOURCE_LABELS)
STAGE_ORDER = (Stage.MODERATION, Stage.COORDINATION, Stage.EXECUTION, Stage.AGREEMENT, Stage.APPROVAL,
               Stage.POSTPONED, Stage.ANSWERED, Stage.REJECTED, Stage.CLOSED)
REJECTED_BY_MODERATOR = "rejected_by_moderator"
RESULT_ORDER = (Result.RESOLVED, Result.NOT_RESOLVED, Result.POSTPONED, Result.REJECTED, REJECTED_BY_MODERATOR)
RESULT_TEXT = {**{r.value: label for r, label in RESULT_LABELS.items()}, Result.POSTPONED.value: "отложено",
               REJECTED_BY_MODERATOR: "отклонено модератором"}


@dataclass(frozen=True)
class Part:
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class Day:
    day: date
    count: int
    by_source: dict[str, int]


@dataclass
class MessagesSummary:
    total: int
    by_source: list[Part]
    by_stage: list[Part]
    by_result: list[Part]
    per_day: list[Day]
    repeated: int
    accelerated: int

    @property
    def answered(self) -> int:
        return sum(p.count for p in self.by_result)

    def share(self, part: int) -> float | None:
        """Per cent of the period's messages."""
        return 100 * part / self.total if self.total else None


@dataclass(frozen=True)
class HeldRow:
    organization_id: int
    organization: str
    held: int
    participants: int
    ballots: int


@dataclass
class HeldSummary:
    kind: str
    rows: list[HeldRow]
    unpublished: int  # ended in the period or running, results not published: counted, no figures

    @property
    def held(self) -> int:
        return sum(r.held for r in self.rows)

    @property
    def participants(self) -> int:
        return sum(r.participants for r in self.rows)

    @property
    def ballots(self) -> int:
        return sum(r.ballots for r in self.rows)


@dataclass
class Summary:
    messages: MessagesSummary
    votes: HeldSummary
    polls: HeldSummary


def _parts(counts: dict, order, labels) -> list[Part]:
    counts = {key: n for key, n in counts.items() if key is not None and n}
    known = [Part(str(k), labels.get(k, str(k)), counts.pop(k)) for k in order if k in counts]
    return known + [Part(str(k), labels.get(k, str(k)), n) for k, n in sorted(counts.items())]


def _days(scope: Scope) -> list[tuple[int, date, datetime, datetime]]:
    result, day, i = [], scope.date_from, 0
    while day <= scope.date_to:
        result.append((i, day, local_midnight(day, scope.tz), local_midnight(day + timedelta(days=1), scope.tz)))
        day, i = day + timedelta(days=1), i + 1
    return result


# SQLite allows at most 500 terms in a compound SELECT: the days go to the database in chunks of this many.
_DAYS_PER_QUERY = 400


def _counts(session: Session, scope: Scope, days):
    """(day index, source, stage, result, repeated, accelerated, messages): one scan of the period per chunk
    of days, every figure of the page summed from it."""
    for first in range(0, len(days), _DAYS_PER_QUERY):
        chunk = days[first:first + _DAYS_PER_QUERY]
        moment = Message.__table__.c.received_at.type  # the column's own type: timestamptz on PostgreSQL
        bounds = union_all(*[select(literal(i, Integer).label("i"), literal(lo, moment).label("lo"),
                                    literal(hi, moment).label("hi")) for i, _, lo, hi in chunk]).subquery()
        columns = (bounds.c.i, Message.source, Message.stage, Message.result, Message.is_repeated, Message.accelerated)
        yield from session.exec(
            select(*columns, func.count())
            .join(Message, and_(Message.received_at >= bounds.c.lo, Message.received_at < bounds.c.hi))
            .where(org_condition(Message.organization_id, scope))
            .group_by(*columns))


def messages(session: Session, scope: Scope) -> MessagesSummary:
    days = _days(scope)
    sources: dict[str, int] = {}
    stages: dict[str, int] = {}
    results: dict[str, int] = {}
    per_day: dict[int, dict[str, int]] = {}
    repeated = accelerated = 0
    for i, source, stage, result, is_repeated, is_accelerated, n in _counts(session, scope, days):
        n = int(n)
        sources[source] = sources.get(source, 0) + n
        stages[stage] = stages.get(stage, 0) + n
        if stage in (Stage.ANSWERED, Stage.POSTPONED):
            results[result] = results.get(result, 0) + n
        elif stage == Stage.REJECTED:
            results[REJECTED_BY_MODERATOR] = results.get(REJECTED_BY_MODERATOR, 0) + n
        day = per_day.setdefault(int(i), {})
        day[source] = day.get(source, 0) + n
        repeated += n if is_repeated else 0
        accelerated += n if is_accelerated else 0
    return MessagesSummary(
        total=sum(sources.values()), by_source=_parts(sources, SOURCES, SOURCE_LABELS),
        by_stage=_parts(stages, [s.value for s in STAGE_ORDER], {s.value: label for s, label in STAGE_LABELS.items()}),
        by_result=_parts(results, [str(r) for r in RESULT_ORDER], RESULT_TEXT),
        per_day=[Day(day, sum(per_day.get(i, {}).values()), per_day.get(i, {})) for i, day, _, _ in days],
        repeated=repeated, accelerated=accelerated)


def held(session: Session, scope: Scope, kind: str) -> HeldSummary:
    """Votes (or polls) whose period ended in the scope's period, per organizer's organization; the figures
    only of those whose results are published."""
    in_scope = and_(Vote.kind == kind, Vote.scheduled_at.is_not(None), org_condition(Vote.organization_id, scope),
                    Vote.ends_at >= scope.start, Vote.starts_at < scope.end)
    published = and_(in_scope, Vote.results_published_at.is_not(None), Vote.ends_at < scope.end)
    participants = (select(func.count(VoteParticipation.id)).where(VoteParticipation.vote_id == Vote.id)
                    .correlate(Vote).scalar_subquery())
    ballots = select(func.count()).select_from(VoteBallot).where(VoteBallot.vote_id == Vote.id) \
        .correlate(Vote).scalar_subquery()
    rows = session.exec(
        select(Vote.organization_id, Organization.name, func.count(Vote.id), func.sum(participants), func.sum(ballots))
        .join(Organization, Organization.id == Vote.organization_id).where(published)
        .group_by(Vote.organization_id, Organization.name).order_by(Organization.name)).all()
    unpublished = session.exec(select(func.count(Vote.id)).where(in_scope, Vote.results_published_at.is_(None))).one()
    return HeldSummary(kind, [HeldRow(o, name, n, int(p or 0), int(b or 0)) for o, name, n, p, b in rows], unpublished)


def summary(session: Session, scope: Scope) -> Summary:
    return Summary(messages(session, scope), held(session, scope, VOTE), held(session, scope, POLL))
