"""Realistic data for the benchmarks, loaded in bulk: `python -m bench.generate --messages N --database-url URL`.

Into a migrated, empty database (it is migrated first): the classifier and both jurisdictions with their
organizations and staff from seed/, a staff member for every role in every organization that has none,
applicants, and N messages arriving over the two years before `NOW` (more on weekdays and in working
hours, more each year). Each message walks the workflow as people work it — moderation (a rejection, a
category or organization change now and then), coordination (a transfer, a «Вернуть», the coordinator's
own answer), execution, agreement by 0–2 heads (a delegation, a return to execution), approval (an
answer, an «отложено» that comes back, a return) — with stage times drawn from long-tailed
distributions, so some passages are late; a step that would come after `NOW` is not taken, and the
message stays in its stage. Its history entries are the steps; its stage passages (stage_visit) and answer
periods (answer_period) are made by walking those steps through `pos.facts.advance()`, the function the
live recording uses, with the stage deadlines of `pos.deadlines` (the default rules, the production
calendar), so the facts have the shape the platform itself writes. Answered messages are rated now and
then; about 8 % of messages are repeated ones (of an earlier answered message); accelerated subcategories
(the appendices) get the 10-day answer deadline. Texts are Russian sentences built from word lists in
random case forms (bench/words.py), addresses from the streets of several settlements.

Loaded with COPY on PostgreSQL (foreign-key triggers off for the load, secondary indexes dropped and
built again after it) and executemany in big batches on SQLite; deterministic for a given --seed.
"""
from __future__ import annotations

import argparse
import itertools
import json
import math
import multiprocessing
import random
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import Index, MetaData, Table
from sqlmodel import Session, SQLModel, select

from bench import words
from pos import facts, migrate
from pos.db import make_engine
from pos.deadlines import DeadlinePolicy, ProductionCalendar, WorkingClock
from pos.facts_backfill import PERIOD_COLUMNS, VISIT_COLUMNS, Record, _Deadlines
from pos.models import (AcceleratedSubcategory, Category, Organization, OrganizationCategory, RoleGrant,
                        Subcategory, User)
from pos.services.addresses import place
from pos.workflow import ROLE_LABELS, Action, Role, Stage, rejection_reasons

UTC = timezone.utc
TZ_NAME = "Asia/Yakutsk"  # Blagoveshchensk and Tynda
TZ = ZoneInfo(TZ_NAME)
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # a Friday, 12:00 in Blagoveshchensk
SPAN_DAYS = 730
CHUNK = 20_000  # messages per batch written

MESSAGE_COLUMNS = (
    "id", "number", "applicant_id", "text", "address", "source", "category_id", "subcategory_id",
    "organization_id", "passed_from_id", "stage", "executor_id", "assignee_id", "result", "answer_text",
    "executor_position", "executor_name", "comment", "postponed_until", "chain_purpose", "chain_round",
    "rejection_reason", "repeated_of_id", "is_repeated", "accelerated", "received_at", "answer_due_at",
    "stage_entered_at", "stage_due_at", "answered_at", "rating", "rating_comment", "rated_at",
    "version", "place_settlement", "place_street")
# The passages carry the working hours counted when they closed (migration 0710's column).
VISIT_WRITTEN = VISIT_COLUMNS + ("working_hours",)
# The ids of history entries, passages and periods are the database's (in the order written).
HISTORY_COLUMNS = ("message_id", "at", "actor_id", "action", "from_stage", "to_stage", "from_org_id",
                   "to_org_id", "details")
STEP_COLUMNS = ("message_id", "round", "position", "kind", "head_id", "status", "decided_at", "comment")
APPLICANT_COLUMNS = ("id", "kind", "full_name", "email", "phone", "org_name", "inn", "ogrn", "contact_person",
                     "consent_at", "consent_version", "created_at")
# Tables written in bulk, in the order of loading; their secondary indexes are built after the load.
# As the sweep would have left them: an active message past its stage deadline is marked overdue (reminded).
MARK_COLUMNS = ("message_id", "stage_due_at", "state", "marked_at")
BULK_TABLES = ("applicant", "message", "history_entry", "stage_visit", "answer_period", "approval_step",
               "deadline_mark")


# --- the world the messages live in -------------------------------------------------

@dataclass
class Org:
    id: int
    kind: str
    root_id: int
    regulation: str
    parent_id: int | None
    coordinators: list[int] = field(default_factory=list)
    executors: list[int] = field(default_factory=list)
    heads: list[int] = field(default_factory=list)


