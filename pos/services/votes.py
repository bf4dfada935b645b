"""Votes and polls: the organizer's preparation, the applicant's ballot, publication of the results.

One call per user action, one commit. The results are counted only once published (`results` refuses
before): while a vote runs, the only figure anyone gets is `participants`.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from pos import clock
from pos import votes as rules
from pos.models import Applicant, Organization, OutboxEvent
from pos.models.votes import (BUDGET, KINDS, MULTI, POLL, QUESTION_KINDS, SCALE, SINGLE, TEXT, VOTE, VOTE_STYLES,
                              Vote, VoteAnswer, VoteBallot, VoteOption, VoteParticipation, VoteQuestion,
                              VoteSubscription)
from pos.services import files, outbox
from pos.services.messages import Env
from pos.votes import Refused
from pos.workflow import Actor, Role

MAX_OPTIONS = 50
MAX_QUESTIONS = 50
MAX_COST = 10 ** 12
PICTURE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")


class AlreadyCast(Refused):
    pass


class NotFound(LookupError):
    pass


# --- who may do what ---------------------------------------------------------------------

def manageable_orgs(actor: Actor) -> set[int] | None:
    """Organizations whose votes the actor prepares; None: every one (the administrator)."""
    if any(g.role == Role.ADMINISTRATOR for g in actor.grants):
        return None
    return {g.organization_id for g in actor.grants if g.role == Role.PUBLISHER and g.organization_id}


def can_manage(actor: Actor, vote: Vote) -> bool:
    orgs = manageable_orgs(actor)
    return orgs is None or vote.organization_id in orgs


def sees_all_results(actor: Actor) -> bool:
    return any(g.role in (Role.ANALYST, Role.ADMINISTRATOR) for g in actor.grants)


def jurisdiction_of(session: Session, org_id: int) -> int:
    org = session.get(Organization, org_id)
    return org.root_id or org.id


# --- reading -----------------------------------------------------------------------------

def get(session: Session, vote_id: int) -> Vote:
    vote = session.get(Vote, vote_id)
    if vote is None:
        raise NotFound(vote_id)
    return vote


def questions(session: Session, vote_id: int) -> list[VoteQuestion]:
    return list(session.exec(select(VoteQuestion).where(VoteQuestion.vote_id == vote_id)
                             .order_by(VoteQuestion.position, VoteQuestion.id)))


def options(session: Session, vote_id: int) -> dict[int, list[VoteOption]]:
    rows = session.exec(select(VoteOption).join(VoteQuestion, VoteQuestion.id == VoteOption.question_id)
                        .where(VoteQuestion.vote_id == vote_id).order_by(VoteOption.position, VoteOption.id))
    found: dict[int, list[VoteOption]] = {}
    for row in rows:
        found.setdefault(row.question_id, []).append(row)
    return found


def participants(session: Session, vote_id: int) -> int:
    return session.exec(select(func.count(VoteParticipation.id)).where(VoteParticipation.vote_id == vote_id)).one()


def has_taken_part(session: Session, vote_id: int, applicant_id: int | None) -> bool:
    if applicant_id is None:
        return False
    return session.exec(select(VoteParticipation.id).where(VoteParticipation.vote_id == vote_id,
                                                           VoteParticipation.applicant_id == applicant_id)).first() \
        is not None


# A list page asks these of every vote it shows: one statement, not one a row.

def participants_of(session: Session, vote_ids: list[int]) -> dict[int, int]:
    if not vote_ids:
        return {}
    counts = dict(session.exec(select(VoteParticipation.vote_id, func.count(VoteParticipation.id))
                               .where(VoteParticipation.vote_id.in_(vote_ids))
                               .group_by(VoteParticipation.vote_id)).all())
    return {vote_id: counts.get(vote_id, 0) for vote_id in vote_ids}


def taken_part_in(session: Session, vote_ids: list[int], applicant_id: int | None) -> set[int]:
    if applicant_id is None or not vote_ids:
        return set()
    return set(session.exec(select(VoteParticipation.vote_id).where(VoteParticipation.vote_id.in_(vote_ids),
                                                                    VoteParticipation.applicant_id == applicant_id)))


def staff_list(session: Session, actor: Actor) -> list[Vote]:
    query = select(Vote).order_by(Vote.starts_at.desc(), Vote.id.desc())
    orgs = manageable_orgs(actor)
    if orgs is not None and not sees_all_results(actor):
        query = query.where(Vote.organization_id.in_(orgs or {-1}))
    rows = list(session.exec(query))
    if orgs is not None and sees_all_results(actor):
        # The analyst: every vote that has left the draft (a draft is the organizer's work in progress).
        rows = [v for v in rows if v.scheduled_at is not None or v.organization_id in orgs]
    return rows


def public_list(session: Session, jurisdiction_id: int | None, now: datetime) -> tuple[list[Vote], list[Vote]]:
    """The applicant's page: (current and coming ones, past ones) of a territory (None: every one)."""
    query = select(Vote).where(Vote.scheduled_at.is_not(None)).order_by(Vote.ends_at.desc(), Vote.id.desc())
    if jurisdiction_id is not None:
        query = query.where(Vote.jurisdiction_id == jurisdiction_id)
    current, past = [], []
    for vote in session.exec(query):
        (current if rules.status(vote, now) in (rules.SCHEDULED, rules.OPEN) else past).append(vote)
    current.sort(key=lambda v: v.ends_at)
    return current, past


