"""The data model: SQLModel tables, one module per area."""
from pos.models.org import Organization, OrganizationCategory
from pos.models.classifier import AcceleratedSubcategory, AnswerTemplate, Category, Subcategory
from pos.models.people import Applicant, PendingRegistration, RoleGrant, RoleGrantCategory, User
from pos.models.message import ApprovalStep, Attachment, DeadlineMark, HistoryEntry, Message
from pos.models.infra import (ApiClient, CalendarOverride, Notification, OutboxEvent, ReferenceVersion,
                              StageDeadline)
from pos.models.facts import AnswerPeriod, StageVisit
from pos.models.rating import RatingMonth, RatingRow
from pos.models.audit import PdAccess
from pos.models.admin import AdminChange
from pos.models.votes import (Vote, VoteAnswer, VoteBallot, VoteOption, VoteParticipation, VoteQuestion,
                              VoteSubscription)
from pos.models.incidents import PublicPost, PublicReply

__all__ = [
    "AcceleratedSubcategory", "AdminChange", "AnswerPeriod", "AnswerTemplate", "ApiClient", "Applicant", "ApprovalStep",
    "Attachment", "CalendarOverride", "Category", "DeadlineMark", "HistoryEntry", "Message", "Notification",
    "Organization", "OrganizationCategory", "OutboxEvent", "PdAccess", "PendingRegistration", "PublicPost",
    "PublicReply", "RatingMonth", "RatingRow", "ReferenceVersion", "RoleGrant", "RoleGrantCategory", "StageDeadline",
    "StageVisit", "Subcategory", "User", "Vote", "VoteAnswer", "VoteBallot", "VoteOption", "VoteParticipation",
    "VoteQuestion", "VoteSubscription",
]
