"""Curators remind whoever a message waits for; nobody else may, and it is recorded."""
import pytest
from sqlmodel import select

from pos.models import OutboxEvent
from pos.services.reminders import remind
from pos.workflow import NotAllowed, Stage


def _outbox(world, message):
    """The newest outbox row of the message."""
    return world.session.exec(select(OutboxEvent).where(OutboxEvent.payload["message_id"].as_integer() == message.id)
                              .order_by(OutboxEvent.id.desc())).first()


def test_curator_reminds_the_executor(world):
    message = world.message(Stage.EXECUTION)
    entry = remind(world.session, world.u("a.curator"), message.id, "Срок истекает завтра")
    assert entry.action == "reminder" and entry.to_stage == Stage.EXECUTION
    row = _outbox(world, message)
    assert row.payload["event"] == "reminder"
    assert row.payload["user_ids"] == [world.uid("a.executor")]
    assert row.payload["data"]["text"] == "Срок истекает завтра"


def test_reminder_in_coordination_goes_to_the_coordinators(world):
    message = world.message(Stage.COORDINATION)
    remind(world.session, world.u("a.curator"), message.id)
    assert _outbox(world, message).payload["org_role"] == [world.org["A"].id, "coordinator"]


def test_curator_of_a_parent_organization_may_remind(world):
    from pos.services import accounts
    from pos.workflow import Role
    boss = accounts.create_user(world.session, "region.curator", "x", "Куратор области")
    accounts.grant(world.session, boss, Role.CURATOR, world.org["region"].id)
    message = world.message(Stage.EXECUTION)
    remind(world.session, boss, message.id)


@pytest.mark.parametrize("login", ["a.coordinator", "b.coordinator", "citizen", "moderator"])
def test_others_may_not_remind(world, login):
    message = world.message(Stage.EXECUTION)
    before = len(world.history(message))
    with pytest.raises(NotAllowed):
        remind(world.session, world.u(login), message.id)
    assert len(world.history(message)) == before


def test_no_reminder_after_the_answer(world):
    message = world.message(Stage.ANSWERED)
    with pytest.raises(NotAllowed):
        remind(world.session, world.u("a.curator"), message.id)
