"""The monthly rating of ИОГВ (decree 232, section 4) as stored snapshots: a draft, then published for good.

A published month is never changed again: the snapshot keeps its own figures (and the organizations'
names as they were), so later edits to messages or organizations do not reach it; the mapper events below
refuse any update or delete of a published snapshot's rows.
"""
from datetime import date, datetime
from decimal import Decimal
from typing import Optional

from sqlalchemy import JSON, Column, Numeric, UniqueConstraint, event, inspect
from sqlmodel import Field, SQLModel

# The six indicators of clause 4.2 in its order: (key, stage, repeated).
INDICATORS = (
    ("coordination_first", "coordination", False),
    ("agreement_first", "agreement", False),
    ("approval_first", "approval", False),
    ("coordination_repeated", "coordination", True),
    ("agreement_repeated", "agreement", True),
    ("approval_repeated", "approval", True),
)
INDICATOR_KEYS = tuple(key for key, _, _ in INDICATORS)

DRAFT = "draft"
PUBLISHED = "published"


class RatingMonth(SQLModel, table=True):
    __tablename__ = "rating_month"
    id: Optional[int] = Field(default=None, primary_key=True)
    month: date = Field(unique=True)  # the first day of the reporting month
    status: str = Field(default=DRAFT, max_length=16)  # draft | published
    computed_at: datetime
    published_at: Optional[datetime] = None
    # Empty with `published_automatically`: the platform published it (clause 4.3, the 15th).
    published_by_id: Optional[int] = Field(default=None, foreign_key="user.id")
    published_automatically: bool = False
    # The rules the figures were computed with.
    timezone: str = Field(max_length=64)
    min_sample: int
    weights: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Clause 2.2.5: the rating is of official messages; the analyst may count incidents' passages in too.
    with_incidents: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})


def _percent_column():
    return Column(Numeric(5, 2), nullable=True)


class RatingRow(SQLModel, table=True):
    """One organization's figures in a month: an ИОГВ (rated) or a subordinate one (information)."""
    __tablename__ = "rating_row"
    __table_args__ = (UniqueConstraint("rating_id", "organization_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    rating_id: int = Field(foreign_key="rating_month.id", index=True)
    organization_id: int = Field(foreign_key="organization.id")
    organization_name: str = Field(max_length=300)
    # False: a subordinate organization, shown beside its ИОГВ (`parent_id`) as information, never placed.
    is_rated: bool = True
    parent_id: Optional[int] = Field(default=None, foreign_key="organization.id")
    coordination_first_on_time: int = 0
    coordination_first_total: int = 0
    coordination_first_percent: Optional[Decimal] = Field(default=None, sa_column=_percent_column())
    agreement_first_on_time: int = 0
    agreement_first_total: int = 0
    agreement_first_percent: Optional[Decimal] = Field(default=None, sa_column=_percent_column())
    approval_first_on_time: int = 0
    approval_first_total: int = 0
    approval_first_percent: Optional[Decimal] = Field(default=None, sa_column=_percent_column())
    coordination_repeated_on_time: int = 0
    coordination_repeated_total: int = 0
    coordination_repeated_percent: Optional[Decimal] = Field(default=None, sa_column=_percent_column())
    agreement_repeated_on_time: int = 0
    agreement_repeated_total: int = 0
    agreement_repeated_percent: Optional[Decimal] = Field(default=None, sa_column=_percent_column())
    approval_repeated_on_time: int = 0
    approval_repeated_total: int = 0
    approval_repeated_percent: Optional[Decimal] = Field(default=None, sa_column=_percent_column())
    # The weighted mean of the significant indicators; empty when none is significant.
    mean: Optional[Decimal] = Field(default=None, sa_column=_percent_column())
    place: Optional[int] = None
    passages: int = 0  # all passages counted in the six indicators (the tie-break)

    def figures(self, key: str) -> tuple[int, int, Optional[Decimal]]:
        """(on time, total, percent) of one indicator; percent empty: «нет данных»."""
        return (getattr(self, f"{key}_on_time"), getattr(self, f"{key}_total"), getattr(self, f"{key}_percent"))


class PublishedRatingChanged(Exception):
    """A published month is immutable."""


def _refuse_published_month(mapper, connection, target: RatingMonth) -> None:
    status = inspect(target).attrs.status.history
    was = status.deleted[0] if status.deleted else target.status
    if was == PUBLISHED:
        raise PublishedRatingChanged("Опубликованный рейтинг за месяц не изменяется.")


def _refuse_published_row(mapper, connection, target: RatingRow) -> None:
    table = RatingMonth.__table__
    status = connection.execute(table.select().with_only_columns(table.c.status)
                                .where(table.c.id == target.rating_id)).scalar()
    if status == PUBLISHED:
        raise PublishedRatingChanged("Опубликованный рейтинг за месяц не изменяется.")


event.listen(RatingMonth, "before_update", _refuse_published_month)
event.listen(RatingMonth, "before_delete", _refuse_published_month)
event.listen(RatingRow, "before_update", _refuse_published_row)
event.listen(RatingRow, "before_delete", _refuse_published_row)
event.listen(RatingRow, "before_insert", _refuse_published_row)
