"""The pure workflow: every row of the transition table, allowed and refused, and the regulations' details.

No database: `tests.memory` answers the workflow's questions from dicts.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from pos import workflow as wf
from pos.workflow import (REJECTION_REASONS, TRANSITIONS, Action, Invalid, NotAllowed, Performer, Refused, Result,
                          Stage)
from tests.memory import ORGS, MemoryWorld, snapshot


@pytest.fixture
def w() -> MemoryWorld:
    return MemoryWorld()


# --- one ready case per row: (message, who may act, valid parameters) ------------------

def _org_people(org: str) -> tuple[str, str, str, str]:
    """coordinator, executor, agreeing head, approving head of `org`."""
    if org == "A":
        return "a.coordinator", "a.executor", "a.head1", "a.approver"
    return "city.coordinator", "city.executor", "city.head2", "city.head"


def _sub(org: str) -> str:
    return "pothole" if org == "A" else "sport_ticket"


def _other_org(org: str) -> int:
    return ORGS["B"] if org == "A" else ORGS["C"]


def _at(w: MemoryWorld, stage: Stage, org: str, **kw):
    _c, _e, head, approver = _org_people(org)
    agreeing = (head,) if stage == Stage.AGREEMENT else ()
    return w.message(stage, org=org, sub=_sub(org), agreeing=agreeing, approver=approver, **kw)


def _passed_on(w: MemoryWorld):
    """A message the ministry of housing (B) passed on to the ministry of transport (A): an approved transfer."""
    message = w.submit(org="B", sub="pothole")
    w.act("moderator", message, Action.ACCEPT)
    w.act("b.coordinator", message, Action.TRANSFER, organization_id=ORGS["A"], approver_id=w.uid("b.head"))
    w.act("b.head", message, Action.APPROVE)
    assert (message.stage, message.organization_id) == (Stage.COORDINATION, ORGS["A"])
    return message


def case(w: MemoryWorld, action: Action, org: str = "A"):
    coordinator, executor, head, approver = _org_people(org)
    answer = w.answer_params(approver=approver)
    stage = TRANSITIONS[action].stage
    login = {Performer.MODERATOR: "moderator", Performer.COORDINATOR: coordinator, Performer.EXECUTOR: executor,
             Performer.AUTHOR: "citizen", Performer.SYSTEM: None}.get(TRANSITIONS[action].actor)
    if stage == Stage.AGREEMENT:
        login = head
    elif stage == Stage.APPROVAL:
        login = approver
    params: dict = {
        Action.ACCEPT: {},
        Action.REJECT: {"reason": "а", "comment": "Оскорбления"},
        Action.CHANGE_ORGANIZATION: {"organization_id": _other_org(org)},
        Action.CHANGE_CATEGORY: {"category_id": w.cat["housing"], "subcategory_id": w.sub["heating"]},
        Action.ASSIGN_EXECUTOR: {"executor_id": w.uid(executor)},
        Action.TAKE: {},
        Action.TRANSFER: {"organization_id": _other_org(org), "approver_id": w.uid(approver)},
        Action.SEND_FOR_APPROVAL: answer,
        Action.RETURN: {"comment": "Не наша компетенция"},
        Action.PREPARE_ANSWER: answer,
        Action.AGREE: {},
        Action.REJECT_AGREEMENT: {"comment": "Ответ неполный"},
        Action.DELEGATE_AGREEMENT: {"head_id": w.uid("a.head2")},
        Action.APPROVE: {},
        Action.REJECT_APPROVAL: {"comment": "Ответ неполный"},
        Action.DELEGATE_APPROVAL: {"head_id": w.uid("a.approver2")},
        Action.RESUME: {},
        Action.RATE: {"rating": 4},
        Action.REPEAT: {"text": "Яма снова появилась"},
        Action.CLOSE_NO_ANSWER: {"comment": "Пост — поздравление с праздником, проблемы нет"},
    }[action]
    if action == Action.RETURN:
        message = _passed_on(w)
    elif stage == Stage.ANSWERED:
        message = _at(w, stage, org, rating=2 if action == Action.REPEAT else None)
    elif action in wf.INCIDENT_ONLY:
        message = _at(w, stage, org, kind="incident")
    else:
        message = _at(w, stage, org)
    if action == Action.RESUME:
        w.ctx.now = w.ctx.deadlines.end_of_local_day(message.postponed_until) - timedelta(hours=12)
    return message, login, params


# Who is never the right person, though near the message (its own organization).
WRONG_ROLE = {
    Performer.MODERATOR: ["a.coordinator", "a.curator", "admin", "analyst", "citizen"],
    Performer.COORDINATOR: ["a.executor", "a.head1", "a.curator", "moderator", "admin", "citizen"],
    Performer.EXECUTOR: ["a.coordinator", "a.executor2", "a.head1", "a.curator", "moderator"],
    # a.head3 and a.approver2 are heads of the organization, but not in turn.
    Performer.CURRENT_HEAD: ["a.executor", "a.coordinator", "a.head3", "a.approver2", "a.curator", "moderator"],
    Performer.SYSTEM: ["moderator", "a.executor", "a.coordinator", "admin", "citizen"],
    Performer.AUTHOR: ["a.executor", "a.coordinator", "moderator", "a.curator"],
}
# The same role in another organization (both another body of the region and the city).
OTHER_ORG = {
    Performer.COORDINATOR: ["b.coordinator", "city.coordinator"],
    Performer.EXECUTOR: ["b.executor", "city.executor"],
    Performer.CURRENT_HEAD: ["b.head", "city.head"],
    Performer.AUTHOR: ["citizen2"],
}
ROWS = list(TRANSITIONS)


def assert_refused(w: MemoryWorld, login, message, action, params, error=NotAllowed, match: str | None = None):
    before = snapshot(message, w.steps(message))
    history = list(w.history(message))
    actor = w.ctx.actor(login)
    with pytest.raises(error, match=match) as info:
        wf.apply(action, actor, message, w.steps(message), params, w.ctx)
    assert snapshot(message, w.steps(message)) == before
    assert w.history(message) == history
    if error is NotAllowed:
        assert not wf.can(action, actor, message, w.steps(message), w.ctx)
        assert action not in wf.allowed_actions(actor, message, w.steps(message), w.ctx)
    return info.value


def test_every_row_has_a_case_and_a_performer():
    assert set(ROWS) == set(Action) - {Action.SUBMIT}
    assert {TRANSITIONS[a].actor for a in ROWS} == set(WRONG_ROLE)


@pytest.mark.parametrize("action", ROWS)
def test_row_allowed_for_the_right_person(w, action):
    message, login, params = case(w, action)
    rule = TRANSITIONS[action]
    actor = w.ctx.actor(login)
    assert wf.why_not(action, actor, message, w.steps(message), w.ctx) is None
    if action != Action.RESUME:  # the system's action is never offered as a button
        assert action in wf.allowed_actions(actor, message, w.steps(message), w.ctx)
    outcome = w.act(login, message, action, **params)
    assert outcome.action == action
    assert outcome.from_stage == rule.stage
    assert outcome.to_stage in rule.to
    assert message.stage == outcome.to_stage


@pytest.mark.parametrize("action", ROWS)
def test_row_refused_for_the_wrong_role(w, action):
    message, _login, params = case(w, action)
    for login in WRONG_ROLE[TRANSITIONS[action].actor]:
        error = assert_refused(w, login, message, action, params)
        assert "нет права" in str(error), login


@pytest.mark.parametrize("action, stage", [(a, s) for a in ROWS for s in Stage if s != TRANSITIONS[a].stage])
def test_row_refused_at_another_stage(w, action, stage):
    _message, login, params = case(w, action)
    message = _at(w, stage, "A", rating=2 if stage == Stage.ANSWERED else None)
    if stage == Stage.POSTPONED:
        w.ctx.now = w.ctx.deadlines.end_of_local_day(message.postponed_until)
    error = assert_refused(w, login, message, action, params)
    assert "недоступно на этапе" in str(error)


@pytest.mark.parametrize("action", ROWS)
def test_row_and_another_organization(w, action):
    performer = TRANSITIONS[action].actor
    if performer in OTHER_ORG:
        message, _login, params = case(w, action)
        for login in OTHER_ORG[performer]:
            assert_refused(w, login, message, action, params)
    else:
        # The moderator and the system serve every organization of both jurisdictions.
        message, login, params = case(w, action, org="city")
        assert message.organization_id in (ORGS["city"], ORGS["C"])
        outcome = w.act(login, message, action, **params)
        assert outcome.to_stage in TRANSITIONS[action].to


# --- moderation -------------------------------------------------------------------

@pytest.mark.parametrize("code", sorted(REJECTION_REASONS))
def test_every_rejection_reason_is_accepted(w, code):
    message = w.message(Stage.MODERATION)
    outcome = w.act("moderator", message, Action.REJECT, reason=code)
    assert message.stage == Stage.REJECTED
    assert message.rejection_reason == code
    assert [(e.kind, e.to_applicant, e.data) for e in outcome.events] == [("rejected", True, {"reason": code})]


# Clause 3.3, 1) а)–з), copied from each decree: 232 (the region) and 608 (the city of Tynda).
_CLAUSE_3_3_COMMON = {
    "а": "в сообщении содержатся нецензурные либо оскорбительные выражения, угрозы жизни, здоровью и имуществу "
         "должностного лица, а также членов его семьи",
    "б": "текст сообщения не поддается прочтению",
    "в": "текст сообщения написан на языке, отличном от государственного языка Российской Федерации, а также "
         "неразборчив (непонятен) или не позволяет определить суть сообщения",
    "г": "текст сообщения не содержит конкретных фактов, на основании которых может быть проведена проверка по "
         "вопросу, указанному в сообщении",
    "е": "сообщение нарушает законодательство Российской Федерации",
    "ж": "сообщение содержит персональные данные третьих лиц, распространяемые без их согласия",
    "з": "сообщение содержит послания, просьбы, прошения личного характера",
}
_CLAUSE_3_3_D = ("текст сообщения содержит информацию, направленную на пропаганду ненависти и дискриминации по "
                 "расовому, этническому, половому, религиозному, социальному признакам, ущемление прав меньшинств, "
                 "несовершеннолетних, причиняющую или призывающую к причинению вреда в любой форме, "
                 "оскорбления в адрес ")


@pytest.mark.parametrize("regulation, insulted", [(wf.REGULATION_AMUR, "ИОГВ и организаций"),
                                                  (wf.REGULATION_TYNDA, "Администрации и учреждений")])
def test_every_reason_is_word_for_word_its_regulations(regulation, insulted):
    expected = {**_CLAUSE_3_3_COMMON, "д": _CLAUSE_3_3_D + insulted}
    reasons = wf.rejection_reasons(regulation)
    assert list(reasons) == list("абвгдежз")
    for code in "абвгдежз":
        assert reasons[code] == expected[code], code
    assert wf.rejection_reason_text("д", regulation) == f"д) {_CLAUSE_3_3_D}{insulted}"


def test_a_reason_is_told_in_the_words_of_the_messages_jurisdiction(w):
    city = w.message(Stage.MODERATION, org="city", sub="sport_ticket")
    region = w.message(Stage.MODERATION, org="A")
    for message in (city, region):
        w.act("moderator", message, Action.REJECT, reason="д")
        assert message.rejection_reason == "д"  # stored by its letter
    assert wf.regulation_of(w.ctx, city.organization_id) == wf.REGULATION_TYNDA
    assert wf.regulation_of(w.ctx, region.organization_id) == wf.REGULATION_AMUR
    # Unrouted: the platform's own regulation.
    assert wf.regulation_of(w.ctx, None) == wf.DEFAULT_REGULATION == wf.REGULATION_AMUR
    assert wf.rejection_reasons("unknown") == wf.rejection_reasons(wf.DEFAULT_REGULATION)
    assert wf.rejection_reason_text("и", wf.REGULATION_AMUR) == ""


def test_the_reasons_are_the_eight_of_clause_3_3():
    assert list(REJECTION_REASONS) == list("абвгдежз")


@pytest.mark.parametrize("code", ["", None, "и", "a", "А", "аб", "1", " "])
def test_any_other_rejection_reason_is_refused(w, code):
    message = w.message(Stage.MODERATION)
    error = assert_refused(w, "moderator", message, Action.REJECT, {"reason": code}, Invalid)
    assert error.field == "reason"


def test_accept_needs_a_category_and_a_subcategory(w):
    message = w.submit(sub=None, org="A")
    assert_refused(w, "moderator", message, Action.ACCEPT, {}, Invalid, "категорию")
    w.act("moderator", message, Action.CHANGE_CATEGORY, category_id=w.cat["roads"], subcategory_id=w.sub["pothole"])
    w.act("moderator", message, Action.ACCEPT)
    assert message.stage == Stage.COORDINATION


def test_accept_to_a_chosen_organization(w):
    message = w.message(Stage.MODERATION)
    w.act("moderator", message, Action.ACCEPT, organization_id=ORGS["A1"])
    assert (message.stage, message.organization_id) == (Stage.COORDINATION, ORGS["A1"])


def test_accept_refuses_an_inactive_organization(w):
    message = w.message(Stage.MODERATION)
    w.ctx.deactivate("A1")
    assert_refused(w, "moderator", message, Action.ACCEPT, {"organization_id": ORGS["A1"]}, Invalid)


def test_change_organization_must_change_it(w):
    message = w.message(Stage.MODERATION)
    assert_refused(w, "moderator", message, Action.CHANGE_ORGANIZATION, {"organization_id": ORGS["A"]}, Invalid)


def test_change_category_recomputes_the_answer_deadline(w):
    message = w.message(Stage.MODERATION, sub="pothole")
    assert not message.accelerated
    received = message.received_at
    outcome = w.act("moderator", message, Action.CHANGE_CATEGORY, category_id=w.cat["meals"],
                    subcategory_id=w.sub["quality"])
    assert message.stage == Stage.MODERATION
    assert message.accelerated
    assert message.answer_due_at == w.ctx.deadlines.answer_due(received, True)
    assert outcome.details["answer_due"]["accelerated"] is True
    assert outcome.details["category"] == {"from": [w.cat["roads"], w.sub["pothole"]],
                                           "to": [w.cat["meals"], w.sub["quality"]]}


def test_change_category_refuses_a_subcategory_of_another_category(w):
    message = w.message(Stage.MODERATION)
    assert_refused(w, "moderator", message, Action.CHANGE_CATEGORY,
                   {"category_id": w.cat["roads"], "subcategory_id": w.sub["quality"]}, Invalid)
    assert_refused(w, "moderator", message, Action.CHANGE_CATEGORY,
                   {"category_id": w.cat["roads"], "subcategory_id": w.sub["pothole"]}, Invalid, "не изменились")


def test_change_category_keeps_the_stage_deadline_within_the_answer_deadline():
    # Arrived on the evening of 30 December 2025: the moderation's 8 working hours end on
    # 12 January (the New Year holidays), but an accelerated answer is due on 9 January.
    w = MemoryWorld(now=datetime(2025, 12, 30, 8, 0, tzinfo=timezone.utc))  # 17:00 in Blagoveshchensk
    message = w.message(Stage.MODERATION, sub="pothole")
    w.act("moderator", message, Action.CHANGE_CATEGORY, category_id=w.cat["meals"], subcategory_id=w.sub["quality"])
    assert w.ctx.deadlines.local(message.answer_due_at).date() == date(2026, 1, 9)
    assert message.stage_due_at <= message.answer_due_at
    # Back to an ordinary subcategory: the stage deadline returns to its own length.
    w.act("moderator", message, Action.CHANGE_CATEGORY, category_id=w.cat["roads"], subcategory_id=w.sub["snow"])
    assert w.ctx.deadlines.local(message.stage_due_at).date() == date(2026, 1, 12)


# --- coordination -----------------------------------------------------------------

def test_assign_executor_only_from_the_organizations_staff(w):
    message = w.message(Stage.COORDINATION)
    for login in ("b.executor", "a.head1", "a.curator", "city.executor"):
        assert_refused(w, "a.coordinator", message, Action.ASSIGN_EXECUTOR, {"executor_id": w.uid(login)}, Invalid)
    assert_refused(w, "a.coordinator", message, Action.ASSIGN_EXECUTOR, {}, Invalid)
    w.act("a.coordinator", message, Action.ASSIGN_EXECUTOR, executor_id=w.uid("a.executor2"))
    assert (message.stage, message.executor_id, message.assignee_id) == (
        Stage.EXECUTION, w.uid("a.executor2"), w.uid("a.executor2"))


def test_take_makes_the_coordinator_the_executor(w):
    message = w.message(Stage.COORDINATION)
    w.act("a.coordinator", message, Action.TAKE)
    assert message.executor_id == w.uid("a.coordinator")
    w.act("a.coordinator", message, Action.PREPARE_ANSWER, **w.answer_params())
    assert message.stage == Stage.APPROVAL


def test_send_for_approval_makes_the_coordinator_the_executor(w):
    message = w.message(Stage.COORDINATION)
    w.act("a.coordinator", message, Action.SEND_FOR_APPROVAL, **w.answer_params(agreeing=("a.head1",)))
    assert (message.stage, message.executor_id, message.assignee_id) == (
        Stage.AGREEMENT, w.uid("a.coordinator"), w.uid("a.head1"))
    w.act("a.head1", message, Action.REJECT_AGREEMENT, comment="Переделать")
    assert (message.stage, message.assignee_id) == (Stage.EXECUTION, w.uid("a.coordinator"))


def test_return_only_when_passed_on(w):
    message = w.message(Stage.COORDINATION)
    error = assert_refused(w, "a.coordinator", message, Action.RETURN, {})
    assert "не передавалось" in str(error)

    passed = _passed_on(w)
    assert passed.passed_from_id == ORGS["B"]
    outcome = w.act("a.coordinator", passed, Action.RETURN, comment="Не наша компетенция")
    assert (passed.stage, passed.organization_id, passed.passed_from_id) == (Stage.COORDINATION, ORGS["B"], None)
    assert [e.kind for e in outcome.events] == ["redirected", "inbox"]
    assert outcome.events[1].org_role == (ORGS["B"], "coordinator")
    # Sent back once: there is nowhere further to return it.
    assert_refused(w, "b.coordinator", passed, Action.RETURN, {})


def test_transfer_goes_through_the_heads_before_it_takes_effect(w):
    message = w.message(Stage.COORDINATION)
    w.act("a.coordinator", message, Action.TRANSFER, organization_id=ORGS["B"], approver_id=w.uid("a.approver"),
          agreeing_ids=[w.uid("a.head1")])
    assert (message.stage, message.organization_id, message.transfer_to_id) == (Stage.AGREEMENT, ORGS["A"], ORGS["B"])
    assert_refused(w, "b.coordinator", message, Action.ASSIGN_EXECUTOR, {"executor_id": w.uid("b.executor")})
    w.act("a.head1", message, Action.AGREE)
    outcome = w.act("a.approver", message, Action.APPROVE)
    assert (message.stage, message.organization_id, message.passed_from_id) == (
        Stage.COORDINATION, ORGS["B"], ORGS["A"])
    assert (message.transfer_to_id, message.executor_id, message.chain_purpose) == (None, None, None)
    assert [(e.kind, e.to_applicant) for e in outcome.events] == [("redirected", True), ("inbox", False)]
    w.act("b.coordinator", message, Action.ASSIGN_EXECUTOR, executor_id=w.uid("b.executor"))


def test_transfer_to_another_jurisdiction_follows_its_accelerated_list(w):
    # The sports ticket is accelerated in the region and not in the city.
    message = w.message(Stage.COORDINATION, sub="sport_ticket")
    assert message.accelerated
    received = message.received_at
    w.act("a.coordinator", message, Action.TRANSFER, organization_id=ORGS["city"], approver_id=w.uid("a.approver"))
    outcome = w.act("a.approver", message, Action.APPROVE)
    assert not message.accelerated
    assert message.answer_due_at == w.ctx.deadlines.answer_due(received, False)
    assert outcome.details["answer_due"]["accelerated"] is False


def test_transfer_refuses_the_same_or_an_inactive_organization(w):
    message = w.message(Stage.COORDINATION)
    base = {"approver_id": w.uid("a.approver")}
    assert_refused(w, "a.coordinator", message, Action.TRANSFER, {**base, "organization_id": ORGS["A"]}, Invalid)
    w.ctx.deactivate("B")
    assert_refused(w, "a.coordinator", message, Action.TRANSFER, {**base, "organization_id": ORGS["B"]}, Invalid)


def test_approving_a_transfer_to_an_organization_closed_meanwhile_changes_nothing(w):
    message = w.message(Stage.APPROVAL, transfer_to="B")
    assert message.stage == Stage.APPROVAL
    w.ctx.deactivate("B")
    assert_refused(w, "a.approver", message, Action.APPROVE, {}, Invalid)
    # The head can still reject the transfer back to coordination.
    w.act("a.approver", message, Action.REJECT_APPROVAL, comment="Организация упразднена")
    assert message.stage == Stage.COORDINATION


# --- execution --------------------------------------------------------------------

@pytest.mark.parametrize("result", list(Result))
def test_prepare_answer_with_every_result(w, result):
    message = w.message(Stage.EXECUTION)
    extra = {"postponed_until": (w.ctx.deadlines.local_today(w.ctx.now) + timedelta(days=5)).isoformat()} \
        if result == Result.POSTPONED else {}
    outcome = w.act("a.executor", message, Action.PREPARE_ANSWER,
                    **w.answer_params(result=result, agreeing=("a.head1", "a.head2"), **extra))
    assert message.result == result
    assert (message.stage, message.assignee_id) == (Stage.AGREEMENT, w.uid("a.head1"))
    assert outcome.details["agreeing_ids"] == [w.uid("a.head1"), w.uid("a.head2")]
    assert [(s.position, s.kind, s.head_id) for s in w.steps(message)] == [
        (1, "agree", w.uid("a.head1")), (2, "agree", w.uid("a.head2")), (3, "approve", w.uid("a.approver"))]


@pytest.mark.parametrize("bad, field", [
    ({"result": "done"}, "result"),
    ({"answer_text": "  "}, "answer_text"),
    ({"executor_position": ""}, "executor_position"),
    ({"executor_name": ""}, "executor_name"),
    ({"answer_text": "я" * 4001}, "answer_text"),
    ({"result": "postponed"}, "postponed_until"),
    ({"result": "postponed", "postponed_until": "2025-10-14"}, "postponed_until"),  # today is not later
    ({"result": "postponed", "postponed_until": "14.10.2026"}, "postponed_until"),
    ({"approver_id": None}, "approver_id"),
    ({"approver": "a.executor"}, "approver_id"),
    ({"approver": "b.head"}, "approver_id"),
    ({"approver": "a.head_housing"}, "approver_id"),  # limited to housing, the message is about roads
    ({"agreeing": ("a.head1", "a.head1")}, "agreeing_ids"),
    ({"agreeing": ("a.approver",)}, "agreeing_ids"),
    ({"agreeing": ("a.executor",)}, "agreeing_ids"),
    ({"agreeing": ("b.head",)}, "agreeing_ids"),
    ({"agreeing_ids": ["x"]}, "agreeing_ids"),
])
def test_prepare_answer_refuses_bad_parameters(w, bad, field):
    message = w.message(Stage.EXECUTION)
    bad = dict(bad)
    params = w.answer_params(approver=bad.pop("approver", "a.approver"), agreeing=bad.pop("agreeing", ()))
    params.update(bad)
    error = assert_refused(w, "a.executor", message, Action.PREPARE_ANSWER, params, Invalid)
    assert error.field == field


# --- agreement and approval ----------------------------------------------------------

def test_sequential_agreement_with_three_heads_and_a_delegation(w):
    message = w.message(Stage.AGREEMENT, agreeing=("a.head1", "a.head2", "a.head3"))
    assert message.assignee_id == w.uid("a.head1")
    # Strictly in order: the second and the third may not act before the first.
    for login in ("a.head2", "a.head3", "a.approver"):
        assert_refused(w, login, message, Action.AGREE, {})
    w.act("a.head1", message, Action.AGREE)
    assert (message.stage, message.assignee_id) == (Stage.AGREEMENT, w.uid("a.head2"))
    assert_refused(w, "a.head1", message, Action.AGREE, {})

    outcome = w.act("a.head2", message, Action.DELEGATE_AGREEMENT, head_id=w.uid("a.approver2"))
    assert outcome.details == {"step": 2, "from_head_id": w.uid("a.head2"), "to_head_id": w.uid("a.approver2")}
    assert (message.stage, message.assignee_id) == (Stage.AGREEMENT, w.uid("a.approver2"))
    # The one who delegated has given the place away.
    assert_refused(w, "a.head2", message, Action.AGREE, {})
    w.act("a.approver2", message, Action.AGREE, answer_text="Яма заделана 12.10.")
    assert message.answer_text == "Яма заделана 12.10."
    assert message.assignee_id == w.uid("a.head3")
    w.act("a.head3", message, Action.AGREE)
    assert (message.stage, message.assignee_id) == (Stage.APPROVAL, w.uid("a.approver"))
    w.act("a.approver", message, Action.APPROVE)
    assert message.stage == Stage.ANSWERED

    steps = [(s.position, s.kind, s.head_id, s.delegated_from_id, s.status) for s in w.steps(message)]
    assert steps == [(1, "agree", w.uid("a.head1"), None, "agreed"),
                     (2, "agree", w.uid("a.approver2"), w.uid("a.head2"), "agreed"),
                     (3, "agree", w.uid("a.head3"), None, "agreed"),
                     (4, "approve", w.uid("a.approver"), None, "approved")]
    assert [o.action for o in w.history(message)][-6:] == [
        Action.PREPARE_ANSWER, Action.AGREE, Action.DELEGATE_AGREEMENT, Action.AGREE, Action.AGREE, Action.APPROVE]


def test_the_head_who_received_the_agreement_may_reject(w):
    message = w.message(Stage.AGREEMENT, agreeing=("a.head1", "a.head2"))
    w.act("a.head1", message, Action.DELEGATE_AGREEMENT, head_id=w.uid("a.head3"))
    w.act("a.head3", message, Action.REJECT_AGREEMENT, comment="Нет сроков работ")
    assert (message.stage, message.assignee_id) == (Stage.EXECUTION, w.uid("a.executor"))


@pytest.mark.parametrize("target, error", [
    ("a.head1", "Выберите другого"),  # oneself
    ("a.head2", "уже есть в цепочке"),
    ("a.approver", "уже есть в цепочке"),
    ("a.executor", "только руководителю"),
    ("b.head", "только руководителю"),
    ("city.head", "только руководителю"),
])
def test_agreement_delegation_refused(w, target, error):
    message = w.message(Stage.AGREEMENT, agreeing=("a.head1", "a.head2"))
    assert_refused(w, "a.head1", message, Action.DELEGATE_AGREEMENT, {"head_id": w.uid(target)}, Invalid, error)


def test_approval_delegation_only_to_a_head_entitled_to_the_category(w):
    roads = w.message(Stage.APPROVAL, sub="pothole")
    assert_refused(w, "a.approver", roads, Action.DELEGATE_APPROVAL, {"head_id": w.uid("a.head_housing")},
                   Invalid, "данной категории")
    for login in ("a.executor", "b.head", "a.approver"):
        assert_refused(w, "a.approver", roads, Action.DELEGATE_APPROVAL, {"head_id": w.uid(login)}, Invalid)
    w.act("a.approver", roads, Action.DELEGATE_APPROVAL, head_id=w.uid("a.approver2"))
    assert roads.assignee_id == w.uid("a.approver2")
    assert_refused(w, "a.approver", roads, Action.APPROVE, {})

    housing = w.message(Stage.APPROVAL, sub="heating")
    w.act("a.approver", housing, Action.DELEGATE_APPROVAL, head_id=w.uid("a.head_housing"))
    w.act("a.head_housing", housing, Action.APPROVE)
    assert housing.stage == Stage.ANSWERED


@pytest.mark.parametrize("stage", [Stage.AGREEMENT, Stage.APPROVAL])
def test_delegation_refused_under_the_city_regulation(w, stage):
    message = w.message(stage, org="city", sub="sport_ticket", agreeing=("city.head2",) if stage == Stage.AGREEMENT else (),
                        approver="city.head")
    login = "city.head2" if stage == Stage.AGREEMENT else "city.head"
    action = Action.DELEGATE_AGREEMENT if stage == Stage.AGREEMENT else Action.DELEGATE_APPROVAL
    other = "city.head" if stage == Stage.AGREEMENT else "city.head2"
    error = assert_refused(w, login, message, action, {"head_id": w.uid(other)})
    assert "Положение" in str(error)
    # Both other decisions of decree 608 stay.
    offered = wf.allowed_actions(w.ctx.actor(login), message, w.steps(message), w.ctx)
    assert set(offered) == ({Action.AGREE, Action.REJECT_AGREEMENT} if stage == Stage.AGREEMENT
                            else {Action.APPROVE, Action.REJECT_APPROVAL})


def test_region_heads_are_offered_delegation(w):
    message = w.message(Stage.AGREEMENT, agreeing=("a.head1",))
    offered = wf.allowed_actions(w.ctx.actor("a.head1"), message, w.steps(message), w.ctx)
    assert set(offered) == {Action.AGREE, Action.REJECT_AGREEMENT, Action.DELEGATE_AGREEMENT}


@pytest.mark.parametrize("action", [Action.REJECT_AGREEMENT, Action.REJECT_APPROVAL])
def test_rejecting_an_answer_returns_it_to_execution(w, action):
    stage = TRANSITIONS[action].stage
    message = w.message(stage, agreeing=("a.head1",) if stage == Stage.AGREEMENT else ())
    login = "a.head1" if stage == Stage.AGREEMENT else "a.approver"
    assert_refused(w, login, message, action, {"comment": " "}, Invalid)  # a reason is required
    outcome = w.act(login, message, action, comment="Уточните сроки")
    assert (message.stage, message.organization_id, message.assignee_id) == (
        Stage.EXECUTION, ORGS["A"], w.uid("a.executor"))
    assert message.answer_text == "Яма заделана."  # kept for the executor to rework
    assert outcome.details["comment"] == "Уточните сроки"
    assert [(e.kind, e.user_ids) for e in outcome.events] == [("inbox", (w.uid("a.executor"),))]
    # A new chain starts a new round; the old decisions stay as they were.
    w.act("a.executor", message, Action.PREPARE_ANSWER, **w.answer_params())
    assert message.chain_round == 2
    assert [(s.kind, s.status) for s in w.steps(message) if s.round == 1] == (
        [("agree", "rejected"), ("approve", "cancelled")] if stage == Stage.AGREEMENT else [("approve", "rejected")])


@pytest.mark.parametrize("action", [Action.REJECT_AGREEMENT, Action.REJECT_APPROVAL])
def test_rejecting_a_transfer_returns_it_to_coordination(w, action):
    stage = TRANSITIONS[action].stage
    message = w.message(stage, transfer_to="B", agreeing=("a.head1",) if stage == Stage.AGREEMENT else ())
    assert message.stage == stage
    login = "a.head1" if stage == Stage.AGREEMENT else "a.approver"
    outcome = w.act(login, message, action, comment="Это наша компетенция")
    assert (message.stage, message.organization_id, message.transfer_to_id) == (Stage.COORDINATION, ORGS["A"], None)
    assert outcome.details["transfer_to_id"] == ORGS["B"]
    assert [(e.kind, e.org_role) for e in outcome.events] == [("inbox", (ORGS["A"], "coordinator"))]
    w.act("a.coordinator", message, Action.TAKE)


def test_approving_an_answer_publishes_it(w):
    message = w.message(Stage.APPROVAL)
    outcome = w.act("a.approver", message, Action.APPROVE, answer_text="Яма заделана, участок под контролем.")
    assert message.stage == Stage.ANSWERED
    assert message.answered_at == w.ctx.now
    assert message.answer_text == "Яма заделана, участок под контролем."
    assert outcome.details["answer_edited"] is True
    assert [(e.kind, e.to_applicant) for e in outcome.events] == [("answered", True)]


# --- postponement -----------------------------------------------------------------

def _postpone_to(w: MemoryWorld, days: int | str):
    message = w.message(Stage.EXECUTION)
    until = days if isinstance(days, str) else (w.ctx.deadlines.local_today(w.ctx.now)
                                                + timedelta(days=days)).isoformat()
    return message, w.answer_params(result="postponed", postponed_until=until)


@pytest.mark.parametrize("days", [1, 365])
def test_a_postponement_within_a_year_is_accepted(w, days):
    message, params = _postpone_to(w, days)
    w.act("a.executor", message, Action.PREPARE_ANSWER, **params)
    assert message.postponed_until == w.ctx.deadlines.local_today(w.ctx.now) + timedelta(days=days)


@pytest.mark.parametrize("days", [366, "9999-12-31"])
def test_a_postponement_past_the_limit_is_refused(w, days):
    message, params = _postpone_to(w, days)
    latest = w.ctx.deadlines.local_today(w.ctx.now) + timedelta(days=365)
    for action, login in ((Action.PREPARE_ANSWER, "a.executor"), (Action.SEND_FOR_APPROVAL, "a.coordinator")):
        target = message if action == Action.PREPARE_ANSWER else w.message(Stage.COORDINATION)
        error = assert_refused(w, login, target, action, params, Invalid)
        assert error.field == "postponed_until"
        assert f"не позднее {latest:%d.%m.%Y}" in str(error)


def test_the_postponement_limit_is_a_setting(w):
    w.ctx.deadlines.max_postpone_days = 30
    message, params = _postpone_to(w, 31)
    error = assert_refused(w, "a.executor", message, Action.PREPARE_ANSWER, params, Invalid)
    assert "не более чем на 30 дн." in str(error)
    message, params = _postpone_to(w, 30)
    w.act("a.executor", message, Action.PREPARE_ANSWER, **params)


@pytest.mark.parametrize("late", [False, True])
def test_the_approved_postponement_is_the_answer_given(w, late):
    message, params = _postpone_to(w, 20)
    w.act("a.executor", message, Action.PREPARE_ANSWER, **params)
    if late:
        w.ctx.now = message.answer_due_at + timedelta(minutes=1)
    outcome = w.act("a.approver", message, Action.APPROVE)
    assert message.stage == Stage.POSTPONED
    assert message.answered_at == w.ctx.now
    assert outcome.details["answered"] == {
        "at": w.ctx.now.isoformat(sep=" ", timespec="minutes"),
        "due": message.answer_due_at.isoformat(sep=" ", timespec="minutes"),
        "on_time": not late, "result": "postponed"}
    assert wf.answered_on_time(message.answered_at, message.answer_due_at) is (not late)


def test_an_approved_answer_records_whether_it_was_on_time(w):
    message = w.message(Stage.APPROVAL)
    outcome = w.act("a.approver", message, Action.APPROVE)
    assert (message.stage, message.answered_at) == (Stage.ANSWERED, w.ctx.now)
    assert (outcome.details["answered"]["on_time"], outcome.details["answered"]["result"]) == (True, "resolved")


def test_postponement_and_its_return_to_execution(w):
    message = w.message(Stage.EXECUTION)
    until = date(2025, 11, 20)
    w.act("a.executor", message, Action.PREPARE_ANSWER, **w.answer_params(result="postponed",
                                                                           postponed_until=until.isoformat()))
    outcome = w.act("a.approver", message, Action.APPROVE)
    assert message.stage == Stage.POSTPONED
    assert outcome.details["postponed_until"] == "2025-11-20"
    assert [e.kind for e in outcome.events] == ["postponed"]
    assert message.stage_due_at == w.ctx.deadlines.end_of_local_day(until)
    assert message.assignee_id == w.uid("a.executor")
    answer_due = message.answer_due_at

    # The last minute of the day before, local time: not yet.
    w.ctx.now = w.ctx.deadlines.end_of_local_day(until - timedelta(days=1))
    error = assert_refused(w, None, message, Action.RESUME, {})
    assert "ещё не наступила" in str(error)
    # The date has come: people may not resume it, the system does.
    w.ctx.now += timedelta(seconds=1)
    for login in ("a.executor", "a.coordinator", "moderator", "citizen"):
        assert_refused(w, login, message, Action.RESUME, {})
    outcome = w.act(None, message, Action.RESUME)
    assert (message.stage, message.result, message.postponed_until) == (Stage.EXECUTION, None, None)
    assert message.answer_due_at == w.ctx.deadlines.answer_due(w.ctx.now, False)
    assert message.answer_due_at != answer_due
    assert outcome.details["answer_due"]["from"] == answer_due.isoformat(sep=" ", timespec="minutes")
    assert outcome.details["answer_due"]["counted_from"] == w.ctx.now.isoformat(sep=" ", timespec="minutes")
    assert "п. 3.9" in outcome.details["answer_due"]["reason"]
    assert outcome.details["postponed_until"] == "2025-11-20"
    assert [e.kind for e in outcome.events] == ["resumed", "inbox"]
    assert message.stage_due_at <= message.answer_due_at
    # Only once.
    assert_refused(w, None, message, Action.RESUME, {})


# --- the applicant ------------------------------------------------------------------

@pytest.mark.parametrize("rating", [1, 2, 3, 4, 5, "5"])
def test_rating_from_one_to_five(w, rating):
    message = w.message(Stage.ANSWERED)
    outcome = w.act("citizen", message, Action.RATE, rating=rating, comment="Спасибо")
    assert (message.rating, message.rating_comment, message.stage) == (int(rating), "Спасибо", Stage.ANSWERED)
    assert outcome.details["rating"] == int(rating)


@pytest.mark.parametrize("rating", [0, 6, -1, "", None, "x", "4.5"])
def test_rating_outside_one_to_five_is_refused(w, rating):
    message = w.message(Stage.ANSWERED)
    error = assert_refused(w, "citizen", message, Action.RATE, {"rating": rating}, Invalid)
    assert error.field == "rating"


def test_rating_only_once(w):
    message = w.message(Stage.ANSWERED)
    w.act("citizen", message, Action.RATE, rating=5)
    error = assert_refused(w, "citizen", message, Action.RATE, {"rating": 1})
    assert "уже оценён" in str(error)


@pytest.mark.parametrize("rating", [None, 4, 5])
def test_no_repeated_message_without_a_poor_rating(w, rating):
    message = w.message(Stage.ANSWERED, rating=rating)
    assert_refused(w, "citizen", message, Action.REPEAT, {"text": "Опять"})


@pytest.mark.parametrize("rating", [1, 2, 3])
def test_repeated_message_after_a_poor_rating_once(w, rating):
    message = w.message(Stage.ANSWERED, rating=rating, sub="quality", org="B")
    assert message.accelerated
    w.ctx.now += timedelta(days=3)
    outcome = w.act("citizen", message, Action.REPEAT, text="Питание так и не улучшилось")
    assert message.stage == Stage.ANSWERED
    repeat = w.ctx.messages[outcome.details["repeat_id"]]
    # Clause 3.3: every message enters moderation, a repeat too, with the answering organization preselected.
    assert (repeat.stage, repeat.organization_id, repeat.is_repeated, repeat.repeated_of_id) == (
        Stage.MODERATION, ORGS["B"], True, message.id)
    assert (repeat.applicant_id, repeat.category_id, repeat.subcategory_id) == (
        message.applicant_id, message.category_id, message.subcategory_id)
    # Its own deadlines, counted from its own arrival.
    assert repeat.received_at == w.ctx.now
    assert repeat.answer_due_at == w.ctx.deadlines.answer_due(w.ctx.now, True)
    first = w.history(repeat)[0]
    assert (first.action, first.from_stage, first.to_stage, first.details["repeated_of_id"]) == (
        Action.SUBMIT, None, Stage.MODERATION, message.id)
    # Nobody is told yet: the moderator's inbox is where it waits, as every new message does.
    assert first.events == []
    error = assert_refused(w, "citizen", message, Action.REPEAT, {"text": "Ещё раз"})
    assert "уже подано" in str(error)


def test_the_moderator_accepts_a_repeat_to_the_answering_organization_by_default(w):
    message = w.message(Stage.ANSWERED, rating=2, sub="quality", org="B")
    outcome = w.act("citizen", message, Action.REPEAT, text="Питание так и не улучшилось")
    repeat = w.ctx.messages[outcome.details["repeat_id"]]
    assert wf.allowed_actions(w.ctx.actor("b.coordinator"), repeat, [], w.ctx) == []
    accepted = w.act("moderator", repeat, Action.ACCEPT)
    assert (accepted.from_stage, accepted.to_stage, repeat.organization_id) == (
        Stage.MODERATION, Stage.COORDINATION, ORGS["B"])
    assert ("inbox", (ORGS["B"], "coordinator")) in [(e.kind, e.org_role) for e in accepted.events]


def test_repeated_message_of_a_transferred_message_goes_to_the_answering_organization(w):
    message = w.message(Stage.APPROVAL, transfer_to="B")
    w.act("a.approver", message, Action.APPROVE)
    w.act("b.coordinator", message, Action.TAKE)
    w.act("b.coordinator", message, Action.PREPARE_ANSWER, **w.answer_params(approver="b.head"))
    w.act("b.head", message, Action.APPROVE)
    w.act("citizen", message, Action.RATE, rating=1)
    outcome = w.act("citizen", message, Action.REPEAT, text="Не сделано")
    assert w.ctx.messages[outcome.details["repeat_id"]].organization_id == ORGS["B"]


def test_repeated_message_when_the_answering_organization_was_closed(w):
    # The ministry of housing answered and was closed since: the repeat is routed anew, not refused.
    message = w.message(Stage.ANSWERED, rating=1, org="B", sub="heating")
    w.ctx.deactivate("B")
    outcome = w.act("citizen", message, Action.REPEAT, text="Отопления так и нет")
    repeat = w.ctx.messages[outcome.details["repeat_id"]]
    # Housing is routed to B only, so nobody can coordinate it yet: the moderator decides.
    assert (repeat.stage, repeat.organization_id, repeat.is_repeated) == (Stage.MODERATION, None, True)
    assert repeat.category_id == message.category_id


def test_repeated_message_needs_a_text(w):
    message = w.message(Stage.ANSWERED, rating=2)
    assert_refused(w, "citizen", message, Action.REPEAT, {"text": "  "}, Invalid)


# --- guards in general ---------------------------------------------------------------

def test_an_unknown_action_is_refused(w):
    message = w.message(Stage.MODERATION)
    assert wf.why_not(Action.SUBMIT, w.ctx.actor("moderator"), message, [], w.ctx) == "Такого действия нет."


def test_refusals_are_refused_errors():
    assert issubclass(NotAllowed, Refused) and issubclass(Invalid, Refused)


@pytest.mark.parametrize("login, expected", [
    ("moderator", set()),
    ("a.curator", set()),
    ("analyst", set()),
    ("a.coordinator", {Action.ASSIGN_EXECUTOR, Action.TAKE, Action.TRANSFER, Action.SEND_FOR_APPROVAL}),
    ("b.coordinator", set()),
])
def test_what_each_person_is_offered_in_coordination(w, login, expected):
    message = w.message(Stage.COORDINATION)
    assert set(wf.allowed_actions(w.ctx.actor(login), message, w.steps(message), w.ctx)) == expected


def test_rejection_cancels_the_places_after_it(w):
    message = w.message(Stage.AGREEMENT, agreeing=("a.head1", "a.head2"))
    w.act("a.head1", message, Action.REJECT_AGREEMENT, comment="Переделать")
    statuses = [s.status for s in w.steps(message) if s.round == message.chain_round]
    assert statuses == ["rejected", "cancelled", "cancelled"]


def test_control_characters_are_dropped_from_typed_text(w):
    message = w.message(Stage.AGREEMENT, agreeing=("a.head1",))
    outcome = w.act("a.head1", message, Action.REJECT_AGREEMENT, comment="Уточните\x00 сроки\nи адрес\x07")
    assert outcome.details["comment"] == "Уточните сроки\nи адрес"


# --- incidents (public internet posts) -------------------------------------------------

def test_close_no_answer_is_for_incidents_only(w):
    message = w.message(Stage.MODERATION)
    error = assert_refused(w, "moderator", message, Action.CLOSE_NO_ANSWER, {"comment": "Нет проблемы"})
    assert "только у инцидентов" in str(error)


def test_close_no_answer_needs_a_comment_and_ends_the_incident(w):
    incident = w.message(Stage.MODERATION, kind="incident")
    assert_refused(w, "moderator", incident, Action.CLOSE_NO_ANSWER, {"comment": "  "}, error=Invalid,
                   match="Комментарий")
    outcome = w.act("moderator", incident, Action.CLOSE_NO_ANSWER, comment="Реклама, проблемы нет")
    assert incident.stage == Stage.CLOSED and Stage.CLOSED in wf.FINAL_STAGES
    assert outcome.details["comment"] == "Реклама, проблемы нет"
    assert outcome.events == []  # nobody to notify: the author of a post is no applicant
    assert wf.allowed_actions(w.ctx.actor("moderator"), incident, w.steps(incident), w.ctx) == []


def test_an_incident_runs_on_its_own_shorter_clock(w):
    message = w.message(Stage.MODERATION)
    incident = w.message(Stage.MODERATION, kind="incident")
    policy = w.ctx.deadlines
    assert incident.answer_due_at == policy.add_working_hours(incident.received_at, 8)
    assert incident.answer_due_at < message.answer_due_at
    assert incident.stage_due_at == policy.add_working_hours(incident.received_at, 1)


def test_an_incident_answer_with_personal_data_is_refused(w):
    incident = w.message(Stage.EXECUTION, kind="incident")
    params = w.answer_params(answer_text="Яму заделали, звоните 8 914 123-45-67")
    error = assert_refused(w, "a.executor", incident, Action.PREPARE_ANSWER, params, error=Invalid)
    assert "номер телефона" in str(error)
    w.act("a.executor", incident, Action.PREPARE_ANSWER, **w.answer_params(answer_text="Яму на ул. Ленина заделали."))
    outcome = w.act("a.approver", incident, Action.APPROVE)
    assert incident.stage == Stage.ANSWERED
    assert [e.kind for e in outcome.events] == ["public_reply"]
