"""Limits on guessing and flooding (Flask-Limiter, counted in Redis): sign-in (and the current password
that «Сменить пароль» checks, on the same count per login), registration, the embedded form, Open311
`POST requests` and the incidents' push endpoint (per API key). The limits are settings (`pos.config`); a refused request gets 429 with a
Russian message (in the Open311 error format on the API) and `Retry-After`.

When Redis is away the counts go on in the process's memory (Flask-Limiter's fallback), so the limits
still hold, per process, instead of failing open or with a 500.
"""
from __future__ import annotations

import hashlib
import time

from flask import Flask, current_app, g, has_request_context, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter
from limits.util import WindowStats

from pos import queue

MESSAGES = {
    "login": "Слишком много неудачных попыток входа. Подождите минуту и попробуйте снова.",
    "password": "Слишком много попыток с неверным текущим паролем. Подождите минуту и попробуйте снова.",
    "register": "Слишком много попыток регистрации с вашего адреса. Подождите и попробуйте позже.",
    "embed": "Слишком много отправок формы с вашего адреса. Подождите и попробуйте позже.",
    "open311": "Слишком много запросов на создание сообщений. Повторите позже (см. заголовок Retry-After).",
    "incidents": "Слишком много запросов с публикациями. Повторите позже (см. заголовок Retry-After).",
}


def client_address() -> str:
    return request.remote_addr or "unknown"


def _scoped(kind: str, value: str) -> str:
    # Apps that share a Redis (installations, tests) keep their counts apart by their namespace.
    return f"{current_app.config['QUEUE_NAMESPACE']}:{kind}:{value}"


def _digest(value: str) -> str:
    """Keys in Redis carry a digest, not what the person typed (a login, an API key)."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def login_key() -> str:
    return _scoped("login", _digest((request.form.get("login") or "").strip().lower()))


def own_login_key() -> str:
    """The signed-in person's login, counted as `login_key` counts it at sign-in."""
    from flask_login import current_user
    login = getattr(current_user, "login", None) if current_user.is_authenticated else None
    return _scoped("login", _digest(login.strip().lower())) if login else address_key()


def address_key() -> str:
    return _scoped("address", client_address())


def api_key() -> str:
    key = request.headers.get("X-Api-Key") or request.form.get("api_key") or request.args.get("api_key") or ""
    if not key and request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, dict) and isinstance(body.get("api_key"), str):
            key = body["api_key"]
    return _scoped("api_key", _digest(key)) if key else address_key()


def setting(name: str):
    """A limit read from the app's configuration on each request (tests and operators set it)."""
    return lambda: current_app.config[name]


def failed_sign_in(response) -> bool:
    return response.status_code == 401


WRONG_PASSWORD = "pos_wrong_password"  # set on `g` by a view that found the typed current password wrong


def wrong_current_password(_response) -> bool:
    return bool(g.get(WRONG_PASSWORD))


# Which views are limited, and how (wrapped around each app's views by `apply_route_limits`: the views stay
# as they are, and the platform's limits are read in one place). Only failed sign-ins count (401); the attempt after
# the limit is refused before the password is even checked, the right one too.
ROUTE_LIMITS = {
    "auth.login": (
        dict(limit_value=setting("LOGIN_LIMIT_PER_LOGIN"), key_func=login_key, methods=["POST"],
             deduct_when=failed_sign_in, error_message=MESSAGES["login"], scope="login", shared=True),
        dict(limit_value=setting("LOGIN_LIMIT_PER_ADDRESS"), key_func=address_key, methods=["POST"],
             deduct_when=failed_sign_in, error_message=MESSAGES["login"], scope="login-address", shared=True),
    ),
    # A copied session must not guess the password either: the failures share the sign-in's count and limit.
    "account.change_password": (
        dict(limit_value=setting("LOGIN_LIMIT_PER_LOGIN"), key_func=own_login_key, methods=["POST"],
             deduct_when=wrong_current_password, error_message=MESSAGES["password"], scope="login", shared=True),
        dict(limit_value=setting("LOGIN_LIMIT_PER_ADDRESS"), key_func=address_key, methods=["POST"],
             deduct_when=wrong_current_password, error_message=MESSAGES["password"], scope="login-address", shared=True),
    ),
    "applicant.register": (
        dict(limit_value=setting("REGISTER_LIMIT"), key_func=address_key, methods=["POST"],
             error_message=MESSAGES["register"], scope="register"),
    ),
    "embed.form": (
        dict(limit_value=setting("EMBED_LIMIT"), key_func=address_key, methods=["POST"],
             error_message=MESSAGES["embed"], scope="embed"),
    ),
    "open311.requests_create": (
        dict(limit_value=setting("OPEN311_POST_LIMIT"), key_func=api_key, methods=["POST"],
             error_message=MESSAGES["open311"], scope="open311-post"),
    ),
    "incidents_api.push_posts": (
        dict(limit_value=setting("INCIDENTS_PUSH_LIMIT"), key_func=api_key, methods=["POST"],
             error_message=MESSAGES["incidents"], scope="incidents-push"),
    ),
}


