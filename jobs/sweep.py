"""The deadline sweep: set-based statements over the active messages, reminders in the same transaction.

What the sweep has told is kept in its own narrow table, `deadline_mark` (a message, the stage deadline it
was told about, the line crossed: due soon or overdue), so a beat never rewrites the wide message row and
its two dozen indexes (issue 13: marking 100,000 messages overdue after an outage was a 50-second UPDATE
of `message`). Each beat, in one transaction:

1. drops the marks that no longer hold: the message finished, or its deadline moved (a new stage, a
   recomputation: a deadline moved later goes back quietly);
2. marks what crossed a line since the last beat (no mark yet, or due soon and now overdue), stamped with
   the beat's moment;
3. writes the reminders of the marks of this moment, built in SQL from the marks and their messages
   (INSERT … SELECT; the idempotency key names the event, the message and the deadline, so a reminder is
   never lost nor sent twice, even if a beat runs again at the same moment).

A message is overdue when its stage deadline has passed (what the inbox shows, pos/services/inbox.py); the
marks only remember who has been reminded.
"""
from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime

from sqlalchemy import Integer, String, and_, bindparam, case, cast, delete, exists, literal, null, or_, select, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import JSON
from sqlmodel import Session

from pos import clock
from pos.deadlines import DeadlinePolicy
from pos.models import DeadlineMark, Message, OutboxEvent
from pos.services.directory import load_policy
from pos.workflow import ACTIVE_STAGES, Role, Stage

log = logging.getLogger(__name__)

_m = Message.__table__
_d = DeadlineMark.__table__
_o = OutboxEvent.__table__
# Inlined, not bound: a partial index over the active stages is only used for the literal list.
_ACTIVE = _m.c.stage.in_(bindparam("active_stages", [str(s) for s in ACTIVE_STAGES], expanding=True,
                                   literal_execute=True))


# JSON and time formatting in SQL, one spelling per database.
def _spelled(name: str, sqlite_sql: str, postgresql_sql: str):
    """A JSON-valued SQL function written `sqlite_sql` or `postgresql_sql`, its arguments at {}."""
    function = type(name, (FunctionElement,), {"type": JSON(), "inherit_cache": True})
    for dialect, sql in ((None, sqlite_sql), ("postgresql", postgresql_sql)):
        def compile_(element, compiler, sql=sql, **kw):
            return sql.format(compiler.process(element.clauses, **kw))
        compiles(function, *([dialect] if dialect else []))(compile_)
    return function


_json_object = _spelled("_json_object", "json_object({})", "json_build_object({})")
_json_array = _spelled("_json_array", "json_array({})", "json_build_array({})")
# A JSON value chosen by CASE: SQLite loses its JSON-ness on the way unless it is read again.
_as_json = _spelled("_as_json", "json({})", "{}")
_json_false = _spelled("_json_false", "json('false')", "false")


class _utc_text(FunctionElement):
    """A UTC moment as text: `key` 20260311T030000 (the idempotency key), `iso` as datetime.isoformat()."""
    type = String()
    inherit_cache = True

    def __init__(self, value, style: str):
        self.style = style
        super().__init__(value)


@compiles(_utc_text)
def _utc_text_sqlite(element, compiler, **kw):
    # SQLite keeps a UTC moment as 'YYYY-MM-DD HH:MM:SS.ffffff'.
    value = compiler.process(element.clauses, **kw)
    if element.style == "key":
        return f"strftime('%Y%m%dT%H%M%S', {value})"
    return (f"(strftime('%Y-%m-%dT%H:%M:%S', {value}) || CASE WHEN substr({value}, 21, 6) IN ('', '000000') "
            f"THEN '' ELSE '.' || substr({value}, 21, 6) END || '+00:00')")


@compiles(_utc_text, "postgresql")
def _utc_text_pg(element, compiler, **kw):
    value = compiler.process(element.clauses, **kw)
    utc = f"(({value}) AT TIME ZONE 'UTC')"
    if element.style == "key":
        return f"to_char({utc}, 'YYYYMMDD\"T\"HH24MISS')"
    return (f"(to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN to_char({utc}, 'US') = '000000' "
            f"THEN '' ELSE '.' || to_char({utc}, 'US') END || '+00:00')")


def _insert(session: Session, table):
    dialect = session.get_bind().dialect.name
    return {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect](table)


def _drop_stale(session: Session, limit: datetime) -> int:
    """Marks whose message finished or whose deadline is no longer the one they name. A mark names a deadline
    before the due-soon limit of its beat, and the limit only moves on: the messages that may hold a mark are
    the active ones due before this beat's limit, read from the queue's index alone. Found by a SELECT of its
    own (MATERIALIZED): joined into the DELETE, PostgreSQL reads every such message's row to recheck it."""
    holds = exists().where(_m.c.id == _d.c.message_id, _ACTIVE, _m.c.stage_due_at < limit,
                           _m.c.stage_due_at == _d.c.stage_due_at)
    stale = select(_d.c.message_id).where(~holds).cte("stale").prefix_with("MATERIALIZED")
    # Counted from RETURNING: SQLite tells no rowcount of a statement that begins WITH.
    dropped = delete(_d).where(_d.c.message_id.in_(select(stale.c.message_id))).returning(_d.c.message_id)
    return len(session.execute(dropped).all())


