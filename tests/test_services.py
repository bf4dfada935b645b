"""The service layer: one transaction per action, history and outbox with it, conflicts, a real race.

Runs on SQLite and on PostgreSQL (TEST_DATABASE_URL) alike.
"""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from pos import workflow as wf
from pos.db import make_engine
from pos.models import ApprovalStep, HistoryEntry, Message, OutboxEvent, User
from pos.services import accounts, outbox
from pos.services.directory import DbDirectory, actor_for, load_policy
from pos.services.messages import Conflict, act
from pos.workflow import Action, Invalid, NotAllowed, Role, Stage
from tests.factories import World


def count(session: Session, model, message_id: int | None = None) -> int:
    query = select(func.count()).select_from(model)
    if message_id is not None and model is not OutboxEvent:
        query = query.where(model.message_id == message_id)
    return session.exec(query).one()


def columns(session: Session, message: Message) -> dict:
    session.expire_all()
    return session.get(Message, message.id).model_dump()


def outbox_of(session: Session, history_id: int) -> list[OutboxEvent]:
    rows = session.exec(select(OutboxEvent).order_by(OutboxEvent.id)).all()
    return [r for r in rows if r.payload.get("history_id") == history_id]


# --- one action, one transaction ---------------------------------------------------------

@pytest.mark.parametrize("login, action, params, error", [
    ("a.executor", Action.TAKE, {}, NotAllowed),                      # wrong role
    ("b.coordinator", Action.TAKE, {}, NotAllowed),                   # another organization
    ("a.coordinator", Action.APPROVE, {}, NotAllowed),                # wrong stage
    ("a.coordinator", Action.ASSIGN_EXECUTOR, {"executor_id": "x"}, Invalid),
    ("a.coordinator", Action.TRANSFER, {"organization_id": -1}, Invalid),
])
def test_a_refused_action_writes_nothing(session, world, login, action, params, error):
    message = world.message(Stage.COORDINATION)
    before = columns(session, message)
    history, rows, steps = count(session, HistoryEntry), count(session, OutboxEvent), count(session, ApprovalStep)
    with pytest.raises(error):
        world.act(login, message, action, **params)
    assert columns(session, message) == before
    assert (count(session, HistoryEntry), count(session, OutboxEvent), count(session, ApprovalStep)) == (
        history, rows, steps)


def test_a_failure_after_the_history_is_written_leaves_nothing(session, world, monkeypatch):
    message = world.message(Stage.EXECUTION)
    before = columns(session, message)
    history, rows, steps = count(session, HistoryEntry), count(session, OutboxEvent), count(session, ApprovalStep)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    # The history entry and the chain are flushed by then: the rollback must take them back too.
    monkeypatch.setattr(outbox, "write_events", broken)
    with pytest.raises(RuntimeError):
        world.act("a.executor", message, Action.PREPARE_ANSWER, **world.answer_params(agreeing=("a.head1",)))
    assert columns(session, message) == before
    assert (count(session, HistoryEntry), count(session, OutboxEvent), count(session, ApprovalStep)) == (
        history, rows, steps)


def test_an_applied_action_writes_its_history_entry(session, world):
    message = world.message(Stage.COORDINATION)
    with_version = world.reload(message).version
    done = world.act("a.coordinator", message, Action.ASSIGN_EXECUTOR, executor_id=world.uid("a.executor"))
    entry = done.history
    assert (entry.actor_id, entry.action, entry.from_stage, entry.to_stage) == (
        world.uid("a.coordinator"), Action.ASSIGN_EXECUTOR, Stage.COORDINATION, Stage.EXECUTION)
    assert (entry.from_org_id, entry.to_org_id) == (world.org["A"].id, world.org["A"].id)
    assert entry.details == {"executor_id": world.uid("a.executor")}
    assert world.reload(message).version == with_version + 1


