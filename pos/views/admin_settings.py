"""Administration: stage deadlines per jurisdiction and the calendar corrections (the CLI's service calls:
active messages are recomputed, the reason in each one's history), answer templates, API clients."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from sqlmodel import select

from pos import params
from pos import workflow as wf
from pos.deadlines import UNIT_LABELS
from pos.forms.admin import ApiClientForm, CalendarDayForm, StageRuleForm, TemplateFilterForm, TemplateForm
from pos.models import AnswerTemplate, Category, Organization
from pos.services import admin_settings, choices
from pos.services.deadlines import set_calendar_day, set_stage_rule
from pos.views.admin import (bp, list_args, me, one_button, page_number, passed_filters, show_once, submitted,
                             take_secret)
from pos.views.admin_orgs import _org_options
from pos.web import db, env
from pos.workflow import STAGE_LABELS

SOURCES = {"own": "задан для этой юрисдикции", "default": "общая настройка", "built-in": "по умолчанию платформы"}


def _jurisdiction() -> Organization | None:
    """The jurisdiction of `?jurisdiction=`: a root organization, or None for the installation's default."""
    jurisdiction_id = params.id_or_none(request.args.get("jurisdiction"))
    if jurisdiction_id is None:
        return None
    org = db().get(Organization, jurisdiction_id)
    if org is None or org.parent_id is not None:
        abort(404)
    return org


def _deadlines_page(status: int = 200, rule: StageRuleForm | None = None, day: CalendarDayForm | None = None):
    s = db()
    root = _jurisdiction()
    from pos.services.admin_orgs import jurisdictions
    return render_template("admin/deadlines.html", root=root, roots=jurisdictions(s),
                           cells=admin_settings.stage_rules(s, root.id if root else None), sources=SOURCES,
                           units=UNIT_LABELS, stage_labels=STAGE_LABELS, rule=rule or StageRuleForm(formdata=None),
                           day=day or CalendarDayForm(formdata=None),
                           overrides=admin_settings.calendar_overrides(s)), status


@bp.get("/deadlines")
def deadlines():
    return _deadlines_page()


@bp.post("/deadlines")
def deadlines_set():
    root = _jurisdiction()
    form = StageRuleForm()
    result = {}

    def call():
        try:
            result["changed"] = set_stage_rule(db(), env(), form.stage.data, form.amount.data, form.unit.data,
                                               root.id if root else None, actor_id=me())
        except ValueError as exc:
            raise wf.Invalid(str(exc), "amount") from None
    if submitted(form, call):
        flash(f"Срок этапа сохранён, пересчитано сообщений: {result['changed']}.", "success")
        return redirect(url_for("admin.deadlines", jurisdiction=root.id if root else None), 303)
    return _deadlines_page(400, rule=form)


@bp.post("/deadlines/calendar")
def calendar_set():
    form = CalendarDayForm()
    result = {}

    def call():
        is_working = {"working": True, "day_off": False, "reset": None}[form.mode.data]
        result["changed"] = set_calendar_day(db(), env(), form.day.data, is_working,
                                             " ".join((form.note.data or "").split()), actor_id=me())
    if submitted(form, call):
        flash(f"Календарь изменён, пересчитано сообщений: {result['changed']}.", "success")
        return redirect(url_for("admin.deadlines", jurisdiction=params.id_or_none(request.args.get("jurisdiction"))),
                        303)
    return _deadlines_page(400, day=form)


# --- answer templates ---------------------------------------------------------------------------------

TEMPLATE_FILTERS = ("category_id", "status")
PER_PAGE = 50


def _category_choices(empty: str):
    return [("", empty)] + [(c.id, c.name) for c in choices.categories(db())]


def _template_form(formdata=None, **data) -> TemplateForm:
    form = TemplateForm(formdata=formdata, **data) if formdata is not None else TemplateForm(formdata=None, **data)
    form.category_id.choices = _category_choices("— общий шаблон —")
    return form


