"""The message workflow of the regulations: stages, actions, the transition table, guards.

Pure: no Flask, no database session, no Redis. Everything the rules need to
know about the world (organizations, other people's roles, the classifier,
deadlines, the clock) comes in through a `Directory` the caller supplies.
`apply()` checks the guard and the parameters first and only then changes the
message, so a refused action changes nothing; it returns an `Outcome` that says
what changed, for the history, the outbox and the caller.
"""
from pos.workflow.vocabulary import *  # noqa: F401,F403
from pos.workflow.vocabulary import __all__ as _vocabulary
from pos.workflow.rules import (  # noqa: F401
    REGULATION_AMUR, REGULATION_EXCLUDES, REGULATION_TYNDA, SYSTEM, TRANSITIONS, Actor, Directory,
    Event, Grant, Invalid, NotAllowed, OrgInfo, Outcome, Performer, Refused, Transition,
    INCIDENT_ONLY, allowed_actions, answered_on_time, can, is_incident, current_step, current_steps, regulation_allows, regulation_of, why_not)
from pos.workflow.actions import RESTARTS_STAGE, apply, is_head_for, submit  # noqa: F401
