"""Administration: users (search, create, edit, deactivate and reactivate, a temporary password) and their
role grants per organization (a head's limited to categories). Roles come from the workflow's `Role`."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from pos.forms.admin import GrantForm, UserCreateForm, UserFilterForm, UserForm
from pos.models import User
from pos.services import admin_users, choices
from pos.views.admin import (bp, list_args, me, one_button, page_number, passed_filters, show_once, submitted,
                             take_secret, targeted)
from pos.views.admin_orgs import _org_options
from pos.web import db
from pos.workflow import PLATFORM_ROLES, Role

USER_FILTERS = ("q", "organization_id", "role", "status")


def _role_choices():
    return [(r.value, admin_users.role_label(r.value)) for r in Role]


def _user(user_id: int) -> User:
    user = db().get(User, user_id)
    if user is None or not user.is_staff:
        abort(404)
    return user


@bp.get("/users")
def users():
    s = db()
    form = UserFilterForm(formdata=request.args)
    form.organization_id.choices = [("", "все")] + _org_options(active_only=False)
    form.role.choices = [("", "все")] + _role_choices()
    ok = passed_filters(form, USER_FILTERS)
    number = page_number()
    rows, has_next = admin_users.search(s, admin_users.Filters(q=ok["q"] or "", organization_id=ok["organization_id"],
                                                               role=ok["role"] or "", status=ok["status"] or ""),
                                        number)
    context = dict(form=form, rows=rows, roles=admin_users.role_summaries(s, [u.id for u in rows]),
                   number=number, has_next=has_next, args=list_args(form, USER_FILTERS))
    status = 400 if form.errors else 200
    if targeted("rows"):
        return render_template("admin/_user_rows.html", **context), status
    return render_template("admin/users.html", **context), status


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    form = UserCreateForm()
    created = {}

    def call():
        created["user"], created["password"] = admin_users.create(
            db(), me(), login=form.login.data, full_name=form.full_name.data, position=form.position.data or "",
            email=form.email.data or "", phone=form.phone.data or "")
    if submitted(form, call):
        user = created["user"]
        show_once(f"Временный пароль пользователя «{user.login}»", created["password"])
        flash(f"Пользователь «{user.login}» создан. Выдайте ему роль.", "success")
        return redirect(url_for("admin.user", user_id=user.id), 303)
    return render_template("admin/user_new.html", form=form), 400 if form.errors else 200


def _grant_form(formdata=None) -> GrantForm:
    form = GrantForm(formdata=formdata) if formdata is not None else GrantForm(formdata=None)
    form.role.choices = [("", "— выберите —")] + _role_choices()
    form.organization_id.choices = [("", "— не нужна —")] + _org_options()
    form.category_ids.choices = [(c.id, c.name) for c in choices.categories(db())]
    return form


def _user_page(user: User, status: int = 200, **forms):
    response = render_template(
        "admin/user.html", user=user, edit=forms.get("edit") or UserForm(obj=user, formdata=None),
        grant=forms.get("grant") or _grant_form(), grants=admin_users.grants(db(), user.id),
        platform_roles=[admin_users.role_label(r) for r in PLATFORM_ROLES], secret=take_secret(), me=me())
    return response, status, {"Cache-Control": "no-store"}


@bp.get("/users/<int:user_id>")
def user(user_id: int):
    return _user_page(_user(user_id))


@bp.post("/users/<int:user_id>/edit")
def user_edit(user_id: int):
    user = _user(user_id)
    form = UserForm()
    if submitted(form, lambda: admin_users.edit(db(), me(), user.id, full_name=form.full_name.data,
                                                position=form.position.data or "", email=form.email.data or "",
                                                phone=form.phone.data or "")):
        flash("Данные пользователя сохранены.", "success")
        return redirect(url_for("admin.user", user_id=user.id), 303)
    db().refresh(user)
    return _user_page(user, 400, edit=form)


@bp.post("/users/<int:user_id>/grants")
def user_grant(user_id: int):
    user = _user(user_id)
    form = _grant_form(request.form)
    if submitted(form, lambda: admin_users.grant(db(), me(), user.id, form.role.data, form.organization_id.data,
                                                 form.category_ids.data)):
        flash(f"Роль «{admin_users.role_label(form.role.data)}» выдана.", "success")
        return redirect(url_for("admin.user", user_id=user.id), 303)
    return _user_page(user, 400, grant=form)


@bp.post("/users/<int:user_id>/grants/<int:grant_id>/revoke")
def user_revoke(user_id: int, grant_id: int):
    user = _user(user_id)
    return _one_button(user, lambda: admin_users.revoke(db(), me(), user.id, grant_id), "Роль снята.")


@bp.post("/users/<int:user_id>/deactivate")
def user_deactivate(user_id: int):
    user = _user(user_id)
    return _one_button(user, lambda: admin_users.set_active(db(), me(), user.id, False),
                       "Пользователь деактивирован: войти он не может, его сеансы завершены.")


@bp.post("/users/<int:user_id>/reactivate")
def user_reactivate(user_id: int):
    user = _user(user_id)
    return _one_button(user, lambda: admin_users.set_active(db(), me(), user.id, True), "Пользователь активирован.")


@bp.post("/users/<int:user_id>/password")
def user_reset_password(user_id: int):
    user = _user(user_id)

    def call():
        show_once(f"Временный пароль пользователя «{user.login}»", admin_users.reset_password(db(), me(), user.id))
    return _one_button(user, call, "Пароль сброшен: при следующем входе пользователь задаст свой.")


def _one_button(user: User, call, done: str):
    return one_button(call, done, url_for("admin.user", user_id=user.id))
