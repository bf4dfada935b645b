"""Who may do what, when: the transition table, the people and the world, the guards."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any, Iterable, Protocol

from pos.deadlines import DeadlinePolicy
from pos.workflow.vocabulary import (ACTION_LABELS, DEFAULT_REGULATION, POOR_RATING_MAX, REGULATION_AMUR,
                                     REGULATION_TYNDA, STAGE_LABELS, Action, Role, Stage)

class Performer(StrEnum):
    """Who performs an action in the transition table."""
    MODERATOR = "moderator"
    COORDINATOR = "coordinator"
    EXECUTOR = "executor"  # the message's executor
    CURRENT_HEAD = "current_head"  # the head whose turn it is in the chain
    AUTHOR = "author"  # the applicant who wrote the message
    SYSTEM = "system"


@dataclass(frozen=True)
class Transition:
    stage: Stage
    actor: Performer
    to: tuple[Stage, ...]


# The transition table: DESIGN.md section 3, every action of the regulations.
TRANSITIONS: dict[Action, Transition] = {
    Action.ACCEPT: Transition(Stage.MODERATION, Performer.MODERATOR, (Stage.COORDINATION,)),
    Action.REJECT: Transition(Stage.MODERATION, Performer.MODERATOR, (Stage.REJECTED,)),
    Action.CHANGE_ORGANIZATION: Transition(Stage.MODERATION, Performer.MODERATOR, (Stage.COORDINATION,)),
    Action.CHANGE_CATEGORY: Transition(Stage.MODERATION, Performer.MODERATOR, (Stage.MODERATION,)),
    Action.ASSIGN_EXECUTOR: Transition(Stage.COORDINATION, Performer.COORDINATOR, (Stage.EXECUTION,)),
    Action.TAKE: Transition(Stage.COORDINATION, Performer.COORDINATOR, (Stage.EXECUTION,)),
    Action.TRANSFER: Transition(Stage.COORDINATION, Performer.COORDINATOR, (Stage.AGREEMENT, Stage.APPROVAL)),
    Action.SEND_FOR_APPROVAL: Transition(Stage.COORDINATION, Performer.COORDINATOR, (Stage.AGREEMENT, Stage.APPROVAL)),
    Action.RETURN: Transition(Stage.COORDINATION, Performer.COORDINATOR, (Stage.COORDINATION,)),
    Action.PREPARE_ANSWER: Transition(Stage.EXECUTION, Performer.EXECUTOR, (Stage.AGREEMENT, Stage.APPROVAL)),
    Action.AGREE: Transition(Stage.AGREEMENT, Performer.CURRENT_HEAD, (Stage.AGREEMENT, Stage.APPROVAL)),
    Action.REJECT_AGREEMENT: Transition(Stage.AGREEMENT, Performer.CURRENT_HEAD, (Stage.EXECUTION, Stage.COORDINATION)),
    Action.DELEGATE_AGREEMENT: Transition(Stage.AGREEMENT, Performer.CURRENT_HEAD, (Stage.AGREEMENT,)),
    Action.APPROVE: Transition(Stage.APPROVAL, Performer.CURRENT_HEAD, (Stage.ANSWERED, Stage.POSTPONED, Stage.COORDINATION)),
    Action.REJECT_APPROVAL: Transition(Stage.APPROVAL, Performer.CURRENT_HEAD, (Stage.EXECUTION, Stage.COORDINATION)),
    Action.DELEGATE_APPROVAL: Transition(Stage.APPROVAL, Performer.CURRENT_HEAD, (Stage.APPROVAL,)),
    Action.RESUME: Transition(Stage.POSTPONED, Performer.SYSTEM, (Stage.EXECUTION,)),
    Action.RATE: Transition(Stage.ANSWERED, Performer.AUTHOR, (Stage.ANSWERED,)),
    Action.REPEAT: Transition(Stage.ANSWERED, Performer.AUTHOR, (Stage.ANSWERED,)),
    # Incidents only (public internet posts): the moderator closes one that needs no answer, with a comment.
    Action.CLOSE_NO_ANSWER: Transition(Stage.MODERATION, Performer.MODERATOR, (Stage.CLOSED,)),
}
INCIDENT_ONLY = frozenset({Action.CLOSE_NO_ANSWER})

# Regulations: which actions each one provides. Decree 608 (the city) gives the
# heads only «согласовать» and «отклонить»: no delegation of either right.
REGULATION_EXCLUDES: dict[str, frozenset[Action]] = {
    REGULATION_AMUR: frozenset(),
    REGULATION_TYNDA: frozenset({Action.DELEGATE_AGREEMENT, Action.DELEGATE_APPROVAL}),
}



# --- the world as the workflow sees it -------------------------------------

class Refused(Exception):
    """An action that may not be applied; the message is left as it was."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class NotAllowed(Refused):
    """This person may not take this action on this message now."""


class Invalid(Refused):
    """The action is allowed but its parameters are wrong."""


@dataclass(frozen=True)
class Grant:
    role: str
    organization_id: int | None = None
    # For a head: the categories the grant is limited to; empty means all.
    category_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Actor:
    user_id: int | None  # None is the system
    grants: tuple[Grant, ...] = ()
    applicant_id: int | None = None

    def has(self, role: str, organization_id: int | None = None) -> bool:
        return any(g.role == role and (g.organization_id is None or g.organization_id == organization_id)
                   for g in self.grants)


SYSTEM = Actor(user_id=None)


@dataclass(frozen=True)
class OrgInfo:
    id: int
    root_id: int
    regulation: str
    is_active: bool = True
    name: str = ""


