"""Open311 intake under load: `python -m bench intake [--databases postgresql,sqlite] [--requests N] [--threads 8]`.

A small fresh database (bench/generate.py, `--messages`, 2,000 by default: the seed's classifier and both
jurisdictions, staff, some history; PostgreSQL `pos_bench_intake`, `BENCH_INTAKE_DATABASE_URL`; SQLite a
file in the temporary directory), an API client with its key, and the platform served as in production
(`bench.pages.Server`: gunicorn with pos/gunicorn_conf.py, 2 workers, the app of `bench.served` counting its
SQL statements per request; the Open311 POST limit raised out of the way, still counted in Redis). Then
`--requests` valid `POST /open311/v2/requests.json` (the real service codes of `services.json`, Russian
descriptions, an address or a point, a contact now and then) are sent from `--threads` threads, each with a
`requests.Session` of its own, after a warm-up of a few per thread with another key. Printed: messages a
second (the requests over the wall time from the first to the last), the median and 95th percentile of a
request's time, the SQL statements of one POST, the CPU time per POST of the web workers, of the
PostgreSQL server processes and of the bench's own sending threads, all on the same cores (from /proc: what
the load costs, whatever else the machine runs), and the same load in the same run against
`bench.served:bare_post` (a Flask app that reads the form and answers, no database), with the ratio.

Afterwards the database is checked: exactly `--requests` messages of the key, each with its own number
ПОС-YYYY-NNNNNN (nothing lost, nothing doubled).
"""
from __future__ import annotations

import argparse
import itertools
import os
import re
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import requests
from sqlalchemy import func, text
from sqlmodel import Session, select

from bench.pages import WORKERS, Server, Timed, production_env
from bench.rating import database
from bench.served import SQL_HEADER
from pos import migrate
from pos.db import make_engine
from pos.models import Message
from pos.services import open311

PATH = "/open311/v2/requests.json"
NUMBER = re.compile(r"ПОС-\d{4}-\d{6,}")
STREETS = ("ул. Ленина", "ул. Зейская", "ул. Амурская", "ул. Горького", "ул. Пионерская", "ул. 50 лет Октября")
PROBLEMS = ("Яма на проезжей части у дома {n}, колёса проваливаются, нужна срочная заделка.",
            "Во дворе дома {n} не вывозят мусор уже неделю, контейнеры переполнены.",
            "Не горит уличное освещение от дома {n} до остановки, вечером темно и опасно.",
            "В подъезде дома {n} течёт крыша, после дождя вода на пятом этаже.",
            "Сломана детская площадка у дома {n}: качели без сиденья, торчат болты.")


@dataclass
class Load(Timed):
    label: str
    times: list[float]
    wall: float
    statuses: dict[int, int]
    statements: int | None = None
    # CPU seconds during the load: the web workers' ("app"), the database's, the bench's own ("client")
    cpu: dict[str, float] | None = None

    @property
    def rate(self) -> float:
        return len(self.times) / self.wall


def form(i: int, key: str, codes: list[str]) -> dict[str, str]:
    """The i-th request: a service, a text, an address or a point, the author's contact every other time."""
    data = {"api_key": key, "service_code": codes[i % len(codes)],
            "description": PROBLEMS[i % len(PROBLEMS)].format(n=i % 180 + 1)}
    if i % 3:
        data["address_string"] = f"г. Благовещенск, {STREETS[i % len(STREETS)]}, {i % 180 + 1}"
    else:
        data.update(lat=f"{50.25 + (i % 97) / 1000:.4f}", long=f"{127.50 + (i % 89) / 1000:.4f}")
    if i % 2:
        data.update(first_name="Иван", last_name=f"Петров{i % 50}", email=f"applicant{i % 500}@example.ru")
    return data


def cpu_seconds(pids) -> float:
    """The CPU time (user and system) the processes have used so far; none on a system without /proc."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    return total


def workers_of(server: Server) -> list[int]:
    try:
        return [int(pid) for pid in Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
                .read_text().split()]
    except OSError:
        return []


def backends(url: str) -> list[int]:
    """The PostgreSQL server processes serving the bench database (the web workers' pooled connections)."""
    with make_engine(url).connect() as conn:
        return list(conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                      "AND pid <> pg_backend_pid()")).scalars())


def load(base: str, key: str, codes: list[str], n: int, threads: int, label: str, warmup_key: str | None = None,
         warmup: int = 3, processes=None) -> Load:
    """n POSTs from `threads` threads (a `requests.Session` each), after `warmup` each with `warmup_key`.
    `processes()`: {what: pids} whose CPU time the load is charged with, asked after the warm-up."""
    numbers = itertools.count()
    lock = threading.Lock()
    times: list[float] = []
    statuses: dict[int, int] = {}
    statements: list[int] = []
    ready = threading.Barrier(threads + 1)

    def work(t: int) -> None:
        client = requests.Session()
        for w in range(warmup):
            client.post(base + PATH, data=form(t * warmup + w, warmup_key or key, codes), timeout=120).content
        ready.wait()
        mine, seen = [], {}
        while True:
            with lock:
                i = next(numbers)
            if i >= n:
                break
            started = time.perf_counter()
            response = client.post(base + PATH, data=form(i, key, codes), timeout=120)
            response.content
            mine.append(time.perf_counter() - started)
            seen[response.status_code] = seen.get(response.status_code, 0) + 1
            if SQL_HEADER in response.headers and response.status_code == 200:
                statements.append(int(response.headers[SQL_HEADER]))
        with lock:
            times.extend(mine)
            for code, count in seen.items():
                statuses[code] = statuses.get(code, 0) + count

    workers = [threading.Thread(target=work, args=(t,), daemon=True) for t in range(threads)]
    for thread in workers:
        thread.start()
    watched = processes() if processes else {}
    before = {what: {pid: cpu_seconds([pid]) for pid in pids} for what, pids in watched.items()}
    ready.wait()
    started, client_cpu = time.perf_counter(), time.process_time()
    for thread in workers:
        thread.join()
    wall, client_cpu = time.perf_counter() - started, time.process_time() - client_cpu
    # A process that began during the load (a connection opened for a busier moment) counts from its start.
    cpu = {what: sum(cpu_seconds([pid]) - before[what].get(pid, 0.0) for pid in set(pids))
           for what, pids in (processes() if processes else {}).items()}
    cpu["client"] = client_cpu  # this process's threads: on the same cores as the server
    return Load(label, times, wall, statuses, int(statistics.median(statements)) if statements else None, cpu)


