"""The foundation holds: a message walks from submission to an answer through the services."""
from pos.workflow import Action, Stage


def test_message_walks_to_answered(world):
    message = world.message(Stage.ANSWERED, agreeing=("a.head1", "a.head2"))
    assert message.stage == Stage.ANSWERED
    assert message.number.startswith("ПОС-")
    actions = [h.action for h in world.history(message)]
    assert actions == ["submit", "accept", "assign_executor", "prepare_answer", "agree", "agree", "approve"]
    assert world.history(message)[-1].to_stage == message.stage