def _templates_page(status: int = 200, create: TemplateForm | None = None):
    s = db()
    form = TemplateFilterForm(formdata=request.args)
    form.category_id.choices = _category_choices("все")
    ok = passed_filters(form, TEMPLATE_FILTERS)
    rows = admin_settings.templates(s, ok["category_id"], ok["status"] or "")
    names = {c.id: c.name for c in s.exec(select(Category))}
    number = page_number()
    return render_template("admin/templates.html", form=form, rows=rows[(number - 1) * PER_PAGE: number * PER_PAGE],
                           number=number, has_next=len(rows) > number * PER_PAGE, names=names,
                           create=create or _template_form(), args=list_args(form, TEMPLATE_FILTERS)), \
        400 if form.errors else status


@bp.get("/templates")
def templates():
    return _templates_page()


@bp.post("/templates")
def template_new():
    form = _template_form(request.form)
    if submitted(form, lambda: admin_settings.create_template(db(), me(), form.category_id.data, form.title.data,
                                                              form.text.data)):
        flash("Шаблон ответа создан.", "success")
        return redirect(url_for("admin.templates"), 303)
    return _templates_page(400, create=form)


def _template(template_id: int) -> AnswerTemplate:
    row = db().get(AnswerTemplate, template_id)
    if row is None:
        abort(404)
    return row


@bp.get("/templates/<int:template_id>")
def template(template_id: int):
    row = _template(template_id)
    form = _template_form(category_id=row.category_id, title=row.title, text=row.text)
    return render_template("admin/template.html", row=row, form=form)


@bp.post("/templates/<int:template_id>")
def template_edit(template_id: int):
    row = _template(template_id)
    form = _template_form(request.form)
    if submitted(form, lambda: admin_settings.edit_template(db(), me(), row.id, form.category_id.data,
                                                            form.title.data, form.text.data)):
        flash("Шаблон ответа сохранён.", "success")
        return redirect(url_for("admin.template", template_id=row.id), 303)
    db().refresh(row)
    return render_template("admin/template.html", row=row, form=form), 400


@bp.post("/templates/<int:template_id>/<any(retire,restore):what>")
def template_active(template_id: int, what: str):
    row = _template(template_id)
    return one_button(lambda: admin_settings.set_template_active(db(), me(), row.id, what == "restore"),
                      "Шаблон возвращён в употребление." if what == "restore" else
                      "Шаблон выведен из употребления: исполнителям он больше не предлагается.",
                      url_for("admin.template", template_id=row.id))


# --- API clients --------------------------------------------------------------------------------------

def _api_form(formdata=None) -> ApiClientForm:
    form = ApiClientForm(formdata=formdata) if formdata is not None else ApiClientForm(formdata=None)
    form.organization_id.choices = [("", "— любая —")] + _org_options()
    return form


def _api_page(status: int = 200, form: ApiClientForm | None = None):
    s = db()
    return render_template("admin/api_clients.html", rows=admin_settings.api_clients(s), form=form or _api_form(),
                           secret=take_secret()), status, {"Cache-Control": "no-store"}


@bp.get("/api-clients")
def api_clients():
    return _api_page()


@bp.post("/api-clients")
def api_client_new():
    form = _api_form(request.form)
    made = {}
    if submitted(form, lambda: made.update(zip(("client", "key"), admin_settings.create_api_client(
            db(), me(), form.name.data, form.organization_id.data)))):
        show_once(f"Ключ клиента API «{made['client'].name}»", made["key"])
        flash("Ключ выдан. Скопируйте его сейчас: он показывается один раз.", "success")
        return redirect(url_for("admin.api_clients"), 303)
    return _api_page(400, form)


@bp.post("/api-clients/<int:client_id>/revoke")
def api_client_revoke(client_id: int):
    return one_button(lambda: admin_settings.revoke_api_client(db(), me(), client_id),
                      "Ключ отозван: запросы с ним больше не принимаются.", url_for("admin.api_clients"))
