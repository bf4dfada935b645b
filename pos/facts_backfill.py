"""Backfill of the facts (stage visits, answer periods) from the history, for migration 0500.

The history keeps, per entry, the stages and organizations before and after, the time and the answer
deadline's changes (with the accelerated flag); stage deadlines are not in it, so they are counted again
with the deadline policy in force (the operator's stage rules, the production calendar), exactly as the
workflow counts them. Each message's entries are walked through `pos.facts.advance()`, the function the
live recording uses, so a backfilled message has the facts it would have had live. The open passage and
answer period of an active message then take the message's own current deadlines (`trust_current`),
which are right even where a setting has changed since.

Set-based where it can be (one SELECT of messages and one of history per chunk of message ids, one COPY
(PostgreSQL) or executemany (SQLite) per table and chunk), a Python loop where the calendar needs one:
`python -m bench.backfill` times it. The tables are
described here as they are at 0500, so later changes to the models cannot break this migration; what
later migrations add to old data is at the end (0710: `fill_working_hours`, `fill_places`).
"""
from __future__ import annotations

from datetime import date, datetime, timezone
import json
from itertools import groupby
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel.sql.sqltypes import UTCDateTime

from pos import facts
from pos.deadlines import WORKING_DAYS, DeadlinePolicy, ProductionCalendar, StageRule
from pos.workflow import ACTIVE_STAGES, Action

RECOMPUTED = "deadlines_recomputed"

_t = UTCDateTime
message_t = sa.table("message", sa.column("id", sa.Integer), sa.column("stage", sa.String),
                     sa.column("received_at", _t()), sa.column("stage_due_at", _t()),
                     sa.column("answer_due_at", _t()), sa.column("accelerated", sa.Boolean),
                     sa.column("is_repeated", sa.Boolean), sa.column("source", sa.String))
history_t = sa.table("history_entry", sa.column("id", sa.Integer), sa.column("message_id", sa.Integer),
                     sa.column("at", _t()), sa.column("action", sa.String), sa.column("from_stage", sa.String),
                     sa.column("to_stage", sa.String), sa.column("to_org_id", sa.Integer),
                     sa.column("details", sa.Text))  # decoded only where it matters: `_answer_due_change`
organization_t = sa.table("organization", sa.column("id", sa.Integer), sa.column("root_id", sa.Integer))
_COMMON = ("message_id", "organization_id", "entry_due_at", "due_at", "due_changed_at", "on_time",
           "is_repeated", "accelerated")  # is_incident: set by migration 0750 from the message's kind
VISIT_COLUMNS = _COMMON + ("stage", "entered_at", "left_at", "left_action")
PERIOD_COLUMNS = _COMMON + ("opened_at", "closed_at", "closed_action", "outcome")


class Record:
    """A fact row on its way to the INSERT (`pos.facts.advance` sets its attributes)."""

    def __init__(self, **fields):
        self.__dict__.update(fields)


def load_policy(connection, tz_name: str) -> DeadlinePolicy:
    days = connection.execute(sa.text("SELECT day, is_working FROM calendar_override")).all()
    # SQLite hands the dates back as text.
    overrides = {(date.fromisoformat(d) if isinstance(d, str) else d): bool(w) for d, w in days}
    rules = {(j, s): StageRule(a, u) for j, s, a, u in
             connection.execute(sa.text("SELECT jurisdiction_id, stage, amount, unit FROM stage_deadline"))}
    return DeadlinePolicy(ProductionCalendar(overrides), ZoneInfo(tz_name), rules)


class _Deadlines:
    """The policy's stage deadlines, memoized where they depend on the local day only (working days)."""

    def __init__(self, policy: DeadlinePolicy, roots: dict[int, int]):
        self.policy, self.roots, self._days = policy, roots, {}

    def stage_due(self, stage: str, start: datetime, org_id: int | None, kind: str = "message") -> datetime:
        jurisdiction = self.roots.get(org_id) if org_id is not None else None
        if self.policy.rule(stage, jurisdiction, kind).unit != WORKING_DAYS:
            return self.policy.stage_due(stage, start, jurisdiction, kind)
        key = (stage, jurisdiction, kind, self.policy.local(start).date())
        if key not in self._days:
            self._days[key] = self.policy.stage_due(stage, start, jurisdiction, kind)
        return self._days[key]


def _answer_due_change(details) -> dict | None:
    """The entry's change of the answer deadline, if any. SQLite hands JSON over as text: most entries
    have none, and skipping their decoding saves a good part of the backfill."""
    if isinstance(details, str):
        if '"answer_due"' not in details:
            return None
        details = json.loads(details)
    return (details or {}).get("answer_due")


