"""Administration: the classifier (categories, subcategories, the accelerated list of each jurisdiction)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from pos.forms.admin import ClassifierFilterForm, ConfirmForm, NameForm, SubcategoryRenameForm
from pos.models import Category, Subcategory
from pos.services import admin_classifier
from pos.views.admin import bp, list_args, me, one_button, page_number, passed_filters, submitted, targeted
from pos.web import db, env

CLASSIFIER_FILTERS = ("q", "status")
PER_PAGE = 50


def _category(category_id: int) -> Category:
    category = db().get(Category, category_id)
    if category is None:
        abort(404)
    return category


def _subcategory(sub_id: int) -> Subcategory:
    sub = db().get(Subcategory, sub_id)
    if sub is None:
        abort(404)
    return sub


def _classifier_page(status: int = 200, create: NameForm | None = None):
    form = ClassifierFilterForm(formdata=request.args)
    ok = passed_filters(form, CLASSIFIER_FILTERS)
    rows = admin_classifier.categories(db(), ok["q"] or "", ok["status"] or "")
    number = page_number()
    context = dict(form=form, rows=rows[(number - 1) * PER_PAGE: number * PER_PAGE], number=number,
                   has_next=len(rows) > number * PER_PAGE, create=create or NameForm(formdata=None),
                   args=list_args(form, CLASSIFIER_FILTERS))
    if targeted("rows"):
        return render_template("admin/_category_rows.html", **context), status
    return render_template("admin/classifier.html", **context), 400 if form.errors else status


@bp.get("/classifier")
def classifier():
    return _classifier_page()


@bp.post("/classifier/categories")
def category_new():
    form = NameForm()
    made = {}
    if submitted(form, lambda: made.update(c=admin_classifier.create_category(db(), me(), form.name.data))):
        flash(f"Категория «{made['c'].name}» создана.", "success")
        return redirect(url_for("admin.category", category_id=made["c"].id), 303)
    return _classifier_page(400, create=form)


def _category_page(category: Category, status: int = 200, **forms):
    s = db()
    subs = admin_classifier.subcategories(s, category.id)
    rename = forms.get("rename") or NameForm(formdata=None, name=category.name)
    create = forms.get("create") or NameForm(formdata=None, prefix="sub")
    rename.name.label.text, create.name.label.text = "Название категории", "Название новой подкатегории"
    return render_template("admin/category.html", category=category, subs=subs, rename=rename, create=create,
                           organizations=admin_classifier.competent_organizations(s, category.id),
                           roots=admin_classifier.jurisdictions(s),
                           accelerated=admin_classifier.accelerated(s, [x.id for x in subs]),
                           appendix=admin_classifier.appendix_entries(s, category, subs)), status


@bp.get("/classifier/categories/<int:category_id>")
def category(category_id: int):
    return _category_page(_category(category_id))


@bp.post("/classifier/categories/<int:category_id>/rename")
def category_rename(category_id: int):
    category = _category(category_id)
    form = NameForm()
    if submitted(form, lambda: admin_classifier.rename_category(db(), me(), category.id, form.name.data)):
        flash("Категория переименована.", "success")
        return redirect(url_for("admin.category", category_id=category.id), 303)
    db().refresh(category)
    return _category_page(category, 400, rename=form)


@bp.post("/classifier/categories/<int:category_id>/retire")
def category_retire(category_id: int):
    category = _category(category_id)
    return one_button(lambda: admin_classifier.set_category_active(db(), me(), category.id, False),
                      "Категория выведена из употребления: на сообщениях она остаётся, для новых не предлагается.",
                      url_for("admin.category", category_id=category.id))


@bp.post("/classifier/categories/<int:category_id>/restore")
def category_restore(category_id: int):
    category = _category(category_id)
    return one_button(lambda: admin_classifier.set_category_active(db(), me(), category.id, True),
                      "Категория возвращена в употребление.", url_for("admin.category", category_id=category.id))


@bp.post("/classifier/categories/<int:category_id>/subcategories")
def subcategory_new(category_id: int):
    category = _category(category_id)
    form = NameForm(prefix="sub")
    if submitted(form, lambda: admin_classifier.create_subcategory(db(), me(), category.id, form.name.data)):
        flash(f"Подкатегория «{' '.join(form.name.data.split())}» создана.", "success")
        return redirect(url_for("admin.category", category_id=category.id), 303)
    return _category_page(category, 400, create=form)


def _subcategory_page(sub: Subcategory, status: int = 200, **forms):
    s = db()
    category = s.get(Category, sub.category_id)
    roots = admin_classifier.jurisdictions(s)
    return render_template("admin/subcategory.html", sub=sub, category=category, roots=roots,
                           rename=forms.get("rename") or SubcategoryRenameForm(formdata=None, name=sub.name),
                           confirm=forms.get("confirm") or ConfirmForm(formdata=None),
                           accelerated=admin_classifier.accelerated(s, [sub.id]),
                           appendix=admin_classifier.appendix_entries(s, category, [sub]),
                           error_for=forms.get("error_for")), status


@bp.get("/classifier/subcategories/<int:sub_id>")
def subcategory(sub_id: int):
    return _subcategory_page(_subcategory(sub_id))


@bp.post("/classifier/subcategories/<int:sub_id>/rename")
def subcategory_rename(sub_id: int):
    sub = _subcategory(sub_id)
    form = SubcategoryRenameForm()
    if submitted(form, lambda: admin_classifier.rename_subcategory(db(), me(), sub.id, form.name.data,
                                                                   confirm_appendix=form.confirm_appendix.data)):
        flash("Подкатегория переименована.", "success")
        return redirect(url_for("admin.subcategory", sub_id=sub.id), 303)
    db().refresh(sub)
    return _subcategory_page(sub, 400, rename=form)


def _confirmed(sub: Subcategory, call, done: str, error_for: str):
    """A change that an appendix entry must confirm: refused, it shows the confirmation next to its button."""
    form = ConfirmForm()
    if submitted(form, lambda: call(form.confirm_appendix.data)):
        flash(done, "success")
        return redirect(url_for("admin.subcategory", sub_id=sub.id), 303)
    db().refresh(sub)
    return _subcategory_page(sub, 400, confirm=form, error_for=error_for)


@bp.post("/classifier/subcategories/<int:sub_id>/retire")
def subcategory_retire(sub_id: int):
    sub = _subcategory(sub_id)
    return _confirmed(sub, lambda ok: admin_classifier.set_subcategory_active(db(), me(), sub.id, False,
                                                                             confirm_appendix=ok),
                      "Подкатегория выведена из употребления: на сообщениях она остаётся, для новых не предлагается.",
                      "retire")


@bp.post("/classifier/subcategories/<int:sub_id>/restore")
def subcategory_restore(sub_id: int):
    sub = _subcategory(sub_id)
    return _confirmed(sub, lambda ok: admin_classifier.set_subcategory_active(db(), me(), sub.id, True),
                      "Подкатегория возвращена в употребление.", "restore")


@bp.post("/classifier/subcategories/<int:sub_id>/accelerated/<int:jurisdiction_id>/<any(on,off):state>")
def subcategory_accelerated(sub_id: int, jurisdiction_id: int, state: str):
    sub = _subcategory(sub_id)
    result = {}

    def call(ok):
        result["changed"] = admin_classifier.set_accelerated(db(), env(), me(), sub.id, jurisdiction_id,
                                                             state == "on", confirm_appendix=ok)
    response = _confirmed(sub, call, "Ускоренный срок сохранён.", f"accelerated-{jurisdiction_id}")
    if result.get("changed"):
        flash(f"Сроки пересчитаны у сообщений: {result['changed']}.", "info")
    return response
