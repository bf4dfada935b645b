"""Bulk actions from the inbox: one workflow action on many messages, each exactly as a single action.

Every message goes through `pos.services.messages.act` with the version its row was shown at: one
transaction per message, with its history, its stage passages and its notifications; a message
changed meanwhile, or one the action does not fit, is refused and left as it was, the others go on.
The result says, message by message, what happened and why.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlmodel import Session

from pos import workflow as wf
from pos.models import Message, User
from pos.services import inbox, messages
from pos.services.directory import actor_for
from pos.workflow import Action

# The actions offered in bulk, and to whom (the inbox of that role).
BULK_ACTIONS = {
    wf.Role.MODERATOR: (Action.ACCEPT, Action.CHANGE_ORGANIZATION),
    wf.Role.COORDINATOR: (Action.ASSIGN_EXECUTOR,),
}
MAX_MESSAGES = 100  # two inbox pages: a bulk action is for a page, not for the whole queue


@dataclass
class Item:
    message_id: int
    number: str
    done: bool
    reason: str = ""  # why it was refused
    changed: bool = False  # refused because someone changed it meanwhile

    def as_dict(self) -> dict:
        return asdict(self)


def apply(session: Session, env: messages.Env, user: User, action: Action, picked: list[tuple[int, int]],
          params: dict) -> list[Item]:
    """Apply `action` with `params` to each (message id, version shown), one transaction each."""
    actor = actor_for(session, user)
    items = []
    for message_id, version in picked:
        message = session.get(Message, message_id)
        if message is None or not inbox.can_view(session, actor, message_id):
            items.append(Item(message_id, "", False, "Сообщение не найдено."))
            continue
        number = message.number or str(message_id)
        try:
            messages.act(session, env, user, message_id, action, dict(params), expected_version=version)
        except messages.Conflict as exc:
            session.expire_all()
            reason = f"Сообщение изменилось: {exc.change}." if exc.change else "Сообщение изменено другим пользователем."
            items.append(Item(message_id, number, False, reason, changed=True))
        except (wf.NotAllowed, wf.Invalid) as exc:
            session.expire_all()
            items.append(Item(message_id, number, False, str(exc)))
        else:
            items.append(Item(message_id, number, True))
    return items