@dataclass
class World:
    orgs: dict[int, Org]
    roots: dict[str, int]                                  # regulation → jurisdiction id
    routes: dict[int, list[tuple[int, int, list[int]]]]    # jurisdiction → [(category, weight, [org ids])]
    subcategories: dict[int, list[int]]
    accelerated: set[tuple[int, int]]                      # (jurisdiction, subcategory)
    category_names: dict[int, str]
    moderators: list[int]
    staff: dict[int, tuple[str, str]]                      # user → (full name, position)


def _staff_for_every_role(session: Session) -> None:
    """Organizations without a coordinator, an executor or a head get one (the seed staffs a few)."""
    roles = (Role.COORDINATOR, Role.EXECUTOR, Role.HEAD)
    have = {(g.organization_id, g.role) for g in session.exec(select(RoleGrant))}
    for org in session.exec(select(Organization).order_by(Organization.id)).all():
        for role in roles:
            if (org.id, role) in have:
                continue
            user = User(login=f"bench.{org.id}.{role}", full_name=f"{ROLE_LABELS[role]} ({org.short_name})",
                        position="Специалист" if role != Role.HEAD else "Руководитель", email="",
                        created_at=NOW - timedelta(days=SPAN_DAYS + 30))
            session.add(user)
            session.flush()
            session.add(RoleGrant(user_id=user.id, role=role, organization_id=org.id))
    session.flush()


# Relative weights of the categories (the rest: 1); accelerated appendix items are rare.
CATEGORY_WEIGHTS = {"Жилищно-коммунальное хозяйство": 30, "Дороги": 22, "Благоустройство": 16,
                    "Общественный транспорт": 6, "Здравоохранение": 7, "Образование": 6, "Социальная защита": 4,
                    "Экология": 3}


def setup(session: Session) -> World:
    """The seed's classifier and organizations (both jurisdictions), staff for every role; the world read back."""
    import seed
    try:
        seed.load_organizations(session)
    except RuntimeError:
        raise SystemExit("bench.generate: the database already has data; give it an empty one") from None
    _staff_for_every_role(session)
    session.commit()
    return read_world(session)


def read_world(session: Session) -> World:
    rows = session.exec(select(Organization).order_by(Organization.id)).all()
    by_id = {o.id: o for o in rows}
    world_orgs = {o.id: Org(o.id, o.kind, o.root_id or o.id, by_id[o.root_id or o.id].regulation, o.parent_id)
                  for o in rows}
    staff = {}
    moderators = []
    for grant, user in session.exec(select(RoleGrant, User).join(User, User.id == RoleGrant.user_id)
                                    .order_by(RoleGrant.id)):
        staff[user.id] = (user.full_name, user.position)
        if grant.role == Role.MODERATOR:
            moderators.append(user.id)
        elif grant.organization_id in world_orgs:
            bucket = {Role.COORDINATOR: "coordinators", Role.EXECUTOR: "executors", Role.HEAD: "heads"}.get(grant.role)
            if bucket:
                getattr(world_orgs[grant.organization_id], bucket).append(user.id)
    names = {c.id: c.name for c in session.exec(select(Category).order_by(Category.id))}
    competent: dict[tuple[int, int], list[int]] = {}
    for oc in session.exec(select(OrganizationCategory).order_by(OrganizationCategory.organization_id,
                                                                 OrganizationCategory.category_id)):
        org = world_orgs[oc.organization_id]
        competent.setdefault((org.root_id, oc.category_id), []).append(org.id)
    routes: dict[int, list] = {}
    for (root, category_id), org_ids in sorted(competent.items()):
        routes.setdefault(root, []).append((category_id, CATEGORY_WEIGHTS.get(names[category_id], 1), org_ids))
    subs: dict[int, list[int]] = {}
    for s in session.exec(select(Subcategory).order_by(Subcategory.id)):
        subs.setdefault(s.category_id, []).append(s.id)
    accelerated = {(a.jurisdiction_id, a.subcategory_id) for a in session.exec(select(AcceleratedSubcategory))}
    roots = {o.regulation: o.id for o in world_orgs.values() if o.id == o.root_id}
    return World(world_orgs, roots, routes, subs, accelerated, names, moderators, staff)


# --- one message's life --------------------------------------------------------------------

