"""Platform plumbing: the outbox, notifications, deadline settings, calendar, API clients."""
from datetime import date, datetime
from typing import Optional

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel


class OutboxEvent(SQLModel, table=True):
    """Work for the background workers, written in the action's own transaction."""
    __tablename__ = "outbox_event"
    id: Optional[int] = Field(default=None, primary_key=True)
    created_at: datetime = Field(index=True)
    kind: str = Field(max_length=40)
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Unique: the same event is never queued twice.
    idempotency_key: str = Field(max_length=200, unique=True)
    status: str = Field(default="pending", max_length=16, index=True)  # pending | sent | done | failed
    attempts: int = Field(default=0)
    sent_at: Optional[datetime] = None
    done_at: Optional[datetime] = None
    last_error: str = Field(default="")
    # A running job holds the row until then; past it the relay hands the row out again.
    locked_until: Optional[datetime] = None


class Notification(SQLModel, table=True):
    """An in-app notification (and the e-mail made from it)."""
    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: Optional[int] = Field(default=None, foreign_key="user.id", index=True)
    applicant_id: Optional[int] = Field(default=None, foreign_key="applicant.id", index=True)
    message_id: Optional[int] = Field(default=None, foreign_key="message.id", index=True)
    kind: str = Field(max_length=40)
    title: str = Field(max_length=300)
    body: str = Field(default="")
    created_at: datetime
    read_at: Optional[datetime] = None
    emailed_at: Optional[datetime] = None
    idempotency_key: str = Field(max_length=200, unique=True)
    # none | single | digest: how the e-mail goes out, decided when the row is written.
    email_mode: str = Field(default="none", max_length=8)

    __table_args__ = (Index("ix_notification_digest", "email_mode", "emailed_at"),)


class StageDeadline(SQLModel, table=True):
    """How long a stage may take, per jurisdiction (empty: the installation's default)."""
    __tablename__ = "stage_deadline"
    id: Optional[int] = Field(default=None, primary_key=True)
    jurisdiction_id: Optional[int] = Field(default=None, foreign_key="organization.id")
    # message | incident: incidents run on their own, shorter clock (stage "answer": their answer deadline).
    kind: str = Field(default="message", max_length=16, sa_column_kwargs={"server_default": "message"})
    stage: str = Field(max_length=16)
    amount: int
    unit: str = Field(max_length=16)  # working_hours | working_days


class CalendarOverride(SQLModel, table=True):
    """A local correction to the production calendar (a regional day off, a late decree)."""
    __tablename__ = "calendar_override"
    day: date = Field(primary_key=True)
    is_working: bool
    note: str = Field(default="", max_length=300)


class ReferenceVersion(SQLModel, table=True):
    """One row: a random token that every change of the directory's rows (organizations, the classifier, the
    staff and their roles, the deadline policy) replaces in its own transaction (pos.services.reference).
    What a process keeps of those rows between requests holds while the token it was read under does; a token
    is never written twice, so a change rolled back leaves nothing kept under it."""
    __tablename__ = "reference_version"
    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    token: str = Field(max_length=32)


class ApiClient(SQLModel, table=True):
    """An Open311 client with its API key (only a hash is kept)."""
    __tablename__ = "api_client"
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    key_hash: str = Field(max_length=128, unique=True)
    organization_id: Optional[int] = Field(default=None, foreign_key="organization.id")
    is_active: bool = Field(default=True)
    created_at: datetime
