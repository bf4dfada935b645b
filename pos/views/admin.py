"""Administration in the browser (`/staff/admin/…`, the administrator only): the home page of what needs
attention, the record of administrative changes, and the helpers of the sections (pos/views/admin_*.py).

Every form posts and redirects (303) without JavaScript; htmx boosts the section (no full reloads) and
swaps the rows of a filtered list."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from pos import params
from pos import workflow as wf
from pos.auth import current_actor, temporary_password_first
from pos.forms.admin import AdminForm, ChangesFilterForm
from pos.services import admin_audit, admin_classifier, admin_orgs, admin_users, exports, outbox
from pos.views.applicant import show_error
from pos.web import db, htmx, htmx_fragment_request, register_nav
from pos.wording import ADMIN_ACTIONS, ADMIN_ENTITIES
from pos.workflow import ROLE_LABELS, Role

bp = Blueprint("admin", __name__, url_prefix="/staff/admin")

register_nav("admin.home", "Администрирование", roles=(Role.ADMINISTRATOR.value,))

SECTIONS = (
    ("admin.home", "Главная"),
    ("admin.organizations", "Организации"),
    ("admin.users", "Пользователи"),
    ("admin.classifier", "Классификатор"),
    ("admin.deadlines", "Сроки и календарь"),
    ("admin.templates", "Шаблоны ответов"),
    ("admin.api_clients", "Клиенты API"),
    ("admin.changes", "Журнал изменений"),
    ("staff.outbox_failed", "Сбои доставки"),
)


@bp.before_request
def _administrator_only():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if (first := temporary_password_first()) is not None:
        return first
    if not current_actor().has(Role.ADMINISTRATOR):
        abort(403)


@bp.app_context_processor
def _sections():
    return {"admin_sections": SECTIONS}


# --- helpers for the sections -------------------------------------------------------------------------

def me() -> int:
    return current_user.id


def tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def targeted(target: str) -> bool:
    return htmx_fragment_request() and htmx.target == target


def submitted(form, call) -> bool:
    """Validate the form and make the service call; a refusal goes next to its field (or above the form).
    True when the change was made."""
    if not form.validate_on_submit():
        return False
    try:
        call()
    except wf.Refused as exc:
        show_error(form, exc)
        return False
    return True


def refused(exc: wf.Refused) -> None:
    """A refusal of a one-button action (no fields): shown on the next page."""
    flash(str(exc), "error")


def one_button(call, done: str, back: str):
    """A one-button action (no fields): made or refused, said on the page it goes back to."""
    if AdminForm().validate_on_submit():
        try:
            call()
        except LookupError:
            abort(404)
        except wf.Refused as exc:
            refused(exc)
        else:
            flash(done, "success")
    return redirect(back, 303)


def show_once(title: str, value: str) -> None:
    """A secret (a temporary password, an API key) for the next page only: it is not kept anywhere else."""
    session["admin_secret"] = {"title": title, "value": value}


def take_secret() -> dict | None:
    return session.pop("admin_secret", None)


def page_number() -> int:
    return params.parse_page(request.args.get("page"))


def passed_filters(form, names: tuple[str, ...]) -> dict:
    """A list's filters from the query string, validated: the value of each, None where it did not pass."""
    form.validate()
    return {name: form[name].data if not form[name].errors else None for name in names}


def list_args(form, names: tuple[str, ...]) -> dict[str, str]:
    """The filters that passed, for the pager's links."""
    return {name: request.args[name] for name in names
            if name in form and not form[name].errors and request.args.get(name)}


def get_or_404(call, *args):
    try:
        return call(*args)
    except LookupError:
        abort(404)


# --- the home page ------------------------------------------------------------------------------------

@bp.get("/")
def home():
    s = db()
    counts = outbox.status_counts(s)
    return render_template("admin/home.html", failed=counts.get("failed", 0),
                           missing=admin_orgs.missing_staff(s),
                           uncovered=admin_classifier.without_competent_organization(s),
                           no_roles=admin_users.without_roles(s), role_labels=ROLE_LABELS)


# --- the record of changes ----------------------------------------------------------------------------

CHANGE_FILTERS = ("actor_id", "entity", "date_from", "date_to")


def _changes_form() -> tuple[ChangesFilterForm, admin_audit.Filters]:
    s = db()
    form = ChangesFilterForm(formdata=request.args)
    form.actor_id.choices = [("", "все")] + [(u.id, f"{u.full_name} ({u.login})") for u in admin_audit.actors(s)]
    form.entity.choices = [("", "всё")] + list(ADMIN_ENTITIES.items())
    ok = passed_filters(form, CHANGE_FILTERS)
    if ok["date_from"] and ok["date_to"] and ok["date_from"] > ok["date_to"]:
        form.date_to.errors = list(form.date_to.errors) + ["Конец периода раньше его начала."]
        ok["date_to"] = None
    entity = ok["entity"] if ok["entity"] in ADMIN_ENTITIES else ""
    return form, admin_audit.Filters(actor_id=ok["actor_id"], entity=entity, date_from=ok["date_from"],
                                     date_to=ok["date_to"])


@bp.get("/changes")
def changes():
    form, filters = _changes_form()
    s = db()
    if request.args.get("format") == "csv":
        # Read in full before answering: the request's transaction ends before the download does.
        rows = list(admin_audit.export_rows(s, filters, tz()))
        return exports.csv_response("admin-changes.csv", admin_audit.EXPORT_HEADER, rows)
    number = page_number()
    rows, has_next = admin_audit.page(s, filters, tz(), number)
    names = {u.id: f"{u.full_name} ({u.login})" for u in admin_audit.actors(s)}
    context = dict(form=form, rows=rows, has_next=has_next, number=number, names=names,
                   args=list_args(form, CHANGE_FILTERS), entities=ADMIN_ENTITIES, actions=ADMIN_ACTIONS)
    status = 400 if form.errors else 200
    if targeted("rows"):
        return render_template("admin/_change_rows.html", **context), status
    return render_template("admin/changes.html", **context), status


from pos.views import admin_classifier as _classifier, admin_orgs as _orgs, admin_settings as _settings  # noqa: E402,F401
from pos.views import admin_users as _users  # noqa: E402,F401
