"""The rules of votes and polls, pure: the lifecycle from the period and the marks, and the check of a ballot.

No Flask, no database: the service hands in plain rows (pos.models.votes) and the moment.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from pos import clock
from pos.models.votes import BUDGET, MULTI, POLL, SCALE, SCALE_VALUES, SINGLE, TEXT

DRAFT, SCHEDULED, OPEN, CLOSED, PUBLISHED = "draft", "scheduled", "open", "closed", "published"
STATUS_LABELS = {DRAFT: "черновик", SCHEDULED: "запланировано", OPEN: "идёт", CLOSED: "завершено",
                 PUBLISHED: "итоги опубликованы"}
MAX_TEXT = 2000  # a free-text answer, «Другое»


class Refused(Exception):
    """A refused action or ballot, in Russian; `problems` are (field, text) pairs of a ballot's checks."""

    def __init__(self, text: str, problems: list[tuple[str | None, str]] | None = None):
        super().__init__(text)
        self.problems = problems or [(None, text)]


def status(vote, now: datetime | None = None) -> str:
    now = clock.as_utc(now or clock.now())
    if vote.results_published_at is not None:
        return PUBLISHED
    if vote.scheduled_at is None:
        return DRAFT
    if now < clock.as_utc(vote.starts_at):
        return SCHEDULED
    if now < clock.as_utc(vote.ends_at):
        return OPEN
    return CLOSED


def local(moment: datetime, tz: str) -> datetime:
    return clock.as_utc(moment).astimezone(ZoneInfo(tz))


def period_text(vote, tz: str) -> str:
    return f"с {local(vote.starts_at, tz):%d.%m.%Y %H:%M} по {local(vote.ends_at, tz):%d.%m.%Y %H:%M}"


def check_can_cast(vote, now: datetime, tz: str) -> None:
    state = status(vote, now)
    what = "Голосование" if vote.kind != POLL else "Опрос"
    if state in (DRAFT, SCHEDULED):
        raise Refused(f"{what} ещё не началось: принимать ответы начнут "
                      f"{local(vote.starts_at, tz):%d.%m.%Y в %H:%M} (местное время)." if vote.kind != POLL else
                      f"{what} ещё не начался: ответы принимаются с {local(vote.starts_at, tz):%d.%m.%Y %H:%M} "
                      "(местное время).")
    if state in (CLOSED, PUBLISHED):
        raise Refused(f"{what} завершено {local(vote.ends_at, tz):%d.%m.%Y в %H:%M} (местное время): "
                      "ответы больше не принимаются." if vote.kind != POLL else
                      f"{what} завершён {local(vote.ends_at, tz):%d.%m.%Y в %H:%M} (местное время): "
                      "ответы больше не принимаются.")


def check_editable(vote, ballots: int) -> None:
    """Options and rules change freely until the first ballot; then never."""
    if ballots:
        raise Refused("Изменить нельзя: уже подан первый голос. После него варианты, вопросы и правила не "
                      "меняются, чтобы все участники выбирали из одного и того же.")
    if vote.results_published_at is not None:
        raise Refused("Изменить нельзя: итоги уже опубликованы.")


@dataclass
class Choice:
    """What a person chose for one question, as the form sent it."""
    option_ids: list[int] = field(default_factory=list)
    other: bool = False
    other_text: str = ""
    text: str = ""
    value: int | None = None


@dataclass
class Answer:
    question_id: int
    option_id: int | None = None
    text: str = ""
    value: int | None = None


def rub(amount: int) -> str:
    return f"{amount:,}".replace(",", "\u00a0") + "\u00a0₽"


def check_ballot(vote, questions: list, options: dict[int, list], choices: dict[int, Choice]) -> list[Answer]:
    """The answers a ballot stores, or Refused with every problem of the form at once.

    `options`: question id → its options; `choices`: question id → what was chosen."""
    problems: list[tuple[str | None, str]] = []
    answers: list[Answer] = []
    for q in questions:
        name = f"q{q.id}"
        choice = choices.get(q.id) or Choice()
        own = {o.id: o for o in options.get(q.id, [])}
        if q.kind in (SINGLE, MULTI, BUDGET):
            chosen = list(dict.fromkeys(choice.option_ids))
            if any(i not in own for i in chosen):
                problems.append((name, "Выбран вариант, которого нет в этом вопросе."))
                continue
            other = q.other_allowed and choice.other
            other_text = " ".join((choice.other_text or "").split())[:MAX_TEXT]
            if other and not other_text:
                problems.append((name, "Выбрано «Другое»: напишите свой вариант."))
                continue
            count = len(chosen) + (1 if other else 0)
            if count == 0:
                if q.required:
                    problems.append((name, "Выберите вариант." if q.kind == SINGLE else
                                     "Выберите хотя бы один вариант." if q.kind != BUDGET else
                                     "Выберите хотя бы один проект."))
                continue
            if q.kind == SINGLE and count > 1:
                problems.append((name, "Здесь можно выбрать только один вариант."))
                continue
            if q.kind == MULTI:
                low, high = max(q.min_choices or 0, 1 if q.required else 0), q.max_choices
                if count < low:
                    problems.append((name, f"Выберите не меньше {low} вариантов (выбрано {count})."))
                    continue
                if high is not None and count > high:
                    problems.append((name, f"Можно выбрать не больше {high} вариантов (выбрано {count})."))
                    continue
            if q.kind == BUDGET:
                total = sum(own[i].cost or 0 for i in chosen)
                budget = vote.budget or 0
                if total > budget:
                    problems.append((name, f"Выбранные проекты стоят {rub(total)} — это больше бюджета "
                                           f"{rub(budget)} на {rub(total - budget)}. Снимите отметку с "
                                           "какого-нибудь проекта."))
                    continue
            answers += [Answer(q.id, option_id=i) for i in chosen]
            if other:
                answers.append(Answer(q.id, text=other_text))
        elif q.kind == TEXT:
            text = (choice.text or "").strip()
            if len(text) > MAX_TEXT:
                problems.append((name, f"Ответ длиннее {MAX_TEXT} символов."))
            elif not text:
                if q.required:
                    problems.append((name, "Напишите ответ."))
            else:
                answers.append(Answer(q.id, text=text))
        elif q.kind == SCALE:
            if choice.value is None:
                if q.required:
                    problems.append((name, "Выберите оценку от 1 до 5."))
            elif choice.value not in SCALE_VALUES:
                problems.append((name, "Оценка — число от 1 до 5."))
            else:
                answers.append(Answer(q.id, value=choice.value))
    if problems:
        raise Refused("Ответ не принят: " + " ".join(text for _field, text in problems), problems)
    if not answers:
        raise Refused("Ответ пустой: ответьте хотя бы на один вопрос.")
    return answers


def remaining(vote, options: list, chosen: list[int]) -> tuple[int, int]:
    """A budget vote's form: (chosen total, what is left of the budget; negative when over)."""
    total = sum(o.cost or 0 for o in options if o.id in set(chosen))
    return total, (vote.budget or 0) - total