def test_every_applied_action_bumps_the_version(session, world):
    """Even one that leaves the row as it was: a concurrent action must then fail its version check."""
    message = world.message(Stage.ANSWERED, agreeing=("a.head1",))
    for login, action, params in [("citizen", Action.RATE, {"rating": 2}),
                                  ("citizen", Action.REPEAT, {"text": "Яма снова на месте"})]:
        version = world.reload(message).version
        world.act(login, message, action, **params)
        assert world.reload(message).version == version + 1, action
    agreement = world.message(Stage.AGREEMENT, agreeing=("a.head1", "a.head2"))
    version = world.reload(agreement).version
    world.act("a.head1", agreement, Action.DELEGATE_AGREEMENT, head_id=world.uid("a.head3"))
    assert world.reload(agreement).version == version + 1


def test_submit_writes_the_message_and_its_history_at_once(session, world):
    before = count(session, Message)
    with pytest.raises(Invalid):
        world.submit(text="   ")
    with pytest.raises(Invalid):
        world.submit(sub=None, text="Яма", category_id=world.cat["housing"].id, subcategory_id=world.sub["pothole"].id)
    assert count(session, Message) == before
    message = world.submit(text="Яма у школы")
    assert message.number == f"ПОС-{message.received_at.year}-{message.id:06d}"
    assert [(h.action, h.from_stage, h.to_stage) for h in world.history(message)] == [
        (Action.SUBMIT, None, Stage.MODERATION)]
    # Routed by category: roads belong to the ministry of transport.
    assert message.organization_id == world.org["A"].id


# --- conflicts ---------------------------------------------------------------------------

def test_a_stale_version_is_a_conflict_that_says_who_did_what(session, env, world):
    message = world.message(Stage.COORDINATION)
    seen = world.reload(message).version
    act(session, env, world.u("a.coordinator"), message.id, Action.ASSIGN_EXECUTOR,
        {"executor_id": world.uid("a.executor")}, expected_version=seen)
    history = count(session, HistoryEntry)
    with pytest.raises(Conflict) as info:
        act(session, env, world.u("a.coordinator"), message.id, Action.TAKE, {}, expected_version=seen)
    text = str(info.value)
    assert "Сотрудник a.coordinator" in text
    assert "Назначен исполнитель" in text
    assert "не выполнено" in text
    assert count(session, HistoryEntry) == history
    assert world.reload(message).executor_id == world.uid("a.executor")


def test_a_conflict_names_the_change_not_a_reminder_after_it(session, env, world):
    from pos.services import reminders
    message = world.message(Stage.COORDINATION)
    seen = world.reload(message).version
    world.act("a.coordinator", message, Action.ASSIGN_EXECUTOR, executor_id=world.uid("a.executor"))
    reminders.remind(session, world.u("a.curator"), message.id, "Срок на исходе")
    with pytest.raises(Conflict) as info:
        act(session, env, world.u("a.coordinator"), message.id, Action.TAKE, {}, expected_version=seen)
    assert "Сотрудник a.coordinator" in str(info.value) and "Назначен исполнитель" in str(info.value)


def test_a_conflict_after_a_recomputation_says_so_in_words(session, env, world):
    from pos.models import CalendarOverride
    from pos.services.deadlines import recompute
    message = world.message(Stage.EXECUTION)
    seen = world.reload(message).version
    day = world.reload(message).stage_entered_at.date()
    for offset in range(1, 12):
        session.add(CalendarOverride(day=day.fromordinal(day.toordinal() + offset), is_working=False))
    session.commit()
    assert recompute(session, env, [message.id]) == 1
    with pytest.raises(Conflict) as info:
        act(session, env, world.u("a.executor"), message.id, Action.PREPARE_ANSWER, world.answer_params(),
            expected_version=seen)
    assert "Система" in str(info.value) and "Сроки пересчитаны" in str(info.value)


def test_the_current_version_is_no_conflict(session, env, world):
    message = world.message(Stage.COORDINATION)
    done = act(session, env, world.u("a.coordinator"), message.id, Action.TAKE, {},
               expected_version=str(world.reload(message).version))  # as a form sends it
    assert done.message.stage == Stage.EXECUTION


