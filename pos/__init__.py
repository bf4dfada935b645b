"""ПОС — платформа обратной связи. The application factory."""
from __future__ import annotations

from flask import Flask

from pos import clock
from pos.config import INSTANCE, Config


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(INSTANCE))
    app.config.from_object(Config)
    if overrides:
        app.config.update(overrides)
    clock.configure(app.config.get("CLOCK_FILE", ""))

    from pos import web
    web.init_app(app)

    from pos import queue
    queue.init_app(app)  # committed outbox rows go straight to RQ

    from pos.cli import register_cli
    register_cli(app)
    return app
