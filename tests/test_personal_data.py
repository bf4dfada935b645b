"""Who sees an applicant's identity (pos/services/personal_data.py): every role in every position.

Each case is one message in one position; the table says, for every person of the world, whether they
may open it and whether they see its author: "I" the identity, "M" the message without its author,
"-" nothing (404). The message page and the attachment download ask the same function (test_pd_access.py).
"""
from __future__ import annotations

import pytest

from pos.services import accounts, personal_data
from pos.services.directory import actor_for
from pos.workflow import Action, Role, Stage

PEOPLE = ("moderator", "analyst", "admin", "region.curator", "a.curator", "a.coordinator", "a.executor",
          "a.executor2", "a.head1", "a.head2", "a.approver", "a.approver2", "b.coordinator", "b.executor", "b.head")


def _moderation(w):
    return w.message(Stage.MODERATION)  # routing chose A; A has not received it


def _rejected(w):
    m = w.message(Stage.MODERATION)
    w.act("moderator", m, Action.REJECT, reason="б")
    return m


def _coordination(w):
    return w.message(Stage.COORDINATION)


def _execution(w):
    return w.message(Stage.EXECUTION)


def _agreement(w):
    return w.message(Stage.AGREEMENT, agreeing=("a.head1",))


def _answered(w):
    return w.message(Stage.ANSWERED, agreeing=("a.head1",))


def _delegated(w):
    m = w.message(Stage.AGREEMENT, agreeing=("a.head1",))
    w.act("a.head1", m, Action.DELEGATE_AGREEMENT, head_id=w.uid("a.head2"))
    return m


def _second_round(w):
    m = w.message(Stage.AGREEMENT, agreeing=("a.head1",))
    w.act("a.head1", m, Action.REJECT_AGREEMENT, comment="Уточните срок работ.")
    w.act("a.executor", m, Action.PREPARE_ANSWER, **w.answer_params(approver="a.approver2"))
    return m


def _transferred(w):
    m = w.message(Stage.COORDINATION)
    w.act("a.coordinator", m, Action.TRANSFER, organization_id=w.org["B"].id, approver_id=w.uid("a.approver"),
          agreeing_ids=[])
    w.act("a.approver", m, Action.APPROVE)
    assert w.reload(m).organization_id == w.org["B"].id
    return m


def _table(**overrides) -> dict[str, str]:
    """A's message after moderation: its staff see it, the ones working on it see the author."""
    base = {"moderator": "I", "analyst": "M", "admin": "-", "region.curator": "I", "a.curator": "I",
            "a.coordinator": "I", "a.executor": "M", "a.executor2": "M", "a.head1": "M", "a.head2": "M",
            "a.approver": "M", "a.approver2": "M", "b.coordinator": "-", "b.executor": "-", "b.head": "-"}
    return {**base, **overrides}


NOT_REACHED = {"moderator": "I", "analyst": "M", "admin": "-", "region.curator": "M", "a.curator": "M",
               **{p: "-" for p in PEOPLE if p.startswith(("a.", "b.")) and p != "a.curator"}}

CASES = {
    # Still in moderation or rejected by the moderator: no organization has received it.
    "moderation": (_moderation, NOT_REACHED),
    "rejected": (_rejected, NOT_REACHED),
    # The organization handles it: its coordinators and curators see the author, other staff only the message.
    "coordination": (_coordination, _table()),
    "execution, its executor": (_execution, _table(**{"a.executor": "I"})),
    "agreement, the current chain": (_agreement, _table(**{"a.executor": "I", "a.head1": "I", "a.approver": "I"})),
    "answered, the last chain": (_answered, _table(**{"a.executor": "I", "a.head1": "I", "a.approver": "I"})),
    # A former head of the chain: the place was handed on.
    "delegated, the former head": (_delegated, _table(**{"a.executor": "I", "a.head2": "I", "a.approver": "I"})),
    # Rejected in agreement, answered again with another approver: the first round's heads are former.
    "second round, former heads": (_second_round, _table(**{"a.executor": "I", "a.approver2": "I"})),
    # The organization the message left: its approver still sees it (he decided it), without the author.
    "transferred to another organization": (_transferred, {
        "moderator": "I", "analyst": "M", "admin": "-", "region.curator": "I", "a.curator": "-",
        "a.coordinator": "-", "a.executor": "-", "a.executor2": "-", "a.head1": "-", "a.head2": "-",
        "a.approver": "M", "a.approver2": "-", "b.coordinator": "I", "b.executor": "M", "b.head": "M"}),
}


def _seen(access: personal_data.Access) -> str:
    return "I" if access.identity else "M" if access.visible else "-"


@pytest.fixture
def w(world):
    """The world, with a curator of the region above A (curators see their subtree)."""
    region_curator = accounts.create_user(world.session, "region.curator", "secret", "Куратор области")
    accounts.grant(world.session, region_curator, Role.CURATOR, world.org["region"].id)
    world.users["region.curator"] = region_curator
    return world


@pytest.mark.parametrize("case", list(CASES))
def test_who_sees_the_message_and_its_author(w, case):
    world = w
    build, expected = CASES[case]
    message = build(world)
    seen = {login: _seen(personal_data.access(world.session, actor_for(world.session, world.u(login)), message.id))
            for login in PEOPLE}
    assert seen == expected


def test_the_rule_as_a_condition_agrees_with_the_one_message_answer(w):
    """The inbox export filters by the same condition: a list and a single message cannot disagree."""
    from sqlmodel import select
    from pos.models import Message
    world = w
    messages = [build(world) for build, _expected in CASES.values()]
    ids = [m.id for m in messages]
    for login in PEOPLE:
        actor = actor_for(world.session, world.u(login))
        listed = set(world.session.exec(select(Message.id).where(
            Message.id.in_(ids), personal_data.identity_clause(world.session, actor))))
        assert listed == {i for i in ids if personal_data.sees_identity(world.session, actor, i)}, login