def test_an_unknown_message(session, env, world):
    with pytest.raises(LookupError):
        act(session, env, world.u("moderator"), 10 ** 9, Action.ACCEPT)


# --- the outbox ----------------------------------------------------------------------------

def test_outbox_rows_are_written_with_each_action(session, world):
    message = world.submit(org="A")
    expected = [
        ("moderator", Action.ACCEPT, {}, [("accepted", True, [], None),
                                          ("inbox", False, [], [world.org["A"].id, Role.COORDINATOR])]),
        ("a.coordinator", Action.ASSIGN_EXECUTOR, {"executor_id": world.uid("a.executor")},
         [("inbox", False, [world.uid("a.executor")], None)]),
        ("a.executor", Action.PREPARE_ANSWER, world.answer_params(agreeing=("a.head1",)),
         [("inbox", False, [world.uid("a.head1")], None)]),
        ("a.head1", Action.AGREE, {}, [("inbox", False, [world.uid("a.approver")], None)]),
        ("a.approver", Action.APPROVE, {}, [("answered", True, [], None)]),
        ("citizen", Action.RATE, {"rating": 5}, []),
    ]
    for login, action, params, events in expected:
        done = world.act(login, message, action, **params)
        rows = outbox_of(session, done.history.id)
        assert sorted(done.outbox_ids) == [r.id for r in rows]
        assert [(r.payload["event"], r.payload["to_applicant"], r.payload["user_ids"], r.payload["org_role"])
                for r in rows] == events, action
        for index, row in enumerate(rows):
            assert (row.kind, row.status, row.payload["message_id"]) == ("notify", "pending", message.id)
            assert row.idempotency_key == f"notify:{done.history.id}:{index}"


def test_outbox_rows_of_a_rejection_a_transfer_and_a_repeat(session, world):
    rejected = world.submit(org="A")
    done = world.act("moderator", rejected, Action.REJECT, reason="ж")
    assert [(r.payload["event"], r.payload["data"]) for r in outbox_of(session, done.history.id)] == [
        ("rejected", {"reason": "ж"})]

    transferred = world.message(Stage.APPROVAL, transfer_to="B")
    done = world.act("a.approver", transferred, Action.APPROVE)
    assert [(r.payload["event"], r.payload["to_applicant"], r.payload["data"], r.payload["org_role"])
            for r in outbox_of(session, done.history.id)] == [
        ("redirected", True, {"organization_id": world.org["B"].id}, None),
        ("inbox", False, {}, [world.org["B"].id, Role.COORDINATOR])]

    answered = world.message(Stage.ANSWERED)
    world.act("citizen", answered, Action.RATE, rating=1)
    done = world.act("citizen", answered, Action.REPEAT, text="Не сделано")
    # The repeat enters moderation (clause 3.3), as every new message does: no coordinator is told yet.
    repeat_entry = world.history(done.new_message)[0]
    assert (repeat_entry.from_stage, repeat_entry.to_stage, repeat_entry.to_org_id) == (
        None, Stage.MODERATION, answered.organization_id)
    assert outbox_of(session, repeat_entry.id) == [] and done.outbox_ids == []
    assert done.history.details["repeat_id"] == done.new_message.id


def test_postponement_events(session, env, world):
    from datetime import timedelta
    from pos import clock
    message = world.message(Stage.POSTPONED)
    message = world.reload(message)
    with clock.frozen(clock.now() + timedelta(days=21)):
        done = world.act(None, message, Action.RESUME)
    assert done.history.actor_id is None
    assert [(r.payload["event"], r.payload["to_applicant"], r.payload["user_ids"])
            for r in outbox_of(session, done.history.id)] == [
        ("resumed", True, []), ("inbox", False, [world.uid("a.executor")])]


# --- the directory -------------------------------------------------------------------------