class _Texts:
    def __init__(self, rnd: random.Random):
        self.rnd = rnd
        self.topics = {key: [words._noun(n) for n in nouns] for key, nouns in words.NOUNS.items()}
        self.common = [words._noun(n) for n in words.COMMON]
        self.places = {regulation: (places, list(itertools.accumulate(weight for _, weight, _ in places)))
                       for regulation, places in (("amur-232", words.REGION_PLACES),
                                                  ("tynda-608", words.CITY_PLACES))}

    def _topic(self, category: str) -> list[dict]:
        for key, nouns in self.topics.items():
            if key and category.startswith(key):
                return nouns
        return self.topics[""]

    def text(self, category: str) -> str:
        rnd, topic = self.rnd, self._topic(category)

        def fill(match: str) -> str:
            kind, case = match.split(":")
            noun = rnd.choice(topic if kind.lower() == "t" else self.common)[case]
            return noun.capitalize() if kind.isupper() else noun

        sentences = []
        for pattern in rnd.sample(words.PATTERNS, rnd.randint(2, 5)):
            out, rest = [], pattern
            while "{" in rest:
                head, _, tail = rest.partition("{")
                slot, _, rest = tail.partition("}")
                out.append(head)
                out.append(str(rnd.randint(2, 40)) if slot == "n" else fill(slot))
            out.append(rest)
            sentences.append("".join(out))
        return " ".join(sentences)

    def address(self, regulation: str) -> str:
        rnd = self.rnd
        places, cumulative = self.places[regulation]
        settlement, _, streets = rnd.choices(places, cum_weights=cumulative)[0]
        street = rnd.choice(streets)
        prefix = "" if street.endswith("шоссе") else "ул. "
        tail = f", кв. {rnd.randint(1, 180)}" if rnd.random() < 0.3 else ""
        return f"{settlement}, {prefix}{street}, д. {rnd.randint(1, 150)}{tail}"


class _Clock:
    """Working-time placement of actions and the stage deadlines, memoized where they can be."""

    def __init__(self, policy: DeadlinePolicy, roots: dict[int, int]):
        self.policy = policy
        self.deadlines = _Deadlines(policy, roots)
        self._working: dict[date, bool] = {}
        self._answer: dict[tuple[date, bool], datetime] = {}

    def working_day(self, day: date) -> bool:
        if day not in self._working:
            self._working[day] = self.policy.calendar.is_working_day(day)
        return self._working[day]

    def later(self, at: datetime, hours: float, rnd: random.Random) -> datetime:
        """`hours` of working time after `at`, roughly: nights and days off are skipped."""
        t = at + timedelta(hours=hours)
        local = t.astimezone(TZ)
        if 9 <= local.hour < 18 and self.working_day(local.date()):
            return t.replace(second=0, microsecond=0)
        day = local.date() + timedelta(days=0 if local.hour < 9 else 1)
        while not self.working_day(day):
            day += timedelta(days=1)
        return datetime(day.year, day.month, day.day, 9 + rnd.randrange(9), rnd.randrange(60),
                        tzinfo=TZ).astimezone(UTC)

    def answer_due(self, at: datetime, accelerated: bool) -> datetime:
        key = (at.astimezone(TZ).date(), accelerated)
        if key not in self._answer:
            self._answer[key] = self.policy.answer_due(at, accelerated)
        return self._answer[key]

    def stage_due(self, stage: str, at: datetime, org_id: int, answer_due: datetime) -> datetime:
        return min(self.deadlines.stage_due(stage, at, org_id), answer_due)


class _Life:
    """The steps of one message: history rows, the facts they make, the message's state after them."""

    def __init__(self, gen: "Generator", message_id: int, received: datetime, org: Org, accelerated: bool,
                 repeated: bool):
        self.gen, self.id, self.org = gen, message_id, org
        self.accelerated, self.repeated = accelerated, repeated
        self.stage: str | None = None
        self.entered_at = received
        self.answer_base = received
        self.answer_due = gen.clock.answer_due(received, accelerated)
        self.stage_due = self.answer_due
        self.visit = self.period = None
        self.visits: list = []
        self.periods: list = []
        self.history: list[tuple] = []
        self.passed_from: int | None = None
        self.executor: int | None = None
        self.assignee: int | None = None
        self.chain: list[int] = []   # the current chain's heads: agreeing ones, then the approving one
        self.chain_done = 0
        self.chain_round = 0
        self.chain_purpose: str | None = None
        self.at = received
        self.postponed_until: date | None = None

    def step(self, at: datetime, action: str, to_stage: str, actor: int | None, details: dict | None = None,
             org: Org | None = None) -> None:
        clock = self.gen.clock
        to_stage = str(to_stage)  # a plain string in the rows (psycopg dumps an Enum by its name)
        from_stage, from_org = self.stage, self.org.id
        if org is not None:
            self.org = org
        if action == Action.RESUME:
            before, self.answer_base = self.answer_due, at
            self.answer_due = clock.answer_due(at, self.accelerated)
            details = {**(details or {}), "answer_due": {
                "from": before.isoformat(sep=" ", timespec="minutes"),
                "to": self.answer_due.isoformat(sep=" ", timespec="minutes"),
                "accelerated": self.accelerated, "counted_from": at.isoformat(sep=" ", timespec="minutes"),
                "reason": "возврат на исполнение после отсрочки"}}
        restart = facts.restarts(action, from_stage, to_stage)
        active = to_stage in _ACTIVE
        if restart:
            self.entered_at = at
            if active:
                self.stage_due = clock.stage_due(to_stage, at, self.org.id, self.answer_due)
            elif to_stage == Stage.POSTPONED:
                self.stage_due = self.gen.policy.end_of_local_day(self.postponed_until)
            else:
                self.stage_due = self.answer_due
        self.stage = to_stage
        self.history.append((self.id, at, actor, str(action), from_stage, to_stage, from_org, self.org.id,
                             json.dumps(details, ensure_ascii=False) if details else "{}"))
        done = facts.advance(self.visit, self.period, facts.Step(
            at=at, action=str(action), from_stage=from_stage, to_stage=to_stage, organization_id=self.org.id,
            stage_due=self.stage_due if active else None, answer_due=self.answer_due,
            accelerated=self.accelerated, is_repeated=self.repeated),
            message_id=self.id, make_visit=Record, make_period=Record, working_hours=self.gen.working_clock.hours)
        self.visit, self.period = done.visit, done.period
        if done.new_visit is not None:
            self.visits.append(done.new_visit)
        if done.new_period is not None:
            self.periods.append(done.new_period)
        self.at = at


