"""Pages as a browser gets them: `python -m bench pages [--messages 1000000] [--databases postgresql,sqlite]`.

The data is made by bench/generate.py into a database kept between runs (PostgreSQL `pos_bench_pages`,
`BENCH_PAGES_DATABASE_URL`; SQLite a file in the temporary directory, `BENCH_SQLITE_DIR`), reused while it
holds that many messages, migrated to the newest schema, with the draft rating of the generator's last
full month computed once. The platform is then served as in production: gunicorn with pos/gunicorn_conf.py
and 2 worker processes, the clock at the generator's NOW (`POS_CLOCK_FILE`), the app of `bench.served`
(the platform's own, with a count of SQL statements per request in a response header). Beside it, served
at the same time, a bare Flask app (a 50-row table rendered from a Python list, same gunicorn settings) is
the floor.

Each page of `PAGES` is asked as the person it is for (the seed's staff logins the generator keeps,
password `demo`), warmed up, then asked `--requests` times one after another, each request in turn with
one of the bare app's; the table gives per page the median and 95th percentile of the wall time of a
request (the body read to its end), the body's bytes, the SQL statements of one request, and the 95th
percentile over that of the bare app's requests asked in turn with it (the floor's row: all of them).

`PAGES` is one list; other benchmarks' pages join it as `Page`s or as tuples
`(label, login, path_or_callable, headers)` (`Page(*t)`): a path is a string, or a callable given a
`Session` on the bench database that returns one (to look up an id).
"""
from __future__ import annotations

import argparse
import math
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import requests
from sqlmodel import Session, select

from bench.generate import NOW, TZ_NAME
from bench.inbox_pages import INBOX_PAGES
from bench.rating import MONTH, database
from bench.served import SQL_HEADER
from pos import migrate, queue
from pos.db import make_engine
from pos.models import RoleGrant, User

PASSWORD = "demo"  # seed/organizations.py DEMO_PASSWORD: the generator keeps the seed's staff
WORKERS = 2


@dataclass(frozen=True)
class Page:
    label: str
    login: str
    path: str | Callable[[Session], str]
    headers: dict = field(default_factory=dict)

    def url_path(self, session: Session) -> str:
        return self.path(session) if callable(self.path) else self.path


def _org_of(login: str) -> Callable[[Session], int]:
    def find(session: Session) -> int:
        return session.exec(select(RoleGrant.organization_id).join(User, User.id == RoleGrant.user_id)
                            .where(User.login == login, RoleGrant.organization_id.is_not(None))).first()
    return find


_ZHKH = _org_of("zhkh.curator")  # the Ministry of housing (ЖКХ), the largest executive body
def _filtered(page: str) -> Callable[[Session], str]:
    """The page with a filter: one executive body's subtree over a past full month (the rating's month)."""
    def path(session: Session) -> str:
        last = (MONTH.replace(month=MONTH.month % 12 + 1, year=MONTH.year + MONTH.month // 12)
                - MONTH.resolution).isoformat()
        return (f"/staff/analytics/{page}?date_from={MONTH.isoformat()}&date_to={last}"
                f"&organization_id={_ZHKH(session)}")
    return path


ANALYTICS_TABS = (("deadlines", "Сроки"), ("satisfaction", "Удовлетворённость"), ("problems", "Частые проблемы"),
                  ("summary", "Сводка"))

PAGES: list[Page | tuple] = [
    *INBOX_PAGES,  # issue 13's table: the inboxes, their search, the message page
    *[Page(f"«{label}»", "analyst", f"/staff/analytics/{name}") for name, label in ANALYTICS_TABS],
    *[Page(f"«{label}», ЖКХ за {MONTH:%m.%Y}", "analyst", _filtered(name)) for name, label in ANALYTICS_TABS],
    Page("«Сроки», куратор ЖКХ", "zhkh.curator", "/staff/analytics/deadlines"),
    Page(f"Рейтинг ИОГВ за {MONTH:%m.%Y}", "analyst", "/staff/rating"),
    Page("Рейтинг ИОГВ, куратор ЖКХ", "zhkh.curator", "/staff/rating"),
    Page("Выгрузка «Сроки по этапам», CSV", "analyst", "/staff/analytics/deadlines?format=csv&table=stages"),
    Page("Выгрузка «Частые проблемы»: категории, XLSX", "analyst",
         "/staff/analytics/problems?format=xlsx&table=categories"),
    Page(f"Выгрузка рейтинга за {MONTH:%m.%Y}, XLSX", "analyst", f"/staff/rating/export.xlsx?month={MONTH:%Y-%m}"),
]


def as_page(item: Page | tuple) -> Page:
    return item if isinstance(item, Page) else Page(*item)


# --- the servers -------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn serving `target` (bench.served:app or :bare) with the production settings; a context."""

    def __init__(self, target: str, env: dict[str, str], workdir: Path):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        # The servers' logs outlive the run's temporary directory: they explain a failed page.
        logs = Path(tempfile.gettempdir()) / "pos-bench-pages"
        logs.mkdir(exist_ok=True)
        self.log = open(logs / f"gunicorn-{target.rsplit(':', 1)[-1]}.log", "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:pos.gunicorn_conf", "--workers", str(WORKERS),
             "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning", target],
            env={**os.environ, **env}, stdout=self.log, stderr=subprocess.STDOUT,
            cwd=str(Path(__file__).resolve().parent.parent))

    def __enter__(self) -> "Server":
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log.name}")
            try:
                requests.get(self.base + "/", timeout=5, allow_redirects=False)
                return self
            except requests.ConnectionError:
                time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer in 120 s; see {self.log.name}")

    def __exit__(self, *_exc) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def sign_in(base: str, login: str) -> requests.Session:
    client = requests.Session()
    form = client.get(f"{base}/login", timeout=60)
    token = form.text.split('name="csrf_token"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    done = client.post(f"{base}/login", data={"login": login, "password": PASSWORD, "csrf_token": token},
                       allow_redirects=False, timeout=60)
    if done.status_code != 303:
        raise RuntimeError(f"{login}: sign-in answered {done.status_code}")
    return client


