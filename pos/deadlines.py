"""Deadlines: answer due in calendar days, stage deadlines on the Russian production calendar.

Pure: the calendar comes from the `holidays` package (public holidays, the
government's transferred days off and working Saturdays) plus a table of local
overrides that the caller passes in. Datetimes in and out are aware UTC (a naive
one is read as UTC); the counting is done in the installation's local time zone.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays

ANSWER_DAYS = 30
ACCELERATED_ANSWER_DAYS = 10
# How far ahead an answer «отложено до …» may put its date (POS_MAX_POSTPONE_DAYS).
MAX_POSTPONE_DAYS = 365

WORKING_HOURS = "working_hours"
WORKING_DAYS = "working_days"
UNIT_LABELS = {WORKING_HOURS: "рабочих часов", WORKING_DAYS: "рабочих дней"}

# The working day: 9:00–13:00 and 14:00–18:00, eight hours.
WORK_PERIODS = ((time(9), time(13)), (time(14), time(18)))


@dataclass(frozen=True)
class StageRule:
    amount: int
    unit: str  # WORKING_HOURS | WORKING_DAYS


# The operator's defaults; the administrator overrides them per jurisdiction.
DEFAULT_STAGE_RULES: dict[str, StageRule] = {
    "moderation": StageRule(8, WORKING_HOURS),
    "coordination": StageRule(1, WORKING_DAYS),
    "execution": StageRule(7, WORKING_DAYS),
    "agreement": StageRule(1, WORKING_DAYS),
    "approval": StageRule(1, WORKING_DAYS),
}


# Incidents (public internet posts, clause 2.2.2) run on a shorter clock: the public answer within one
# working day (8 working hours), the stages in working hours. "answer" is the incident's answer deadline.
MESSAGE, INCIDENT = "message", "incident"
INCIDENT_ANSWER = "answer"
DEFAULT_INCIDENT_RULES: dict[str, StageRule] = {
    INCIDENT_ANSWER: StageRule(8, WORKING_HOURS),
    "moderation": StageRule(1, WORKING_HOURS),
    "coordination": StageRule(1, WORKING_HOURS),
    "execution": StageRule(4, WORKING_HOURS),
    "agreement": StageRule(1, WORKING_HOURS),
    "approval": StageRule(1, WORKING_HOURS),
}


_RU: holidays.HolidayBase | None = None
_RU_LOCK = threading.Lock()


def _russian_working_day(day: date) -> bool:
    """The `holidays` package's answer, from one calendar per process: it is the package's data, the same
    for every request, and building it (each year it fills on first use) cost more than the rest of a
    message's deadlines. It fills years as asked, so the threads take turns."""
    global _RU
    with _RU_LOCK:
        if _RU is None:
            _RU = holidays.country_holidays("RU")
        return _RU.is_working_day(day)