_ACTIVE = {str(s) for s in (Stage.MODERATION, Stage.COORDINATION, Stage.EXECUTION, Stage.AGREEMENT,
                            Stage.APPROVAL)}
# Median working hours in each stage, and the spread (lognormal sigma): the tails make the late passages.
DURATION = {"moderation": (2.5, 1.0), "coordination": (4.0, 1.0), "execution": (40.0, 0.8),
            "agreement": (4.0, 1.1), "approval": (5.0, 1.0)}


class Generator:
    def __init__(self, world: World, n: int, seed: int, policy: DeadlinePolicy, days: int = SPAN_DAYS):
        self.world, self.n, self.policy, self.days = world, n, policy, days
        self.seed = seed
        self.rnd = random.Random(seed)
        roots = {o.id: o.root_id for o in world.orgs.values()}
        self.clock = _Clock(policy, roots)
        # The working hours of a closing passage, as the live recording counts them (one table of the days).
        first = (NOW - timedelta(days=days + 1)).astimezone(TZ).date()
        self.working_clock = WorkingClock(policy, first, NOW.astimezone(TZ).date() + timedelta(days=400))
        self.applicants = max(1, n // 3)
        self.reasons = {reg: sorted(rejection_reasons(reg)) for reg in world.roots}
        self._routes = {root: ([w for _, w, _ in routes], routes) for root, routes in world.routes.items()}
        self._start_chunk(0)

    def _start_chunk(self, index: int) -> None:
        """Each batch draws from its own generator (seeded by --seed and its index), so batches can be made
        in parallel processes and the result is the same."""
        self.rnd = random.Random(f"{self.seed}:{index}")
        self.texts = _Texts(random.Random(f"{self.seed}:{index}:texts"))
        self.answered: list[tuple[int, datetime, int]] = []  # recent answered messages, for the repeated ones
        self.late_history: list[tuple] = []  # entries on earlier messages (a REPEAT of an answered one)

    def arrival_times(self) -> list[datetime]:
        """n arrival moments over the days before NOW (two years), sorted: a rising trend, weekdays and
        working hours busier."""
        rnd = random.Random(f"{self.seed}:arrivals")
        out = []
        start = NOW - timedelta(days=self.days)
        while len(out) < self.n:
            # Density rising linearly from 1 to 2 over the span: the inverse of its distribution.
            u = rnd.random()
            x = (math.sqrt(1 + 3 * u) - 1)  # in [0, 1]
            t = start + timedelta(seconds=x * self.days * 86400)
            local = t.astimezone(TZ)
            weight = (1.0 if local.weekday() < 5 else 0.5) * (1.0 if 8 <= local.hour < 21 else 0.25)
            if rnd.random() < weight:
                out.append(t.replace(microsecond=0))
        out.sort()
        return out

    def _hours(self, stage: str) -> float:
        median, sigma = DURATION[stage]
        return median * math.exp(self.rnd.gauss(0, sigma))

    def _route(self, root: int) -> tuple[Org, int, int | None]:
        weights, routes = self._routes[root]
        category_id, _, org_ids = self.rnd.choices(routes, weights=weights)[0]
        org = self.world.orgs[self.rnd.choice(org_ids)]
        subs = self.world.subcategories.get(category_id) or [None]
        return org, category_id, self.rnd.choice(subs)

    def _subordinate(self, org: Org) -> Org:
        """Some of an executive body's messages are passed on to a subordinate organization of it."""
        subs = [o for o in self.world.orgs.values() if o.parent_id == org.id and o.kind == "subordinate"]
        return self.rnd.choice(subs) if subs else org

    def message(self, i: int, received: datetime) -> tuple[tuple, _Life, list[tuple]]:
        rnd, world = self.rnd, self.world
        regulation = "amur-232" if rnd.random() < 0.82 else "tynda-608"
        root = world.roots[regulation]
        org, category_id, sub_id = self._route(root)
        accelerated = (root, sub_id) in world.accelerated
        repeated_of = None
        if self.answered and rnd.random() < 0.08:
            j = rnd.randrange(len(self.answered))
            candidate, answered_at, answered_org = self.answered[j]
            if answered_at < received:
                repeated_of = candidate
                self.answered[j] = self.answered[-1]
                self.answered.pop()
        life = _Life(self, i, received, org, accelerated, repeated_of is not None)
        if repeated_of is not None:
            self.late_history.append((repeated_of, received, None, str(Action.REPEAT),
                                      str(Stage.ANSWERED), str(Stage.ANSWERED), answered_org, answered_org,
                                      json.dumps({"repeat_id": i}, ensure_ascii=False)))
        result = self._walk(life, root, regulation)
        return self._row(life, received, category_id, sub_id, repeated_of, result, regulation), life, \
            self._chain_steps(life)

    def _walk(self, life: _Life, root: int, regulation: str) -> dict:
        """Take the message's steps up to NOW; what the message keeps of them."""
        rnd, clock, world = self.rnd, self.clock, self.world
        out: dict = {"result": None, "answered_at": None, "rating": None, "rated_at": None,
                     "rating_comment": "", "rejection_reason": None, "answer": None}
        moderator = rnd.choice(world.moderators)
        life.step(life.at, Action.SUBMIT, Stage.MODERATION, None)

        def nxt(stage: str) -> datetime | None:
            at = clock.later(life.at, self._hours(stage), rnd)
            return at if at <= NOW else None

        # Moderation.
        if rnd.random() < 0.05 and (at := nxt("moderation")):
            life.step(at, Action.CHANGE_CATEGORY, Stage.MODERATION, moderator)
        if not (at := nxt("moderation")):
            return out
        r = rnd.random()
        if r < 0.06:
            out["rejection_reason"] = rnd.choice(self.reasons[regulation])
            life.step(at, Action.REJECT, Stage.REJECTED, moderator, {"reason": out["rejection_reason"], "comment": ""})
            return out
        if r < 0.10:
            other = self._route(root)[0]
            life.passed_from = life.org.id
            life.step(at, Action.CHANGE_ORGANIZATION, Stage.COORDINATION, moderator, org=other)
        else:
            life.step(at, Action.ACCEPT, Stage.COORDINATION, moderator)
        returns = 0
        while True:
            # Coordination.
            coordinator = rnd.choice(life.org.coordinators)
            if not (at := nxt("coordination")):
                return out
            r = rnd.random()
            if r < 0.02 and life.passed_from is not None:
                back = world.orgs[life.passed_from]
                life.passed_from = life.org.id
                life.step(at, Action.RETURN, Stage.COORDINATION, coordinator, org=back)
                continue
            if r < 0.06 and life.org.kind == "executive_body" and self._subordinate(life.org) is not life.org:
                target = self._subordinate(life.org)
                if not self._chain(life, at, "transfer", Action.TRANSFER, coordinator, out, max_agreeing=0):
                    return out
                life.passed_from = life.org.id
                life.executor = None
                life.step(life.at, Action.APPROVE, Stage.COORDINATION, life.chain[-1],
                          {"transfer_to_id": target.id}, org=target)
                life.chain, life.chain_purpose = [], None
                continue
            if r < 0.10:
                life.executor = coordinator
                chain_at = at
                action = Action.SEND_FOR_APPROVAL
            else:
                take = r >= 0.75  # the coordinator executes it themselves
                life.executor = coordinator if take else rnd.choice(life.org.executors)
                life.step(at, Action.TAKE if take else Action.ASSIGN_EXECUTOR, Stage.EXECUTION, coordinator,
                          {"executor_id": life.executor})
                life.assignee = life.executor
                chain_at = None
                action = Action.PREPARE_ANSWER
            while True:
                if chain_at is None:
                    # Execution.
                    if not (chain_at := nxt("execution")):
                        return out
                out["result"] = rnd.choices(("resolved", "not_resolved", "postponed"), (75, 20, 5))[0]
                out["answer"] = rnd.choice(words.ANSWERS)
                ended = self._chain(life, chain_at, "answer", action, life.executor, out, max_agreeing=2)
                if ended is None:
                    return out
                if ended == "returned" and returns < 2:
                    returns += 1
                    chain_at, action = None, Action.PREPARE_ANSWER
                    life.assignee = life.executor
                    out["result"] = out["answer"] = None
                    continue
                if ended == "returned":
                    return out
                # The approval itself.
                head = life.chain[-1]
                answered = life.at
                out["answered_at"] = answered
                postponed = out["result"] == "postponed"
                if postponed:
                    life.postponed_until = (answered.astimezone(TZ).date() + timedelta(days=rnd.randint(10, 60)))
                    life.step(answered, Action.APPROVE, Stage.POSTPONED, head,
                              {"postponed_until": life.postponed_until.isoformat()})
                    life.assignee = life.executor
                    life.chain, life.chain_purpose = [], None
                    back = self.policy.end_of_local_day(life.postponed_until) + timedelta(minutes=1)
                    if back > NOW or returns >= 2:
                        return out
                    returns += 1
                    life.step(back.replace(second=0), Action.RESUME, Stage.EXECUTION, None,
                              {"postponed_until": life.postponed_until.isoformat()})
                    life.postponed_until = None
                    out["result"] = out["answer"] = None
                    chain_at, action = None, Action.PREPARE_ANSWER
                    continue
                life.step(answered, Action.APPROVE, Stage.ANSWERED, head,
                          {"answered": {"at": answered.isoformat(sep=" ", timespec="minutes"),
                                        "due": life.answer_due.isoformat(sep=" ", timespec="minutes"),
                                        "on_time": answered <= life.answer_due, "result": out["result"]}})
                life.assignee = None
                life.chain, life.chain_purpose = [], None
                self.answered.append((life.id, answered, life.org.id))
                if len(self.answered) > 400:
                    self.answered.pop(0)
                if rnd.random() < 0.45:
                    rated = answered + timedelta(hours=rnd.uniform(2, 240))
                    if rated <= NOW:
                        rating = rnd.choices((1, 2, 3, 4, 5), (10, 7, 13, 25, 45))[0]
                        comment = rnd.choice(words.RATING_COMMENTS) if rnd.random() < 0.3 else ""
                        life.step(rated.replace(microsecond=0), Action.RATE, Stage.ANSWERED, None,
                                  {"rating": rating, "comment": comment})
                        out.update(rating=rating, rated_at=rated.replace(microsecond=0), rating_comment=comment)
                return out

    def _chain(self, life: _Life, at: datetime, purpose: str, action: str, actor: int, out: dict,
               max_agreeing: int) -> str | None:
        """Start a chain at `at` and walk it: "approved" (the approving head decides at life.at, the step
        not yet taken), "returned" (back to execution), None (NOW came first)."""
        rnd, org = self.rnd, life.org
        heads = org.heads
        approver = heads[0]
        others = heads[1:] or heads
        agreeing = rnd.sample(others, min(len(others), rnd.choice((0, 0, 1, 1, 2))))[:max_agreeing]
        life.chain = agreeing + [approver]
        life.chain_done = 0
        life.chain_round += 1
        life.chain_purpose = purpose
        life.step(at, action, Stage.AGREEMENT if agreeing else Stage.APPROVAL, actor,
                  {"approver_id": approver, "agreeing_ids": agreeing})
        life.assignee = life.chain[0]
        while True:
            stage = life.stage
            at = self.clock.later(life.at, self._hours(stage), rnd)
            if at > NOW:
                return None
            r = rnd.random()
            head = life.chain[life.chain_done]
            if r < 0.04 and purpose == "answer":
                life.step(at, Action.REJECT_AGREEMENT if stage == Stage.AGREEMENT else Action.REJECT_APPROVAL,
                          Stage.EXECUTION, head, {"comment": "Доработать ответ"})
                life.chain, life.chain_purpose = [], None
                return "returned"
            if r < 0.06:
                deputy = rnd.choice(org.heads)
                life.chain[life.chain_done] = deputy
                life.step(at, Action.DELEGATE_AGREEMENT if stage == Stage.AGREEMENT else Action.DELEGATE_APPROVAL,
                          stage, head, {"step": life.chain_done + 1, "from_head_id": head, "to_head_id": deputy})
                life.assignee = deputy
                continue
            if stage == Stage.APPROVAL:
                life.at = at
                return "approved"
            life.chain_done += 1
            life.step(at, Action.AGREE, Stage.AGREEMENT if life.chain_done < len(life.chain) - 1 else Stage.APPROVAL,
                      head, {"step": life.chain_done})
            life.assignee = life.chain[life.chain_done]

    def _chain_steps(self, life: _Life) -> list[tuple]:
        """The open chain's places (agreement and approval wait for the head in them)."""
        if life.stage not in (Stage.AGREEMENT, Stage.APPROVAL) or not life.chain:
            return []
        last = len(life.chain) - 1
        return [(life.id, life.chain_round, position + 1, "approve" if position == last else "agree", head,
                 "agreed" if position < life.chain_done else "pending", None, "")
                for position, head in enumerate(life.chain)]

    def _row(self, life: _Life, received, category_id, sub_id, repeated_of, out: dict, regulation: str) -> tuple:
        rnd, world = self.rnd, self.world
        stage = life.stage
        executor = life.executor if stage not in (Stage.MODERATION, Stage.COORDINATION, Stage.REJECTED) else None
        name, position = world.staff.get(executor, ("", "")) if executor and out["answer"] else ("", "")
        in_chain = stage in (Stage.AGREEMENT, Stage.APPROVAL)
        applicant = rnd.randint(1, self.applicants)
        text = self.texts.text(world.category_names[category_id])
        address = self.texts.address(regulation)
        found = place(address)  # what the model's listener writes beside an address
        return (life.id, f"ПОС-{received.year}-{life.id:06d}", applicant, text, address,
                rnd.choices(("web", "embed", "api"), (70, 15, 15))[0], category_id, sub_id, life.org.id,
                life.passed_from, stage, executor,
                life.assignee if stage in (Stage.EXECUTION, Stage.POSTPONED, Stage.AGREEMENT, Stage.APPROVAL)
                else None,
                out["result"] if stage in (Stage.AGREEMENT, Stage.APPROVAL, Stage.ANSWERED, Stage.POSTPONED) else None,
                out["answer"] or "", position, name, "", life.postponed_until if stage == Stage.POSTPONED else None,
                life.chain_purpose if in_chain else None, life.chain_round, out["rejection_reason"], repeated_of,
                repeated_of is not None, life.accelerated, received, life.answer_due, life.entered_at,
                life.stage_due, out["answered_at"], out["rating"], out["rating_comment"], out["rated_at"], 1,
                found.settlement if found else None, found.street if found else None)

    def applicant_rows(self):
        rnd = random.Random(f"{self.seed}:applicants")
        start = NOW - timedelta(days=SPAN_DAYS + 30)
        for i in range(1, self.applicants + 1):
            name = f"{rnd.choice(words.LAST_NAMES)} {rnd.choice(words.FIRST_NAMES)} {rnd.choice(words.PATRONYMICS)}"
            yield (i, "citizen", name, f"applicant{i}@example.ru", f"+7 914 {rnd.randrange(10**7):07d}", "", "", "", "", start,
                   "2026-01", start)

    def chunk(self, index: int, low: int, arrivals: list[datetime]) -> dict[str, list]:
        """The rows of messages low, low + 1, … (one per arrival), per table: {table: [row, …]}."""
        self._start_chunk(index)
        batch = {name: [] for name in ("message", "history_entry", "stage_visit", "answer_period",
                                       "approval_step", "deadline_mark")}
        for i, received in enumerate(arrivals, start=low):
            row, life, steps = self.message(i, received)
            batch["message"].append(row)
            batch["history_entry"] += life.history
            batch["stage_visit"] += [tuple(getattr(v, c) for c in VISIT_WRITTEN) for v in life.visits]
            batch["answer_period"] += [tuple(getattr(p, c) for c in PERIOD_COLUMNS) for p in life.periods]
            batch["approval_step"] += steps
            if life.stage in _ACTIVE and life.stage_due < NOW:
                batch["deadline_mark"].append((life.id, life.stage_due, "overdue", NOW))
        batch["history_entry"] += self.late_history
        return batch

    def chunks(self, workers: int = 1, size: int = CHUNK):
        """The batches in order, made by `workers` processes (fork: they inherit the generator)."""
        arrivals = self.arrival_times()
        tasks = [(index, low, arrivals[low - 1:low - 1 + size]) for index, low in enumerate(range(1, self.n + 1, size))]
        if workers <= 1 or len(tasks) == 1:
            yield from (self.chunk(*task) for task in tasks)
            return
        global _WORKER
        _WORKER = self
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            yield from pool.imap(_chunk_in_worker, tasks)


_WORKER: Generator | None = None


def _chunk_in_worker(task):
    return _WORKER.chunk(*task)


COLUMNS = {"applicant": APPLICANT_COLUMNS, "message": MESSAGE_COLUMNS, "history_entry": HISTORY_COLUMNS,
           "stage_visit": VISIT_WRITTEN, "answer_period": PERIOD_COLUMNS,
           "approval_step": STEP_COLUMNS, "deadline_mark": MARK_COLUMNS}


# --- loading -------------------------------------------------------------------------------

def _check_columns(engine) -> None:
    """Every NOT NULL column without a default must be filled (the schema may grow)."""
    meta = MetaData()
    for name in BULK_TABLES:
        table = Table(name, meta, autoload_with=engine)
        missing = [c.name for c in table.columns if not c.nullable and c.server_default is None
                   and c.name not in COLUMNS[name] and not c.primary_key]
        if missing:
            raise SystemExit(f"bench.generate: {name} has new NOT NULL columns to fill: {missing}")


def _secondary_indexes() -> list[Index]:
    return [index for name in BULK_TABLES for index in SQLModel.metadata.tables[name].indexes]


def _sqlite_value(value):
    if isinstance(value, datetime):  # what SQLAlchemy stores for an aware datetime on SQLite
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


class _Postgres:
    def __init__(self, raw):
        self.conn = raw.driver_connection
        # The rows are consistent by construction: foreign-key triggers off for the load (superuser).
        self.conn.execute("SET session_replication_role = replica")

    def write(self, table: str, rows) -> None:
        with self.conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def close(self) -> None:
        """Commit what was written; the sequences follow the ids given."""
        for table in BULK_TABLES:
            if "id" in COLUMNS[table]:
                self.conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT coalesce(max(id), 1) FROM {table}))")
        self.conn.commit()
        self.conn.execute("SET session_replication_role = DEFAULT")
        self.conn.commit()

    def analyze(self) -> None:
        self.conn.autocommit = True
        self.conn.execute(f"VACUUM ANALYZE {', '.join(BULK_TABLES)}")
        self.conn.autocommit = False


