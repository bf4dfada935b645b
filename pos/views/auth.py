"""Sign-in, sign-out, switching roles."""
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from pos import params
from pos.auth import current_actor, current_role, role_key, staff_roles
from pos.forms.auth import LoginForm
from pos.services.accounts import authenticate
from pos.web import db
from pos.workflow import Role

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str | None:
    if not target or urlsplit(target).scheme or urlsplit(target).netloc:
        return None
    return params.local_path(target)


def home_url() -> str:
    if not current_user.is_authenticated:
        return url_for("auth.login")
    if current_actor().grants:
        role = current_role()
        if role and role[0] == Role.ADMINISTRATOR and "admin.home" in _endpoints():
            return url_for("admin.home")  # the administrator starts from what needs attention
        if role and role[0] == "publisher" and "votes_staff.index" in _endpoints():
            return url_for("votes_staff.index")  # the organizer of votes and polls has no inbox of messages
        return url_for("staff.inbox") if "staff.inbox" in _endpoints() else url_for("health.health")
    return url_for("applicant.my_messages") if "applicant.my_messages" in _endpoints() else url_for("health.health")


def _endpoints() -> set[str]:
    from flask import current_app
    return set(current_app.view_functions)


@bp.route("/")
def index():
    return redirect(home_url())


@bp.route("/login", methods=["GET", "POST"])
def login():  # limited: pos.limits (failed attempts per login and per address)
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = authenticate(db(), form.login.data, form.password.data)
        if user is not None:
            session.clear()
            login_user(user)  # pos.sessions gives the session a new id
            return redirect(_safe_next(request.args.get("next")) or home_url(), 303)
        form.password.errors.append("Неверный логин или пароль.")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    logout_user()
    session.clear()  # an emptied session is deleted from Redis: a copied cookie opens nothing
    flash("Вы вышли из системы.", "info")
    return redirect(url_for("auth.login"), 303)


@bp.post("/role")
def switch_role():
    wanted = request.form.get("role", "")
    allowed = {role_key(r, o) for r, o in staff_roles()}
    if wanted in allowed:
        session["role"] = wanted
    else:
        flash("Эта роль вам не назначена.", "error")
    return redirect(home_url(), 303)
