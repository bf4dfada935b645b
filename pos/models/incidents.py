"""Public internet posts (incidents, clause 2.2.2): the posts an incident is made of, and its public reply."""
from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel


class PublicPost(SQLModel, table=True):
    """One public post found in a social network; `incident_id` is the incident (a Message of kind incident)."""
    __tablename__ = "public_post"
    id: Optional[int] = Field(default=None, primary_key=True)
    network: str = Field(max_length=32)
    # The post's public address: the same post pushed twice is one post.
    url: str = Field(max_length=500, unique=True)
    # The author's public handle: personal data once linked to a person (shown as an applicant's data is).
    author_handle: str = Field(default="", max_length=200)
    text: str
    published_at: datetime = Field(index=True)
    place: str = Field(default="", max_length=500)
    latitude: Optional[float] = None
    longitude: Optional[float] = None
    pictures: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The lemmas of the text, kept for grouping (pos/services/incident_grouping.py).
    lemmas: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    received_at: datetime
    incident_id: int = Field(foreign_key="message.id", index=True)


class PublicReply(SQLModel, table=True):
    """The approved answer of an incident published where its first post was: its state and result."""
    __tablename__ = "public_reply"
    id: Optional[int] = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="message.id", unique=True)
    post_id: int = Field(foreign_key="public_post.id")
    text: str
    # pending | published | failed | manual (published by hand by an operator, with its link)
    status: str = Field(default="pending", max_length=16)
    reply_url: str = Field(default="", max_length=500)
    error: str = Field(default="")
    attempts: int = Field(default=0)
    created_at: datetime
    published_at: Optional[datetime] = None
    published_by_id: Optional[int] = Field(default=None, foreign_key="user.id")