class _Sqlite:
    def __init__(self, raw):
        self.cur = raw.cursor()
        self.cur.execute("PRAGMA foreign_keys=OFF")
        self.cur.execute("BEGIN")

    def write(self, table: str, rows) -> None:
        columns = COLUMNS[table]
        self.cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
                             [tuple(_sqlite_value(v) for v in row) for row in rows])

    def close(self) -> None:
        self.cur.execute("COMMIT")
        self.cur.execute("PRAGMA foreign_keys=ON")

    def analyze(self) -> None:
        self.cur.execute("PRAGMA analysis_limit=1000")
        self.cur.execute("ANALYZE")


def generate(url: str, n: int, seed: int = 232, *, days: int = SPAN_DAYS, workers: int = 1,
             log=lambda line: print(line, flush=True)) -> dict:
    """Fill the (empty) database at `url` with n messages arriving over `days`; the rows written per table."""
    migrate.upgrade(url)
    engine = make_engine(url)
    _check_columns(engine)
    with Session(engine, expire_on_commit=False) as session:
        world = setup(session)
    gen = Generator(world, n, seed, DeadlinePolicy(ProductionCalendar(), TZ), days)
    indexes = _secondary_indexes()
    with engine.begin() as conn:  # built again after the load: one sort each instead of a tree walk per row
        for index in indexes:
            index.drop(conn)
    counts = {name: 0 for name in BULK_TABLES}
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        writer = _Postgres(raw) if engine.dialect.name == "postgresql" else _Sqlite(raw)
        try:
            writer.write("applicant", gen.applicant_rows())
            counts["applicant"] = gen.applicants
            for batch in gen.chunks(workers):
                for table, rows in batch.items():
                    writer.write(table, rows)
                    counts[table] += len(rows)
                if log and counts["message"] % 200_000 == 0:
                    log(f"  {counts['message']:>9} messages, {time.perf_counter() - started:6.1f} s")
        finally:
            writer.close()
        if log:
            log(f"  rows written in {time.perf_counter() - started:.1f} s; building the indexes")
        with engine.begin() as conn:
            for index in indexes:
                index.create(conn)
        writer.analyze()
    finally:
        raw.close()
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--database-url", required=True, help="an empty database (it is migrated first)")
    parser.add_argument("--seed", type=int, default=232)
    parser.add_argument("--days", type=int, default=SPAN_DAYS, help="the arrivals' span before NOW")
    parser.add_argument("--workers", type=int, default=1,
                        help="processes making the rows beside the one writing them (on an idle machine: 2)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    counts = generate(args.database_url, args.messages, args.seed, days=args.days, workers=args.workers)
    print(f"generated in {time.perf_counter() - started:.1f} s: "
          + ", ".join(f"{table} {count}" for table, count in counts.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
