"""The deadline sweep over 100,000 and 1,000,000 messages, on SQLite and PostgreSQL.

Synthetic messages are bulk-inserted (executemany on SQLite, COPY on PostgreSQL):
80 % finished (answered or rejected) with deadlines long past, 20 % in the five
active stages with stage deadlines spread over a month either side of "now".
Timed, each on the same table:
  first  — the first sweep: about half the active messages cross a line at once,
           their reminders are written (the worst case: a sweep after a long outage);
  steady — the next sweep five minutes later: a few cross, as in normal running;
  idle   — a sweep with nothing new (the cost of a beat).
"""
from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import MetaData, Table, func, select, text
from sqlmodel import Session

from jobs import sweep
from pos import migrate
from pos.db import make_engine, normalize_url
from pos.deadlines import DeadlinePolicy, ProductionCalendar
from pos.models import Applicant, Message, Organization, OutboxEvent, RoleGrant, User
from zoneinfo import ZoneInfo

ACTIVE = ("moderation", "coordination", "execution", "agreement", "approval")
NOW = datetime(2026, 3, 11, 3, 0, tzinfo=timezone.utc)  # a Wednesday, 12:00 in Blagoveshchensk


def _people(session: Session) -> dict:
    region = Organization(name="Правительство области", kind="region", regulation="amur-232", path="/")
    session.add(region)
    session.flush()
    region.root_id, region.path = region.id, f"/{region.id}/"
    body = Organization(name="Министерство ЖКХ", kind="executive_body", parent_id=region.id, root_id=region.id)
    session.add(body)
    session.flush()
    body.path = f"/{region.id}/{body.id}/"
    ids = {"org": body.id}
    for login, role in (("executor", "executor"), ("curator", "curator"), ("coordinator", "coordinator"),
                        ("head", "head")):
        user = User(login=login, full_name=login, created_at=NOW)
        session.add(user)
        session.flush()
        session.add(RoleGrant(user_id=user.id, role=role, organization_id=body.id))
        ids[login] = user.id
    applicant = Applicant(full_name="Заявитель", email="a@example.ru", created_at=NOW)
    session.add(applicant)
    session.flush()
    ids["applicant"] = applicant.id
    session.commit()
    return ids


def _rows(n: int, ids: dict, seed: int = 232):
    """Synthetic messages as tuples in the order of `COLUMNS`."""
    rnd = random.Random(seed)
    for i in range(1, n + 1):
        received = NOW - timedelta(minutes=rnd.randrange(0, 400 * 24 * 60))
        if rnd.random() < 0.8:
            stage = "answered" if rnd.random() < 0.9 else "rejected"
            stage_due = received + timedelta(days=rnd.randrange(1, 30))
            assignee = None
        else:
            stage = rnd.choice(ACTIVE)
            stage_due = NOW + timedelta(minutes=rnd.randrange(-30 * 24 * 60, 30 * 24 * 60))
            assignee = None if stage in ("moderation", "coordination") else (
                ids["executor"] if stage == "execution" else ids["head"])
        yield (f"Б-{i:07d}", ids["applicant"], "Синтетическое сообщение", "", "seed", ids["org"], stage,
               assignee if stage == "execution" else None, assignee, "", "", "", "", 0, False, False,
               received, received + timedelta(days=30), received, stage_due, "", 1)


COLUMNS = ("number", "applicant_id", "text", "address", "source", "organization_id", "stage", "executor_id",
           "assignee_id", "answer_text", "executor_position", "executor_name", "comment", "chain_round",
           "is_repeated", "accelerated", "received_at", "answer_due_at", "stage_entered_at", "stage_due_at",
           "rating_comment", "version")


def _check_columns(engine) -> None:
    """Every NOT NULL column without a server default must be in COLUMNS (the schema may grow)."""
    table = Table("message", MetaData(), autoload_with=engine)
    missing = [c.name for c in table.columns
               if not c.nullable and c.server_default is None and c.name not in COLUMNS and not c.primary_key]
    if missing:
        raise SystemExit(f"bench: message has new NOT NULL columns to fill: {missing}")