def apply_route_limits(app: Flask) -> None:
    """Wrap the limited views of this app (after its blueprints are registered)."""
    limiter = app.extensions["pos.limiter"]
    for endpoint, rules in ROUTE_LIMITS.items():
        view = app.view_functions.get(endpoint)
        if view is None:
            continue
        for rule in rules:
            rule = dict(rule)
            # A shared limit counts under its scope alone: the same count for every view that names it.
            decorator = limiter.shared_limit if rule.pop("shared", False) else limiter.limit
            view = decorator(**rule)(view)
        app.view_functions[endpoint] = view


def _refused(exc: RateLimitExceeded):
    if request.path.startswith("/open311/"):
        from pos.views.open311 import error_response
        return error_response(429, MESSAGES["open311"])
    if request.path.startswith("/api/incidents/"):
        from pos.views.incidents import error as incidents_error
        return incidents_error(429, MESSAGES["incidents"])
    from pos.web import error_page
    return error_page(429, "Слишком много попыток", exc.description)


def _storage_uri(config) -> str:
    url = queue.redis_url(config)
    if url is None:  # the embedded Redis is not up (yet): counted in memory, per process
        return "memory://"
    return "redis+" + url if url.startswith("unix://") else url


_WINDOWS = "pos.limit_windows"  # in the request's environ: the windows its hits read, by their limit's key


def _windows() -> dict:
    # Per request, not on `g`: an app context may outlive one request (tests push one around several).
    return request.environ.setdefault(_WINDOWS, {}) if has_request_context() else {}


class OneTripMovingWindow(MovingWindowRateLimiter):
    """The moving window in Redis, as the library counts it, with the window read in the same round trip as
    the hit (a pipeline of the library's own two scripts): the X-RateLimit headers of the answer are then
    made from it instead of asking Redis again. One round trip per limit, none more for the headers."""

    storage: RedisStorage

    def hit(self, item, *identifiers: str, cost: int = 1) -> bool:
        key = self.storage.prefixed_key(item.key_for(*identifiers))
        now, expiry = time.time(), item.get_expiry()
        pipe = self.storage.get_connection().pipeline(transaction=False)
        pipe.evalsha(self.storage.lua_acquire_moving_window.sha, 1, key, now, item.amount, expiry, cost)
        pipe.evalsha(self.storage.lua_moving_window.sha, 1, key, now - expiry, item.amount)
        acquired, window = pipe.execute(raise_on_error=False)
        if isinstance(acquired, Exception):  # the scripts not loaded (Redis restarted): the library loads them
            return super().hit(item, *identifiers, cost=cost)
        if not isinstance(window, Exception):
            start, count = (float(window[0]), window[1]) if window else (now, 0)
            _windows()[key] = WindowStats(start + expiry, item.amount - count)
        return bool(acquired)

    def get_window_stats(self, item, *identifiers: str) -> WindowStats:
        key = self.storage.prefixed_key(item.key_for(*identifiers))
        known = _windows().get(key)
        return known if known is not None else super().get_window_stats(item, *identifiers)


class PosLimiter(Limiter):
    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        # Flask-Limiter makes its strategy from a name; ours replaces it over the same Redis storage (the
        # in-memory fallback, when Redis is away, is the library's own). Limits off: neither was made.
        if isinstance(self._storage, RedisStorage) and type(self._limiter) is MovingWindowRateLimiter:
            self._limiter = OneTripMovingWindow(self._storage)


def init_app(app: Flask) -> None:
    config = app.config
    config.setdefault("RATELIMIT_KEY_PREFIX", "pos-limits")
    config.setdefault("RATELIMIT_STORAGE_URI", _storage_uri(config))
    config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 2, "socket_timeout": 2}
                      if config["RATELIMIT_STORAGE_URI"] != "memory://" else {})
    config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    config.setdefault("RATELIMIT_HEADERS_ENABLED", True)  # Retry-After on a 429
    # A limiter of the app's own: Flask-Limiter keeps its storage and its on/off switch on the object, so
    # one shared object would follow whichever app a process built last (tests build many).
    limiter = PosLimiter(key_func=client_address, strategy="moving-window")
    limiter.init_app(app)
    app.extensions["pos.limiter"] = limiter
    app.register_error_handler(RateLimitExceeded, _refused)
