"""Messages, their approval chains, attachments and history."""
from datetime import date, datetime
from typing import Optional

from sqlalchemy import JSON, Column, Index, Integer, event, inspect, text
from sqlmodel import Field, SQLModel

_version_column = Column("version", Integer, nullable=False, default=1)
# The inbox's two halves: in work (active and postponed) first, then the finished (migration 0700).
_OPEN = "stage IN ('moderation', 'coordination', 'execution', 'agreement', 'approval', 'postponed')"
_DONE = "stage IN ('rejected', 'answered')"


class Message(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    number: Optional[str] = Field(default=None, max_length=32, unique=True, index=True)
    applicant_id: Optional[int] = Field(default=None, foreign_key="applicant.id", index=True)
    text: str
    address: str = Field(default="", max_length=500)
    # The problem's place read from the address (pos/services/addresses.py `place`), kept with it so that
    # «Частые проблемы» groups by street in SQL: set whenever the address is written (the listener below);
    # both empty (NULL) when the address names no settlement or street.
    place_settlement: Optional[str] = Field(default=None, max_length=500)
    place_street: Optional[str] = Field(default=None, max_length=500)
    latitude: Optional[float] = None
    longitude: Optional[float] = None
    source: str = Field(default="web", max_length=16)  # web | embed | api | seed | internet
    # message: an official message (clause 3); incident: public internet posts grouped (2.2.2, pos/incidents.py).
    # Analytics filter on it (2.2.5: counted apart), so it is a plain indexed column.
    kind: str = Field(default="message", max_length=16, index=True,
                      sa_column_kwargs={"server_default": "message"})
    api_client_id: Optional[int] = Field(default=None, foreign_key="api_client.id")
    # Open311: the token handed back with an API-created request (GET tokens/{token}).
    api_token: Optional[str] = Field(default=None, max_length=64, unique=True)
    # The applicant's form instance that sent it (a hidden field): a resubmitted form finds this
    # message instead of writing a second one.
    form_token: Optional[str] = Field(default=None, max_length=64, unique=True)
    category_id: Optional[int] = Field(default=None, foreign_key="category.id", index=True)
    subcategory_id: Optional[int] = Field(default=None, foreign_key="subcategory.id", index=True)
    # The organization the message is with now (routing may leave it empty until moderation).
    organization_id: Optional[int] = Field(default=None, foreign_key="organization.id")
    # Organization that passed it on (transfer or moderator's change), for «Вернуть».
    passed_from_id: Optional[int] = Field(default=None, foreign_key="organization.id")
    stage: str = Field(max_length=16)
    executor_id: Optional[int] = Field(default=None, foreign_key="user.id", index=True)
    # The person the message waits for now (executor, current head); derived by the workflow.
    assignee_id: Optional[int] = Field(default=None, foreign_key="user.id", index=True)
    # Answer prepared in execution (or by the coordinator).
    result: Optional[str] = Field(default=None, max_length=16)
    answer_text: str = Field(default="")
    executor_position: str = Field(default="", max_length=300)
    executor_name: str = Field(default="", max_length=300)
    comment: str = Field(default="")
    postponed_until: Optional[date] = None
    # Pending transfer to the competent organization (goes through the heads first).
    transfer_to_id: Optional[int] = Field(default=None, foreign_key="organization.id")
    # What the current approval chain decides: "answer" or "transfer".
    chain_purpose: Optional[str] = Field(default=None, max_length=16)
    chain_round: int = Field(default=0)
    rejection_reason: Optional[str] = Field(default=None, max_length=2)
    repeated_of_id: Optional[int] = Field(default=None, foreign_key="message.id", index=True)
    is_repeated: bool = Field(default=False, index=True)
    accelerated: bool = Field(default=False, index=True)
    received_at: datetime = Field(index=True)
    answer_due_at: datetime = Field(index=True)
    stage_entered_at: datetime
    stage_due_at: datetime = Field(index=True)
    # When the last approved answer was published, an «отложено» one included (it is the answer given; a
    # return to execution keeps it until the next answer). Whether it was on time is in the APPROVE history entry.
    answered_at: Optional[datetime] = None
    rating: Optional[int] = None
    rating_comment: str = Field(default="")
    rated_at: Optional[datetime] = None
    version: int = Field(default=1, sa_column=_version_column)

    __mapper_args__ = {"version_id_col": _version_column}
    # The inboxes (0700): each role's filter and the order (stage deadline, id) as one index, so a page is a seek and a short scan:
    # an organization's stage (coordinator, head, curator's stage filter), a stage platform-wide (moderator,
    # analyst), everything in work (curator, analyst; the organization and category are read from the index
    # itself), and the finished ones after.
    __table_args__ = (Index("ix_message_inbox", "organization_id", "stage", "stage_due_at", "id"),
                      Index("ix_message_queue", "stage", "stage_due_at", "id"),
                      Index("ix_message_open", "stage_due_at", "id", "organization_id", "category_id", "stage",
                            postgresql_where=text(_OPEN), sqlite_where=text(_OPEN)),
                      Index("ix_message_done", "stage_due_at", "id", "organization_id",
                            postgresql_where=text(_DONE), sqlite_where=text(_DONE)),
                      # The analytics of messages received in a period («Частые проблемы», «Сводка»): every
                      # column they group by or filter on after the period, so the period's rows are read from
                      # the index alone (the id too: the words' sample picks every k-th one), migration 0710.
                      Index("ix_message_received_facts", "received_at", "organization_id", "category_id",
                            "subcategory_id", "source", "stage", "result", "is_repeated", "accelerated", "id",
                            "place_settlement", "place_street"),
                      # «Удовлетворённость»: the ratings and the answers given in a period, by organization and
                      # category, and of what kind; the id finds the repeats of an answered one (migration 0770).
                      Index("ix_message_rated", "rated_at", "organization_id", "category_id", "rating", "kind"),
                      Index("ix_message_answered", "answered_at", "organization_id", "category_id", "kind", "id"))


def place_of(message: "Message") -> None:
    """The settlement and street of the message's address (pos.services.addresses.place), set on it."""
    from pos.services.addresses import place
    found = place(message.address or "")
    message.place_settlement = found.settlement if found is not None else None
    message.place_street = found.street if found is not None else None


@event.listens_for(Message, "before_insert")
def _place_on_insert(_mapper, _connection, message: Message) -> None:
    place_of(message)


@event.listens_for(Message, "before_update")
def _place_on_update(_mapper, _connection, message: Message) -> None:
    if inspect(message).attrs.address.history.has_changes():
        place_of(message)


class DeadlineMark(SQLModel, table=True):
    """What the deadline sweep has told of a message: the line its stage deadline crossed (due soon, overdue).

    Kept apart from the message (migration 0780) so that a beat writes these narrow rows and never the
    message's, with its two dozen indexes: a sweep after an outage marks a tenth of the table at once. A mark
    holds for the deadline it names; a new stage or a recomputed deadline leaves it behind and the sweep drops
    it. No foreign key: a mark is the sweep's own memory, checked against the message on every beat.
    """
    __tablename__ = "deadline_mark"
    message_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    stage_due_at: datetime
    state: str = Field(max_length=16)  # due_soon | overdue
    marked_at: datetime = Field(index=True)  # the sweep's moment: its reminders are written from these rows


class ApprovalStep(SQLModel, table=True):
    """One place in an approval chain: an agreeing head in order, or the approving head."""
    __tablename__ = "approval_step"
    id: Optional[int] = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", index=True)
    round: int
    position: int  # agreeing heads 1..n in order; the approving head comes last
    kind: str = Field(max_length=8)  # agree | approve
    head_id: int = Field(foreign_key="user.id", index=True)
    # The head who held this place before a «Передать право …».
    delegated_from_id: Optional[int] = Field(default=None, foreign_key="user.id")
    status: str = Field(default="pending", max_length=16)  # pending | agreed | approved | rejected | cancelled
    decided_at: Optional[datetime] = None
    comment: str = Field(default="")


class Attachment(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", index=True)
    kind: str = Field(default="applicant", max_length=16)  # applicant | answer
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=120)
    size: int
    sha256: str = Field(max_length=64)
    storage_key: str = Field(max_length=255)
    uploaded_by_id: Optional[int] = Field(default=None, foreign_key="user.id")
    created_at: datetime


class HistoryEntry(SQLModel, table=True):
    """One applied action: who, when, what, from which stage and organization to which."""
    __tablename__ = "history_entry"
    id: Optional[int] = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", index=True)
    at: datetime
    actor_id: Optional[int] = Field(default=None, foreign_key="user.id")  # empty: the system
    action: str = Field(max_length=40)
    from_stage: Optional[str] = Field(default=None, max_length=16)
    to_stage: str = Field(max_length=16)
    from_org_id: Optional[int] = Field(default=None, foreign_key="organization.id")
    to_org_id: Optional[int] = Field(default=None, foreign_key="organization.id")
    details: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
