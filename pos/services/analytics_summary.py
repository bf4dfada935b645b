"""Summary data (clause 2.1.9) over the messages of a period: by source, stage, result and day; the
repeated and accelerated shares.

Every figure counts messages *received* in the scope's period whose organization is in the scope (as on
«Частые проблемы», pos/services/analytics_problems.py). The stage is where the message is now; the result
is that of the answer given (stage «Ответ дан» or «Отложено»), and a rejection by the moderator is a
result of its own. Days are local days of the installation's time zone: the database counts each day's
range [local midnight, next local midnight) in one grouped query, on SQLite and PostgreSQL alike.

Votes and polls (issue 10) join here: `Summary` is the page's whole content, one section per field, and
`messages` is the first. The votes and polls of the period will be two more fields beside it (`votes`,
`polls`: how many were held, participants, ballots), computed in this module from their own tables
with the same `Scope`, and the page «Сводка» gains a section for each after the messages' one.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import DateTime, Integer, and_, case, func, literal, union_all
from sqlmodel import Session, select

from pos.models import Message
from pos.services.analytics import Scope, local_midnight, org_condition
from pos.wording import SOURCE_LABELS
from pos.workflow import RESULT_LABELS, STAGE_LABELS, Result, Stage

SOURCES = tuple(SOURCE_LABELS)
STAGE_ORDER = (Stage.MODERATION, Stage.COORDINATION, Stage.EXECUTION, Stage.AGREEMENT, Stage.APPROVAL,
               Stage.POSTPONED, Stage.ANSWERED, Stage.REJECTED)
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


@dataclass
class Summary:
    messages: MessagesSummary
    # issue 10: `votes` and `polls` join here (see the module's docstring).


def _scoped(scope: Scope):
    return and_(Message.received_at >= scope.start, Message.received_at < scope.end,
                org_condition(Message.organization_id, scope))


def _parts(rows, order, labels) -> list[Part]:
    counts = {key: int(n) for key, n in rows if key is not None}
    known = [Part(str(k), labels.get(k, str(k)), counts.pop(k)) for k in order if k in counts]
    return known + [Part(str(k), labels.get(k, str(k)), n) for k, n in sorted(counts.items())]


def by_source(session: Session, scope: Scope) -> list[Part]:
    rows = session.exec(select(Message.source, func.count()).where(_scoped(scope)).group_by(Message.source))
    return _parts(rows, SOURCES, SOURCE_LABELS)


def by_stage(session: Session, scope: Scope) -> list[Part]:
    rows = session.exec(select(Message.stage, func.count()).where(_scoped(scope)).group_by(Message.stage))
    return _parts(rows, [s.value for s in STAGE_ORDER], {s.value: label for s, label in STAGE_LABELS.items()})


def by_result(session: Session, scope: Scope) -> list[Part]:
    answered = session.exec(select(Message.result, func.count())
                            .where(_scoped(scope), Message.stage.in_([Stage.ANSWERED, Stage.POSTPONED]))
                            .group_by(Message.result)).all()
    rejected = session.exec(select(func.count()).where(_scoped(scope), Message.stage == Stage.REJECTED)).one()
    rows = [*answered, (REJECTED_BY_MODERATOR, rejected)] if rejected else answered
    return _parts(rows, [str(r) for r in RESULT_ORDER], RESULT_TEXT)


def _days(scope: Scope) -> list[tuple[int, date, datetime, datetime]]:
    result, day, i = [], scope.date_from, 0
    while day <= scope.date_to:
        result.append((i, day, local_midnight(day, scope.tz), local_midnight(day + timedelta(days=1), scope.tz)))
        day, i = day + timedelta(days=1), i + 1
    return result


# SQLite allows at most 500 terms in a compound SELECT: the days go to the database in chunks of this many.
_DAYS_PER_QUERY = 400


def per_day(session: Session, scope: Scope) -> list[Day]:
    """Every day of the period, with no messages too, split by source."""
    days = _days(scope)
    counts: dict[int, dict[str, int]] = {}
    for first in range(0, len(days), _DAYS_PER_QUERY):
        chunk = days[first:first + _DAYS_PER_QUERY]
        bounds = union_all(*[select(literal(i, Integer).label("i"), literal(lo, DateTime()).label("lo"),
                                    literal(hi, DateTime()).label("hi")) for i, _, lo, hi in chunk]).subquery()
        query = (select(bounds.c.i, Message.source, func.count())
                 .join(Message, and_(Message.received_at >= bounds.c.lo, Message.received_at < bounds.c.hi))
                 .where(org_condition(Message.organization_id, scope))
                 .group_by(bounds.c.i, Message.source))
        for i, source, n in session.exec(query):
            counts.setdefault(int(i), {})[source] = int(n)
    return [Day(day, sum(counts.get(i, {}).values()), counts.get(i, {})) for i, day, _, _ in days]


def messages(session: Session, scope: Scope) -> MessagesSummary:
    repeated, accelerated, total = session.exec(
        select(func.sum(case((Message.is_repeated, 1), else_=0)), func.sum(case((Message.accelerated, 1), else_=0)),
               func.count())
        .where(_scoped(scope))).one()
    return MessagesSummary(int(total or 0), by_source(session, scope), by_stage(session, scope), by_result(session, scope),
                           per_day(session, scope), int(repeated or 0), int(accelerated or 0))


def summary(session: Session, scope: Scope) -> Summary:
    return Summary(messages(session, scope))