def _mark(session: Session, now: datetime, limit: datetime) -> Counter:
    """Mark what crossed a line since the last beat; returns how many crossed each line."""
    line = case((_m.c.stage_due_at < now, "overdue"), else_="due_soon")
    crossed = (select(_m.c.id, _m.c.stage_due_at, line, literal(now, type_=_d.c.marked_at.type))
               .select_from(_m.outerjoin(_d, _d.c.message_id == _m.c.id))
               .where(_ACTIVE, _m.c.stage_due_at < limit,
                      or_(_d.c.message_id.is_(None), _d.c.stage_due_at != _m.c.stage_due_at,
                          and_(_d.c.state == "due_soon", _m.c.stage_due_at < now))))
    stmt = _insert(session, _d).from_select(["message_id", "stage_due_at", "state", "marked_at"], crossed)
    stmt = stmt.on_conflict_do_update(index_elements=["message_id"], set_={
        "stage_due_at": stmt.excluded.stage_due_at, "state": stmt.excluded.state,
        "marked_at": stmt.excluded.marked_at}).returning(_d.c.state)
    return Counter(session.execute(stmt).scalars())


def _remind(session: Session, now: datetime) -> int:
    """The reminders of this moment's marks: the one responsible told, and the curator of an overdue one."""
    events = union_all(*(select(literal(name).label("event")) for name in ("overdue", "escalated", "due_soon"))
                       ).subquery("ev")
    ev = events.c.event
    escalated = ev == "escalated"
    pool = case((_m.c.stage == str(Stage.MODERATION), _json_array(cast(null(), Integer), str(Role.MODERATOR))),
                else_=_json_array(_m.c.organization_id, str(Role.COORDINATOR)))
    user_ids = case((or_(escalated, _m.c.assignee_id.is_(None)), _json_array()),
                    else_=_json_array(_m.c.assignee_id))
    org_role = case((escalated, _json_array(_m.c.organization_id, str(Role.CURATOR))),
                    (_m.c.assignee_id.is_not(None), null()), else_=pool)
    payload = _json_object(
        "event", ev, "message_id", _m.c.id, "history_id", null(), "to_applicant", _json_false(),
        "user_ids", _as_json(user_ids), "org_role", _as_json(org_role),
        "data", _json_object("stage", _m.c.stage, "due", _utc_text(_d.c.stage_due_at, "iso")))
    key = (literal("sweep:") + ev + ":" + cast(_m.c.id, String) + ":" + _utc_text(_d.c.stage_due_at, "key"))
    # Each mark's own event; an overdue one outside moderation, with an organization, also goes to its curator.
    told = or_(ev == _d.c.state, escalated & (_d.c.state == "overdue") & _m.c.organization_id.is_not(None)
               & (_m.c.stage != str(Stage.MODERATION)))
    rows = (select(literal(now, type_=_o.c.created_at.type), literal("notify"), payload, key, literal("pending"),
                   literal(0), literal(""))
            .select_from(_d.join(_m, _m.c.id == _d.c.message_id).join(events, told))
            .where(_d.c.marked_at == now))
    stmt = _insert(session, _o).from_select(
        ["created_at", "kind", "payload", "idempotency_key", "status", "attempts", "last_error"], rows)
    stmt = stmt.on_conflict_do_nothing(index_elements=["idempotency_key"])
    return session.execute(stmt, execution_options={"preserve_rowcount": True}).rowcount


def sweep(session: Session, now: datetime, policy: DeadlinePolicy) -> dict[str, int]:
    """Mark due-soon and overdue messages and write their reminders; one transaction. Returns counts."""
    now = clock.as_utc(now)
    limit = policy.due_soon_limit(now)
    dropped = _drop_stale(session, limit)
    crossed = _mark(session, now, limit)
    reminders = _remind(session, now) if crossed else 0
    session.commit()
    counts = {"overdue": crossed["overdue"], "due_soon": crossed["due_soon"], "relaxed": dropped,
              "reminders": reminders}
    if crossed:
        log.info("deadline sweep: %s", counts)
    return counts


def states(session: Session) -> dict[int, str]:
    """The marks that hold, by message: due_soon or overdue (a message without one is «ok»)."""
    rows = session.execute(select(_d.c.message_id, _d.c.state).join(_m, _m.c.id == _d.c.message_id)
                           .where(_ACTIVE, _m.c.stage_due_at == _d.c.stage_due_at))
    return {message_id: state for message_id, state in rows}


def overdue_ids(session: Session) -> list[int]:
    return sorted(i for i, state in states(session).items() if state == "overdue")


def run() -> dict[str, int]:
    """RQ job: one sweep at the platform's time; the new reminders go to RQ at once."""
    from jobs import runtime
    from pos.services import outbox

    with runtime.session() as session:
        before = session.execute(select(_o.c.id).order_by(_o.c.id.desc()).limit(1)).scalar() or 0
        session.commit()
        counts = sweep(session, clock.now(), load_policy(session, runtime.env().timezone, runtime.env().max_postpone_days))
        new = list(session.execute(select(_o.c.id).where(_o.c.id > before, _o.c.status == "pending",
                                                         _o.c.idempotency_key.like("sweep:%"))).scalars())
        session.commit()
    outbox.dispatch(new)
    return counts
