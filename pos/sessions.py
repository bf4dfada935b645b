"""Server-side sessions (Flask-Session on Redis), their timeouts, and what happens when Redis is away.

The cookie carries only a random session id; the data lives in Redis under the
installation's namespace. So signing out deletes the session for good (a copied
cookie opens nothing afterwards), and a signed-in person's Flask-Login id carries
the user's `session_token`, which the account services rotate on deactivation and
on a new password: every session of that user stops loading a user at once.

Timeouts count in wall-clock time, not the platform's clock (tests and operators
move that one to walk deadlines; signed-in people must not be thrown out by it).
When Redis cannot be reached nobody can be signed in: the pages that need a
session answer 503 with a Russian explanation, while the public parts (Open311,
health, the embeddable form, static files) keep working.
"""
from __future__ import annotations

import logging
import time
from datetime import timedelta

import redis
from flask import Flask, abort, flash, request, session
from flask_login import user_logged_in, user_logged_out
from flask_session.redis import RedisSession, RedisSessionInterface

from pos import queue

log = logging.getLogger(__name__)

SEEN, SINCE = "_pos_seen", "_pos_since"  # last request, sign-in (epoch seconds)
# The last request is written down at most this often (and a tenth of the idle timeout, if shorter): the session
# is stored in Redis only when something in it changes, not on every page. The idle timeout counts from the
# request written down, so a session may end up to this much before the idle time after its last page.
SEEN_STEP = 60.0
# Endpoints that live without a session: they work while Redis is down.
SESSIONLESS_PREFIXES = ("static", "health.", "open311.", "embed.", "favicon")


def wall_time() -> float:
    """Seconds since the epoch (a function, so that a test can move it)."""
    return time.time()


class UnavailableSession(RedisSession):
    """Stands in for the session while Redis is unreachable: empty, never saved."""
    unavailable = True


class PosSessionInterface(RedisSessionInterface):
    """Flask-Session's Redis sessions over the platform's own Redis connection (REDIS_URL or the embedded
    server, found when first needed: the embedded one may start after the web app)."""

    def __init__(self, app: Flask):
        self._config = app.config
        self._url: str | None = None
        super().__init__(app, client=redis.Redis(), key_prefix=app.config["SESSION_KEY_PREFIX"],
                         permanent=app.config["SESSION_PERMANENT"])

    @property
    def client(self) -> redis.Redis:
        if self._url is None:
            self._url = queue.redis_url(self._config)
            if self._url is None:
                raise redis.ConnectionError("no Redis: REDIS_URL is empty and the embedded server is not running")
        return queue.connect(self._url)

    @client.setter
    def client(self, _value) -> None:  # Flask-Session's constructor sets one; ours is found per call
        pass

    def open_session(self, app, request):
        try:
            return super().open_session(app, request)
        except redis.RedisError as exc:
            self._url = None  # look again next time (the embedded server may have a new socket)
            log.warning("sessions unavailable: %s", exc)
            return UnavailableSession(sid=None)

    def save_session(self, app, session, response):
        if getattr(session, "unavailable", False):
            return  # the browser keeps its cookie: the session is back when Redis is
        try:
            super().save_session(app, session, response)
        except redis.RedisError as exc:
            self._url = None
            log.warning("session not saved: %s", exc)

    def reachable(self) -> bool:
        try:
            return bool(self.client.ping())
        except redis.RedisError as exc:
            self._url = None
            log.warning("sessions unavailable: %s", exc)
            return False

    def renew(self, session) -> None:
        """A new id for the session (no fixation: an id known before sign-in opens nothing after it)."""
        if session.sid:
            try:
                self._delete_session(self._get_store_id(session.sid))
            except redis.RedisError:
                pass
        session.sid = self._generate_sid(self.sid_length)
        session.modified = True


def available() -> bool:
    return not getattr(session, "unavailable", False)


def _signed_in(app: Flask, **_extra) -> None:
    """Flask-Login's `user_logged_in`, whichever view signs someone in: a new session id, and the
    timeouts count from now."""
    app.session_interface.renew(session)
    session[SINCE] = session[SEEN] = wall_time()


def _enforce(app: Flask) -> None:
    endpoint = request.endpoint or ""
    if endpoint.startswith(SESSIONLESS_PREFIXES):
        return
    # A visitor without a cookie has not touched Redis yet: ask it, rather than show a form whose
    # sign-in could not be kept.
    fresh = app.config["SESSION_COOKIE_NAME"] not in request.cookies
    if not available() or (fresh and not app.session_interface.reachable()):
        abort(503)
    if "_user_id" not in session:
        return
    now = wall_time()
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    longest = app.config["SESSION_MAX_HOURS"] * 3600
    seen, since = session.get(SEEN, 0), session.get(SINCE, 0)
    if now - seen > idle or now - since > longest:
        session.clear()
        flash("Сеанс завершён: слишком долго не было действий или истёк срок входа. Войдите снова.", "info")
        return
    if now - seen >= min(SEEN_STEP, idle / 10):
        session[SEEN] = now


def init_app(app: Flask) -> None:
    config = app.config
    config.setdefault("SESSION_KEY_PREFIX", f"{config['QUEUE_NAMESPACE']}-session:")
    # Redis drops a session nobody used for the idle timeout; the check below is the exact rule.
    config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=config["SESSION_IDLE_MINUTES"])
    # Stored when changed, not on every request (Flask's default): a page that changes nothing writes nothing.
    config["SESSION_REFRESH_EACH_REQUEST"] = False
    app.session_interface = PosSessionInterface(app)
    app.before_request(lambda: _enforce(app))
    user_logged_in.connect(_signed_in, app)
    # Signing out deletes the session from Redis under its old id (what remains, a flash, gets a new one).
    user_logged_out.connect(lambda sender, **_extra: sender.session_interface.renew(session), app)
    app.register_error_handler(503, _unavailable)


def _unavailable(_exc):
    from pos.web import error_page
    return error_page(
        503, "Вход временно недоступен",
        text="Хранилище сеансов не отвечает, поэтому войти и открыть личный кабинет сейчас нельзя. "
             "Ваши данные не потеряны; попробуйте через несколько минут.")
