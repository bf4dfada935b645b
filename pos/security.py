"""Response headers every page carries, and the access logs without API keys.

The Content-Security-Policy allows only the platform's own files: no inline script
or style anywhere, no eval. htmx is configured for it in the base template's
`htmx-config`: no indicator <style> of its own (no page uses `.htmx-indicator`;
one that does gets htmx's two rules in pos.css), no eval (no `hx-on`, no `js:`
values, no trigger filters), no <script> in swapped content. Swapped content is live
at once (`defaultSettleDelay` 0): htmx binds the `hx-*` of what it inserts in the same
task, so a select changed the moment its form appears already asks for its subcategories.
"""
from __future__ import annotations

import logging
import re

from flask import Flask, request, session

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'")
# Pages that show someone's personal data must stay out of every cache (shared computers, proxies): those
# under these prefixes, and every page served to a signed-in person (its header names them), wherever it is.
PRIVATE_PREFIXES = ("/staff", "/my", "/login", "/register", "/logout", "/role")


def _signed_in() -> bool:
    return "_user_id" in session


def set_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    private = request.path.startswith(PRIVATE_PREFIXES) or request.blueprint in ("staff", "applicant") \
        or (response.mimetype == "text/html" and _signed_in())
    if private and "no-store" not in headers.get("Cache-Control", ""):
        headers["Cache-Control"] = "no-store"
    return response


# --- access logs ------------------------------------------------------------------------------------

# `api_key=…` in a request line, a query string or a referrer (the name may come percent-encoded).
_API_KEY = re.compile(r"((?:^|[?&;\s\"])api(?:_|%5f)key=)[^&;\s\"]*", re.IGNORECASE)
MASK = "***"


def mask(text: str) -> str:
    return _API_KEY.sub(lambda m: m.group(1) + MASK, text)


def _masked(value):
    return mask(value) if isinstance(value, str) else value


class MaskApiKeys(logging.Filter):
    """Masks Open311 keys in access-log records: werkzeug's (a tuple of arguments) and gunicorn's
    (`gunicorn.access`, a mapping of atoms); the record itself is changed, so every handler sees the mask."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask(record.msg)
        if isinstance(record.args, dict):
            # In place: gunicorn's atoms are a dict subclass that answers "-" for what it lacks.
            for key, value in list(record.args.items()):
                if isinstance(value, str):
                    record.args[key] = mask(value)
        elif isinstance(record.args, tuple):
            record.args = tuple(_masked(value) for value in record.args)
        return True


ACCESS_LOGGERS = ("werkzeug", "gunicorn.access")


def install_log_filter() -> None:
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskApiKeys) for f in logger.filters):
            logger.addFilter(MaskApiKeys())


# --- the development server's Server header ------------------------------------------------------

def quiet_request_handler():
    """Werkzeug's request handler without its `Server: Werkzeug/x Python/y` (http.server writes that
    header itself, before the application's; gunicorn's says only `gunicorn`)."""
    from werkzeug.serving import WSGIRequestHandler

    class QuietRequestHandler(WSGIRequestHandler):
        def version_string(self) -> str:
            return "pos"

    return QuietRequestHandler


def init_app(app: Flask) -> None:
    install_log_filter()
