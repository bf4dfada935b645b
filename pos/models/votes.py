"""Votes on projects and sociological polls: one table for both (`kind`), their questions and options, the
anonymous ballots, and the participation records that keep one ballot per person.

A vote is a poll of one question whose options are the projects (its `style`: one option, up to N, or a
budget to fit). A ballot holds the answers and nothing of the person: no applicant, no time, a random id
(not a sequence that would follow the participation records' order). Who took part is only in
`vote_participation`, written in the same transaction, whose UNIQUE (vote, applicant) makes the database
refuse a second ballot.
"""
from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

VOTE, POLL = "vote", "poll"
KINDS = {VOTE: "Голосование", POLL: "Опрос"}

# A vote's style (its single question's kind).
SINGLE, MULTI, BUDGET = "single", "multi", "budget"
VOTE_STYLES = {SINGLE: "один вариант", MULTI: "до N вариантов", BUDGET: "бюджет (проекты в пределах суммы)"}
# A poll question's kind.
TEXT, SCALE = "text", "scale"
QUESTION_KINDS = {SINGLE: "один вариант ответа", MULTI: "несколько вариантов (от и до)", TEXT: "свободный ответ",
                  SCALE: "шкала от 1 до 5"}
SCALE_VALUES = (1, 2, 3, 4, 5)


class Vote(SQLModel, table=True):
    """A vote or a poll: its territory, period (UTC; entered in local time), rules and lifecycle marks."""
    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(max_length=8, index=True)  # vote | poll
    organization_id: int = Field(foreign_key="organization.id", index=True)  # the organizer's organization
    jurisdiction_id: int = Field(foreign_key="organization.id", index=True)  # the territory: a jurisdiction
    # Narrowed to these settlements (names); empty: the whole jurisdiction.
    settlements: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    title: str = Field(max_length=300)
    description: str = Field(default="")
    starts_at: datetime
    ends_at: datetime
    # Votes: the budget in roubles (style budget).
    budget: Optional[int] = None
    # Set by «Запланировать»: out of the draft; the period then decides scheduled / open / closed.
    scheduled_at: Optional[datetime] = None
    results_published_at: Optional[datetime] = None
    results_published_by_id: Optional[int] = Field(default=None, foreign_key="user.id")
    # The opening's notification was written (the periodic job does it once).
    opening_announced_at: Optional[datetime] = None
    created_by_id: int = Field(foreign_key="user.id")
    created_at: datetime
    # Bumped by every ballot and every edit: an edit that raced a first ballot fails instead of slipping in.
    version: int = Field(default=1)


class VoteQuestion(SQLModel, table=True):
    __tablename__ = "vote_question"
    id: Optional[int] = Field(default=None, primary_key=True)
    vote_id: int = Field(foreign_key="vote.id", index=True)
    position: int = Field(default=0)
    kind: str = Field(max_length=8)  # single | multi | budget | text | scale
    title: str = Field(max_length=500)
    required: bool = Field(default=True)
    min_choices: int = Field(default=0)
    max_choices: Optional[int] = None
    # «Другое» with a text of one's own (single / multi questions of a poll).
    other_allowed: bool = Field(default=False)


class VoteOption(SQLModel, table=True):
    """An answer of a question; for a vote, a project with its description, cost and picture."""
    __tablename__ = "vote_option"
    id: Optional[int] = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="vote_question.id", index=True)
    position: int = Field(default=0)
    title: str = Field(max_length=300)
    description: str = Field(default="")
    cost: Optional[int] = None  # roubles
    picture_key: str = Field(default="", max_length=200)  # pos.services.files storage key
    picture_type: str = Field(default="", max_length=100)


class VoteBallot(SQLModel, table=True):
    """One cast ballot: a random id and the vote, nothing else."""
    __tablename__ = "vote_ballot"
    id: str = Field(primary_key=True, max_length=32)
    vote_id: int = Field(foreign_key="vote.id", index=True)


class VoteAnswer(SQLModel, table=True):
    """One answer of a ballot: a chosen option, «Другое» with its text, a free text, or a scale value."""
    __tablename__ = "vote_answer"
    id: Optional[int] = Field(default=None, primary_key=True)
    ballot_id: str = Field(foreign_key="vote_ballot.id", index=True, max_length=32)
    question_id: int = Field(foreign_key="vote_question.id", index=True)
    option_id: Optional[int] = Field(default=None, foreign_key="vote_option.id", index=True)
    text: str = Field(default="")
    value: Optional[int] = None


class VoteParticipation(SQLModel, table=True):
    """Who took part, when: the uniqueness record, never joined to a ballot."""
    __tablename__ = "vote_participation"
    __table_args__ = (UniqueConstraint("vote_id", "applicant_id", name="uq_vote_participation"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    vote_id: int = Field(foreign_key="vote.id", index=True)
    applicant_id: int = Field(foreign_key="applicant.id", index=True)
    cast_at: datetime


class VoteSubscription(SQLModel, table=True):
    """An applicant's territory for votes and polls, and whether to be told when one opens there."""
    __tablename__ = "vote_subscription"
    applicant_id: int = Field(foreign_key="applicant.id", primary_key=True)
    jurisdiction_id: Optional[int] = Field(default=None, foreign_key="organization.id", index=True)
    notify: bool = Field(default=False)
