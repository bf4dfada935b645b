"""Staff: the role inboxes with their filters, and the staff's own notifications."""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlmodel import select

from pos import clock
from pos.auth import current_actor, current_role, staff_required
from pos.forms.staff import FilterForm
from pos.models import Notification
from pos.services import choices, exports, inbox as inbox_service, inbox_export as inbox_export_service, pd_audit
from pos.services.directory import kept_policy
from pos.web import db, htmx, htmx_fragment_request, register_nav
from pos.wording import person_label
from pos.workflow import ROLE_LABELS, STAGE_LABELS, Role

bp = Blueprint("staff", __name__, url_prefix="/staff")

register_nav("staff.inbox", "Входящие", roles=tuple(r.value for r in inbox_service.INBOX_ROLES)
             + (Role.ADMINISTRATOR.value,))
register_nav("staff.notifications", "Уведомления", roles=tuple(r.value for r in Role))

STAGE_FILTER_LABELS = {inbox_service.IN_WORK: "все в работе", inbox_service.ALL: "все этапы",
                       **{k.value: v for k, v in STAGE_LABELS.items()}}
SUBCATEGORY_FILTER = "subcategory-filter"
INBOX_TITLES = {
    Role.MODERATOR: "Модерация: сообщения всех организаций",
    Role.COORDINATOR: "Координация",
    Role.EXECUTOR: "Исполнение: мои сообщения",
    Role.HEAD: "Согласование и утверждение",
    Role.CURATOR: "Контроль: все сообщения организации",
    Role.ANALYST: "Сообщения (без персональных данных)",
}


def targeted(target: str) -> bool:
    """An htmx request aimed at one fragment (not a boosted navigation, which wants the whole page)."""
    return htmx_fragment_request() and htmx.target == target


def policy():
    return kept_policy(db(), current_app.config["TIMEZONE"])


LOCAL_FORMAT = "%d.%m.%Y %H:%M"