def test_category_limited_heads_and_the_city_regulation_from_the_database(session, world):
    roads = world.message(Stage.APPROVAL, sub="pothole")
    with pytest.raises(Invalid, match="данной категории"):
        world.act("a.approver", roads, Action.DELEGATE_APPROVAL, head_id=world.uid("a.head_housing"))
    housing = world.message(Stage.APPROVAL, sub="heating")
    world.act("a.approver", housing, Action.DELEGATE_APPROVAL, head_id=world.uid("a.head_housing"))
    world.act("a.head_housing", housing, Action.APPROVE)
    assert world.reload(housing).stage == Stage.ANSWERED
    # Decree 608 of the city: no delegation, read from the jurisdiction's root.
    city = world.message(Stage.APPROVAL, org="city", sub="sport_ticket")
    with pytest.raises(NotAllowed, match="Положение"):
        world.act("city.head", city, Action.DELEGATE_APPROVAL, head_id=world.uid("city.head2"))


def test_the_directory_answers_from_the_database(session, env, world):
    ctx = DbDirectory(session, world.reload(world.submit()).received_at, load_policy(session, env.timezone))
    region, city = world.org["region"].id, world.org["city"].id
    assert ctx.org(world.org["A1"].id).root_id == region
    assert ctx.org(world.org["C"].id).regulation == wf.REGULATION_TYNDA
    assert ctx.is_accelerated(world.sub["sport_ticket"].id, region)
    assert not ctx.is_accelerated(world.sub["sport_ticket"].id, city)
    assert ctx.is_accelerated(world.sub["sport_ticket"].id, None)  # not routed yet: the shorter one
    assert not ctx.is_accelerated(world.sub["pothole"].id, None)
    assert ctx.route(world.cat["roads"].id) == world.org["A"].id
    assert ctx.route(world.cat["culture"].id) == city
    assert ctx.category_of(world.sub["pothole"].id) == world.cat["roads"].id
    limited = ctx.grants_of(world.uid("a.head_housing"))
    assert limited == (wf.Grant(Role.HEAD, world.org["A"].id, frozenset({world.cat["housing"].id})),)
    actor = actor_for(session, world.u("citizen"))
    assert actor.applicant_id == world.applicants["citizen"].id and actor.grants == ()


def test_routing_prefers_the_most_specific_active_organization(session, env, world):
    from pos.models import OrganizationCategory
    session.add(OrganizationCategory(organization_id=world.org["A1"].id, category_id=world.cat["roads"].id))
    session.commit()
    ctx = DbDirectory(session, world.reload(world.submit()).received_at, load_policy(session, env.timezone))
    assert ctx.route(world.cat["roads"].id) == world.org["A1"].id
    world.org["A1"].is_active = False
    session.add(world.org["A1"])
    session.commit()
    ctx = DbDirectory(session, ctx.now, ctx.deadlines)
    assert ctx.route(world.cat["roads"].id) == world.org["A"].id


# --- two people at once, for real: committed data, separate sessions ------------------------

@pytest.fixture
def shared(fresh_database, env):
    """A world committed for real in a database of this test's own, and its engine."""
    engine = make_engine(fresh_database)
    with Session(engine, expire_on_commit=False) as s:
        world = World(s, env)
        second = accounts.create_user(s, "a.coordinator2", "secret", "Сотрудник a.coordinator2")
        accounts.grant(s, second, Role.COORDINATOR, world.org["A"].id)
        s.commit()
        ids = {login: user.id for login, user in world.users.items()} | {"a.coordinator2": second.id}
        yield engine, world, ids


def _state(engine, message_id: int):
    with Session(engine) as s:
        message = s.get(Message, message_id)
        history = s.exec(select(HistoryEntry).where(HistoryEntry.message_id == message_id)
                         .order_by(HistoryEntry.id)).all()
        rows = [r for r in s.exec(select(OutboxEvent)).all() if r.payload.get("message_id") == message_id]
        return message, history, rows


