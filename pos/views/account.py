"""The signed-in person's own account, staff and applicants alike: «Сменить пароль»."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, url_for
from flask_login import current_user, login_required, login_user

from pos import limits
from pos import workflow as wf
from pos.forms.account import ChangePasswordForm
from pos.models import User
from pos.services import passwords
from pos.views.applicant import show_error
from pos.web import db

bp = Blueprint("account", __name__)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    status = 200
    if form.is_submitted():
        form.validate()  # the lengths and the CSRF token; the service checks the rest, all at once
        user = db().get(User, current_user.id)
        typed = (form.current_password.data or "", form.new_password.data or "", form.new_password_confirm.data or "")
        try:
            if form.errors:
                passwords.check_change(user, *typed)
            else:
                passwords.change_password(db(), user, *typed)
                # The new password ended every session of the user; this one goes on under a new id.
                login_user(user)
                flash("Пароль изменён. Все другие сеансы входа завершены.", "success")
                return redirect(url_for("auth.index"), 303)
        except wf.Invalid as exc:
            show_error(form, exc)
            # Counted against the login, as a wrong password at sign-in is (pos.limits).
            g.setdefault(limits.WRONG_PASSWORD, passwords.WRONG_CURRENT in [text for _f, text in
                                                                           getattr(exc, "problems", [])])
        status = 400
    # Passwords are never typed back in here: each of the three may be the one at fault.
    return render_template("account/password.html", form=form), status
