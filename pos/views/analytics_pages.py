"""The analytics pages «Сроки» (deadline compliance, 2.1.4) and «Удовлетворённость» (2.1.5).

Each builds its `Table`s (the page's tables and downloads at once) from pos/services/analytics.py and
links every figure to the staff inbox filtered to the messages behind it, as far as its filters go.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app, g, url_for
from sqlmodel import select

from pos.deadlines import WORKING_HOURS
from pos.models import Category
from pos.services import analytics as service
from pos.services.directory import load_policy
from pos.services.exports import Link, Table
from pos.views.analytics import analytics_page, bp, filters, inbox_url, register_tab, respond
from pos.web import db
from pos.workflow import STAGE_LABELS, Stage

register_tab("analytics.deadlines", "Сроки")
register_tab("analytics.satisfaction", "Удовлетворённость")

UNIT_TEXT = {WORKING_HOURS: "рабочие часы", service.CALENDAR_HOURS: "календарные часы"}


def _org_names(ids) -> dict[int, str]:
    from pos.services import choices
    orgs = choices.organizations(db(), active_only=False)
    labels = dict(choices.org_labels(orgs))
    return {i: labels.get(i, str(i)) for i in ids}


def _hours(value):
    return None if value is None else round(value, 1)


def _pct(part: int, whole: int):
    return round(100 * part / whole, 1) if whole else None


@bp.get("/deadlines")
@analytics_page
def deadlines():
    _form, scope = filters()
    session = db()
    policy = load_policy(session, current_app.config["TIMEZONE"])
    stages = service.stage_compliance(session, scope, policy)
    answers = service.answer_compliance(session, scope)
    names = _org_names({r.organization_id for r in stages} | {r.organization_id for r in answers})
    period = dict(date_from=scope.date_from.isoformat(), date_to=scope.date_to.isoformat())

    stage_rows = []
    for r in stages:
        org = dict(organization_id=r.organization_id)
        ended = r.on_time + r.late
        stage_rows.append([
            Link(names[r.organization_id], inbox_url(scope, **org)),
            STAGE_LABELS.get(r.stage, r.stage),
            Link(r.on_time, inbox_url(scope, **org)), Link(r.late, inbox_url(scope, **org)),
            _pct(r.on_time, ended),
            # Open ones are the messages at that stage now: the inbox shows them (without the dates).
            Link(r.open, inbox_url(scope, **org, stage=r.stage, date_from=None, date_to=None)),
            Link(r.overdue, inbox_url(scope, **org, stage=r.stage, deadline="overdue", date_from=None, date_to=None)),
            _hours(r.median_hours), _hours(r.p90_hours), UNIT_TEXT[r.unit]])
    stage_table = Table("stages", "Сроки по этапам", [
        "Организация", "Этап", "Завершено в срок", "Завершено с нарушением срока", "В срок, %",
        "Не завершено на конец периода", "Из них просрочено", "Медиана времени на этапе, ч",
        "90-й процентиль, ч", "Единица времени"], stage_rows)

    answer_rows = []
    for r in answers:
        org = dict(organization_id=r.organization_id)
        answer_rows.append([
            Link(names[r.organization_id], inbox_url(scope, **org)),
            Link(r.on_time, inbox_url(scope, **org, stage=Stage.ANSWERED.value)),
            Link(r.late, inbox_url(scope, **org, stage=Stage.ANSWERED.value)),
            _pct(r.on_time, r.on_time + r.late),
            Link(r.open, inbox_url(scope, **org, stage="in_work", date_from=None, date_to=None)),
            Link(r.overdue, inbox_url(scope, **org, stage="in_work", date_from=None, date_to=None))])
    answer_table = Table("answers", "Срок ответа (30 / 10 дней, п. 3.9)", [
        "Организация", "Ответ дан в срок", "Ответ дан с нарушением срока", "В срок, %",
        "Без ответа на конец периода", "Из них срок ответа истёк"], answer_rows)

    # The charts: per stage over all organizations of the scope, and the answer deadline per organization.
    by_stage: dict[str, list[int]] = {}
    for r in stages:
        totals = by_stage.setdefault(r.stage, [0, 0, 0])
        totals[0] += r.on_time
        totals[1] += r.late
        totals[2] += r.overdue
    stage_chart = [(STAGE_LABELS.get(s, s), v, None) for s, v in by_stage.items()]
    answer_chart = [(names[r.organization_id], [r.on_time, r.late, r.overdue],
                     inbox_url(scope, organization_id=r.organization_id)) for r in answers]
    return respond("analytics/deadlines.html", [stage_table, answer_table], stage_chart=stage_chart,
                   answer_chart=answer_chart, period=period)


def _satisfaction_row(r: service.Satisfaction, label, link_args: dict, scope) -> list:
    href = inbox_url(scope, **link_args, stage=Stage.ANSWERED.value)
    return [Link(label, href), *[Link(r.counts.get(n, 0), href) for n in range(1, 6)], Link(r.rated, href),
            None if r.mean is None else round(r.mean, 2), None if r.poor_share is None else round(r.poor_share, 1),
            Link(r.answered, href), Link(r.repeated, inbox_url(scope, **link_args, repeated="1")),
            None if r.repeated_share is None else round(r.repeated_share, 1)]


SATISFACTION_HEADER = ["1", "2", "3", "4", "5", "Оценок", "Средняя оценка", "Оценки 1–3, %", "Ответов дано",
                       "Из них повлекли повторное сообщение", "Повторных, %"]


@bp.get("/satisfaction")
@analytics_page
def satisfaction():
    _form, scope = filters()
    session = db()
    figures = service.satisfactions(session, scope)
    by_org, by_cat = figures["organization"], figures["category"]
    names = _org_names({r.key for r in by_org if r.key})
    categories = {c.id: c.name for c in session.exec(select(Category))}
    org_table = Table("organizations", "Удовлетворённость по организациям", ["Организация", *SATISFACTION_HEADER],
                      [_satisfaction_row(r, names.get(r.key, "—"), {"organization_id": r.key}, scope)
                       for r in by_org if r.key])
    cat_table = Table("categories", "Удовлетворённость по категориям", ["Категория", *SATISFACTION_HEADER],
                      [_satisfaction_row(r, categories.get(r.key, "без категории"), {"category_id": r.key}, scope)
                       for r in by_cat])
    total = {n: sum(r.counts.get(n, 0) for r in by_org) for n in range(1, 6)}
    overall = service.Satisfaction(None, total, sum(r.answered for r in by_org), sum(r.repeated for r in by_org))
    distribution = [(f"Оценка {n}", total[n], None) for n in range(1, 6)]
    per_org = [(names.get(r.key, "—"), [r.counts.get(n, 0) for n in range(1, 6)],
                inbox_url(scope, organization_id=r.key, stage=Stage.ANSWERED.value)) for r in by_org if r.key and r.rated]
    comments = service.rating_comments(session, scope)
    names.update(_org_names({c.organization_id for c in comments if c.organization_id} - set(names)))
    tz = ZoneInfo(current_app.config["TIMEZONE"])
    comment_rows = [[c.rated_at.astimezone(tz).strftime("%d.%m.%Y %H:%M"), c.rating, names.get(c.organization_id, "—"),
                     categories.get(c.category_id, "—"),
                     # A curator may open the message; the analyst reads the comment alone. Never its author.
                     Link(c.text, url_for("staff.message", message_id=c.message_id) if g.analytics_curator else None)]
                    for c in comments]
    comment_table = Table("comments", "Комментарии к оценкам", ["Дата оценки", "Оценка", "Организация", "Категория",
                                                              "Комментарий"], comment_rows)
    return respond("analytics/satisfaction.html", [org_table, cat_table, comment_table], overall=overall,
                   distribution=distribution, per_org=per_org, comments=comments)
