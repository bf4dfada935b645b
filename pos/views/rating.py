"""The monthly rating of ИОГВ (decree 232, section 4): the analyst's review and publication, each ИОГВ's own
result for its curators and heads, the exports."""
from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from pos import clock
from pos.auth import current_role, staff_required
from pos.forms.rating import MonthForm, PublishForm, RecomputeForm
from pos.models.rating import INDICATORS, PUBLISHED
from pos.services import rating, rating_export, rating_snapshots
from pos.services.rating import DEFINITION
from pos.web import db, env, error_page, register_nav
from pos.workflow import Role

bp = Blueprint("rating", __name__, url_prefix="/staff/rating")

VIEWERS = (Role.ANALYST.value, Role.CURATOR.value, Role.HEAD.value)
register_nav("rating.index", "Рейтинг ИОГВ", roles=VIEWERS)


def _role() -> tuple[str, int | None]:
    role = current_role()
    if role is None or role[0] not in VIEWERS:
        abort(403)
    if role[0] != Role.ANALYST and role[1] is None:
        abort(403)
    return role


def _analyst() -> None:
    if _role()[0] != Role.ANALYST:
        abort(403)


def _default_month() -> date:
    local = clock.now().astimezone(ZoneInfo(current_app.config["TIMEZONE"]))
    return rating.previous_month(local.date().replace(day=1))


class BadMonth(Exception):
    pass


FIRST_YEAR, LAST_YEAR = 2000, 2099  # the platform's months; outside them a date's arithmetic would overflow


def _month(text: str | None) -> date:
    if not text:
        return _default_month()
    try:
        month = rating.parse_month(text)
    except ValueError as exc:
        raise BadMonth(str(exc)) from None
    if not FIRST_YEAR <= month.year <= LAST_YEAR:
        raise BadMonth(f"Месяц «{text}»: год от {FIRST_YEAR} до {LAST_YEAR}.")
    return month


def _bad_month(exc: BadMonth):
    return error_page(400, "Неверный месяц", f"{exc} Выберите месяц в форме на странице рейтинга.")


def _rules() -> rating.Rules:
    return rating.Rules.from_config(current_app.config)


@bp.get("")
@staff_required
def index():
    role = _role()
    try:
        month = _month(request.args.get("month"))
    except BadMonth as exc:
        return _bad_month(exc)
    picker = MonthForm(request.args, meta={"csrf": False})
    picker.month.data = f"{month:%Y-%m}"
    common = dict(month=month, month_form=picker, indicators=INDICATORS, labels=rating_export.INDICATOR_LABELS,
                  definition=DEFINITION, previous=rating.previous_month(month), following=rating.next_month(month))
    session = db()
    if role[0] != Role.ANALYST:
        return render_template("rating/own.html", result=rating_snapshots.own_result(session, month, role[1]),
                               **common)
    snapshot = rating_snapshots.get(session, month)
    rows = rating_snapshots.rows(session, snapshot) if snapshot else []
    draft = snapshot is None or snapshot.status != PUBLISHED
    value = f"{month:%Y-%m}"
    return render_template("rating/index.html", snapshot=snapshot, rows=rows,
                           published_by=rating_snapshots.published_by(session, snapshot) if snapshot else "",
                           recompute=RecomputeForm(formdata=None, month=value,
                                                   with_incidents=bool(snapshot and snapshot.with_incidents))
                           if draft else None,
                           publish=PublishForm(formdata=None, month=value) if snapshot and draft else None,
                           **common)


def _post(form_class, action) -> Response:
    _analyst()
    form = form_class()
    if not form.validate():
        return error_page(400, "Неверный запрос", "Месяц рейтинга не указан или указан неверно (ГГГГ-ММ).")
    try:
        month = _month(form.month.data)
    except BadMonth as exc:
        return _bad_month(exc)
    if month > _default_month():
        # The current month has not ended: its figures are not a month's yet (clause 4.3: the following month).
        return error_page(400, "Месяц не закончился", f"Рейтинг за {month:%m.%Y} можно рассчитать и опубликовать "
                                                     "после окончания месяца.")
    try:
        action(month, form)
    except rating_snapshots.AlreadyPublished as exc:
        flash(str(exc), "error")
    except ValueError as exc:  # the administrator's settings of the rating
        return error_page(400, "Неверные настройки рейтинга", str(exc))
    return redirect(url_for("rating.index", month=f"{month:%Y-%m}"), 303)


@bp.post("/recompute")
@staff_required
def recompute():
    def action(month, form):
        with_incidents = bool(form.with_incidents.data)
        rating_snapshots.compute_draft(db(), env(), month, _rules(), with_incidents=with_incidents)
        flash(f"Черновик рейтинга за {month:%m.%Y} пересчитан"
              f"{' с инцидентами' if with_incidents else ''}.", "success")
    return _post(RecomputeForm, action)


@bp.post("/publish")
@staff_required
def publish():
    def action(month, _form):
        rating_snapshots.publish(db(), env(), month, current_user, _rules())
        flash(f"Рейтинг за {month:%m.%Y} опубликован; кураторы и руководители ИОГВ уведомлены.", "success")
    return _post(PublishForm, action)


@bp.get("/export.<any(csv, xlsx):fmt>")
@staff_required
def export(fmt: str):
    _analyst()
    try:
        month = _month(request.args.get("month"))
    except BadMonth as exc:
        return _bad_month(exc)
    session = db()
    snapshot = rating_snapshots.get(session, month)
    if snapshot is None:
        return error_page(404, "Рейтинг не рассчитан", f"Рейтинга за {month:%m.%Y} ещё нет: рассчитайте черновик.")
    rows = rating_snapshots.rows(session, snapshot)
    name = f"rating-{month:%Y-%m}.{fmt}"
    if fmt == "csv":
        body, mimetype = rating_export.to_csv_bytes(snapshot, rows), "text/csv; charset=utf-8"
    else:
        body = rating_export.to_xlsx(snapshot, rows)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})
