"""The six indicators of decree 232, clause 4.2, per ИОГВ and month, and the place they give.

Definition (the analytics pages and the README quote it):

    An indicator is the share of the ИОГВ's own stage passages at that stage (1, 4: coordination;
    2, 5: agreement; 3, 6: approval; 1–3 for first messages, 4–6 for repeated ones) that ended in the
    reporting month within their deadline, over all of them: the passages that ended in the month, plus
    those still open at the month's end and already past their deadline then, counted as late.

    - A passage is a row of `stage_visit` (pos/models/facts.py): one stage under one stage clock.
      Its deadline is the one in force (`due_at`); it ended within it when left_at <= due_at.
    - "Ended in the month": local start of the month <= left_at < local start of the next month, in the
      installation's time zone (config TIMEZONE). "Open at the month's end": entered before the end and
      not left before it (left_at empty, or at/after the end) — so a draft recomputed later gives the same
      figures; "already past it": due_at < the end. Open passages not yet overdue at the end are left out
      (they count in the month they end). A passage open and overdue at the end of one month that ends
      late in the next counts as late in both: each month it was a missed deadline.
    - The ИОГВ's own passages: those where the message was with the ИОГВ itself (organization_id), not
      with its subordinate organizations. Those are not rated (clause 4.1); their figures are computed
      the same way beside their ИОГВ, as information.
    - Numerator and denominator are kept. No passages: «нет данных» (percent None, never 100 % or 0 %).
      Fewer passages than the minimum sample (setting, default 5): not significant, shown but not used
      for the place.
    - The mean: the weighted mean of the significant indicators' percentages (equal weights by default,
      the weights a setting). The place: by the mean, descending; equal means by the number of passages
      counted in the six indicators (more ranks higher); equal in both, the same place (1, 2, 2, 4).
      An ИОГВ with no significant indicator gets no place.

`tally()` computes the counts from passage rows in Python (hand-built ones in the tests), `fetch_tally()`
the same counts with one grouped SQL query per month; `rate()` turns the counts into the rating.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from fractions import Fraction
from typing import Iterable, Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, case, func, literal, union_all
from sqlmodel import Session, select

from pos.models import Organization, StageVisit
from pos.models.rating import INDICATOR_KEYS, INDICATORS

EXECUTIVE_BODY = "executive_body"
SUBORDINATE = "subordinate"
RATED_STAGES = ("coordination", "agreement", "approval")
_KEY = {(stage, repeated): key for key, stage, repeated in INDICATORS}
NO_DATA = "нет данных"  # an indicator without passages: never 100 % and never 0 %
FEW_DATA = "мало данных"  # below the minimum sample: shown, not used for the place

# The definition above, as the rating's page states it (paragraphs; {min_sample} filled in).
DEFINITION = (
    "Показатель — доля прохождений этапа самим ИОГВ (1, 4 — координация; 2, 5 — согласование; "
    "3, 6 — утверждение; 1–3 — по первичным сообщениям, 4–6 — по повторным), завершённых в отчётном месяце "
    "в установленный срок, от всех учтённых: завершённых в месяце и незавершённых на конец месяца, срок "
    "которых к концу месяца уже истёк (они считаются нарушением срока).",
    "Прохождение завершено в срок, если сообщение покинуло этап не позднее срока этапа, действовавшего в тот "
    "момент. Границы месяца — полночь по местному времени. Прохождение, не завершённое и просроченное на конец "
    "месяца и завершённое с опозданием в следующем, учитывается как нарушение в обоих месяцах.",
    "Учитываются прохождения самого ИОГВ; показатели подведомственных организаций приводятся рядом с ИОГВ "
    "для сведения и в рейтинге не участвуют (пункт 4.1).",
    "Рядом с процентом указаны числитель и знаменатель. Нет прохождений — «нет данных» (не 100 % и не 0 %). "
    "Меньше {min_sample} прохождений — «мало данных»: показатель виден, но не влияет на место.",
    "Место — по среднему значимых показателей (веса задаёт администратор, по умолчанию равные), по убыванию; "
    "при равном среднем выше тот, у кого больше учтённых прохождений; при равенстве обоих — одно место. "
    "ИОГВ без значимых показателей места не получает.",
)


@dataclass(frozen=True)
class Rules:
    """The administrator's settings of the rating."""
    min_sample: int = 5
    weights: tuple[Fraction, ...] = (Fraction(1),) * 6  # in the order of INDICATORS

    def __post_init__(self):
        if self.min_sample < 1:
            raise ValueError("Минимальная выборка — целое число не меньше 1.")
        if len(self.weights) != len(INDICATORS) or any(w < 0 for w in self.weights) or not any(self.weights):
            raise ValueError("Веса показателей: шесть неотрицательных чисел, хотя бы одно больше нуля.")

    @classmethod
    def from_config(cls, config: Mapping) -> "Rules":
        weights = str(config.get("RATING_WEIGHTS") or "1,1,1,1,1,1")
        try:
            parsed = tuple(Fraction(w.strip()) for w in weights.split(","))
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"Веса показателей «{weights}»: ожидается шесть чисел через запятую.") from None
        return cls(int(config.get("RATING_MIN_SAMPLE") or 5), parsed)