@dataclass
class ProductionCalendar:
    """Working days in Russia: `holidays` plus local overrides {date: is_working}."""
    overrides: dict[date, bool] = field(default_factory=dict)

    def is_working_day(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        return _russian_working_day(day)

    def next_working_day(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, day: date, n: int) -> date:
        """The n-th working day after `day` (`day` itself is not counted)."""
        for _ in range(n):
            day = self.next_working_day(day)
        return day


@dataclass
class DeadlinePolicy:
    calendar: ProductionCalendar
    tz: ZoneInfo
    # {(jurisdiction_id or None, stage): rule}; None is the installation's default.
    rules: dict[tuple[int | None, str], StageRule] = field(default_factory=dict)
    max_postpone_days: int = MAX_POSTPONE_DAYS
    # The same for incidents, "answer" included.
    incident_rules: dict[tuple[int | None, str], StageRule] = field(default_factory=dict)
    # due_soon_limit by local day: every list and card asks it, and the calendar walk is the same all day.
    _soon_by_day: dict[date, datetime] = field(default_factory=dict, repr=False, compare=False)

    # --- conversions -----------------------------------------------------
    def local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(self.tz)

    def to_utc(self, local_dt: datetime) -> datetime:
        return local_dt.astimezone(timezone.utc)

    def local_today(self, now: datetime) -> date:
        return self.local(now).date()

    def end_of_local_day(self, day: date) -> datetime:
        return self.to_utc(datetime.combine(day, time(23, 59, 59), self.tz))

    # --- the answer ------------------------------------------------------
    def answer_due(self, received_at: datetime, accelerated: bool, kind: str = MESSAGE,
                   jurisdiction_id: int | None = None) -> datetime:
        """30 (or 10) calendar days from the day of arrival, to the end of that day; an incident's on its clock."""
        if kind == INCIDENT:
            return self._due(self.rule(INCIDENT_ANSWER, jurisdiction_id, kind), received_at)
        days = ACCELERATED_ANSWER_DAYS if accelerated else ANSWER_DAYS
        return self.end_of_local_day(self.local(received_at).date() + timedelta(days=days))

    def latest_postponement(self, now: datetime) -> date:
        """The last date an answer «отложено до …» may name: a postponement is for a while, not for ever."""
        return self.local_today(now) + timedelta(days=self.max_postpone_days)

    # --- stages ----------------------------------------------------------
    def rule(self, stage: str, jurisdiction_id: int | None, kind: str = MESSAGE) -> StageRule:
        rules, defaults = ((self.incident_rules, DEFAULT_INCIDENT_RULES) if kind == INCIDENT
                           else (self.rules, DEFAULT_STAGE_RULES))
        return (rules.get((jurisdiction_id, stage))
                or rules.get((None, stage))
                or defaults[stage])

    def stage_due(self, stage: str, start: datetime, jurisdiction_id: int | None, kind: str = MESSAGE) -> datetime:
        return self._due(self.rule(stage, jurisdiction_id, kind), start)

    def _due(self, rule: StageRule, start: datetime) -> datetime:
        if rule.unit == WORKING_HOURS:
            return self.add_working_hours(start, rule.amount)
        day = self.calendar.add_working_days(self.local(start).date(), rule.amount)
        return self.to_utc(datetime.combine(day, WORK_PERIODS[-1][1], self.tz))

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        remaining = timedelta(hours=hours)
        cursor = self.local(start)
        day = cursor.date()
        while True:
            if self.calendar.is_working_day(day):
                for begin, end in WORK_PERIODS:
                    b = datetime.combine(day, begin, self.tz)
                    e = datetime.combine(day, end, self.tz)
                    if cursor >= e:
                        continue
                    b = max(b, cursor)
                    if b + remaining <= e:
                        return self.to_utc(b + remaining)
                    remaining -= e - b
                    cursor = e
            day += timedelta(days=1)
            cursor = datetime.combine(day, time(0), self.tz)

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        """Working hours from `start` to `end` on the production calendar (the inverse of add_working_hours;
        the analytics' time in a stage measured in working hours)."""
        begin, finish = self.local(start), self.local(end)
        if finish <= begin:
            return 0.0
        total = timedelta()
        day = begin.date()
        while day <= finish.date():
            if self.calendar.is_working_day(day):
                for b, e in WORK_PERIODS:
                    low = max(begin, datetime.combine(day, b, self.tz))
                    high = min(finish, datetime.combine(day, e, self.tz))
                    if high > low:
                        total += high - low
            day += timedelta(days=1)
        return total.total_seconds() / 3600

    def due_soon_limit(self, now: datetime) -> datetime:
        """A deadline before this moment is «истекает»: within the next working day."""
        today = self.local(now).date()
        if today not in self._soon_by_day:
            day = self.calendar.next_working_day(today)
            self._soon_by_day[today] = self.to_utc(datetime.combine(day, WORK_PERIODS[-1][1], self.tz))
        return self._soon_by_day[today]


class WorkingClock:
    """Working seconds since a day, from a table of the days in between (one calendar look-up per day, not
    per passage): the time in a stage is then a subtraction. Agrees with DeadlinePolicy.working_hours_between;
    the backfill of `StageVisit.working_hours` (pos/facts_backfill.py) counts millions of passages with it."""

    def __init__(self, policy, first: date, last: date):
        self.policy, self.first, self.periods = policy, first, WORK_PERIODS
        self.day_seconds = sum((datetime.combine(first, e) - datetime.combine(first, b)).total_seconds()
                               for b, e in WORK_PERIODS)
        self.before: dict[date, float] = {}
        total, day = 0.0, first
        while day <= last + timedelta(days=1):
            self.before[day] = total
            total += self.day_seconds if policy.calendar.is_working_day(day) else 0
            day += timedelta(days=1)

    def seconds(self, moment: datetime) -> float:
        local = self.policy.local(moment)
        day = local.date()
        if day not in self.before:  # outside the table (never for the passages it was built for)
            start = self.policy.to_utc(datetime.combine(self.first, time(0), self.policy.tz))
            return self.policy.working_hours_between(start, moment) * 3600
        done = self.before[day]
        if self.policy.calendar.is_working_day(day):
            clock = local.replace(tzinfo=None)
            for b, e in self.periods:
                low, high = datetime.combine(day, b), datetime.combine(day, e)
                done += max(0.0, (min(clock, high) - low).total_seconds()) if clock > low else 0.0
        return done

    def hours(self, start: datetime, end: datetime) -> float:
        return max(0.0, self.seconds(end) - self.seconds(start)) / 3600
