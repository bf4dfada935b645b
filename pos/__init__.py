"""ПОС — платформа обратной связи. The application factory."""
from __future__ import annotations

from flask import Flask

from pos import clock
from pos.config import INSTANCE, Config, check_secret_key


class PosFlask(Flask):
    def run(self, *args, **options):
        """Werkzeug's server, without its version in a `Server` header (the development and e2e server)."""
        from pos.security import quiet_request_handler
        options.setdefault("request_handler", quiet_request_handler())
        super().run(*args, **options)


def create_app(overrides: dict | None = None) -> Flask:
    app = PosFlask(__name__, instance_path=str(INSTANCE))
    app.config.from_object(Config)
    if overrides:
        app.config.update(overrides)
    check_secret_key(app.config)  # outside the tests: no start without a real key
    if not app.config["SECRET_KEY"]:  # a test that gave none: a throwaway one
        import secrets
        app.config["SECRET_KEY"] = secrets.token_hex(32)
    clock.configure(app.config.get("CLOCK_FILE", ""))

    from pos import web
    web.init_app(app)

    from pos import queue
    queue.init_app(app)  # committed outbox rows go straight to RQ

    from pos.cli import register_cli
    register_cli(app)
    return app
