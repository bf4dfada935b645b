"""Blueprints, one module per area."""
from flask import Flask


def register_blueprints(app: Flask) -> None:
    from pos.views import health
    app.register_blueprint(health.bp)