def test_two_sessions_load_the_same_message_one_wins(shared, env):
    engine, world, ids = shared
    message_id = world.message(Stage.COORDINATION).id
    world.session.commit()  # ends the fixture session's read: SQLite would keep its write lock
    first, second = Session(engine, expire_on_commit=False), Session(engine, expire_on_commit=False)
    try:
        # Both open the card: each session holds the message as it was (held: the identity map is weak).
        held = []
        for s in (first, second):
            held.append(s.get(Message, message_id))
            s.commit()  # ends the read (SQLite's write lock) and keeps the loaded state
        act(first, env, first.get(User, ids["a.coordinator"]), message_id, Action.ASSIGN_EXECUTOR,
            {"executor_id": ids["a.executor"]})
        assert held[1].version == held[0].version - 1  # the second copy is stale now
        loser = second.get(User, ids["a.coordinator2"])
        with pytest.raises(Conflict) as info:
            act(second, env, loser, message_id, Action.TAKE, {})
        assert "Сотрудник a.coordinator" in str(info.value) and "Назначен исполнитель" in str(info.value)
    finally:
        first.close()
        second.close()
    message, history, rows = _state(engine, message_id)
    assert (message.stage, message.executor_id) == (Stage.EXECUTION, ids["a.executor"])
    assert [h.action for h in history][-1] == Action.ASSIGN_EXECUTOR
    assert Action.TAKE not in [h.action for h in history]
    assert [r.payload["event"] for r in rows if r.payload["history_id"] == history[-1].id] == ["inbox"]


@pytest.mark.parametrize("contest", ["coordinators", "applicant's two tabs"])
def test_a_real_race_between_two_threads(shared, env, contest):
    engine, world, ids = shared
    if contest == "coordinators":
        message = world.message(Stage.COORDINATION)
        tries = [("a.coordinator", Action.TAKE, {}),
                 ("a.coordinator2", Action.ASSIGN_EXECUTOR, {"executor_id": ids["a.executor"]})]
    else:
        message = world.message(Stage.ANSWERED)
        world.act("citizen", message, Action.RATE, rating=2)
        tries = [("citizen", Action.REPEAT, {"text": "Повторно из первой вкладки"}),
                 ("citizen", Action.REPEAT, {"text": "Повторно из второй вкладки"})]
    message_id, version = message.id, world.reload(message).version
    world.session.commit()  # ends the fixture session's read: SQLite would keep its write lock
    _m, history_before, rows_before = _state(engine, message_id)
    barrier = threading.Barrier(len(tries))
    results: list = [None] * len(tries)

    def attempt(index: int, login: str, action: Action, params: dict) -> None:
        with Session(engine, expire_on_commit=False) as s:
            user = s.get(User, ids[login])
            s.commit()  # no transaction (no SQLite lock) held while waiting at the barrier
            barrier.wait(timeout=30)
            try:
                results[index] = act(s, env, user, message_id, action, params, expected_version=version)
            except Exception as exc:  # noqa: BLE001 (the test inspects what it was)
                results[index] = exc

    threads = [threading.Thread(target=attempt, args=(i, *t)) for i, t in enumerate(tries)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    winners = [r for r in results if not isinstance(r, Exception)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert len(losers) == 1 and isinstance(losers[0], Conflict), results
    message, history, rows = _state(engine, message_id)
    # Exactly the winner's action is recorded, with its outbox rows; nothing of the loser's.
    assert len(history) == len(history_before) + 1
    assert history[-1].id == winners[0].history.id
    assert message.version == version + 1
    with Session(engine) as s:
        repeats = s.exec(select(Message).where(Message.repeated_of_id == message_id)).all()
        assert len(repeats) == (1 if contest != "coordinators" else 0)
        new_rows = [r for r in s.exec(select(OutboxEvent)).all()
                    if r.id not in {x.id for x in rows_before}
                    and r.payload.get("message_id") in {message_id, *(m.id for m in repeats)}]
    assert sorted(r.id for r in new_rows) == sorted(winners[0].outbox_ids)