def _sqlite_value(value):
    if isinstance(value, datetime):  # what SQLAlchemy stores for an aware UTC datetime
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def load_sqlite(engine, n: int, ids: dict) -> None:
    placeholders = ", ".join("?" for _ in COLUMNS)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("BEGIN")
        batch = []
        for row in _rows(n, ids):
            batch.append(tuple(_sqlite_value(v) for v in row))
            if len(batch) == 50_000:
                cur.executemany(f"INSERT INTO message ({', '.join(COLUMNS)}) VALUES ({placeholders})", batch)
                batch.clear()
        if batch:
            cur.executemany(f"INSERT INTO message ({', '.join(COLUMNS)}) VALUES ({placeholders})", batch)
        cur.execute("COMMIT")
        cur.execute("PRAGMA analysis_limit=1000")
        cur.execute("ANALYZE")
    finally:
        raw.close()


def load_postgres(engine, n: int, ids: dict) -> None:
    raw = engine.raw_connection()
    try:
        with raw.driver_connection.cursor() as cur:
            with cur.copy(f"COPY message ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in _rows(n, ids):
                    copy.write_row(row)
        raw.driver_connection.commit()
        raw.driver_connection.autocommit = True
        raw.driver_connection.execute("VACUUM ANALYZE message")
        raw.driver_connection.autocommit = False
    finally:
        raw.close()


def fresh_database(kind: str, pg_url: str, tmp: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'bench.db'}"
    url = normalize_url(pg_url)
    base, _, name = url.rpartition("/")
    admin = make_engine(f"{base}/postgres").execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return url


def drop_database(kind: str, url: str) -> None:
    make_engine(url).dispose()
    if kind == "postgresql":
        base, _, name = url.rpartition("/")
        admin = make_engine(f"{base}/postgres").execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def timed(label: str, fn):
    started = time.perf_counter()
    result = fn()
    return label, time.perf_counter() - started, result


def run_one(kind: str, n: int, pg_url: str) -> list[tuple]:
    with tempfile.TemporaryDirectory(prefix="pos-bench-") as tmp:
        url = fresh_database(kind, pg_url, Path(tmp))
        try:
            migrate.upgrade(url)
            engine = make_engine(url)
            _check_columns(engine)
            with Session(engine, expire_on_commit=False) as session:
                ids = _people(session)
            _label, load_s, _ = timed("load", lambda: (load_postgres if kind == "postgresql" else load_sqlite)(
                engine, n, ids))
            policy = DeadlinePolicy(ProductionCalendar(), ZoneInfo("Asia/Yakutsk"))
            results = []
            with Session(engine, expire_on_commit=False) as session:
                for label, moment in (("first", NOW), ("steady", NOW + timedelta(minutes=5)),
                                      ("idle", NOW + timedelta(minutes=5))):
                    results.append(timed(label, lambda: sweep.sweep(session, moment, policy)))
                active = session.execute(select(func.count()).select_from(Message.__table__)
                                         .where(Message.stage.in_(ACTIVE))).scalar()
                outbox = session.execute(select(func.count()).select_from(OutboxEvent.__table__)).scalar()
                session.commit()
            return [(kind, n, load_s, active, outbox, results)]
        finally:
            drop_database(kind, url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                           "postgresql://postgres@127.0.0.1:5432/pos_bench"),
                        help="a database of that name is created and dropped (BENCH_DATABASE_URL)")
    args = parser.parse_args(argv)
    print(f"deadline sweep benchmark; {os.cpu_count()} cores; now = {NOW.isoformat()}")
    print(f"{'database':<11}{'messages':>10}{'active':>9}{'load s':>8}  {'sweep':<7}{'s':>7}  marked")
    for kind in [k.strip() for k in args.databases.split(",") if k.strip()]:
        for n in [int(s) for s in args.sizes.split(",") if s.strip()]:
            for _kind, size, load_s, active, outbox, results in run_one(kind, n, args.pg_url):
                for index, (label, seconds, counts) in enumerate(results):
                    head = f"{kind:<11}{size:>10}{active:>9}{load_s:>8.1f}" if index == 0 else " " * 38
                    marked = (f"overdue {counts['overdue']}, due soon {counts['due_soon']}, "
                              f"reminders {counts['reminders']}")
                    print(f"{head}  {label:<7}{seconds:>7.2f}  {marked}", flush=True)
    return 0