def _not_counted(_start, _end):
    return None  # migration 0500 has no working_hours yet: 0710 counts them (fill_working_hours)


def walk(message, entries, deadlines: _Deadlines, *, trust_current: bool = True,
         working_hours=_not_counted) -> tuple[list, list]:
    """The facts of one message from its history entries (in order): (visits, periods). `working_hours`:
    what counts a closed passage's working hours (the policy's `working_hours_between`); by default none
    (the tables as 0500 made them)."""
    policy = deadlines.policy
    visits, periods = [], []
    visit = period = None
    base, accelerated, answer_due = message.received_at, bool(message.accelerated), message.answer_due_at
    # An incident (public internet posts, migration 0750) runs on its own clock; before that migration only
    # its source says what it is.
    kind = getattr(message, "kind", None) or ("incident" if message.source == "internet" else "message")
    for e in entries:
        change = _answer_due_change(e.details)
        if e.action in (Action.SUBMIT, Action.RESUME):
            base = e.at
        if change is not None:
            accelerated = bool(change.get("accelerated", accelerated))
        if e.action in (Action.SUBMIT, Action.RESUME) or change is not None:
            answer_due = policy.answer_due(base, accelerated, kind,
                                           deadlines.roots.get(e.to_org_id) if e.to_org_id is not None else None)
        stage_due = None
        if e.to_stage in ACTIVE_STAGES:
            if facts.restarts(e.action, e.from_stage, e.to_stage):
                stage_due = min(deadlines.stage_due(e.to_stage, e.at, e.to_org_id, kind), answer_due)
            elif visit is not None and (change is not None or e.action == RECOMPUTED):
                stage_due = min(deadlines.stage_due(e.to_stage, visit.entered_at, e.to_org_id, kind), answer_due)
            elif visit is not None:
                stage_due = visit.due_at
        step = facts.Step(at=e.at, action=e.action, from_stage=e.from_stage, to_stage=e.to_stage,
                          organization_id=e.to_org_id, stage_due=stage_due, answer_due=answer_due,
                          accelerated=accelerated, is_repeated=bool(message.is_repeated),
                          is_incident=kind == "incident")
        done = facts.advance(visit, period, step, message_id=message.id, make_visit=Record, make_period=Record,
                             working_hours=working_hours)
        visit, period = done.visit, done.period
        if done.new_visit is not None:
            visits.append(done.new_visit)
        if done.new_period is not None:
            periods.append(done.new_period)
    if trust_current and message.stage in ACTIVE_STAGES:
        if visit is not None:
            visit.due_at = message.stage_due_at
        if period is not None:
            period.due_at = message.answer_due_at
    return visits, periods


def backfill(connection, tz_name: str, *, chunk: int = 5000, trust_current: bool = True) -> tuple[int, int]:
    """Write the facts of every message from its history; the tables must hold none yet. (visits, periods)."""
    roots = dict(connection.execute(
        sa.select(organization_t.c.id, sa.func.coalesce(organization_t.c.root_id, organization_t.c.id))).all())
    deadlines = _Deadlines(load_policy(connection, tz_name), roots)
    low, high = connection.execute(sa.select(sa.func.min(message_t.c.id), sa.func.max(message_t.c.id))).one()
    counts = [0, 0]
    if low is None:
        return 0, 0
    for start in range(low, high + 1, chunk):
        in_chunk = lambda c: c.between(start, start + chunk - 1)  # noqa: E731
        messages = {m.id: m for m in connection.execute(sa.select(message_t).where(in_chunk(message_t.c.id)))}
        entries = connection.execute(sa.select(history_t).where(in_chunk(history_t.c.message_id))
                                     .order_by(history_t.c.message_id, history_t.c.id)).all()
        visits, periods = [], []
        for message_id, group in groupby(entries, key=lambda e: e.message_id):
            v, p = walk(messages[message_id], group, deadlines, trust_current=trust_current)
            visits += v
            periods += p
        for table, columns, rows, i in (("stage_visit", VISIT_COLUMNS, visits, 0),
                                        ("answer_period", PERIOD_COLUMNS, periods, 1)):
            if rows:
                _write(connection, table, columns, rows)
                counts[i] += len(rows)
    return counts[0], counts[1]


def _sqlite_value(value):
    if isinstance(value, datetime):  # as SQLAlchemy stores an aware datetime on SQLite: UTC, no offset
        return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ", "microseconds")
    return value