def visible_to_public(vote: Vote) -> bool:
    return vote.scheduled_at is not None


# --- preparing ---------------------------------------------------------------------------

@dataclass
class VoteFields:
    title: str
    description: str
    starts_on: date
    starts_time: time
    ends_on: date
    ends_time: time
    settlements: str = ""
    style: str = SINGLE  # votes
    max_choices: int | None = None
    budget: int | None = None


def _period(fields: VoteFields, tz: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(tz)
    start = datetime.combine(fields.starts_on, fields.starts_time, zone).astimezone(ZoneInfo("UTC"))
    end = datetime.combine(fields.ends_on, fields.ends_time, zone).astimezone(ZoneInfo("UTC"))
    return start, end


def _settlements(text: str) -> list[str]:
    return [s for s in dict.fromkeys(" ".join(p.split()) for p in re.split(r"[,;\n]", text or "")) if s][:50]


def _check_fields(kind: str, fields: VoteFields, tz: str) -> list[tuple[str, str]]:
    problems = []
    if not fields.title.strip():
        problems.append(("title", "Укажите название."))
    start, end = _period(fields, tz)
    if end <= start:
        problems.append(("ends_on", "Окончание должно быть позже начала."))
    if kind == VOTE:
        if fields.style not in VOTE_STYLES:
            problems.append(("style", "Выберите способ голосования."))
        if fields.style == MULTI and not (fields.max_choices and 1 <= fields.max_choices <= MAX_OPTIONS):
            problems.append(("max_choices", f"Укажите, сколько вариантов можно выбрать (от 1 до {MAX_OPTIONS})."))
        if fields.style == BUDGET and not (fields.budget and 1 <= fields.budget <= MAX_COST):
            problems.append(("budget", "Укажите бюджет в рублях (целое число больше нуля)."))
    return problems


def _apply_fields(vote: Vote, kind: str, fields: VoteFields, tz: str) -> None:
    vote.title = fields.title.strip()[:300]
    vote.description = fields.description.strip()
    vote.starts_at, vote.ends_at = _period(fields, tz)
    vote.settlements = _settlements(fields.settlements)
    vote.budget = fields.budget if kind == VOTE and fields.style == BUDGET else None


def create(session: Session, env: Env, user, actor: Actor, kind: str, organization_id: int,
           fields: VoteFields) -> Vote:
    if kind not in KINDS:
        raise Refused("Неизвестный вид.")
    orgs = manageable_orgs(actor)
    if orgs is not None and organization_id not in orgs:
        raise Refused("Готовить голосования и опросы можно только своей организации.")
    if session.get(Organization, organization_id) is None:
        raise Refused("Организация не найдена.")
    problems = _check_fields(kind, fields, env.timezone)
    if problems:
        raise Refused("Исправьте отмеченное.", problems)
    vote = Vote(kind=kind, organization_id=organization_id, jurisdiction_id=jurisdiction_of(session, organization_id),
                title="", starts_at=clock.now(), ends_at=clock.now(), created_by_id=user.id, created_at=clock.now())
    _apply_fields(vote, kind, fields, env.timezone)
    session.add(vote)
    session.flush()
    if kind == VOTE:
        session.add(VoteQuestion(vote_id=vote.id, kind=fields.style, title=vote.title, required=True,
                                 min_choices=1, max_choices=_max_of(fields)))
    session.commit()
    return vote


def _max_of(fields: VoteFields) -> int | None:
    return {SINGLE: 1, MULTI: fields.max_choices}.get(fields.style)


def _ballots(session: Session, vote_id: int) -> int:
    return session.exec(select(func.count()).select_from(VoteBallot).where(VoteBallot.vote_id == vote_id)).one()


def _editable(session: Session, actor: Actor, vote_id: int) -> Vote:
    vote = get(session, vote_id)
    if not can_manage(actor, vote):
        raise PermissionError
    rules.check_editable(vote, _ballots(session, vote_id))
    return vote


def _bump(session: Session, vote: Vote) -> None:
    """Take the vote's row for the edit (FOR UPDATE): ballots being cast hold it shared (`cast`), so the edit
    waits for them and then sees their ballots, and a ballot that comes later waits for the edit."""
    session.exec(select(Vote).where(Vote.id == vote.id).with_for_update()
                 .execution_options(populate_existing=True)).one()
    rules.check_editable(vote, _ballots(session, vote.id))
    vote.version += 1


def update_fields(session: Session, env: Env, actor: Actor, vote_id: int, fields: VoteFields) -> Vote:
    vote = _editable(session, actor, vote_id)
    problems = _check_fields(vote.kind, fields, env.timezone)
    if vote.kind == VOTE and fields.style == BUDGET and any(
            o.cost is None for rows in options(session, vote.id).values() for o in rows):
        problems.append(("style", "В голосовании с бюджетом у каждого проекта должна быть стоимость: сначала "
                                  "укажите её или удалите проекты без стоимости."))
    if problems:
        raise Refused("Исправьте отмеченное.", problems)
    _bump(session, vote)
    _apply_fields(vote, vote.kind, fields, env.timezone)
    if vote.kind == VOTE:
        question = questions(session, vote.id)[0]
        question.kind, question.title, question.max_choices = fields.style, vote.title, _max_of(fields)
        session.add(question)
    session.add(vote)
    session.commit()
    return vote


def style_of(session: Session, vote: Vote) -> str:
    qs = questions(session, vote.id)
    return qs[0].kind if vote.kind == VOTE and qs else ""


def max_choices_of(session: Session, vote: Vote) -> int | None:
    qs = questions(session, vote.id)
    return qs[0].max_choices if vote.kind == VOTE and qs else None


def add_option(session: Session, env: Env, actor: Actor, vote_id: int, title: str, description: str,
               cost: int | None, picture: files.Upload | None) -> VoteOption:
    vote = _editable(session, actor, vote_id)
    if vote.kind != VOTE:
        raise Refused("Варианты опроса задаются в его вопросах.")
    question = questions(session, vote.id)[0]
    problems = []
    if not title.strip():
        problems.append(("title", "Укажите название проекта."))
    if question.kind == BUDGET and (cost is None or not 1 <= cost <= MAX_COST):
        problems.append(("cost", "Укажите оценочную стоимость в рублях (в голосовании с бюджетом она обязательна)."))
    elif cost is not None and not 0 <= cost <= MAX_COST:
        problems.append(("cost", "Стоимость — целое число рублей, не меньше нуля."))
    if len(options(session, vote.id).get(question.id, [])) >= MAX_OPTIONS:
        problems.append((None, f"Вариантов может быть не больше {MAX_OPTIONS}."))
    checked = []
    if picture is not None and (picture.filename or picture.data):
        try:
            checked = files.check([picture])
        except Exception as exc:  # files.check raises Invalid
            problems.append(("picture", str(exc)))
        else:
            if checked[0][1] not in PICTURE_TYPES:
                problems.append(("picture", "Картинка — файл JPEG, PNG, GIF или WEBP."))
    if problems:
        session.rollback()
        raise Refused("Исправьте отмеченное.", problems)
    _bump(session, vote)
    option = VoteOption(question_id=question.id, position=len(options(session, vote.id).get(question.id, [])),
                        title=title.strip()[:300], description=description.strip(), cost=cost)
    if checked:
        stored = files.store(env.upload_dir, checked[0][0], checked[0][1])
        option.picture_key, option.picture_type = stored.storage_key, stored.content_type
    session.add(option)
    session.commit()
    return option


def delete_option(session: Session, actor: Actor, vote_id: int, option_id: int) -> None:
    vote = _editable(session, actor, vote_id)
    option = session.get(VoteOption, option_id)
    if option is None or option.question_id not in {q.id for q in questions(session, vote.id)}:
        raise NotFound(option_id)
    _bump(session, vote)
    session.delete(option)
    session.commit()


@dataclass
class QuestionFields:
    title: str
    kind: str
    required: bool = True
    min_choices: int | None = None
    max_choices: int | None = None
    other_allowed: bool = False
    options_text: str = ""


def add_question(session: Session, actor: Actor, vote_id: int, fields: QuestionFields) -> VoteQuestion:
    vote = _editable(session, actor, vote_id)
    if vote.kind != POLL:
        raise Refused("Вопросы бывают только в опросе.")
    answers = [a for a in dict.fromkeys(" ".join(line.split()) for line in (fields.options_text or "").splitlines())
               if a][:MAX_OPTIONS]
    problems = []
    if not fields.title.strip():
        problems.append(("title", "Напишите вопрос."))
    if fields.kind not in QUESTION_KINDS:
        problems.append(("kind", "Выберите тип вопроса."))
    choice = fields.kind in (SINGLE, MULTI)
    if choice and len(answers) + (1 if fields.other_allowed else 0) < 2:
        problems.append(("options_text", "Нужно хотя бы два варианта ответа (по одному в строке)."))
    low, high = fields.min_choices or 0, fields.max_choices
    if fields.kind == MULTI:
        total = len(answers) + (1 if fields.other_allowed else 0)
        if high is not None and not 1 <= high <= total:
            problems.append(("max_choices", f"Максимум — от 1 до числа вариантов ({total})."))
        if low < 0 or (high is not None and low > high) or low > total:
            problems.append(("min_choices", "Минимум не может быть больше максимума и числа вариантов."))
    if len(questions(session, vote.id)) >= MAX_QUESTIONS:
        problems.append((None, f"Вопросов может быть не больше {MAX_QUESTIONS}."))
    if problems:
        raise Refused("Исправьте отмеченное.", problems)
    _bump(session, vote)
    question = VoteQuestion(vote_id=vote.id, position=len(questions(session, vote.id)), kind=fields.kind,
                            title=fields.title.strip()[:500], required=fields.required,
                            min_choices=low if fields.kind == MULTI else (1 if fields.kind == SINGLE else 0),
                            max_choices=high if fields.kind == MULTI else (1 if fields.kind == SINGLE else None),
                            other_allowed=choice and fields.other_allowed)
    session.add(question)
    session.flush()
    for position, text in enumerate(answers if choice else []):
        session.add(VoteOption(question_id=question.id, position=position, title=text[:300]))
    session.commit()
    return question


def delete_question(session: Session, actor: Actor, vote_id: int, question_id: int) -> None:
    vote = _editable(session, actor, vote_id)
    question = session.get(VoteQuestion, question_id)
    if question is None or question.vote_id != vote.id:
        raise NotFound(question_id)
    _bump(session, vote)
    for option in options(session, vote.id).get(question.id, []):
        session.delete(option)
    session.delete(question)
    session.commit()


def schedule(session: Session, env: Env, actor: Actor, vote_id: int) -> Vote:
    """Out of the draft: from now on the period decides when it opens and closes."""
    vote = _editable(session, actor, vote_id)
    if vote.scheduled_at is not None:
        raise Refused("Уже запланировано.")
    qs = questions(session, vote.id)
    opts = options(session, vote.id)
    if vote.kind == VOTE and len(opts.get(qs[0].id, [])) < 2:
        raise Refused("Добавьте хотя бы два варианта (проекта), прежде чем назначать голосование.")
    if vote.kind == POLL and not qs:
        raise Refused("Добавьте хотя бы один вопрос, прежде чем назначать опрос.")
    if clock.as_utc(vote.ends_at) <= clock.now():
        raise Refused(f"Период уже прошёл ({rules.period_text(vote, env.timezone)}): измените даты.")
    _bump(session, vote)
    vote.scheduled_at = clock.now()
    session.add(vote)
    session.commit()
    return vote


def unschedule(session: Session, actor: Actor, vote_id: int) -> Vote:
    """Back to the draft, while nobody has voted."""
    vote = _editable(session, actor, vote_id)
    _bump(session, vote)
    vote.scheduled_at = None
    session.add(vote)
    session.commit()
    return vote


# --- casting -----------------------------------------------------------------------------

ALREADY = "Вы уже приняли участие: ваш голос учтён, второй не принимается и изменить его нельзя."


def cast(session: Session, env: Env, vote_id: int, applicant_id: int, choices: dict[int, rules.Choice]) -> str:
    """Check and store a ballot with its participation record, in one transaction; returns nothing of it
    that a page could show next to the person (the ballot's id stays inside)."""
    try:
        # The vote's row, shared (FOR SHARE on PostgreSQL; SQLite's writers queue anyway): ballots go in
        # side by side, while an organizer's edit waits for them, and the rules read below are the ones in force.
        vote = session.exec(select(Vote).where(Vote.id == vote_id).with_for_update(read=True)
                            .execution_options(populate_existing=True)).first()
        if vote is None or not visible_to_public(vote):
            raise NotFound(vote_id)
        rules.check_can_cast(vote, clock.now(), env.timezone)
        if has_taken_part(session, vote.id, applicant_id):
            raise AlreadyCast(ALREADY)
        answers = rules.check_ballot(vote, questions(session, vote.id), options(session, vote.id), choices)
        session.add(VoteParticipation(vote_id=vote.id, applicant_id=applicant_id, cast_at=clock.now()))
        session.flush()
        ballot = VoteBallot(id=uuid.uuid4().hex, vote_id=vote.id)
        session.add(ballot)
        session.flush()
        for answer in answers:
            session.add(VoteAnswer(ballot_id=ballot.id, question_id=answer.question_id, option_id=answer.option_id,
                                   text=answer.text, value=answer.value))
        session.commit()
    except IntegrityError:  # the same person's other request got there first: the unique record decides
        session.rollback()
        raise AlreadyCast(ALREADY) from None
    except BaseException:
        session.rollback()
        raise
    return ballot.id


# --- results -----------------------------------------------------------------------------

class NotPublished(Refused):
    pass


def publish_results(session: Session, env: Env, user, actor: Actor, vote_id: int) -> Vote:
    vote = get(session, vote_id)
    if not can_manage(actor, vote):
        raise PermissionError
    state = rules.status(vote)
    if state == rules.PUBLISHED:
        raise Refused("Итоги уже опубликованы.")
    if state != rules.CLOSED:
        raise Refused(f"Опубликовать итоги можно после окончания ({rules.period_text(vote, env.timezone)}).")
    done = session.execute(update(Vote).where(Vote.id == vote.id, Vote.results_published_at.is_(None))
                           .values(results_published_at=clock.now(), results_published_by_id=user.id,
                                   version=Vote.version + 1))
    if done.rowcount != 1:
        session.rollback()
        raise Refused("Итоги уже опубликованы.")
    people = list(session.exec(select(VoteParticipation.applicant_id).where(VoteParticipation.vote_id == vote.id)))
    rows = _notify(session, vote, "vote_results", f"vote-results:{vote.id}", people)
    session.commit()
    session.refresh(vote)
    outbox.dispatch([r.id for r in rows])
    return vote


def _notify(session: Session, vote: Vote, event: str, key: str, applicant_ids: list[int]) -> list[OutboxEvent]:
    if not applicant_ids:
        return []
    row = OutboxEvent(created_at=clock.now(), kind="notify", idempotency_key=key,
                      payload={"event": event, "message_id": None, "history_id": None, "to_applicant": False,
                               "user_ids": [], "applicant_ids": sorted(applicant_ids), "org_role": None,
                               "data": {"vote_id": vote.id, "kind": vote.kind, "title": vote.title}})
    session.add(row)
    return [row]


def announce_openings(session: Session, now: datetime | None = None) -> int:
    """The periodic job: a vote or poll that has opened tells the applicants who asked (once; a second run,
    or two at once, writes nothing new: the mark and the outbox key)."""
    now = now or clock.now()
    due = session.exec(select(Vote).where(Vote.scheduled_at.is_not(None), Vote.opening_announced_at.is_(None),
                                          Vote.starts_at <= now, Vote.ends_at > now)).all()
    written = []
    for vote in due:
        done = session.execute(update(Vote).where(Vote.id == vote.id, Vote.opening_announced_at.is_(None))
                               .values(opening_announced_at=now))
        if done.rowcount != 1:
            continue
        people = list(session.exec(select(VoteSubscription.applicant_id).where(
            VoteSubscription.notify, (VoteSubscription.jurisdiction_id == vote.jurisdiction_id)
            | VoteSubscription.jurisdiction_id.is_(None))))
        written += _notify(session, vote, "vote_opened", f"vote-opened:{vote.id}", people)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return 0
    outbox.dispatch([r.id for r in written])
    return len(due)


@dataclass
class OptionResult:
    option_id: int | None
    title: str
    count: int
    percent: float
    cost: int | None = None
    fits: bool | None = None
    cumulative: int | None = None
    place: int | None = None


@dataclass
class QuestionResult:
    question: VoteQuestion
    answered: int
    options: list[OptionResult]
    texts: list[str]
    mean: float | None = None


@dataclass
class Results:
    vote: Vote
    ballots: int
    participants: int
    questions: list[QuestionResult]


def _percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def results(session: Session, vote: Vote) -> Results:
    """Counted from the ballots, only once published: before that there is nothing to count for anyone."""
    if vote.results_published_at is None:
        raise NotPublished("Итоги ещё не опубликованы.")
    ballots = _ballots(session, vote.id)
    opts = options(session, vote.id)
    counts = {(q, o): n for q, o, n in session.exec(
        select(VoteAnswer.question_id, VoteAnswer.option_id, func.count(VoteAnswer.id))
        .join(VoteBallot, VoteBallot.id == VoteAnswer.ballot_id).where(VoteBallot.vote_id == vote.id)
        .group_by(VoteAnswer.question_id, VoteAnswer.option_id))}
    answered = dict(session.exec(
        select(VoteAnswer.question_id, func.count(func.distinct(VoteAnswer.ballot_id)))
        .join(VoteBallot, VoteBallot.id == VoteAnswer.ballot_id).where(VoteBallot.vote_id == vote.id)
        .group_by(VoteAnswer.question_id)).all())
    out = []
    for q in questions(session, vote.id):
        n = answered.get(q.id, 0)
        texts, mean, rows = [], None, []
        if q.kind in (SINGLE, MULTI, BUDGET):
            rows = [OptionResult(o.id, o.title, counts.get((q.id, o.id), 0), _percent(counts.get((q.id, o.id), 0), ballots),
                                 cost=o.cost) for o in opts.get(q.id, [])]
            if q.other_allowed:
                other = counts.get((q.id, None), 0)
                rows.append(OptionResult(None, "Другое", other, _percent(other, ballots)))
                texts = _texts(session, vote.id, q.id)
            if q.kind == BUDGET:
                rows.sort(key=lambda r: (-r.count, r.cost or 0, r.title))
                spent = 0
                for place, row in enumerate(rows, 1):
                    row.place = place
                    row.fits = spent + (row.cost or 0) <= (vote.budget or 0)
                    if row.fits:
                        spent += row.cost or 0
                    row.cumulative = spent
        elif q.kind == SCALE:
            values = dict(session.exec(
                select(VoteAnswer.value, func.count(VoteAnswer.id)).join(VoteBallot, VoteBallot.id == VoteAnswer.ballot_id)
                .where(VoteBallot.vote_id == vote.id, VoteAnswer.question_id == q.id).group_by(VoteAnswer.value)).all())
            rows = [OptionResult(None, str(v), values.get(v, 0), _percent(values.get(v, 0), n)) for v in (1, 2, 3, 4, 5)]
            mean = round(sum(v * c for v, c in values.items()) / n, 2) if n else None
        elif q.kind == TEXT:
            texts = _texts(session, vote.id, q.id)
        out.append(QuestionResult(q, n, rows, texts, mean))
    return Results(vote, ballots, participants(session, vote.id), out)


def _texts(session: Session, vote_id: int, question_id: int) -> list[str]:
    # Ordered by the text itself: neither the order of casting nor the ballot is kept in the list.
    return sorted(session.exec(select(VoteAnswer.text).join(VoteBallot, VoteBallot.id == VoteAnswer.ballot_id)
                               .where(VoteBallot.vote_id == vote_id, VoteAnswer.question_id == question_id,
                                      VoteAnswer.text != "")))


def responses(session: Session, vote: Vote) -> tuple[list[str], list[list]]:
    """Anonymous responses, one row per ballot (in the ballots' random order), one column per question;
    several choices in one cell, joined by «; »."""
    if vote.results_published_at is None:
        raise NotPublished("Итоги ещё не опубликованы.")
    qs = questions(session, vote.id)
    titles = {o.id: o.title for rows in options(session, vote.id).values() for o in rows}
    header = ["№"] + [q.title for q in qs]
    by_ballot: dict[str, dict[int, list[str]]] = {}
    for ballot_id in session.exec(select(VoteBallot.id).where(VoteBallot.vote_id == vote.id).order_by(VoteBallot.id)):
        by_ballot[ballot_id] = {}
    for answer in session.exec(select(VoteAnswer).join(VoteBallot, VoteBallot.id == VoteAnswer.ballot_id)
                               .where(VoteBallot.vote_id == vote.id).order_by(VoteAnswer.option_id)):
        if answer.option_id is not None:
            cell = titles.get(answer.option_id, "")
        elif answer.value is not None:
            cell = str(answer.value)
        else:
            cell = f"Другое: {answer.text}" if _is_choice(qs, answer.question_id) else answer.text
        by_ballot[answer.ballot_id].setdefault(answer.question_id, []).append(cell)
    rows = [[n] + ["; ".join(cells.get(q.id, [])) for q in qs] for n, cells in enumerate(by_ballot.values(), 1)]
    return header, rows


def _is_choice(qs: list[VoteQuestion], question_id: int) -> bool:
    return any(q.id == question_id and q.kind in (SINGLE, MULTI, BUDGET) for q in qs)


# --- the applicant's territory and subscription ------------------------------------------

def subscription(session: Session, applicant_id: int) -> VoteSubscription | None:
    return session.get(VoteSubscription, applicant_id)


def subscribe(session: Session, applicant_id: int, jurisdiction_id: int | None, notify: bool) -> VoteSubscription:
    if jurisdiction_id is not None:
        org = session.get(Organization, jurisdiction_id)
        if org is None or (org.root_id or org.id) != org.id:
            raise Refused("Такой территории нет.")
    row = session.get(VoteSubscription, applicant_id) or VoteSubscription(applicant_id=applicant_id)
    row.jurisdiction_id, row.notify = jurisdiction_id, notify
    session.add(row)
    session.commit()
    return row


def jurisdictions(session: Session) -> list[Organization]:
    return list(session.exec(select(Organization).where(Organization.parent_id.is_(None)).order_by(Organization.id)))


def applicant_exists(session: Session, applicant_id: int) -> bool:
    return session.get(Applicant, applicant_id) is not None
