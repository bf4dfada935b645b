"""An in-memory world for the pure workflow: a `Directory` over plain dicts, no database.

The message and step objects are the models' own classes, never attached to a
session, so the workflow is tested on exactly the attributes the service saves.
The organizations, people and classifier mirror `tests.factories.World`.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from pos import workflow as wf
from pos.deadlines import DeadlinePolicy, ProductionCalendar
from pos.models import ApprovalStep, Message
from pos.workflow import REGULATION_AMUR, REGULATION_TYNDA, Action, Actor, Grant, OrgInfo, Role, Stage

TZ = ZoneInfo("Asia/Yakutsk")
# A Tuesday morning in Blagoveshchensk, far from any holiday.
DEFAULT_NOW = datetime(2025, 10, 14, 1, 0, tzinfo=timezone.utc)

# Organizations: key -> id; every one belongs to the jurisdiction ROOTS names.
ORGS = {"region": 1, "A": 2, "B": 3, "A1": 4, "city": 5, "C": 6}
ROOTS = {"region": "region", "A": "region", "B": "region", "A1": "region", "city": "city", "C": "city"}
REGULATIONS = {"region": REGULATION_AMUR, "city": REGULATION_TYNDA}
# Categories and their subcategories.
CATEGORIES = {"roads": 1, "meals": 2, "culture": 3, "housing": 4}
SUBCATEGORIES = {"pothole": ("roads", 11), "snow": ("roads", 12), "quality": ("meals", 21),
                 "sport_ticket": ("culture", 31), "refund": ("culture", 32), "heating": ("housing", 41)}
# The accelerated (10-day) lists differ: the sports ticket is accelerated in the region only.
ACCELERATED = {"region": ("quality", "sport_ticket", "refund"), "city": ("quality", "refund")}
ROUTES = {"roads": "A", "housing": "B", "meals": "B", "culture": "city"}
# login -> [(role, org key or None, limited to category keys)]
PEOPLE: dict[str, list[tuple[Role, str | None, tuple[str, ...]]]] = {
    "moderator": [(Role.MODERATOR, None, ())],
    "admin": [(Role.ADMINISTRATOR, None, ())],
    "analyst": [(Role.ANALYST, None, ())],
    "a.coordinator": [(Role.COORDINATOR, "A", ())],
    "a.executor": [(Role.EXECUTOR, "A", ())],
    "a.executor2": [(Role.EXECUTOR, "A", ())],
    "a.head1": [(Role.HEAD, "A", ())],
    "a.head2": [(Role.HEAD, "A", ())],
    "a.head3": [(Role.HEAD, "A", ())],
    "a.approver": [(Role.HEAD, "A", ())],
    "a.approver2": [(Role.HEAD, "A", ())],
    "a.head_housing": [(Role.HEAD, "A", ("housing",))],
    "a.curator": [(Role.CURATOR, "A", ())],
    "b.coordinator": [(Role.COORDINATOR, "B", ())],
    "b.executor": [(Role.EXECUTOR, "B", ())],
    "b.head": [(Role.HEAD, "B", ())],
    "city.coordinator": [(Role.COORDINATOR, "city", ())],
    "city.executor": [(Role.EXECUTOR, "city", ())],
    "city.head": [(Role.HEAD, "city", ())],
    "city.head2": [(Role.HEAD, "city", ())],
}
APPLICANTS = ("citizen", "citizen2")
PREFIX = {"A": "a", "B": "b", "city": "city"}


class MemoryDirectory:
    """`pos.workflow.Directory` answered from dicts; also the store of messages, steps and outcomes."""

    def __init__(self, now: datetime = DEFAULT_NOW, overrides: dict[date, bool] | None = None):
        self.now = now
        self.deadlines = DeadlinePolicy(ProductionCalendar(dict(overrides or {})), TZ)
        self.orgs: dict[int, OrgInfo] = {
            org_id: OrgInfo(org_id, ORGS[ROOTS[key]], REGULATIONS[ROOTS[key]], True, key)
            for key, org_id in ORGS.items()}
        self.subcategories = {sub_id: CATEGORIES[cat] for cat, sub_id in SUBCATEGORIES.values()}
        self.accelerated = {(ORGS[jur], SUBCATEGORIES[key][1]) for jur, keys in ACCELERATED.items() for key in keys}
        self.user_ids: dict[str, int] = {}
        self.grants: dict[int, tuple[Grant, ...]] = {}
        for number, (login, roles) in enumerate(PEOPLE.items(), start=100):
            self.user_ids[login] = number
            self.grants[number] = tuple(
                Grant(role, ORGS[org] if org else None, frozenset(CATEGORIES[c] for c in cats))
                for role, org, cats in roles)
        self.applicant_ids: dict[str, int] = {}
        for number, login in enumerate(APPLICANTS, start=1):
            self.user_ids[login] = 200 + number
            self.applicant_ids[login] = number
        self.messages: dict[int, Message] = {}
        self.steps: dict[int, list[ApprovalStep]] = {}
        self.outcomes: dict[int, list[wf.Outcome]] = {}

    # --- the Directory protocol -------------------------------------------------
    def org(self, org_id):
        return None if org_id is None else self.orgs.get(int(org_id))

    def grants_of(self, user_id):
        return () if user_id is None else self.grants.get(int(user_id), ())

    def category_of(self, subcategory_id):
        return self.subcategories.get(int(subcategory_id))

    def category_exists(self, category_id):
        return int(category_id) in CATEGORIES.values()

    def is_accelerated(self, subcategory_id, jurisdiction_id):
        if subcategory_id is None:
            return False
        if jurisdiction_id is None:
            return any(sub == subcategory_id for _, sub in self.accelerated)
        return (jurisdiction_id, subcategory_id) in self.accelerated

    def route(self, category_id):
        by_id = {v: k for k, v in CATEGORIES.items()}
        key = ROUTES.get(by_id.get(category_id))
        return ORGS[key] if key and self.orgs[ORGS[key]].is_active else None

    def has_repeat(self, message_id):
        return any(m.repeated_of_id == message_id for m in self.messages.values())

    def new_step(self, **fields: Any):
        return ApprovalStep(**fields)

    # --- the world --------------------------------------------------------------
    def deactivate(self, org_key: str, active: bool = False) -> None:
        info = self.orgs[ORGS[org_key]]
        self.orgs[info.id] = OrgInfo(info.id, info.root_id, info.regulation, active, info.name)

    def actor(self, login: str | None) -> Actor:
        if login is None:
            return wf.SYSTEM
        user_id = self.user_ids[login]
        return Actor(user_id, self.grants.get(user_id, ()), self.applicant_ids.get(login))

    def uid(self, login: str) -> int:
        return self.user_ids[login]


class MemoryWorld:
    """Messages walked to any stage by the people whose job it is, through `wf.apply`."""

    def __init__(self, now: datetime = DEFAULT_NOW, overrides: dict[date, bool] | None = None):
        self.ctx = MemoryDirectory(now, overrides)
        self.org = ORGS
        self.sub = {key: sub_id for key, (_, sub_id) in SUBCATEGORIES.items()}
        self.cat = CATEGORIES

    def uid(self, login: str) -> int:
        return self.ctx.uid(login)

    def steps(self, message: Message) -> list[ApprovalStep]:
        return self.ctx.steps.setdefault(message.id, [])

    def history(self, message: Message) -> list[wf.Outcome]:
        return self.ctx.outcomes.setdefault(message.id, [])

    def _store(self, initial: dict, outcome: wf.Outcome) -> Message:
        message = Message(id=len(self.ctx.messages) + 1, **initial)
        self.ctx.messages[message.id] = message
        self.ctx.steps[message.id] = []
        self.ctx.outcomes[message.id] = [outcome]
        return message

    def submit(self, *, sub: str | None = "pothole", org: str | None = None, text: str = "На дороге яма",
               applicant: str = "citizen", **extra) -> Message:
        fields = {"text": text, "applicant_id": self.ctx.applicant_ids[applicant], **extra}
        if sub:
            fields["category_id"], fields["subcategory_id"] = CATEGORIES[SUBCATEGORIES[sub][0]], self.sub[sub]
        if org:
            fields["organization_id"] = ORGS[org]
        initial, outcome = wf.submit(fields, self.ctx)
        return self._store(initial, outcome)

    def act(self, login: str | None, message: Message, action: Action, **params) -> wf.Outcome:
        """Apply one action as the service would: record the outcome, keep new steps and messages."""
        outcome = wf.apply(action, self.ctx.actor(login), message, self.steps(message), params, self.ctx)
        # The service creates the repeated message in the same transaction: it is part of the action.
        repeat = wf.submit(outcome.new_message, self.ctx) if outcome.new_message is not None else None
        self.steps(message).extend(outcome.new_steps)
        self.history(message).append(outcome)
        if repeat is not None:
            outcome.details["repeat_id"] = self._store(*repeat).id
        return outcome

    def answer_params(self, *, approver="a.approver", agreeing=(), result="resolved", **extra) -> dict:
        params = dict(result=result, answer_text="Яма заделана.", executor_position="Главный специалист",
                      executor_name="Иванов Пётр Сергеевич", approver_id=self.uid(approver),
                      agreeing_ids=[self.uid(a) for a in agreeing])
        params.update(extra)
        return params

    def message(self, stage: Stage = Stage.MODERATION, *, org: str = "A", agreeing=(), approver=None,
                transfer_to: str | None = None, rating: int | None = None, **submit) -> Message:
        """A message of `org` walked to `stage` (same path as `tests.factories.World.message`)."""
        prefix = PREFIX[org]
        approver = approver or ("a.approver" if org == "A" else f"{prefix}.head")
        message = self.submit(org=org, **submit)
        if stage == Stage.MODERATION:
            return message
        if stage == Stage.REJECTED:
            self.act("moderator", message, Action.REJECT, reason="г")
            return message
        if stage == Stage.CLOSED:  # an incident that needs no answer (only incidents reach it)
            message.kind = "incident"
            self.act("moderator", message, Action.CLOSE_NO_ANSWER, comment="Не требует ответа")
            return message
        self.act("moderator", message, Action.ACCEPT)
        if stage == Stage.COORDINATION:
            return message
        if transfer_to:
            self.act(f"{prefix}.coordinator", message, Action.TRANSFER, organization_id=ORGS[transfer_to],
                     approver_id=self.uid(approver), agreeing_ids=[self.uid(a) for a in agreeing])
            return message
        self.act(f"{prefix}.coordinator", message, Action.ASSIGN_EXECUTOR, executor_id=self.uid(f"{prefix}.executor"))
        if stage == Stage.EXECUTION:
            return message
        extra = {}
        result = "resolved"
        if stage == Stage.POSTPONED:
            result = "postponed"
            extra["postponed_until"] = (self.ctx.deadlines.local_today(self.ctx.now) + timedelta(days=20)).isoformat()
        self.act(f"{prefix}.executor", message, Action.PREPARE_ANSWER,
                 **self.answer_params(approver=approver, agreeing=agreeing, result=result, **extra))
        if stage in (Stage.AGREEMENT, Stage.APPROVAL):
            return message
        for head in agreeing:
            self.act(head, message, Action.AGREE)
        self.act(approver, message, Action.APPROVE)
        if rating is not None:
            self.act("citizen", message, Action.RATE, rating=rating)
        return message


def snapshot(message: Message, steps: list[ApprovalStep] = ()) -> tuple:
    """Every column of the message and of its steps, to compare before and after."""
    return (message.model_dump(), [s.model_dump() for s in steps])
