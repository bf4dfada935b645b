"""The published results of a vote or poll as tables (pos.services.exports.Table): the pages render them,
the exports write them, so the two cannot disagree. Nothing here knows a participant."""
from __future__ import annotations

from pos.models.votes import BUDGET, SCALE, TEXT
from pos.services import votes
from pos.services.exports import Table

RESULT_HEADER = ["Вопрос", "Вариант", "Ответов", "% участников", "Место", "Стоимость, ₽",
                 "Нарастающим итогом, ₽", "В пределах бюджета"]


def question_table(result: votes.QuestionResult, budget: int | None) -> Table:
    q = result.question
    if q.kind == BUDGET:
        header = ["Место", "Проект", "Голосов", "% участников", "Стоимость, ₽", "Нарастающим итогом, ₽",
                  f"В пределах бюджета {budget or 0} ₽"]
        rows = [[r.place, r.title, r.count, r.percent, r.cost, r.cumulative, "да" if r.fits else "нет"]
                for r in result.options]
    elif q.kind == SCALE:
        header = ["Оценка", "Ответов", "% ответивших"]
        rows = [[r.title, r.count, r.percent] for r in result.options]
    else:
        header = ["Вариант", "Ответов", "% участников"]
        rows = [[r.title, r.count, r.percent] for r in result.options]
    return Table(f"q{q.id}", q.title, header, rows)


def results_rows(results: votes.Results) -> list[list]:
    rows = []
    for result in results.questions:
        q = result.question
        if q.kind == TEXT:
            rows.append([q.title, "свободный ответ", result.answered, None, None, None, None, None])
            continue
        for r in result.options:
            fits = None if r.fits is None else ("да" if r.fits else "нет")
            rows.append([q.title, r.title, r.count, r.percent, r.place, r.cost, r.cumulative, fits])
        if q.kind == SCALE:
            rows.append([q.title, "средняя оценка", result.mean, None, None, None, None, None])
    rows.append(["Всего", "участников", results.participants, None, None, None, None, None])
    return rows


def results_table(results: votes.Results) -> Table:
    return Table("results", "Итоги", RESULT_HEADER, results_rows(results))


def responses_table(session, vote) -> Table:
    header, rows = votes.responses(session, vote)
    return Table("responses", "Ответы (анонимно)", header, rows)