# --- measuring ---------------------------------------------------------------------------------

class Timed:
    """The median and 95th percentile of `self.times` (seconds)."""
    times: list[float]

    @property
    def p50(self) -> float:
        return statistics.median(self.times)

    @property
    def p95(self) -> float:
        ordered = sorted(self.times)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]  # nearest rank


@dataclass
class Measured(Timed):
    label: str
    times: list[float]
    size: int
    statements: int | None
    status: int
    floor: Timed | None = None  # the bare app's requests asked in turn with this page's


@dataclass
class Floor(Timed):
    times: list[float]


def _timed_get(client: requests.Session, url: str, headers: dict | None) -> tuple[float, requests.Response]:
    started = time.perf_counter()
    response = client.get(url, headers=headers, timeout=120, allow_redirects=False)
    response.content  # the body read to its end
    return time.perf_counter() - started, response


def measure(client: requests.Session, url: str, label: str, requests_n: int, warmup: int,
            headers: dict | None = None, floor: tuple[requests.Session, str] | None = None) -> Measured:
    """`requests_n` requests of `url` after `warmup`; with `floor` (a client and the bare app's URL), each in
    turn with one of the bare app's, so that both see the same machine: a shared machine's speed drifts over a
    run, and a floor measured before the pages made their ratio tell the drift as much as the page."""
    for _ in range(warmup):
        client.get(url, headers=headers, timeout=120).content
        if floor:
            floor[0].get(floor[1], timeout=120).content
    times, floor_times, last = [], [], None
    for _ in range(requests_n):
        if floor:
            floor_times.append(_timed_get(floor[0], floor[1], None)[0])
        took, last = _timed_get(client, url, headers)
        times.append(took)
    if last.status_code != 200:
        raise RuntimeError(f"{label}: {url} answered {last.status_code} (the server's log: "
                           f"{Path(tempfile.gettempdir()) / 'pos-bench-pages'})")
    statements = last.headers.get(SQL_HEADER)
    return Measured(label, times, len(last.content), int(statements) if statements is not None else None,
                    last.status_code, Floor(floor_times) if floor else None)


def _prepare(url: str) -> None:
    """The newest schema, and the rating page's draft (computed once, kept in the bench database)."""
    migrate.upgrade(url)
    from pos import clock
    from pos.services import rating_snapshots
    from pos.services.messages import Env
    with Session(make_engine(url)) as session, clock.frozen(NOW):
        if rating_snapshots.get(session, MONTH) is None:
            rating_snapshots.compute_draft(session, Env(timezone=TZ_NAME), MONTH)


