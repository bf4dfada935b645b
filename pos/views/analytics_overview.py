"""The analytics pages «Частые проблемы» (2.1.6) and «Сводка» (2.1.9): figures of the messages themselves.

Each builds its `Table`s (the page's tables and its downloads at once) from pos/services/analytics_problems.py
and pos/services/analytics_summary.py, and links every figure to the staff inbox filtered to the messages
behind it (a place and a word through the inbox's search, which reads the text and the address).
"""
from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

from flask import current_app

from pos.services import analytics_problems, analytics_summary
from pos.services.exports import Link, Table
from pos.views.analytics import analytics_page, bp, filters, inbox_url, register_tab, respond
from pos.web import db
from pos.workflow import Result, Stage

register_tab("analytics.problems", "Частые проблемы")
register_tab("analytics.summary", "Сводка")

CHART_ROWS = 10
CHART_LABEL = 30  # characters that fit left of a bar; the bar's <title> and the table have the whole name


def _pct(value: Fraction | float | None):
    return None if value is None else round(float(value), 1)


def _short(label: str) -> str:
    return label if len(label) <= CHART_LABEL else label[:CHART_LABEL - 1].rstrip() + "…"


def _signed(value: int) -> str:
    return f"+{value}" if value > 0 else str(value)


@bp.get("/problems")
@analytics_page
def problems():
    _form, scope = filters()
    sample = int(current_app.config.get("ANALYTICS_WORD_SAMPLE") or analytics_problems.WORD_SAMPLE)
    result = analytics_problems.problems(db(), scope, sample)
    before_from, before_to = scope.date_from - timedelta(days=scope.days), scope.date_from - timedelta(days=1)
    before = dict(date_from=before_from.isoformat(), date_to=before_to.isoformat())

    def ranked_row(r: analytics_problems.Ranked, category: str, subcategory: str) -> list:
        ids = dict(category_id=r.category_id, subcategory_id=r.subcategory_id)
        return [category, subcategory, Link(r.count, inbox_url(scope, **ids)),
                Link(r.previous, inbox_url(scope, **ids, **before)), _signed(r.change), _pct(r.change_percent)]

    category_rows = []
    for r in result.categories:
        category_rows.append(ranked_row(r, r.name, "все подкатегории"))
        category_rows += [ranked_row(s, r.name, s.name) for s in r.subcategories]
    categories = Table("categories", "Категории и подкатегории", [
        "Категория", "Подкатегория", "Сообщений за период", "За предыдущий период", "Изменение",
        "Изменение, %"], category_rows)
    places = Table("places", "Места: населённый пункт и улица", ["Населённый пункт", "Улица", "Сообщений"], [
        [p.place.settlement or "не указан", p.place.street or "не указана",
         Link(p.count, inbox_url(scope, q=p.place.search))] for p in result.places])
    words = Table("words", "Частые слова", ["Слово", "Сообщений с этим словом"], [
        [Link(w.lemma, inbox_url(scope, q=w.search)), Link(w.count, inbox_url(scope, q=w.search))]
        for w in result.words])
    category_chart = [(_short(r.name), r.count, inbox_url(scope, category_id=r.category_id))
                      for r in result.categories[:CHART_ROWS] if r.count]
    place_chart = [(_short(p.place.label), p.count, inbox_url(scope, q=p.place.search)) for p in result.places[:CHART_ROWS]]
    word_chart = [(w.lemma, w.count, inbox_url(scope, q=w.search)) for w in result.words[:CHART_ROWS]]
    return respond("analytics/problems.html", [categories, places, words], result=result,
                   before_label=f"{before_from:%d.%m.%Y} — {before_to:%d.%m.%Y}", category_chart=category_chart, place_chart=place_chart, word_chart=word_chart,
                   all_url=inbox_url(scope), before_url=inbox_url(scope, **before))