def _write(connection, table: str, columns: tuple[str, ...], rows: list[Record]) -> None:
    """Straight to the driver, in the migration's transaction: COPY on PostgreSQL, executemany on SQLite
    (SQLAlchemy's per-value processing cost more than the rest of the backfill)."""
    raw = connection.connection.driver_connection
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(tuple(getattr(r, c) for c in columns))
        return
    cur = raw.cursor()
    try:
        cur.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' for _ in columns)})",
                        [tuple(_sqlite_value(getattr(r, c)) for c in columns) for r in rows])
    finally:
        cur.close()


# --- migration 0710: what later migrations add to the facts of old data ---------------------------------

visit_hours_t = sa.table("stage_visit", sa.column("id", sa.Integer), sa.column("entered_at", _t()),
                         sa.column("left_at", _t()), sa.column("working_hours", sa.Float))
message_place_t = sa.table("message", sa.column("id", sa.Integer), sa.column("address", sa.String),
                           sa.column("place_settlement", sa.String), sa.column("place_street", sa.String))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def fill_working_hours(connection, tz_name: str, *, chunk: int = 50_000) -> int:
    """`stage_visit.working_hours` of every closed passage that has none: the working hours from entry to
    exit on the production calendar in force, as the live recording counts them when a passage closes
    (one `WorkingClock` table for the whole span: a subtraction per passage). The passages updated."""
    from pos.deadlines import WorkingClock
    policy = load_policy(connection, tz_name)
    v = visit_hours_t.c
    todo = sa.and_(v.left_at.is_not(None), v.working_hours.is_(None))
    low, high, first, last = connection.execute(
        sa.select(sa.func.min(v.id), sa.func.max(v.id), sa.func.min(v.entered_at), sa.func.max(v.left_at))
        .where(todo)).one()
    if low is None:
        return 0
    clock = WorkingClock(policy, policy.local(_aware(first)).date(), policy.local(_aware(last)).date())
    done = 0
    for start in range(low, high + 1, chunk):
        rows = connection.execute(sa.select(v.id, v.entered_at, v.left_at)
                                  .where(todo, v.id.between(start, start + chunk - 1))).all()
        values = [(i, clock.hours(_aware(entered), _aware(left))) for i, entered, left in rows]
        _update(connection, "stage_visit", ("working_hours",), values)
        done += len(values)
    return done


def fill_places(connection, *, chunk: int = 50_000) -> int:
    """`message.place_settlement`, `place_street` of every message: the place its address names
    (pos/services/addresses.py `place`, as the model sets it when a message is written). The messages
    with a place."""
    from pos.services.addresses import place
    m = message_place_t.c
    low, high = connection.execute(sa.select(sa.func.min(m.id), sa.func.max(m.id))).one()
    done = 0
    if low is None:
        return 0
    for start in range(low, high + 1, chunk):
        rows = connection.execute(sa.select(m.id, m.address).where(m.id.between(start, start + chunk - 1),
                                                                   m.address != "")).all()
        values = [(i, found.settlement, found.street) for i, address in rows
                  if (found := place(address or "")) is not None]
        _update(connection, "message", ("place_settlement", "place_street"), values)
        done += len(values)
    return done


def _update(connection, table: str, columns: tuple[str, ...], values: list[tuple]) -> None:
    """Set `columns` of the rows (id, *values): on PostgreSQL one COPY into a temporary table and one
    UPDATE … FROM it; on SQLite executemany."""
    if not values:
        return
    raw = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        types = {"working_hours": "double precision"}
        with raw.cursor() as cur:
            cur.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS _fill_{table} (id integer PRIMARY KEY, "
                        + ", ".join(f"{c} {types.get(c, 'text')}" for c in columns) + ") ON COMMIT DROP")
            cur.execute(f"TRUNCATE _fill_{table}")
            with cur.copy(f"COPY _fill_{table} (id, {', '.join(columns)}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
            # The chunk's id range bounds the UPDATE's side of the join: without it (and a temporary table
            # without statistics) the planner may read the whole table for each chunk.
            low, high = min(r[0] for r in values), max(r[0] for r in values)
            cur.execute(f"ANALYZE _fill_{table}")
            cur.execute(f"UPDATE {table} SET " + ", ".join(f"{c} = f.{c}" for c in columns)
                        + f" FROM _fill_{table} f WHERE {table}.id = f.id AND {table}.id BETWEEN %s AND %s",
                        (low, high))
        return
    cur = raw.cursor()
    try:
        cur.executemany(f"UPDATE {table} SET " + ", ".join(f"{c} = ?" for c in columns) + " WHERE id = ?",
                        [(*row[1:], row[0]) for row in values])
    finally:
        cur.close()