# --- months -----------------------------------------------------------------------

def parse_month(text: str) -> date:
    """'2026-11' → date(2026, 11, 1)."""
    try:
        year, month = (int(part) for part in text.strip().split("-"))
        return date(year, month, 1)
    except ValueError:
        raise ValueError(f"Месяц «{text}»: ожидается ГГГГ-ММ.") from None


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def previous_month(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def month_bounds(month: date, tz_name: str) -> tuple[datetime, datetime]:
    """The month as [start, end) in aware UTC, its edges at local midnight."""
    tz = ZoneInfo(tz_name)
    start = datetime.combine(month.replace(day=1), time(0), tz)
    end = datetime.combine(next_month(month), time(0), tz)
    return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))


# --- counting passages ---------------------------------------------------------------

@dataclass(frozen=True)
class Passage:
    """What the rating reads of a stage visit."""
    organization_id: int | None
    stage: str
    is_repeated: bool
    entered_at: datetime
    due_at: datetime
    left_at: datetime | None = None


@dataclass
class Count:
    on_time: int = 0
    total: int = 0


Tally = dict[tuple[int, str], Count]  # (organization id, indicator key) → counts


def tally(passages: Iterable[Passage], start: datetime, end: datetime) -> Tally:
    """The counts of the month [start, end) from passage rows (the definition, in Python)."""
    counts: Tally = {}
    for p in passages:
        key = _KEY.get((p.stage, bool(p.is_repeated)))
        if key is None or p.organization_id is None:
            continue
        ended = p.left_at is not None and start <= p.left_at < end
        open_overdue = p.entered_at < end and (p.left_at is None or p.left_at >= end) and p.due_at < end
        if not (ended or open_overdue):
            continue
        count = counts.setdefault((p.organization_id, key), Count())
        count.total += 1
        count.on_time += ended and p.left_at <= p.due_at
    return counts


def fetch_tally(session: Session, start: datetime, end: datetime, with_incidents: bool = False) -> Tally:
    """The same counts from `stage_visit`, with one grouped query over three disjoint branches.

    Each branch is one range of an index that holds every column the count reads (migration 0610), so no
    table row is visited: ended in the month (stage, left_at in [start, end)), open now and overdue at the
    end (stage, left_at empty, due_at < end), left after the end and overdue at it (stage, left_at >= end).
    A UNION ALL rather than an OR: with the OR, PostgreSQL ORs bitmaps and SQLite collects row ids, and both
    then read the table row of every passage."""
    v = StageVisit
    columns = (v.organization_id, v.stage, v.is_repeated)
    rated = (v.stage.in_(RATED_STAGES), v.organization_id.is_not(None))
    if not with_incidents:  # the rating is of official messages (2.2.5), unless the analyst asks otherwise
        rated += (v.is_incident.is_(False),)
    overdue = (v.due_at < end, v.entered_at < end)
    late = literal(0, Integer).label("on_time")
    branches = union_all(
        select(*columns, case((v.left_at <= v.due_at, 1), else_=0).label("on_time"))
        .where(*rated, v.left_at >= start, v.left_at < end),
        select(*columns, late).where(*rated, v.left_at.is_(None), *overdue),
        select(*columns, late).where(*rated, v.left_at >= end, *overdue),
    ).subquery()
    b = branches.c
    query = (select(b.organization_id, b.stage, b.is_repeated, func.sum(b.on_time), func.count())
             .group_by(b.organization_id, b.stage, b.is_repeated))
    return {(org, _KEY[(stage, bool(repeated))]): Count(int(good or 0), int(total))
            for org, stage, repeated, good, total in session.execute(query)}


