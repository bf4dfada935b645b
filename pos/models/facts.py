"""Facts the analytics count from, written in the same transaction as the action (pos/services/facts.py).

A *stage visit* is one passage of a message through an active stage under one stage clock: it opens when
the message enters the stage (or the clock restarts there: the next agreeing head, a delegation, a
«Вернуть»), and closes with the action that ends it. An *answer period* is one run of the answer deadline
(clause 3.9: 30 or 10 days): from arrival, or from the return after a postponement, to the answer given
(the approved answer; an approved «отложено» is the answer given) or the moderator's rejection.
"""
from datetime import datetime
from typing import Optional

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

_OPEN_VISIT = "left_at IS NULL"
_ENDED_VISIT = "left_at IS NOT NULL AND organization_id IS NOT NULL"
_OPEN_PERIOD = "closed_at IS NULL"


class _Fact(SQLModel):
    """What both kinds of fact have: a message, its organization, a deadline that may move, the verdict."""
    id: Optional[int] = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id")
    # The organization the message was with (a category change in moderation may route it while the
    # row is open, a transfer moves the answer period: the open row follows).
    organization_id: Optional[int] = Field(default=None, foreign_key="organization.id", index=True)
    # The deadline at the start, and the one in force now (a recomputation while the row is open moves
    # `due_at` and sets `due_changed_at`; `entry_due_at` keeps what it was).
    entry_due_at: datetime
    due_at: datetime
    due_changed_at: Optional[datetime] = None
    # Ended by its deadline (end <= due_at); empty while open.
    on_time: Optional[bool] = None
    is_repeated: bool = False
    accelerated: bool = False
    # The message is an incident (public internet posts): analytics count them apart (clause 2.2.5), and the
    # rating leaves them out unless asked (migration 0750).
    is_incident: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})


class StageVisit(_Fact, table=True):
    __tablename__ = "stage_visit"
    stage: str = Field(max_length=16)
    entered_at: datetime
    left_at: Optional[datetime] = None
    left_action: Optional[str] = Field(default=None, max_length=40)
    # The working hours from entered_at to left_at on the production calendar, set when the passage closes
    # (pos/facts.py `advance`; migration 0710 filled it for the passages closed before): «Сроки» shows the
    # median and 90th percentile of the stages measured in working hours from it, in SQL.
    working_hours: Optional[float] = None

    __table_args__ = (
        # At most one open passage per message: the live recording finds it by this index.
        Index("ux_stage_visit_open", "message_id", unique=True,
              postgresql_where=text(_OPEN_VISIT), sqlite_where=text(_OPEN_VISIT)),
        Index("ix_stage_visit_message", "message_id", "entered_at"),
        # The rating (pos/services/rating.py, `fetch_tally`): passages of a stage that ended in a month, or
        # left after it; every column the count reads is in the index, so it never visits the table
        # (migration 0610) ...
        Index("ix_stage_visit_rating", "stage", "left_at", "due_at", "entered_at", "organization_id",
              "is_repeated", "working_hours", "is_incident"),  # «Сроки» reads the ended passages from it too
        # ... and those still open and already overdue at the month's end.
        Index("ix_stage_visit_open_due", "stage", "due_at",
              postgresql_where=text(_OPEN_VISIT), sqlite_where=text(_OPEN_VISIT)),
        # «Сроки» on PostgreSQL: the ended passages of one organization and stage in a period are one range of
        # it, so the median and 90th percentile sort each group alone (migration 0770), where the rating's
        # index gave them all in time order and sorted them by organization first.
        Index("ix_stage_visit_org_period", "stage", "organization_id", "left_at", "due_at", "entered_at",
              "working_hours", "is_repeated", "is_incident",
              postgresql_where=text(_ENDED_VISIT), sqlite_where=text(_ENDED_VISIT)),
    )


class AnswerPeriod(_Fact, table=True):
    """`organization_id` at the close: the organization that gave the answer; `on_time` stays empty for a
    rejection (no answer was given)."""
    __tablename__ = "answer_period"
    opened_at: datetime
    closed_at: Optional[datetime] = None
    closed_action: Optional[str] = Field(default=None, max_length=40)
    # answered | postponed (the answer given, both) | rejected (by the moderator: no answer); empty while open.
    outcome: Optional[str] = Field(default=None, max_length=16)

    __table_args__ = (
        Index("ux_answer_period_open", "message_id", unique=True,
              postgresql_where=text(_OPEN_PERIOD), sqlite_where=text(_OPEN_PERIOD)),
        Index("ix_answer_period_message", "message_id", "opened_at"),
        # «Сроки»: the answers given in a period, read from the index alone (0710).
        Index("ix_answer_period_closed", "closed_at", "organization_id", "outcome", "on_time", "opened_at",
              "due_at"),
        Index("ix_answer_period_open_due", "due_at",
              postgresql_where=text(_OPEN_PERIOD), sqlite_where=text(_OPEN_PERIOD)),
    )