@bp.app_template_filter("local")
def local_datetime(value, fmt=LOCAL_FORMAT):
    """An aware UTC moment in the installation's time zone."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        here = value.astimezone(ZoneInfo(current_app.config["TIMEZONE"]))
        if fmt == LOCAL_FORMAT:  # every row of a list: the same digits without strftime's parsing of the format
            return f"{here.day:02}.{here.month:02}.{here.year} {here.hour:02}:{here.minute:02}"
        return here.strftime(fmt)
    return value.strftime("%d.%m.%Y")


def _filter_form(role: str, org_id: int | None, *, shown: bool = True) -> FilterForm:
    """The inbox's filters from the query string; `shown`: with the choices of the selects the page shows
    (the list alone, a fragment or an export, needs only the values: ids are checked as ids)."""
    session = db()
    form = FilterForm(formdata=request.args)
    default = "все в работе" if role in (Role.CURATOR, Role.ANALYST) else "все"
    form.stage.choices = [("", default)] + [(s, STAGE_FILTER_LABELS[s]) for s in inbox_service.stage_choices(role)
                                            if s != inbox_service.IN_WORK]
    form.category_id.choices = [("", "все")] + choices.category_options(session)
    # The subcategories follow the chosen category: htmx swaps the field in, without JavaScript «Показать» does.
    form.subcategory_id.choices = choices.subcategory_options(session, form.category_id.data, any_label="все",
                                                              no_category_label="все (сначала выберите категорию)")
    if form.subcategory_id.data not in [value for value, _label in form.subcategory_id.choices]:
        form.subcategory_id.data = None  # one of another category: the list has changed under it
    # Not pushed: the form's hx-push-url is inherited, and this request, racing the form's, would leave the
    # address bar at «?category_id=…» alone when it answered last.
    form.category_id.render_kw = {"hx-get": url_for("staff.inbox"), "hx-trigger": "change",
                                  "hx-target": f"#{SUBCATEGORY_FILTER}", "hx-swap": "outerHTML",
                                  "hx-include": "this", "hx-push-url": "false"}
    if role == Role.EXECUTOR:
        del form.executor_id
    if not shown:
        return form
    orgs = choices.org_options(session, None if role in (Role.MODERATOR, Role.ANALYST) else org_id)
    form.organization_id.choices = [("", "все")] + orgs
    people = choices.executors_of(session, [o for o, _label in orgs] if role == Role.CURATOR else
                                  [o for o, _label in orgs if o == org_id])
    mine = [(current_user.id, "назначенные мне")] if any(u.id == current_user.id for u in people) else []
    if "executor_id" in form:
        form.executor_id.choices = [("", "все"), *mine] + [(u.id, person_label(u.full_name, u.position))
                                                     for u in people if u.id != current_user.id]
    return form


FILTER_NAMES = ("stage", "category_id", "subcategory_id", "organization_id", "executor_id", "deadline", "source",
                "kind", "result", "repeated", "accelerated", "date_from", "date_to", "q")


def _filters(form: FilterForm) -> inbox_service.Filters:
    form.validate()
    data = {name: form[name].data if name in form and not form[name].errors else None for name in FILTER_NAMES}
    return inbox_service.Filters(stage=data["stage"] or "", category_id=data["category_id"],
                                 subcategory_id=data["subcategory_id"], organization_id=data["organization_id"],
                                 executor_id=data["executor_id"], deadline=data["deadline"] or "",
                                 source=data["source"] or "", kind=data["kind"] or "", result=data["result"] or "",
                                 repeated=bool(data["repeated"]), accelerated=bool(data["accelerated"]),
                                 date_from=data["date_from"], date_to=data["date_to"], q=data["q"] or "")


@bp.get("/")
@staff_required
def inbox():
    role = current_role()
    if role is None:
        abort(403)
    role_name, org_id = role
    form = _filter_form(role_name, org_id, shown=not (targeted("rows") or targeted(SUBCATEGORY_FILTER)))
    filters = _filters(form)
    page = inbox_service.inbox(db(), current_actor(), role_name, org_id, filters, now=clock.now(), policy=policy(),
                               after=request.args.get("after"), before=request.args.get("before"))
    from pos.views.staff_bulk import bulk_form
    context = dict(page=page, form=form, args=filter_args(form), role=role_name, org_id=org_id,
                   title=INBOX_TITLES.get(role_name, ROLE_LABELS.get(role_name, "")),
                   stage_labels=STAGE_LABELS, back=_inbox_back(),
                   # A row's link: this and the id (url_for per row was a tenth of the list's rendering).
                   message_path=url_for("staff.message", message_id=1).removesuffix("1"),
                   bulk=bulk_form(role_name, org_id) if page.rows else None,
                   picked_all=request.args.get("pick") == "all",
                   here={**filter_args(form),
                         **{k: request.args[k] for k in ("after", "before") if request.args.get(k)}})
    # A filter refused (an id or a date out of range) is shown on its field; the list ignores it.
    status = 400 if form.errors else 200
    if targeted("rows"):
        return render_template("staff/_rows.html", **context), status
    if targeted(SUBCATEGORY_FILTER):
        return render_template("staff/_subcategory.html", field_id=SUBCATEGORY_FILTER, sub=form.subcategory_id)
    return render_template("staff/inbox.html", **context), status


@bp.get("/export.<any(csv, xlsx):fmt>")
@staff_required
def inbox_export(fmt: str):
    """The inbox under its filters as a file; with the authors the person may see, which the audit records."""
    role = current_role()
    if role is None or role[0] not in inbox_service.INBOX_ROLES:
        abort(403)
    role_name, org_id = role
    form = _filter_form(role_name, org_id, shown=False)
    filters = _filters(form)
    result = inbox_export_service.export(db(), current_actor(), role_name, org_id, filters, now=clock.now(),
                                         policy=policy(), local=local_datetime)
    name = f"входящие-{clock.now():%Y-%m-%d}"
    if result.applicant_ids:
        pd_audit.note(current_user.id, "export", applicant_ids=result.applicant_ids,
                      detail=f"Входящие ({ROLE_LABELS.get(role_name, role_name)}), {fmt.upper()}: "
                             f"{len(result.rows)} сообщ., с данными заявителей — {len(result.applicant_ids)}")
    if fmt == "xlsx":
        return exports.xlsx_response(f"{name}.xlsx", [("Входящие", result.header, result.rows)])
    return exports.csv_response(f"{name}.csv", result.header, result.rows)


def _inbox_back() -> str:
    """This view of the inbox, to come back to (without the bulk form's «select all» state)."""
    query = [(k, v) for k, v in request.args.items(multi=True) if k != "pick"]
    return request.path + (f"?{urlencode(query)}" if query else "")


def filter_args(form: FilterForm) -> dict[str, str]:
    """The query string that keeps the view in the pager's links: only the filters' own names, with the
    values that passed (anything else, `_external` or `_anchor` say, would be taken by url_for itself)."""
    return {name: request.args[name] for name in FILTER_NAMES
            if name in form and not form[name].errors and request.args.get(name)}


@bp.get("/notifications")
@staff_required
def notifications():
    rows = db().exec(select(Notification).where(Notification.user_id == current_user.id)
                     .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(200)).all()
    return render_template("staff/notifications.html", rows=rows)


@bp.post("/notifications/read")
@staff_required
def notifications_read():
    session = db()
    now = clock.now()
    for row in session.exec(select(Notification).where(Notification.user_id == current_user.id,
                                                        Notification.read_at.is_(None))):
        row.read_at = now
    session.commit()
    return redirect(url_for("staff.notifications"), 303)