class Directory(Protocol):
    """What the workflow asks of the world; the service answers from the database."""
    now: datetime
    deadlines: DeadlinePolicy

    def org(self, org_id: int | None) -> OrgInfo | None: ...
    def grants_of(self, user_id: int) -> tuple[Grant, ...]: ...
    def category_of(self, subcategory_id: int) -> int | None: ...
    def category_exists(self, category_id: int) -> bool: ...
    def is_accelerated(self, subcategory_id: int | None, jurisdiction_id: int | None) -> bool: ...
    def route(self, category_id: int | None) -> int | None: ...
    def has_repeat(self, message_id: int) -> bool: ...
    def new_step(self, **fields: Any) -> Any: ...


class MessageLike(Protocol):
    id: int | None
    stage: str
    organization_id: int | None
    # ... and the other columns of pos.models.Message


@dataclass
class Event:
    """Something to tell someone, written to the outbox by the service."""
    kind: str  # accepted, rejected, redirected, answered, postponed, resumed, inbox
    to_applicant: bool = False
    user_ids: tuple[int, ...] = ()
    # Staff of an organization holding a role (resolved by the service).
    org_role: tuple[int, str] | None = None
    data: dict = field(default_factory=dict)


@dataclass
class Outcome:
    action: Action
    from_stage: str | None
    to_stage: str
    from_org_id: int | None
    to_org_id: int | None
    details: dict = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    new_steps: list = field(default_factory=list)
    # For «Подать повторное сообщение»: the fields of the new message.
    new_message: dict | None = None


# --- reading the chain ------------------------------------------------------

def current_steps(message, steps: Iterable) -> list:
    return sorted((s for s in steps if s.round == message.chain_round), key=lambda s: s.position)


def current_step(message, steps: Iterable):
    """The place in the chain whose turn it is, or None outside agreement and approval."""
    if message.stage == Stage.AGREEMENT:
        kind = "agree"
    elif message.stage == Stage.APPROVAL:
        kind = "approve"
    else:
        return None
    for step in current_steps(message, steps):
        if step.kind == kind and step.status == "pending":
            return step
    return None


def regulation_of(ctx: Directory, org_id: int | None) -> str:
    """The regulation of the jurisdiction an organization belongs to; the platform's default for none."""
    org = ctx.org(org_id)
    return org.regulation if org is not None and org.regulation else DEFAULT_REGULATION


def answered_on_time(answered_at: datetime | None, answer_due_at: datetime | None) -> bool | None:
    """Whether an answer was given within its deadline (None: no answer yet)."""
    if answered_at is None or answer_due_at is None:
        return None
    return _utc(answered_at) <= _utc(answer_due_at)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def is_incident(message) -> bool:
    return getattr(message, "kind", "message") == "incident"


def regulation_allows(action: Action, ctx: Directory, message) -> bool:
    org = ctx.org(message.organization_id)
    if org is None:
        return True
    return action not in REGULATION_EXCLUDES.get(org.regulation, frozenset())


# --- guards -----------------------------------------------------------------

def _actor_fits(rule: Transition, actor: Actor, message, steps, ctx: Directory) -> bool:
    org_id = message.organization_id
    match rule.actor:
        case Performer.MODERATOR:
            return actor.has(Role.MODERATOR)
        case Performer.COORDINATOR:
            return org_id is not None and actor.has(Role.COORDINATOR, org_id)
        case Performer.EXECUTOR:
            return actor.user_id is not None and actor.user_id == message.executor_id
        case Performer.CURRENT_HEAD:
            step = current_step(message, steps)
            return (step is not None and actor.user_id == step.head_id
                    and actor.has(Role.HEAD, org_id))
        case Performer.AUTHOR:
            return actor.applicant_id is not None and actor.applicant_id == message.applicant_id
        case Performer.SYSTEM:
            return actor.user_id is None and actor.applicant_id is None
    return False


def why_not(action: Action, actor: Actor, message, steps, ctx: Directory) -> str | None:
    """None if `actor` may take `action` on `message` now, else the reason in Russian."""
    rule = TRANSITIONS.get(action)
    if rule is None:
        return "Такого действия нет."
    if message.stage != rule.stage:
        return (f"Действие «{ACTION_LABELS[action]}» недоступно на этапе "
                f"«{STAGE_LABELS.get(message.stage, message.stage)}».")
    if not _actor_fits(rule, actor, message, steps, ctx):
        return f"У вас нет права на действие «{ACTION_LABELS[action]}» по этому сообщению."
    if not regulation_allows(action, ctx, message):
        return f"Положение этой организации не предусматривает действие «{ACTION_LABELS[action]}»."
    if action in INCIDENT_ONLY and not is_incident(message):
        return f"Действие «{ACTION_LABELS[action]}» есть только у инцидентов (публикаций в интернете)."
    match action:
        case Action.RETURN if message.passed_from_id is None:
            return "Сообщение не передавалось из другой организации: возвращать некуда."
        case Action.RATE if message.rating is not None:
            return "Ответ уже оценён."
        case Action.REPEAT:
            if message.rating is None or message.rating > POOR_RATING_MAX:
                return "Повторное сообщение можно подать после оценки ответа на 1–3 балла."
            if message.id is not None and ctx.has_repeat(message.id):
                return "Повторное сообщение по этому ответу уже подано."
        case Action.RESUME:
            if message.postponed_until is None or ctx.deadlines.local_today(ctx.now) < message.postponed_until:
                return "Дата, до которой отложено сообщение, ещё не наступила."
    return None


def can(action: Action, actor: Actor, message, steps, ctx: Directory) -> bool:
    return why_not(action, actor, message, steps, ctx) is None


def allowed_actions(actor: Actor, message, steps, ctx: Directory) -> list[Action]:
    return [a for a in TRANSITIONS if a != Action.RESUME and can(a, actor, message, steps, ctx)]
