"""Who may see an applicant's personal data: the one rule, as a SQL condition on messages.

The rule (DESIGN.md 6b; decree 232 section 5, decree 608 section 4, ПП № 1119). An applicant's
identity — name, e-mail, phone, ИНН/ОГРН, the contact person, the names of the applicant's files — is
seen, for one message, by

- the moderator (the platform's operator works with every message, at every stage);
- the staff of the organization now handling the message who work on it: its coordinators, its
  executor (the one the message is assigned to) and the heads of its current agreement/approval chain;
- the curators of that organization (or of an organization above it).

Nobody else. A message still in moderation or rejected by the moderator has reached no organization:
only the moderator sees its author (the organization routing proposed is not handling it yet; its
curators may see the message, not the author). Former heads of a chain (a delegated place, an earlier
round) and the staff of an organization the message has left (a transfer, «Вернуть») see at most the
message, without its author. An organization's other staff (an executor it is not assigned to, a
head outside the chain) likewise. Analysts never see it, nor the names of attached files (they often
carry people's names), and administrators do not see messages at all.

`identity_clause` is the rule; `access` applies it to one message together with the right to open it
(`pos.services.inbox.visible_clause`), in one statement. Every place that shows an identity asks one of
them: the message page and its attachments (pos/views/staff_message.py), the inbox export
(pos/services/inbox_export.py).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, exists, false, literal, or_, true
from sqlmodel import Session, select

from pos.models import ApprovalStep, Message
from pos.services.inbox import _subtree, visible_clause
from pos.workflow import Actor, Role, Stage

# The stages of a message that never reached an organization.
NOT_REACHED = (Stage.MODERATION.value, Stage.REJECTED.value)


def identity_clause(session: Session, actor: Actor):
    """A condition on `Message`: true where `actor` may see the applicant's identity (the module's rule)."""
    if actor.user_id is None or not actor.grants:
        return false()
    if any(g.role == Role.MODERATOR for g in actor.grants):
        return true()
    def orgs(role: str) -> list[int]:
        return sorted({g.organization_id for g in actor.grants if g.role == role and g.organization_id})
    conditions = []
    if coordinated := orgs(Role.COORDINATOR):
        conditions.append(Message.organization_id.in_(coordinated))
    if executing := orgs(Role.EXECUTOR):
        conditions.append(and_(Message.executor_id == actor.user_id, Message.organization_id.in_(executing)))
    if headed := orgs(Role.HEAD):
        in_current_chain = exists().where(ApprovalStep.message_id == Message.id,
                                          ApprovalStep.round == Message.chain_round,
                                          ApprovalStep.head_id == actor.user_id)
        conditions.append(and_(Message.organization_id.in_(headed), in_current_chain))
    if curated := _subtree(session, orgs(Role.CURATOR)):
        conditions.append(Message.organization_id.in_(curated))
    if not conditions:
        return false()
    return and_(Message.stage.not_in(NOT_REACHED), or_(*conditions))


@dataclass(frozen=True)
class Access:
    visible: bool  # may open the message
    identity: bool  # ... and see its author


NONE = Access(False, False)


def access(session: Session, actor: Actor, message_id: int) -> Access:
    """What `actor` may see of one message, in one statement."""
    row = session.exec(select(Message.id, case((identity_clause(session, actor), literal(1)), else_=literal(0)))
                       .where(Message.id == message_id, visible_clause(session, actor))).first()
    if row is None:
        return NONE
    return Access(True, bool(row[1]))


def message_and_access(session: Session, actor: Actor, message_id: int) -> tuple[Message | None, Access]:
    """The message (None if there is no such) with what `actor` may see of it, in one statement: the page of a
    message reads both first."""
    row = session.exec(select(Message, case((visible_clause(session, actor), literal(1)), else_=literal(0)),
                              case((identity_clause(session, actor), literal(1)), else_=literal(0)))
                       .where(Message.id == message_id)).first()
    if row is None:
        return None, NONE
    message, visible, identity = row
    return message, Access(bool(visible), bool(visible) and bool(identity))


def sees_identity(session: Session, actor: Actor, message_id: int) -> bool:
    return access(session, actor, message_id).identity
