"""Analytics pages for the analyst (everything) and curators (their organization's subtree): /staff/analytics.

Interface for the pages built on it:

- `bp`: the blueprint; a page is `@bp.get("/<name>")` decorated with `@analytics_page`, in a module of
  pages (pos/views/analytics_pages.py is one) imported at the end of this module, one line per module.
- `register_tab(endpoint, label)`: the page's tab in analytics/base.html (in the order registered).
- `analytics_page`: signed in, role analyst or curator (the one chosen in the header), else 403.
- `filters()`: (form, scope): the shared filter form (pos/forms/analytics.py) parsed from the query
  string, and the `Scope` (pos/services/analytics.py) the page counts over; a bad filter aborts 400
  with the form shown (the analytics/base.html page, status 400).
- `respond(template, tables, **context)`: renders the page, or, with `format=csv|xlsx&table=<name>`,
  downloads that `Table` (pos/services/exports.py) with the same rows; an unknown format or table is a 400.
- `inbox_url(scope, **filters)`: a link to the staff inbox filtered to the messages behind a figure:
  every stage, the scope's organization and received dates unless overridden.
- The template gets `form`, `scope`, `tabs`, `filter_args` (the query string that keeps the filters
  for the tabs), `export_url(table_name, fmt)`, `is_curator`, and `tables` by name; a page's template
  extends analytics/base.html and fills `{% block page %}` with the macros of analytics/_charts.html
  (`hbar`, `stacked`, `daily`, and `data_table(tables.<name>, export_url)` for each table).
"""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, current_app, g, make_response, render_template, request, url_for

from pos import clock
from pos.auth import current_role, staff_required
from pos.forms.analytics import DEFAULT_DAYS, AnalyticsFilterForm
from pos.services import analytics as service
from pos.services import choices
from pos.services.exports import FORMATS, Table, table_response
from pos.web import db, register_nav
from pos.workflow import Role

bp = Blueprint("analytics", __name__, url_prefix="/staff/analytics")

ROLES = (Role.ANALYST.value, Role.CURATOR.value)
register_nav("analytics.index", "Аналитика", roles=ROLES)

_tabs: list[tuple[str, str]] = []
FILTER_NAMES = ("date_from", "date_to", "jurisdiction_id", "organization_id", "kind")


def register_tab(endpoint: str, label: str) -> None:
    if all(e != endpoint for e, _ in _tabs):
        _tabs.append((endpoint, label))


def analytics_page(view):
    @staff_required
    @wraps(view)
    def wrapped(*args, **kwargs):
        role = current_role()
        if role is None or role[0] not in ROLES or (role[0] == Role.CURATOR and role[1] is None):
            abort(403)
        g.analytics_within = role[1] if role[0] == Role.CURATOR else None
        g.analytics_curator = role[0] == Role.CURATOR
        return view(*args, **kwargs)
    return wrapped


def _form() -> AnalyticsFilterForm:
    session = db()
    within = g.analytics_within
    form = AnalyticsFilterForm(request.args)
    orgs = service.allowed_organizations(session, within)
    roots = [o for o in orgs if o.parent_id is None]
    form.set_choices([(o.id, o.short_name or o.name) for o in roots], choices.org_labels(orgs))
    return form


def filters() -> tuple[AnalyticsFilterForm, service.Scope]:
    if "analytics_scope" in g:
        return g.analytics_form, g.analytics_scope
    form = _form()
    valid = form.validate()
    data = {name: (form[name].data if valid else None) for name in FILTER_NAMES}
    scope = service.make_scope(db(), current_app.config["TIMEZONE"], data["date_from"], data["date_to"],
                               data["jurisdiction_id"], data["organization_id"], g.analytics_within,
                               clock.now(), DEFAULT_DAYS, kind=data["kind"] or None)
    g.analytics_form, g.analytics_scope = form, scope
    if valid:  # the form shows the period counted, the default one too
        form.date_from.data, form.date_to.data = scope.date_from, scope.date_to
    if not valid:
        abort(make_response(render_template("analytics/base.html", **_context(form, scope)), 400))
    return form, scope


def filter_args() -> dict[str, str]:
    return {name: request.args[name] for name in FILTER_NAMES if request.args.get(name)}


def inbox_url(scope: service.Scope, **params) -> str:
    args = {"stage": "all", "date_from": scope.date_from.isoformat(), "date_to": scope.date_to.isoformat()}
    org = scope.organization_id or scope.jurisdiction_id or g.get("analytics_within")
    if org:
        args["organization_id"] = org
    if scope.kind:
        args["kind"] = scope.kind
    args.update({k: v for k, v in params.items()})
    return url_for("staff.inbox", **{k: v for k, v in args.items() if v not in (None, "", False)})


def _context(form, scope) -> dict:
    args = filter_args()

    def export_url(table: str, fmt: str) -> str:
        return url_for(request.endpoint, **args, format=fmt, table=table)

    return dict(form=form, scope=scope, tabs=list(_tabs), filter_args=args, export_url=export_url,
                is_curator=g.analytics_curator, formats=FORMATS)


def respond(template: str, tables: list[Table] | tuple[Table, ...] = (), **context):
    form, scope = filters()
    fmt = request.args.get("format")
    if fmt is not None:
        wanted = request.args.get("table", "")
        table = next((t for t in tables if t.name == wanted), None)
        if fmt not in FORMATS or table is None:
            abort(400, description="Неизвестный формат или таблица выгрузки.")
        page = (request.endpoint or "analytics").rsplit(".", 1)[-1]
        return table_response(table, fmt, f"{page}-{table.name}-{scope.date_from:%Y%m%d}-{scope.date_to:%Y%m%d}")
    tables_by_name = {t.name: t for t in tables}
    return render_template(template, tables=tables_by_name, **_context(form, scope), **context)


@bp.get("/")
@analytics_page
def index():
    from flask import redirect
    first = _tabs[0][0] if _tabs else None
    if first is None:
        abort(404)
    return redirect(url_for(first, **filter_args()), 303)


from pos.views import analytics_pages  # noqa: E402,F401  (the pages add their routes and tabs to bp)
from pos.views import analytics_overview  # noqa: E402,F401  («Частые проблемы», «Сводка»)
