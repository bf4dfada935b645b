"""Administration: organizations (the two trees, create, rename, move, close and reopen, competence,
the regulation of a jurisdiction)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from pos import params
from pos.forms.admin import CompetenceForm, OrgCreateForm, OrgEditForm, OrgFilterForm, OrgMoveForm, RegulationForm
from pos.models import Organization
from pos.models.org import ORG_KINDS
from pos.services import admin_orgs, choices
from pos.views.admin import bp, list_args, me, one_button, page_number, passed_filters, submitted, targeted
from pos.web import db, env
from pos.workflow import ROLE_LABELS, STAGE_LABELS

PER_PAGE = 100
ORG_FILTERS = ("jurisdiction_id", "status", "q")


def _org_options(exclude_subtree_of: Organization | None = None, active_only: bool = True):
    orgs = choices.organizations(db(), active_only=active_only)
    if exclude_subtree_of is not None:
        orgs = [o for o in orgs if not o.path.startswith(exclude_subtree_of.path)]
    by_id = {o.id: o for o in orgs}
    return [(o.id, "\u2003" * (o.path.count("/") - 2) + choices.org_label(o, by_id)) for o in orgs]


def _category_options():
    return [(c.id, c.name) for c in choices.categories(db())]


def _create_form() -> OrgCreateForm:
    form = OrgCreateForm()
    form.parent_id.choices = [("", "— нет: новая юрисдикция —")] + _org_options()
    form.category_ids.choices = _category_options()
    return form


@bp.get("/organizations")
def organizations():
    s = db()
    form = OrgFilterForm(formdata=request.args)
    roots = admin_orgs.jurisdictions(s)
    form.jurisdiction_id.choices = [("", "обе")] + [(o.id, o.short_name or o.name) for o in roots]
    ok = passed_filters(form, ORG_FILTERS)
    rows = admin_orgs.tree(s, admin_orgs.TreeFilters(jurisdiction_id=ok["jurisdiction_id"], q=ok["q"] or "",
                                                     status=ok["status"] or ""))
    number = page_number()
    shown = rows[(number - 1) * PER_PAGE: number * PER_PAGE]
    context = dict(form=form, rows=shown, total=len(rows), number=number, has_next=len(rows) > number * PER_PAGE,
                   args=list_args(form, ORG_FILTERS), kinds=ORG_KINDS)
    status = 400 if form.errors else 200
    if targeted("rows"):
        return render_template("admin/_org_rows.html", **context), status
    return render_template("admin/organizations.html", **context), status


@bp.route("/organizations/new", methods=["GET", "POST"])
def organization_new():
    form = _create_form()
    if request.method == "GET":  # «Создать подчинённую» on an organization's page names the parent
        form.parent_id.data = params.id_or_none(request.args.get("parent_id"))
    created = {}

    def call():
        created["org"] = admin_orgs.create(db(), me(), name=form.name.data, short_name=form.short_name.data or "",
                                           kind=form.kind.data, parent_id=form.parent_id.data,
                                           regulation=form.regulation.data or "", category_ids=form.category_ids.data)
    if submitted(form, call):
        flash(f"Организация «{created['org'].short_name}» создана.", "success")
        return redirect(url_for("admin.organization", org_id=created["org"].id), 303)
    return render_template("admin/organization_new.html", form=form), 400 if form.errors else 200


def _org_page(org: Organization, status: int = 200, **forms):
    s = db()
    edit = forms.get("edit") or OrgEditForm(obj=org, formdata=None)
    move = forms.get("move") or OrgMoveForm(formdata=None, parent_id=org.parent_id)
    move.parent_id.choices = _org_options(exclude_subtree_of=org)
    current = admin_orgs.competence(s, org.id)
    competence = forms.get("competence") or CompetenceForm(formdata=None, category_ids=current)
    competence.category_ids.choices = [(c.id, c.name) for c in choices.categories(s)] + \
        [(cid, f"(выведена) {name}") for cid, name in _retired_names(set(current))]
    regulation = forms.get("regulation") or RegulationForm(formdata=None, regulation=org.regulation)
    parent = s.get(Organization, org.parent_id) if org.parent_id else None
    root = s.get(Organization, org.root_id) if org.root_id and org.root_id != org.id else None
    return render_template("admin/organization.html", org=org, parent=parent, root=root, edit=edit, move=move,
                           competence=competence, regulation=regulation, kinds=ORG_KINDS,
                           staff=admin_orgs.staff(s, org.id), role_labels=ROLE_LABELS,
                           open_messages=admin_orgs.open_messages(s, org.id), stage_labels=STAGE_LABELS), status


def _retired_names(ids: set[int]):
    from pos.models import Category
    for cid in sorted(ids):
        category = db().get(Category, cid)
        if category is not None and not category.is_active:
            yield cid, category.name


def _org(org_id: int) -> Organization:
    org = db().get(Organization, org_id)
    if org is None:
        abort(404)
    return org


@bp.get("/organizations/<int:org_id>")
def organization(org_id: int):
    return _org_page(_org(org_id))


@bp.post("/organizations/<int:org_id>/edit")
def organization_edit(org_id: int):
    org = _org(org_id)
    form = OrgEditForm()
    if submitted(form, lambda: admin_orgs.edit(db(), me(), org.id, name=form.name.data,
                                               short_name=form.short_name.data or "", kind=form.kind.data)):
        flash("Название сохранено.", "success")
        return redirect(url_for("admin.organization", org_id=org.id), 303)
    db().refresh(org)
    return _org_page(org, 400, edit=form)


@bp.post("/organizations/<int:org_id>/move")
def organization_move(org_id: int):
    org = _org(org_id)
    form = OrgMoveForm()
    form.parent_id.choices = _org_options(exclude_subtree_of=org)
    result = {}
    if submitted(form, lambda: result.update(changed=admin_orgs.move(db(), env(), me(), org.id, form.parent_id.data))):
        text = "Организация перемещена."
        if result["changed"]:
            text += f" Сроки пересчитаны у сообщений: {result['changed']}."
        flash(text, "success")
        return redirect(url_for("admin.organization", org_id=org.id), 303)
    db().refresh(org)
    return _org_page(org, 400, move=form)


@bp.post("/organizations/<int:org_id>/competence")
def organization_competence(org_id: int):
    form = CompetenceForm()
    return _saved(org_id, "competence", form,
                  lambda: admin_orgs.set_competence(db(), me(), org_id, form.category_ids.data),
                  "Компетенция сохранена.")


@bp.post("/organizations/<int:org_id>/regulation")
def organization_regulation(org_id: int):
    form = RegulationForm()
    return _saved(org_id, "regulation", form,
                  lambda: admin_orgs.set_regulation(db(), me(), org_id, form.regulation.data),
                  "Регламент юрисдикции сохранён.")


def _saved(org_id: int, name: str, form, call, done: str):
    """A form of the organization's page: saved, back to the page; refused, the page with the form's errors."""
    org = _org(org_id)
    if submitted(form, call):
        flash(done, "success")
        return redirect(url_for("admin.organization", org_id=org.id), 303)
    return _org_page(org, 400, **{name: form})


@bp.post("/organizations/<int:org_id>/close")
def organization_close(org_id: int):
    return _set_open(org_id, False)


@bp.post("/organizations/<int:org_id>/reopen")
def organization_reopen(org_id: int):
    return _set_open(org_id, True)


def _set_open(org_id: int, is_open: bool):
    org = _org(org_id)
    return one_button(lambda: admin_orgs.set_open(db(), me(), org.id, is_open),
                      "Организация открыта." if is_open else
                      "Организация закрыта: новые сообщения к ней не направляются.",
                      url_for("admin.organization", org_id=org.id))