# --- the rating -----------------------------------------------------------------------

@dataclass(frozen=True)
class Indicator:
    key: str
    on_time: int
    total: int
    significant: bool

    @property
    def percent(self) -> Fraction | None:
        """None: «нет данных»."""
        return Fraction(100 * self.on_time, self.total) if self.total else None


@dataclass
class OrgRating:
    organization_id: int
    name: str
    rated: bool                # an ИОГВ; False: a subordinate organization, information only
    parent_id: int | None      # for a subordinate one: its ИОГВ
    indicators: dict[str, Indicator]
    mean: Fraction | None = None
    place: int | None = None
    subordinates: list["OrgRating"] = field(default_factory=list)

    @property
    def passages(self) -> int:
        return sum(i.total for i in self.indicators.values())


@dataclass(frozen=True)
class Org:
    """What the rating needs of an organization."""
    id: int
    name: str
    kind: str
    parent_id: int | None = None
    is_active: bool = True


def _figures(org: Org, counts: Tally, rules: Rules, rated: bool, parent_id: int | None) -> OrgRating:
    indicators = {}
    for key in INDICATOR_KEYS:
        c = counts.get((org.id, key), Count())
        indicators[key] = Indicator(key, c.on_time, c.total, c.total >= rules.min_sample)
    result = OrgRating(org.id, org.name, rated, parent_id, indicators)
    used = [(w, i.percent) for w, i in zip(rules.weights, indicators.values()) if i.significant]
    weight = sum(w for w, _ in used)
    if used and weight:
        result.mean = sum(w * p for w, p in used) / weight
    return result


def _executive_ancestor(org: Org, by_id: dict[int, Org]) -> Org | None:
    seen = set()
    parent = by_id.get(org.parent_id) if org.parent_id else None
    while parent is not None and parent.id not in seen:
        if parent.kind == EXECUTIVE_BODY:
            return parent
        seen.add(parent.id)
        parent = by_id.get(parent.parent_id) if parent.parent_id else None
    return None


def rate(counts: Tally, organizations: Iterable[Org], rules: Rules = Rules()) -> list[OrgRating]:
    """Every ИОГВ, ranked (placed ones by place, then the unplaced by name), each with its subordinates."""
    orgs = list(organizations)
    by_id = {o.id: o for o in orgs}
    # A closed organization stays in the month it still worked in, and only there.
    worked = {org_id for org_id, _ in counts}
    orgs = [o for o in orgs if o.is_active or o.id in worked]
    bodies = {o.id: _figures(o, counts, rules, True, None) for o in orgs if o.kind == EXECUTIVE_BODY}
    for o in orgs:
        if o.kind == SUBORDINATE and (body := _executive_ancestor(o, by_id)) is not None and body.id in bodies:
            bodies[body.id].subordinates.append(_figures(o, counts, rules, False, body.id))
    placed = sorted((r for r in bodies.values() if r.mean is not None), key=lambda r: (-r.mean, -r.passages))
    for i, r in enumerate(placed):
        before = placed[i - 1] if i else None
        same = before is not None and (before.mean, before.passages) == (r.mean, r.passages)
        r.place = before.place if same else i + 1
    unplaced = sorted((r for r in bodies.values() if r.mean is None), key=lambda r: (r.name, r.organization_id))
    for r in bodies.values():
        r.subordinates.sort(key=lambda s: (s.name, s.organization_id))
    return placed + unplaced


def organizations(session: Session) -> list[Org]:
    """The ИОГВ and the subordinate organizations (the rest of the tree as the path to them)."""
    return [Org(o.id, o.name, o.kind, o.parent_id, o.is_active)
            for o in session.exec(select(Organization).order_by(Organization.id))]


def compute(session: Session, month: date, tz_name: str, rules: Rules = Rules(),
            with_incidents: bool = False) -> list[OrgRating]:
    """The rating of a month from the facts as they are now (pos/services/rating_snapshots.py stores it); of
    official messages only, or with the incidents' passages too (`with_incidents`, the analyst's choice)."""
    start, end = month_bounds(month, tz_name)
    return rate(fetch_tally(session, start, end, with_incidents), organizations(session), rules)
