"""The audit of looks at applicants' personal data: who saw whose identity, where and when (append-only)."""
from datetime import datetime
from typing import Optional

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

# What was looked at: the message page (its card shows the author), an applicant's file, an export.
PD_ACCESS_KINDS = ("page", "attachment", "export")


class PdAccess(SQLModel, table=True):
    """One look at an applicant's identity by a staff member. Nothing updates or deletes a row: the
    database refuses it (triggers of migration 0720)."""
    __tablename__ = "pd_access"
    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    user_id: int = Field(foreign_key="user.id")
    kind: str = Field(max_length=16)  # PD_ACCESS_KINDS
    # A page or a file: one applicant of one message. An export: empty here, its applicants in `applicant_ids`.
    applicant_id: Optional[int] = Field(default=None, foreign_key="applicant.id")
    message_id: Optional[int] = Field(default=None, foreign_key="message.id")
    attachment_id: Optional[int] = Field(default=None, foreign_key="attachment.id")
    # An export's applicants as ",12,40,97," (a LIKE finds one of them on every database).
    applicant_ids: str = Field(default="")
    detail: str = Field(default="", max_length=500)

    __table_args__ = (Index("ix_pd_access_user_at", "user_id", "at"),
                      Index("ix_pd_access_applicant_at", "applicant_id", "at"))