# The inbox's filters for each result: the stage the messages with the answer given are in, and the result.
RESULT_STAGE = {Result.RESOLVED.value: Stage.ANSWERED.value, Result.NOT_RESOLVED.value: Stage.ANSWERED.value,
                Result.REJECTED.value: Stage.ANSWERED.value, Result.POSTPONED.value: Stage.POSTPONED.value}


def _result_filters(key: str) -> dict:
    if key == analytics_summary.REJECTED_BY_MODERATOR:
        return {"stage": Stage.REJECTED.value}
    return {"stage": RESULT_STAGE.get(key, "all"), "result": key}


@bp.get("/summary")
@analytics_page
def summary():
    _form, scope = filters()
    whole = analytics_summary.summary(db(), scope)
    m = whole.messages
    everything = inbox_url(scope)

    def share_rows(parts, link):
        return [[p.label, Link(p.count, link(p)), _pct(m.share(p.count))] for p in parts]

    sources = Table("sources", "По источнику", ["Источник", "Сообщений", "Доля, %"],
                    share_rows(m.by_source, lambda p: inbox_url(scope, source=p.key)))
    stages = Table("stages", "По этапу (где сообщение сейчас)", ["Этап", "Сообщений", "Доля, %"],
                   share_rows(m.by_stage, lambda p: inbox_url(scope, stage=p.key)))
    results = Table("results", "По результату рассмотрения", ["Результат", "Сообщений", "Доля, %"],
                    share_rows(m.by_result, lambda p: inbox_url(scope, **_result_filters(p.key))))
    shares = Table("shares", "Повторные и ускоренные", ["Показатель", "Сообщений", "Доля, %"], [
        ["Всего сообщений", Link(m.total, everything), _pct(m.share(m.total))],
        ["Повторные сообщения", Link(m.repeated, inbox_url(scope, repeated="1")), _pct(m.share(m.repeated))],
        ["С ускоренным сроком (10 дней)", Link(m.accelerated, inbox_url(scope, accelerated="1")),
         _pct(m.share(m.accelerated))]])
    source_keys = [p.key for p in m.by_source]
    day_rows = []
    for day in m.per_day:
        href = inbox_url(scope, date_from=day.day.isoformat(), date_to=day.day.isoformat())
        day_rows.append([day.day.strftime("%d.%m.%Y"), Link(day.count, href),
                         *[Link(day.by_source.get(key, 0), inbox_url(scope, source=key, date_from=day.day.isoformat(),
                                                                      date_to=day.day.isoformat()))
                           for key in source_keys]])
    days = Table("days", "По дням", ["Дата", "Сообщений",
                                     *[analytics_summary.SOURCE_LABELS.get(k, k) for k in source_keys]], day_rows)
    charts = dict(
        source_chart=[(p.label, p.count, inbox_url(scope, source=p.key)) for p in m.by_source],
        stage_chart=[(p.label, p.count, inbox_url(scope, stage=p.key)) for p in m.by_stage],
        result_chart=[(p.label, p.count, inbox_url(scope, **_result_filters(p.key))) for p in m.by_result],
        day_chart=[(day.day.strftime("%d.%m"), day.count) for day in m.per_day])
    held = [_held_table(name, title, part) for name, title, part in
            (("votes", "Голосования с опубликованными итогами", whole.votes),
             ("polls", "Опросы с опубликованными итогами", whole.polls))]
    charts.update(votes_chart=[(r.organization, r.participants, None) for r in whole.votes.rows],
                  polls_chart=[(r.organization, r.participants, None) for r in whole.polls.rows])
    return respond("analytics/summary.html", [shares, sources, stages, results, days, *held], messages=m,
                   everything=everything, votes=whole.votes, polls=whole.polls, **charts)


def _held_table(name: str, title: str, part: analytics_summary.HeldSummary) -> Table:
    rows = [[r.organization, r.held, r.participants, r.ballots] for r in part.rows]
    rows.append(["Всего", part.held, part.participants, part.ballots])
    return Table(name, title, ["Организация", "Проведено", "Участников", "Бюллетеней"], rows)