def check(url: str, client_id: int, n: int) -> str:
    """Exactly n messages of the client, each numbered, the numbers distinct and of the platform's form."""
    with Session(make_engine(url)) as session:
        total, numbered, distinct = session.exec(
            select(func.count(), func.count(Message.number), func.count(func.distinct(Message.number)))
            .where(Message.api_client_id == client_id)).one()
        numbers = session.exec(select(Message.id, Message.number, Message.received_at)
                               .where(Message.api_client_id == client_id)).all()
    wrong = [number for id_, number, received in numbers
             if not number or not NUMBER.fullmatch(number) or number != f"ПОС-{received.year}-{id_:06d}"]
    problems = []
    if total != n:
        problems.append(f"{total} messages instead of {n}")
    if numbered != total or distinct != total:
        problems.append(f"{total - numbered} without a number, {numbered - distinct} numbers doubled")
    if wrong:
        problems.append(f"{len(wrong)} numbers not ПОС-YYYY-<id> (first: {wrong[0]!r})")
    if problems:
        raise SystemExit("bench intake: " + "; ".join(problems))
    return f"{total} messages, each with its own number"


def run_one(kind: str, messages: int, pg_url: str, seed: int, n: int, threads: int, log=print) -> dict:
    url, _made = database(kind, messages, pg_url, seed, stem="intake")  # made again once it holds more
    migrate.upgrade(url)
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        client, key = open311.create_client(session, "Нагрузочный тест")
        _warm, warm_key = open311.create_client(session, "Нагрузочный тест, разогрев")
    engine.dispose()  # the bench holds no connection while gunicorn works
    with production_env(url, {"POS_OPEN311_POST_LIMIT": "1000000 per minute"}) as (env, work):
        with Server("bench.served:bare_post", env, work) as bare:
            floor = load(bare.base, key, ["1", "2", "3"], n, threads, "bare Flask POST",
                         processes=lambda: {"app": workers_of(bare)})
        with Server("bench.served:app", env, work) as server:
            services = requests.get(server.base + "/open311/v2/services.json", timeout=60).json()
            codes = [s["service_code"] for s in services]
            watch = (lambda: {"app": workers_of(server), "database": backends(url)}) if kind == "postgresql" else \
                (lambda: {"app": workers_of(server)})  # SQLite works inside the web workers
            measured = load(server.base, key, codes, n, threads, "Open311 POST requests", warm_key, processes=watch)
    if measured.statuses != {200: n}:
        raise SystemExit(f"bench intake: {kind}: answers {measured.statuses}, not {n} × 200 "
                         f"(the server's log: see bench.pages.Server)")
    checked = check(url, client.id, n)
    return {"kind": kind, "floor": floor, "measured": measured, "checked": checked, "services": len(codes)}


def table(result: dict) -> list[str]:
    floor: Load = result["floor"]
    lines = ["| what | messages/s | p50 ms | p95 ms | SQL per POST | CPU ms per POST: web / database / client "
             "| p95 / bare | messages/s / bare |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for m in (result["measured"], floor):
        sql = "—" if m.statements is None else str(m.statements)
        cpu = "—" if not m.cpu else " / ".join(f"{m.cpu[what] / len(m.times) * 1000:.1f}" if what in m.cpu else "—"
                                               for what in ("app", "database", "client"))
        lines.append(f"| {m.label} | {m.rate:.0f} | {m.p50 * 1000:.1f} | {m.p95 * 1000:.1f} | {sql} | {cpu} | "
                     f"{m.p95 / floor.p95:.1f} | {m.rate / floor.rate:.2f} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench intake", description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="postgresql,sqlite")
    parser.add_argument("--requests", type=int, default=2000, help="POSTs measured (after a warm-up)")
    parser.add_argument("--threads", type=int, default=8, help="client threads, a requests.Session each")
    parser.add_argument("--messages", type=int, default=2000, help="messages generated before (a small database)")
    parser.add_argument("--seed", type=int, default=232)
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_INTAKE_DATABASE_URL",
                                                           "postgresql://postgres@127.0.0.1:5432/pos_bench_intake"),
                        help="made again when it holds other than --messages messages (after a run, always)")
    args = parser.parse_args(argv)
    for kind in [k.strip() for k in args.databases.split(",") if k.strip()]:
        load_average = os.getloadavg()
        r = run_one(kind, args.messages, args.pg_url, args.seed, args.requests, args.threads)
        print(f"\n{kind}: Open311 intake, {args.requests} POSTs from {args.threads} threads into a database of "
              f"{args.messages} messages ({r['services']} services); {os.cpu_count()} cores, load average "
              f"{load_average[0]:.2f} {load_average[1]:.2f} {load_average[2]:.2f}; gunicorn {WORKERS} workers "
              f"(pos/gunicorn_conf.py)")
        for line in table(r):
            print(line, flush=True)
        print(f"checked: {r['checked']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
