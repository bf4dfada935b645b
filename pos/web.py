"""Wiring the web layer: the database session per request, extensions, blueprints."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app, g, render_template, request, url_for
from flask_htmx import HTMX
from flask_htmx import make_response as htmx_make_response
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from sqlmodel import Session
from werkzeug.exceptions import HTTPException

from pos import params
from pos.db import make_engine
from pos.services import files
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
    return Env(timezone=current_app.config["TIMEZONE"], upload_dir=current_app.config["UPLOAD_DIR"],
               max_postpone_days=int(current_app.config["MAX_POSTPONE_DAYS"]))


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    roles: tuple[str, ...] = ()  # shown when the current role is one of these
    applicant: bool = False  # shown to applicants


_nav: list[NavItem] = []


def register_nav(endpoint: str, label: str, roles: tuple[str, ...] = (), applicant: bool = False) -> None:
    """A blueprint adds its entry to the header menu."""
    if all(item.endpoint != endpoint for item in _nav):
        _nav.append(NavItem(endpoint, label, tuple(roles), applicant))


def _static_url(filename: str) -> str:
    """A static file's URL with its content hash: safe to cache for a year."""
    cache = current_app.extensions.setdefault("pos.static_hashes", {})
    if filename not in cache:
        path = Path(current_app.static_folder) / filename
        cache[filename] = hashlib.sha256(path.read_bytes()).hexdigest()[:10] if path.exists() else "0"
    return url_for("static", filename=filename, v=cache[filename])


def _template_helpers() -> dict:
    from pos.auth import current_actor, current_role, role_key, role_label, staff_roles
    from pos.services import choices

    def org_name(org_id):
        return choices.org_short_name(db(), org_id)

    def nav_links():
        role = current_role()
        is_applicant = current_actor().applicant_id is not None
        links = []
        for item in _nav:
            if item.endpoint not in current_app.view_functions:
                continue
            if (role and role[0] in item.roles) or (is_applicant and item.applicant):
                links.append({"url": url_for(item.endpoint), "label": item.label,
                              "current": request.endpoint == item.endpoint})
        return links

    return dict(static_url=_static_url, nav_links=nav_links, staff_roles=staff_roles, current_role=current_role,
                role_key=role_key, role_label=role_label, org_name=org_name,
                view_functions=current_app.view_functions)


def init_app(app: Flask) -> None:
    app.extensions["pos.engine"] = make_engine(app.config["DATABASE_URL"])
    Path(app.config["UPLOAD_DIR"]).mkdir(parents=True, exist_ok=True)

    @app.teardown_appcontext
    def _close_db(_exc):
        session = g.pop("db", None)
        if session is not None:
            session.close()

    from pos.services import pd_audit
    pd_audit.init_app(app)  # first: its after-request hook runs last, on the response that is sent
    from pos import limits, security, sessions
    sessions.init_app(app)  # before the limiter: without Redis, sign-in answers 503 before anything counts
    limits.init_app(app)
    security.init_app(app)
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix
        # The limits count per client address: behind a proxy it comes from X-Forwarded-For.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"],
                                x_proto=app.config["TRUSTED_PROXIES"])

    htmx.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Войдите, чтобы продолжить."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def _load_user(session_id: str):
        from pos.services.accounts import user_by_session_id
        return user_by_session_id(db(), session_id)

    app.context_processor(_template_helpers)

    from pos import compress
    compress.init_app(app)

    @app.after_request
    def _headers(response):
        # The same URL answers with a page or a fragment: caches must tell them apart.
        response.vary.add("HX-Request")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if "frame-ancestors" not in response.headers.get("Content-Security-Policy", ""):
            # A page that states its own frame-ancestors (the embeddable form) may be framed.
            response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return security.set_headers(response)

    @app.get("/favicon.ico")
    def favicon():
        # Browsers ask for it at the root whatever the page links; cached as long as the static files.
        return current_app.send_static_file("favicon.ico")

    @app.after_request
    def _htmx_follows_redirects(response):
        return htmx_redirect(response)

    from flask_wtf.csrf import CSRFError

    @app.errorhandler(CSRFError)
    def _csrf_error(exc):
        return error_page(400, "Форма устарела", "Страница была открыта слишком давно или без защиты от подделки "
                                                 "запроса. Обновите страницу и повторите действие.")

    for code, title, text in ERRORS:
        app.register_error_handler(code, _error_handler(code, title, text))
    app.add_template_filter(files.human_size, "filesize")
    app.add_template_filter(files.shown_name, "file_name")

    params.init_app(app)  # bounded URL converters: before the first route is added
    from pos.views import register_blueprints
    register_blueprints(app)
    limits.apply_route_limits(app)


ERRORS = (
    (400, "Неверный запрос", "Запрос составлен неверно. Вернитесь на предыдущую страницу и повторите действие."),
    (403, "Доступ запрещён", "У вас нет прав на это действие или страницу."),
    (404, "Не найдено", "Такой страницы или сообщения нет."),
    (405, "Метод не поддерживается", "Так обратиться к этой странице нельзя."),
    (413, "Слишком большой файл", "Размер отправленных данных превышает допустимый."),
    (429, "Слишком много запросов", "Запросов было слишком много. Подождите немного и повторите."),
    (500, "Внутренняя ошибка", "Что-то пошло не так. Ваши данные не потеряны; попробуйте ещё раз."),
)


def _exception_headers(exc) -> list[tuple[str, str]]:
    """What the HTTP error itself says besides its body: `Allow` of a 405, `Retry-After` of a 429."""
    if not isinstance(exc, HTTPException):
        return []
    return [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]


def _error_handler(code: int, title: str, text: str):
    def handler(exc):
        if request.path.startswith("/open311/"):
            from pos.views.open311 import http_error
            response = http_error(code, title)
        else:
            response = current_app.make_response(error_page(code, title, text))
        for name, value in _exception_headers(exc):
            response.headers[name] = value
        return response
    return handler


def htmx_fragment_request() -> bool:
    """An htmx request that will swap the answer into a part of the page (not a boosted navigation or a history
    restore, which want the whole page)."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def htmx_redirect(response):
    """A redirect answering an htmx request becomes `HX-Location`: the browser's XMLHttpRequest would follow a
    303 by itself and htmx would swap the whole next page into the fragment it aimed at (a page inside the
    card). With `HX-Location` htmx loads that page as a navigation of the whole body and updates the address."""
    if htmx_fragment_request() and response.status_code in (301, 302, 303, 307, 308) and response.location:
        location = {"path": response.location, "target": "body"}
        return htmx_make_response("", 200, location=location)
    return response


def error_page(code: int, title: str, text: str):
    """The error page; for an htmx request only an alert, shown in the page's alert area (never a page inside
    a fragment), with what was typed left in place."""
    if htmx_fragment_request():
        return htmx_make_response(render_template("_error.html", code=code, title=title, text=text), code,
                                  retarget="#alerts", reswap="innerHTML")
    return render_template("error.html", code=code, title=title, text=text), code
