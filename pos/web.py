"""Wiring the web layer: the database session per request, extensions, blueprints."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, g
from flask_htmx import HTMX
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from sqlmodel import Session

from pos.db import make_engine
from pos.services.messages import Env

htmx = HTMX()
csrf = CSRFProtect()
login_manager = LoginManager()


def db() -> Session:
    """The request's session (opened on first use, closed at teardown)."""
    if "db" not in g:
        g.db = Session(current_app.extensions["pos.engine"], expire_on_commit=False)
    return g.db


def env() -> Env:
    return Env(timezone=current_app.config["TIMEZONE"], upload_dir=current_app.config["UPLOAD_DIR"])


def init_app(app: Flask) -> None:
    app.extensions["pos.engine"] = make_engine(app.config["DATABASE_URL"])
    Path(app.config["UPLOAD_DIR"]).mkdir(parents=True, exist_ok=True)

    @app.teardown_appcontext
    def _close_db(_exc):
        session = g.pop("db", None)
        if session is not None:
            session.close()

    htmx.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Войдите, чтобы продолжить."
    login_manager.login_message_category = "info"

    from pos.models import User

    @login_manager.user_loader
    def _load_user(user_id: str):
        user = db().get(User, int(user_id))
        return user if user is not None and user.is_active else None

    from pos.views import register_blueprints
    register_blueprints(app)
