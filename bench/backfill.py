"""The backfill of migration 0500 (stage visits and answer periods from the history) on many messages.

`python -m bench.backfill [--messages 1000000] [--databases sqlite,postgresql] [--pg-url URL]`

The demo data (walked through the real services: every stage, transfers, postponements, repeated
messages) is copied, doubling, until there are that many messages with their histories; then the facts
are emptied and backfilled, timed.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from sqlalchemy import MetaData, String, Table, cast, func, null, select, text
from sqlmodel import Session

from bench.sweep import drop_database, fresh_database
from pos import migrate
from pos.db import make_engine
from pos.facts_backfill import backfill
from pos.services.messages import Env


def _double(conn) -> int:
    """Copy every message and its history once (new ids above the current ones); the new count."""
    meta = MetaData()
    message = Table("message", meta, autoload_with=conn)
    history = Table("history_entry", meta, autoload_with=conn)
    offset = conn.execute(select(func.max(message.c.id))).scalar()
    shifted = {"id": message.c.id + offset, "number": "Б-" + cast(message.c.id + offset, String),
               "api_token": null(), "repeated_of_id": message.c.repeated_of_id + offset}
    columns = [c.name for c in message.columns]
    values = [shifted.get(name, message.c[name]) for name in columns]
    conn.execute(message.insert().from_select(columns, select(*values)))
    hcolumns = [c.name for c in history.columns if c.name != "id"]
    hvalues = [history.c.message_id + offset if name == "message_id" else history.c[name] for name in hcolumns]
    conn.execute(history.insert().from_select(hcolumns, select(*hvalues).order_by(history.c.id)))
    return conn.execute(select(func.count()).select_from(message)).scalar()


def run_one(kind: str, target: int, pg_url: str) -> tuple[int, int, float, float, float, tuple[int, int]]:
    import seed
    with tempfile.TemporaryDirectory(prefix="pos-bench-") as tmp:
        url = fresh_database(kind, pg_url, Path(tmp))
        try:
            migrate.upgrade(url)
            engine = make_engine(url)
            env = Env(timezone="Asia/Yakutsk", upload_dir=str(Path(tmp) / "uploads"))
            with Session(engine, expire_on_commit=False) as session:
                seed.load_demo(session, env)
            started = time.perf_counter()
            with engine.begin() as conn:
                count = conn.execute(text("SELECT count(*) FROM message")).scalar()
                while count < target:
                    count = _double(conn)
                entries = conn.execute(text("SELECT count(*) FROM history_entry")).scalar()
                conn.execute(text("DELETE FROM stage_visit"))
                conn.execute(text("DELETE FROM answer_period"))
            load_s = time.perf_counter() - started
            started, cpu = time.perf_counter(), time.process_time()
            with engine.begin() as conn:
                written = backfill(conn, "Asia/Yakutsk")
            return count, entries, load_s, time.perf_counter() - started, time.process_time() - cpu, written
        finally:
            drop_database(kind, url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.backfill", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                           "postgresql://postgres@127.0.0.1:5432/pos_bench"),
                        help="a database of that name is created and dropped (BENCH_DATABASE_URL)")
    args = parser.parse_args(argv)
    print(f"backfill of the facts (migration 0500); {os.cpu_count()} cores")
    print(f"{'database':<11}{'messages':>10}{'entries':>10}{'copy s':>8}{'backfill s':>12}{'cpu s':>8}"
          "  visits, periods  (cpu: this process's, the database server's not included)")
    for kind in [k.strip() for k in args.databases.split(",") if k.strip()]:
        count, entries, load_s, seconds, cpu, (visits, periods) = run_one(kind, args.messages, args.pg_url)
        print(f"{kind:<11}{count:>10}{entries:>10}{load_s:>8.1f}{seconds:>12.1f}{cpu:>8.1f}  {visits}, {periods}",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
