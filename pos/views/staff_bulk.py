"""Staff: bulk actions from the inbox — the moderator's «Принять» and «Изменить исполнителя», the
coordinator's «Назначить исполнителя» — and the page that says what happened to each message."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session as web_session, url_for
from flask_login import current_user

from pos import params
from pos import workflow as wf
from pos.auth import current_role, staff_required
from pos.forms.bulk import BulkForm, picks
from pos.services import bulk as bulk_service, choices
from pos.views.staff import bp
from pos.web import db, env, error_page
from pos.wording import person_label
from pos.workflow import Action

RESULT_KEY = "bulk_result"


def bulk_form(role: str, org_id: int | None) -> BulkForm | None:
    """The form under the inbox's rows, with the choices of this role; None where the role has no bulk action."""
    offered = bulk_service.BULK_ACTIONS.get(role)
    if not offered:
        return None
    form = BulkForm(formdata=None) if request.method == "GET" else BulkForm()
    form.action.choices = [(a.value, wf.ACTION_LABELS[a]) for a in offered]
    if Action.CHANGE_ORGANIZATION in offered:
        form.to_organization_id.choices = [("", "— выберите —")] + choices.active_org_options(db())
    if Action.ASSIGN_EXECUTOR in offered:
        form.to_executor_id.choices = [("", "— выберите —")] + [
            (u.id, person_label(u.full_name, u.position))
            for u in choices.executors_of(db(), [org_id] if org_id else [])]
    return form


@bp.post("/bulk")
@staff_required
def bulk():
    role = current_role()
    form = bulk_form(*role) if role else None
    if form is None:
        abort(403)
    back = params.local_path(request.form.get("back", ""), "/staff") or url_for("staff.inbox")
    try:
        action = Action(request.form.get("action", ""))
    except ValueError:
        return error_page(400, "Неверный запрос", "Выберите действие кнопкой под списком.")
    if action not in bulk_service.BULK_ACTIONS[role[0]]:
        abort(403)
    form.validate()
    try:
        picked = picks(request.form.getlist("page") if form.all_on_page.data else request.form.getlist("m"))
    except params.BadValue as exc:
        return error_page(400, "Неверный выбор", str(exc))
    if not picked:
        flash("Отметьте сообщения в списке (или «Выбрать все на странице») и нажмите кнопку действия.", "error")
        return redirect(back, 303)
    action_params = {}
    if action == Action.CHANGE_ORGANIZATION:
        if form.to_organization_id.errors or not form.to_organization_id.data:
            flash("Выберите организацию для выбранных сообщений.", "error")
            return redirect(back, 303)
        action_params["organization_id"] = form.to_organization_id.data
    if action == Action.ASSIGN_EXECUTOR:
        if form.to_executor_id.errors or not form.to_executor_id.data:
            flash("Выберите исполнителя для выбранных сообщений.", "error")
            return redirect(back, 303)
        action_params["executor_id"] = form.to_executor_id.data
    items = bulk_service.apply(db(), env(), current_user, action, picked, action_params)
    web_session[RESULT_KEY] = {"action": action.value, "back": back, "items": [i.as_dict() for i in items]}
    return redirect(url_for("staff.bulk_result"), 303)


@bp.get("/bulk/result")
@staff_required
def bulk_result():
    result = web_session.get(RESULT_KEY)
    if not result:
        return redirect(url_for("staff.inbox"), 303)
    items = [bulk_service.Item(**i) for i in result["items"]]
    return render_template("staff/bulk_result.html", label=wf.ACTION_LABELS[Action(result["action"])],
                           done=[i for i in items if i.done], refused=[i for i in items if not i.done],
                           back=result["back"])
