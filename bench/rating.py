"""The monthly rating at scale: `python -m bench rating [--messages 1000000] [--databases postgresql,sqlite]`.

The data is made by bench/generate.py (realistic stage passages) into a database kept between runs
(PostgreSQL `pos_bench_rating`, SQLite a file in the temporary directory): when it already holds that many
messages it is reused, otherwise made again. Then `pos.services.rating.compute` of one month (the last full
month before the generator's NOW) is timed over several runs, beside a floor measured in the same run:
`SELECT count(*) FROM stage_visit` (one scan of the table the rating reads). The issue's target: under
1 s at 1,000,000 messages on PostgreSQL.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import text
from sqlmodel import Session

from bench.generate import NOW, TZ_NAME, generate
from pos import migrate
from pos.db import make_engine, normalize_url
from pos.services import rating

MONTH = rating.previous_month(NOW.date().replace(day=1))


def database(kind: str, n: int, pg_url: str, seed: int, stem: str = "rating") -> tuple[str, bool]:
    """The URL of a database holding n generated messages, and whether it was made now (the SQLite file
    is named by `stem`, the benchmark's)."""
    if kind == "sqlite":
        path = Path(os.environ.get("BENCH_SQLITE_DIR", tempfile.gettempdir())) / f"pos-bench-{stem}-{n}-{seed}.db"
        url = f"sqlite:///{path}"
        if path.exists() and _count(url) == n:
            return url, False
        make_engine(url).dispose()  # the count's pooled connection would go on reading the removed file
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        generate(url, n, seed)
        return url, True
    url = normalize_url(pg_url)
    if _count(url) == n:
        return url, False
    base, _, name = url.rpartition("/")
    make_engine(url).dispose()
    admin = make_engine(f"{base}/postgres").execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    generate(url, n, seed)
    return url, True


def _count(url: str) -> int | None:
    try:
        with make_engine(url).connect() as conn:
            return conn.execute(text("SELECT count(*) FROM message")).scalar()
    except Exception:  # no database, no table yet: made anew
        return None


def _runs(fn, runs: int) -> list[float]:
    fn()  # warm-up: the caches, the plan
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def run_one(kind: str, n: int, pg_url: str, seed: int, runs: int) -> dict:
    started = time.perf_counter()
    url, made = database(kind, n, pg_url, seed)
    prepared = time.perf_counter() - started
    migrate.upgrade(url)  # a reused database gets the indexes of newer migrations
    engine = make_engine(url)
    with Session(engine) as session:
        visits = session.execute(text("SELECT count(*) FROM stage_visit")).scalar()
        floor = _runs(lambda: session.execute(text("SELECT count(*) FROM stage_visit")).scalar(), runs)
        result = []
        times = _runs(lambda: result.append(rating.compute(session, MONTH, TZ_NAME)), runs)
    rated = result[-1]
    return {"kind": kind, "messages": n, "visits": visits, "made": made, "prepare_s": prepared,
            "floor": floor, "rating": times, "bodies": len(rated),
            "passages": sum(r.passages for r in rated)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench rating", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--databases", default="postgresql,sqlite")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=232)
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_RATING_DATABASE_URL",
                                                           "postgresql://postgres@127.0.0.1:5432/pos_bench_rating"),
                        help="kept between runs and reused when it holds that many messages")
    args = parser.parse_args(argv)
    load = os.getloadavg()
    print(f"rating of {MONTH:%Y-%m} (pos.services.rating.compute); {os.cpu_count()} cores; "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("floor: SELECT count(*) FROM stage_visit, in the same run; times in ms, min / median / max of "
          f"{args.runs} runs after a warm-up")
    print(f"{'database':<11}{'messages':>10}{'visits':>10}{'data':>14}  {'what':<8}{'min':>8}{'median':>8}"
          f"{'max':>8}  ratio to floor")
    for kind in [k.strip() for k in args.databases.split(",") if k.strip()]:
        r = run_one(kind, args.messages, args.pg_url, args.seed, args.runs)
        data = f"made {r['prepare_s']:.0f} s" if r["made"] else "reused"
        floor_median = statistics.median(r["floor"])
        for index, (what, values) in enumerate((("floor", r["floor"]), ("rating", r["rating"]))):
            head = f"{kind:<11}{r['messages']:>10}{r['visits']:>10}{data:>14}" if index == 0 else " " * 45
            median = statistics.median(values)
            ratio = f"{median / floor_median:.1f}×" if what == "rating" else ""
            print(f"{head}  {what:<8}{min(values) * 1000:>8.1f}{median * 1000:>8.1f}{max(values) * 1000:>8.1f}"
                  f"  {ratio}", flush=True)
        print(" " * 47 + f"{r['bodies']} ИОГВ, {r['passages']} passages counted", flush=True)
    return 0
