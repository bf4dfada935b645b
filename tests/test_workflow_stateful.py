"""Random sequences of actions by random people, with the invariants of the workflow checked after every step.

Pure: the in-memory directory of `tests.memory`; the clock moves across the New Year
holidays and transferred days off so postponements come due and deadlines are counted
on the production calendar.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from pos import workflow as wf
from pos.workflow import (ACTIVE_STAGES, REJECTION_REASONS, TRANSITIONS, Action, Refused, Result, Role, Stage,
                          current_step)
from tests.memory import APPLICANTS, CATEGORIES, ORGS, PEOPLE, SUBCATEGORIES, MemoryWorld, snapshot

LOGINS = [*PEOPLE, *APPLICANTS, None]  # None: the system
ROWS = list(TRANSITIONS)
STARTS = [datetime(2025, 10, 14, 1, 0, tzinfo=timezone.utc),   # an ordinary Tuesday
          datetime(2025, 10, 31, 8, 30, tzinfo=timezone.utc),  # before the working Saturday 1 November
          datetime(2025, 12, 26, 6, 0, tzinfo=timezone.utc),   # before the New Year holidays
          datetime(2025, 12, 30, 7, 0, tzinfo=timezone.utc)]   # their last working afternoon
MAX_MESSAGES = 3
CLASSIFICATION = [(CATEGORIES[cat], sub_id) for cat, sub_id in SUBCATEGORIES.values()]


def _heads(w: MemoryWorld, org_id) -> list[int]:
    return [uid for uid, grants in w.ctx.grants.items()
            if any(g.role == Role.HEAD and g.organization_id == org_id for g in grants)]


def _staff(w: MemoryWorld, org_id, roles) -> list[int]:
    return [uid for uid, grants in w.ctx.grants.items()
            if any(g.role in roles and g.organization_id == org_id for g in grants)]


def _one_of(values, fallback):
    return st.sampled_from(values) if values else st.just(fallback)


USER_IDS = [*range(100, 100 + len(PEOPLE)), *range(201, 201 + len(APPLICANTS)), None, 9999]
# Any parameters at all: right, wrong, missing, of the wrong type. Built once: strategies are costly to make.
RANDOM_PARAMS = st.fixed_dictionaries({}, optional={
    "organization_id": st.sampled_from([*ORGS.values(), None, 999, "x"]),
    "executor_id": st.sampled_from(USER_IDS), "approver_id": st.sampled_from(USER_IDS),
    "head_id": st.sampled_from(USER_IDS),
    "agreeing_ids": st.lists(st.sampled_from(USER_IDS), max_size=3),
    "result": st.sampled_from([*Result, "bogus", None]),
    "answer_text": st.sampled_from(["Ответ", "", "  ", "я" * 4001]),
    "executor_position": st.sampled_from(["Специалист", ""]),
    "executor_name": st.sampled_from(["Иванов И. И.", ""]),
    # Days from today, made a date when drawn; a year is the default limit, and far past it is refused.
    "postponed_until": st.one_of(st.integers(-3, 40), st.sampled_from([365, 366, 2_900_000])),
    "reason": st.sampled_from([*REJECTION_REASONS, "", "и", None]),
    "comment": st.sampled_from(["", "Комментарий"]),
    "category_id": st.sampled_from([*CATEGORIES.values(), None, 77]),
    "subcategory_id": st.sampled_from([s for _, s in CLASSIFICATION] + [None, 77]),
    "rating": st.sampled_from([None, 0, 1, 2, 3, 4, 5, 6, "x"]),
    "text": st.sampled_from(["Повторно: не сделано", ""]),
})


def _dated(w: MemoryWorld, params: dict) -> dict:
    if isinstance(params.get("postponed_until"), int):
        today = w.ctx.deadlines.local_today(w.ctx.now)
        params = {**params, "postponed_until": (today + timedelta(days=params["postponed_until"])).isoformat()}
    return params


def fitting_params(w: MemoryWorld, action: Action, message):
    """Parameters that would usually be accepted, so that random walks get past the first stages."""
    org = message.organization_id
    heads = _heads(w, org)
    other_orgs = [o for o in ORGS.values() if o != org]
    answer = st.fixed_dictionaries({
        "result": st.sampled_from(list(Result)),
        "answer_text": st.just("Ответ по существу"),
        "executor_position": st.just("Главный специалист"),
        "executor_name": st.just("Иванов Иван Иванович"),
        "postponed_until": st.integers(1, 40),
        "approver_id": _one_of(heads, None),
        "agreeing_ids": st.lists(_one_of(heads, None), max_size=3, unique=True),
    })
    match action:
        case Action.ACCEPT:
            return st.fixed_dictionaries({}, optional={"organization_id": st.sampled_from(list(ORGS.values()))})
        case Action.REJECT:
            return st.fixed_dictionaries({"reason": st.sampled_from(list(REJECTION_REASONS))})
        case Action.CHANGE_ORGANIZATION | Action.TRANSFER:
            base = {"organization_id": st.sampled_from(other_orgs), "approver_id": _one_of(heads, None)}
            return st.fixed_dictionaries(base, optional={"agreeing_ids": st.lists(_one_of(heads, None), max_size=2)})
        case Action.CHANGE_CATEGORY:
            return st.sampled_from(CLASSIFICATION).map(lambda c: {"category_id": c[0], "subcategory_id": c[1]})
        case Action.ASSIGN_EXECUTOR:
            return st.fixed_dictionaries({"executor_id": _one_of(_staff(w, org, (Role.EXECUTOR, Role.COORDINATOR)),
                                                                 None)})
        case Action.PREPARE_ANSWER | Action.SEND_FOR_APPROVAL:
            return answer
        case Action.DELEGATE_AGREEMENT | Action.DELEGATE_APPROVAL:
            return st.fixed_dictionaries({"head_id": _one_of(heads, None)})
        case Action.REJECT_AGREEMENT | Action.REJECT_APPROVAL | Action.RETURN:
            return st.fixed_dictionaries({"comment": st.just("Доработать")})
        case Action.AGREE | Action.APPROVE:
            return st.fixed_dictionaries({}, optional={"answer_text": st.just("Ответ, исправленный руководителем")})
        case Action.RATE:
            return st.fixed_dictionaries({"rating": st.integers(1, 5)})
        case Action.REPEAT:
            return st.fixed_dictionaries({"text": st.just("Повторно: проблема не решена")})
    return st.just({})


class WorkflowMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.w = MemoryWorld()
        # Actions applied to each message, its submission included: the history must say as much.
        self.applied: dict[int, int] = {}

    # --- helpers ----------------------------------------------------------------------
    def _world_snapshot(self) -> dict:
        return {mid: snapshot(m, self.w.steps(m)) for mid, m in self.w.ctx.messages.items()}

    def _note_new_messages(self) -> None:
        for mid in self.w.ctx.messages:
            self.applied.setdefault(mid, 1)

    def _try(self, login, message, action: Action, params: dict) -> None:
        before = self._world_snapshot()
        known = set(self.w.ctx.messages)
        answer_due = message.answer_due_at
        try:
            outcome = self.w.act(login, message, action, **params)
        except Refused:
            # A refused action changes nothing, anywhere.
            assert self._world_snapshot() == before
            assert set(self.w.ctx.messages) == known
            return
        self.applied[message.id] += 1
        self._note_new_messages()
        assert outcome.from_stage == TRANSITIONS[action].stage
        assert outcome.to_stage in TRANSITIONS[action].to
        if message.answer_due_at != answer_due:
            # Deadlines never move without a recorded reason.
            recorded = outcome.details.get("answer_due")
            assert recorded, (action, answer_due, message.answer_due_at)
            assert recorded["to"] == message.answer_due_at.isoformat(sep=" ", timespec="minutes")
            assert recorded["reason"]
        if action == Action.REPEAT:
            repeat = self.w.ctx.messages[outcome.details["repeat_id"]]
            assert (repeat.is_repeated, repeat.repeated_of_id) == (True, message.id)
            # Clause 3.3: a repeat enters moderation like every message, the answering organization preselected.
            assert repeat.stage == Stage.MODERATION
            if self.w.ctx.org(message.organization_id).is_active:
                assert repeat.organization_id == message.organization_id
        if message.result == Result.POSTPONED and message.stage in (Stage.AGREEMENT, Stage.APPROVAL):
            assert message.postponed_until <= self.w.ctx.deadlines.latest_postponement(self.w.ctx.now)
        if action == Action.APPROVE and outcome.to_stage in (Stage.ANSWERED, Stage.POSTPONED):
            # The approved answer, «отложено» included, is the answer given: when and whether on time.
            given = outcome.details["answered"]
            assert message.answered_at == self.w.ctx.now
            assert given["on_time"] == (self.w.ctx.now <= answer_due)
        if action == Action.RESUME:
            # A new answer period by clause 3.9, counted from the return, and said so in the history.
            assert message.answer_due_at == self.w.ctx.deadlines.answer_due(self.w.ctx.now, message.accelerated)
            assert outcome.details["answer_due"]["reason"]

    # --- rules --------------------------------------------------------------------------
    @initialize(start=st.sampled_from(STARTS))
    def start(self, start):
        self.w.ctx.now = start

    # A few messages, walked far, find more than many messages that stay in moderation.
    @precondition(lambda self: len(self.w.ctx.messages) < MAX_MESSAGES)
    @rule(sub=st.sampled_from([None, *SUBCATEGORIES]), org=st.sampled_from([None, "A", "B", "city", "C"]),
          applicant=st.sampled_from(APPLICANTS))
    def submit(self, sub, org, applicant):
        known = set(self.w.ctx.messages)
        try:
            self.w.submit(sub=sub, org=org, applicant=applicant)
        except Refused:  # addressed to a closed organization
            assert set(self.w.ctx.messages) == known
        self._note_new_messages()

    @precondition(lambda self: self.w.ctx.messages)
    @rule(data=st.data())
    def anyone_tries_anything(self, data):
        message = data.draw(st.sampled_from(list(self.w.ctx.messages.values())))
        action = data.draw(st.sampled_from(ROWS))
        login = data.draw(st.sampled_from(LOGINS))
        params = data.draw(st.one_of(RANDOM_PARAMS, fitting_params(self.w, action, message)))
        self._try(login, message, action, _dated(self.w, params))

    @precondition(lambda self: self.w.ctx.messages)
    @rule(data=st.data(), turns=st.integers(1, 8))
    def people_do_their_jobs(self, data, turns):
        """A few actions in a row by whoever is offered one: the way a message really moves."""
        message = data.draw(st.sampled_from(list(self.w.ctx.messages.values())))
        for _ in range(turns):
            steps = self.w.steps(message)
            offers = [(login, action) for login in LOGINS
                      for action in wf.allowed_actions(self.w.ctx.actor(login), message, steps, self.w.ctx)]
            if not offers:
                return
            login, action = data.draw(st.sampled_from(offers))
            self._try(login, message, action, _dated(self.w, data.draw(fitting_params(self.w, action, message))))
            self.invariants_hold()

    @rule(hours=st.integers(1, 24 * 45))
    def time_passes(self, hours):
        self.w.ctx.now += timedelta(hours=hours)

    @rule(org=st.sampled_from(list(ORGS)), active=st.booleans())
    def an_organization_closes_or_reopens(self, org, active):
        self.w.ctx.deactivate(org, active)

    @precondition(lambda self: any(m.stage == Stage.POSTPONED for m in self.w.ctx.messages.values()))
    @rule()
    def the_system_resumes_what_is_due(self):
        for message in list(self.w.ctx.messages.values()):
            if message.stage == Stage.POSTPONED:
                self._try(None, message, Action.RESUME, {})

    # --- invariants ---------------------------------------------------------------------
    @invariant()
    def invariants_hold(self):
        self.no_message_disappears()
        self.every_message_is_in_exactly_one_valid_stage()
        self.history_explains_the_stage()

    def no_message_disappears(self):
        assert set(self.w.ctx.messages) == set(self.applied)
        assert all(m.id == mid for mid, m in self.w.ctx.messages.items())

    def every_message_is_in_exactly_one_valid_stage(self):
        for message in self.w.ctx.messages.values():
            stage = Stage(message.stage)
            step = current_step(message, self.w.steps(message))
            if stage in (Stage.AGREEMENT, Stage.APPROVAL):
                assert step is not None and step.kind == ("agree" if stage == Stage.AGREEMENT else "approve")
                assert message.assignee_id == step.head_id
            if stage in ACTIVE_STAGES and stage != Stage.MODERATION:
                assert message.organization_id is not None
            if stage in (Stage.EXECUTION, Stage.POSTPONED):
                assert message.executor_id is not None and message.assignee_id == message.executor_id
            if stage == Stage.POSTPONED:
                assert message.postponed_until is not None and message.result == Result.POSTPONED
                # The control date is the postponement's: no answer deadline runs meanwhile.
                assert message.answered_at is not None
                assert message.stage_due_at == self.w.ctx.deadlines.end_of_local_day(message.postponed_until)
            if stage == Stage.REJECTED:
                assert message.rejection_reason in REJECTION_REASONS
            if stage == Stage.ANSWERED:
                assert message.answered_at is not None and message.answer_text
            if stage in ACTIVE_STAGES:
                assert message.stage_due_at <= message.answer_due_at

    def history_explains_the_stage(self):
        for mid, message in self.w.ctx.messages.items():
            history = self.w.history(message)
            assert len(history) == self.applied[mid]
            assert history[0].action == Action.SUBMIT
            assert history[-1].to_stage == message.stage
            for earlier, later in zip(history, history[1:]):
                assert later.from_stage == earlier.to_stage
                assert later.from_org_id == earlier.to_org_id
            assert history[-1].to_org_id == message.organization_id


TestWorkflowMachine = WorkflowMachine.TestCase
TestWorkflowMachine.settings = settings(max_examples=60, stateful_step_count=30, deadline=None,
                                        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
