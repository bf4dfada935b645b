"""The record of administrative changes: who changed what when, the old and the new value; append-only."""
from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, Column, event
from sqlmodel import Field, Session, SQLModel


class AdminChange(SQLModel, table=True):
    """One administrative change, written in the change's own transaction; never updated, never deleted."""
    __tablename__ = "admin_change"
    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    # Empty: made from the command line (`flask --app app …`), where nobody is signed in.
    actor_id: Optional[int] = Field(default=None, foreign_key="user.id", index=True)
    # What was changed: organization, user, role_grant, category, subcategory, accelerated, stage_deadline,
    # calendar_day, answer_template, api_client (pos.wording.ADMIN_ENTITIES).
    entity: str = Field(max_length=32)
    entity_id: str = Field(default="", max_length=40)
    action: str = Field(max_length=32)
    # One line for people, in Russian: «Организация «УГХ»: переименована».
    summary: str = Field(max_length=500)
    old: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    new: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class AppendOnly(RuntimeError):
    """An attempt to change or remove a record of the administrative changes."""


@event.listens_for(Session, "before_flush")
def _refuse_changing_the_record(session, _flush_context, _instances) -> None:
    # No page or command edits or deletes a record; this makes a mistake in code fail loudly too.
    for row in (*session.dirty, *session.deleted):
        if isinstance(row, AdminChange) and (row in session.deleted or session.is_modified(row)):
            raise AppendOnly("Журнал административных изменений только дополняется.")
