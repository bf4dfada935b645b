"""Who is signed in and in which role: the current actor for views."""
from __future__ import annotations

from functools import wraps

from flask import abort, g, session
from flask_login import current_user

from pos.services.directory import actor_for
from pos.web import db
from pos.workflow import ROLE_LABELS, Actor, Role


def current_actor() -> Actor:
    if "actor" not in g:
        g.actor = actor_for(db(), current_user if current_user.is_authenticated else None)
    return g.actor


def staff_roles() -> list[tuple[str, int | None]]:
    """The signed-in person's (role, organization) pairs, in a stable order."""
    order = list(Role)
    grants = sorted(current_actor().grants, key=lambda gr: (order.index(Role(gr.role)), gr.organization_id or 0))
    seen, result = set(), []
    for grant in grants:
        key = (grant.role, grant.organization_id)
        if key not in seen:
            seen.add(key)
            result.append(key)
    return result


def current_role() -> tuple[str, int | None] | None:
    """The role the person works in now (chosen in the header; the first one by default)."""
    roles = staff_roles()
    if not roles:
        return None
    chosen = session.get("role")
    if chosen:
        role, _, org = chosen.partition(":")
        key = (role, int(org) if org else None)
        if key in roles:
            return key
    return roles[0]


def role_key(role: str, org_id: int | None) -> str:
    return f"{role}:{org_id or ''}"


def role_label(role: str) -> str:
    return ROLE_LABELS.get(Role(role), role)


def temporary_password_first():
    """Whoever signed in with a password the administrator gave changes it before anything else: a redirect
    to «Сменить пароль», or None. Every staff and applicant page asks (their decorators, the admin section)."""
    if not getattr(current_user, "must_change_password", False):
        return None
    from flask import flash, redirect, request, url_for
    if request.method == "GET":
        flash("Пароль выдан администратором временно: задайте свой, чтобы продолжить.", "info")
    return redirect(url_for("account.change_password"), 303)


def staff_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            from flask import current_app
            return current_app.login_manager.unauthorized()
        if (first := temporary_password_first()) is not None:
            return first
        if not current_actor().grants:
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def applicant_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            from flask import current_app
            return current_app.login_manager.unauthorized()
        if (first := temporary_password_first()) is not None:
            return first
        if current_actor().applicant_id is None:
            abort(403)
        return view(*args, **kwargs)
    return wrapped
