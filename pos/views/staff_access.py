"""Administrator: the audit of looks at applicants' personal data — who saw whose identity, where, when;
filtered by staff member, applicant, kind and period, paginated, downloadable as CSV. Read-only."""
from __future__ import annotations

from flask import abort, current_app, render_template, request
from flask_wtf import FlaskForm
from sqlmodel import select
from wtforms import SearchField
from wtforms.validators import Length, Optional

from pos import clock, params
from pos.auth import current_actor, staff_required
from pos.forms.fields import BoundedDateField, IdSelectField, SelectField
from pos.forms.staff import _RussianMeta
from pos.models import RoleGrant, User
from pos.services import exports, pd_audit
from pos.views.staff import bp, policy
from pos.web import db, register_nav
from pos.workflow import Role

register_nav("staff.pd_access", "Доступ к персональным данным", roles=(Role.ADMINISTRATOR.value,))


class AccessFilterForm(FlaskForm):
    class Meta(_RussianMeta):
        csrf = False

    user_id = IdSelectField("Сотрудник")
    applicant = SearchField("Заявитель: номер или e-mail", validators=[Optional(), Length(max=300)])
    kind = SelectField("Что", default="", choices=[("", "всё"), *pd_audit.KIND_LABELS.items()])
    date_from = BoundedDateField("С", validators=[Optional()])
    date_to = BoundedDateField("По", validators=[Optional()])


FILTER_NAMES = ("user_id", "applicant", "kind", "date_from", "date_to")


def _administrator_only() -> None:
    if not current_actor().has(Role.ADMINISTRATOR):
        abort(403)


def _form() -> tuple[AccessFilterForm, pd_audit.Filters, dict]:
    session = db()
    form = AccessFilterForm(formdata=request.args)
    staff = session.exec(select(User).where(User.is_staff, User.id.in_(select(RoleGrant.user_id)))
                         .order_by(User.full_name)).all()
    form.user_id.choices = [("", "все")] + [(u.id, f"{u.full_name} ({u.login})") for u in staff]
    form.validate()
    ok = {name: form[name].data for name in FILTER_NAMES if not form[name].errors}
    applicant_id = None
    if ok.get("applicant"):
        applicant_id = pd_audit.find_applicant(session, ok["applicant"])
        if applicant_id is None:
            form.applicant.errors = ["Заявитель не найден: укажите его номер или e-mail полностью."]
            applicant_id = -1  # nobody: an empty list rather than everyone's
    filters = pd_audit.Filters(user_id=ok.get("user_id"), applicant_id=applicant_id, kind=ok.get("kind") or "",
                               date_from=ok.get("date_from"), date_to=ok.get("date_to"))
    args = {name: request.args[name] for name in FILTER_NAMES if name in ok and request.args.get(name)
            and not form[name].errors}
    return form, filters, args


@bp.get("/admin/access")
@staff_required
def pd_access():
    _administrator_only()
    form, filters, args = _form()
    before = params.id_or_none(request.args.get("before"))
    page = pd_audit.page(db(), filters, policy(), before=before) if filters.applicant_id != -1 \
        else pd_audit.Page([], None, filters)
    status = 400 if form.errors else 200
    return render_template("staff/pd_access.html", form=form, page=page, args=args, first=before is None,
                           kinds=pd_audit.KIND_LABELS), status


@bp.get("/admin/access.csv")
@staff_required
def pd_access_csv():
    _administrator_only()
    form, filters, _args = _form()
    if form.errors:
        abort(400)
    rows = pd_audit.csv_rows(current_app.extensions["pos.engine"], filters, policy()) \
        if filters.applicant_id != -1 else iter(())
    return exports.csv_response(f"доступ-к-пд-{clock.now():%Y-%m-%d}.csv", pd_audit.CSV_HEADER, rows)