@contextmanager
def production_env(url: str, extra: dict[str, str] | None = None) -> Iterator[tuple[dict[str, str], Path]]:
    """The environment gunicorn serves the platform with (database `url`, the clock at the generator's NOW,
    a fresh key, instance and upload folders in a temporary directory, a Redis), and that directory."""
    with tempfile.TemporaryDirectory(prefix="pos-bench-pages-") as tmp:
        work = Path(tmp)
        (work / "clock").write_text(NOW.isoformat())
        # The sessions live in Redis: BENCH_REDIS_URL, else an embedded one of this run.
        redis_url = os.environ.get("BENCH_REDIS_URL") or queue.start_embedded(work / "redis.rdb")
        env = {"DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(32), "POS_CLOCK_FILE": str(work / "clock"),
               "POS_INSTANCE_DIR": str(work), "REDIS_URL": redis_url, "UPLOAD_DIR": str(work / "uploads"),
               "POS_TIMEZONE": TZ_NAME, "POS_QUEUE_NAMESPACE": f"bench-{secrets.token_hex(4)}", **(extra or {})}
        try:
            yield env, work
        finally:
            queue.stop_embedded()


def run_one(kind: str, n: int, pg_url: str, seed: int, pages: list[Page], requests_n: int, warmup: int,
            log=print) -> dict:
    started = time.perf_counter()
    url, made = database(kind, n, pg_url, seed, stem="pages")
    _prepare(url)
    prepared = time.perf_counter() - started
    with production_env(url) as (env, work):
        floor, results = _serve(url, env, work, pages, requests_n, warmup, kind, log)
    return {"kind": kind, "messages": n, "made": made, "prepare_s": prepared, "floor": floor, "pages": results}


def _serve(url: str, env: dict, work: Path, pages: list[Page], requests_n: int, warmup: int, kind: str,
           log) -> tuple[Measured, list[Measured]]:
    """Every page, each request in turn with one of the bare app's (both servers up at once, asked one
    request at a time); the floor's row is all of the bare app's requests."""
    results = []
    engine = make_engine(url)
    with Session(engine) as session:  # closed before serving: on SQLite every transaction takes the write lock
        paths = [page.url_path(session) for page in pages]
    engine.dispose()
    with Server("bench.served:bare", env, work) as bare, Server("bench.served:app", env, work) as server:
        bare_client = requests.Session()
        clients: dict[str, requests.Session] = {}
        for page, path in zip(pages, paths):
            client = clients.get(page.login) or clients.setdefault(page.login, sign_in(server.base, page.login))
            results.append(measure(client, server.base + path, page.label, requests_n, warmup, page.headers,
                                   floor=(bare_client, bare.base + "/")))
            if log:
                log(f"  {kind}: {page.label}: p95 {results[-1].p95 * 1000:.0f} ms", file=sys.stderr)
        size = len(bare_client.get(bare.base + "/", timeout=120).content)
    floor = Measured("bare Flask, 50 rows", [t for m in results for t in m.floor.times], size, None, 200)
    return floor, results


def table(result: dict) -> list[str]:
    floor: Measured = result["floor"]
    lines = ["| page | p50 ms | p95 ms | bytes | SQL | p95 / bare |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for m in [*result["pages"], floor]:
        sql = "—" if m is floor or m.statements is None else str(m.statements)
        # Over the bare app's requests asked in turn with this page's (the floor's row: over all of them).
        beside = m.floor if m.floor is not None else floor
        lines.append(f"| {m.label} | {m.p50 * 1000:.1f} | {m.p95 * 1000:.1f} | {m.size} | {sql} | "
                     f"{m.p95 / beside.p95:.1f} |")
    return lines


def main(argv: list[str] | None = None, pages: Iterable[Page | tuple] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench pages", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000,
                        help="generated messages (SQLite at 1,000,000 takes about 10 minutes to generate)")
    parser.add_argument("--databases", default="postgresql,sqlite")
    parser.add_argument("--requests", type=int, default=200, help="sequential requests per page, after the warm-up")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--seed", type=int, default=232)
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PAGES_DATABASE_URL",
                                                           "postgresql://postgres@127.0.0.1:5432/pos_bench_pages"),
                        help="kept between runs and reused when it holds that many messages")
    args = parser.parse_args(argv)
    chosen = [as_page(p) for p in (PAGES if pages is None else pages)]
    for kind in [k.strip() for k in args.databases.split(",") if k.strip()]:
        load = os.getloadavg()
        r = run_one(kind, args.messages, args.pg_url, args.seed, chosen, args.requests, args.warmup)
        data = f"made in {r['prepare_s']:.0f} s" if r["made"] else "reused"
        print(f"\n{kind}, {args.messages} messages ({data}); {os.cpu_count()} cores, load average "
              f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; gunicorn {WORKERS} workers (pos/gunicorn_conf.py); "
              f"{args.requests} sequential requests per page after {args.warmup} to warm up")
        for line in table(r):
            print(line, flush=True)
    return 0
