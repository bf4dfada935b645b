"""The staff inboxes, their search and the message page, as pages for the page benchmark (bench/pages.py).

Each entry is `(label, login, path_or_callable, headers)`: a path, or a callable given a `Session` on the
bench database that returns one (ids and cursors are looked up there). One entry per row of the table of
issue 13; the logins are the seed's staff, which the generator keeps (password `demo`).
"""
from __future__ import annotations

from sqlmodel import Session, select

from pos.models import Category, Message, Organization
from pos.services.inbox import PAGE_SIZE, encode_cursor

CURATOR = "zhkh.curator"  # МинЖКХ: about half of all messages
COORDINATOR = "zhkh.coordinator"
# Words of the generated texts (bench/words.py): one in a few percent of them, and one hardly ever used.
COMMON_WORD = "подъезде"
RARE_WORD = "кинотеатре"
IN_WORK = ("moderation", "coordination", "execution", "agreement", "approval", "postponed")
HTMX_ROWS = {"HX-Request": "true", "HX-Target": "rows"}


def _org(session: Session, login: str) -> Organization:
    short = {"zhkh": "МинЖКХ АО"}[login.split(".")[0]]
    return session.exec(select(Organization).where(Organization.short_name == short)).one()


def _subtree(session: Session, org: Organization) -> list[int]:
    return list(session.exec(select(Organization.id).where(Organization.path.startswith(org.path))))


def _three_filters(session: Session) -> str:
    category = session.exec(select(Category.id).where(Category.name == "Жилищно-коммунальное хозяйство")).one()
    return f"/staff/?stage=execution&category_id={category}&deadline=overdue"


def _curator_page_20(session: Session) -> str:
    """The cursor after page 19 of the curator's inbox (in work, the most urgent first)."""
    org = _org(session, CURATOR)
    query = (select(Message).where(Message.organization_id.in_(_subtree(session, org)), Message.stage.in_(IN_WORK))
             .order_by(Message.stage_due_at, Message.id))
    # A small database (the harness's own test) has fewer pages: then its second page.
    last = session.exec(query.offset(19 * PAGE_SIZE - 1).limit(1)).first() \
        or session.exec(query.offset(PAGE_SIZE - 1).limit(1)).first()
    return f"/staff/?after={encode_cursor(last)}" if last is not None else "/staff/"


def _in_coordination(session: Session) -> str:
    """A message the coordinator's and the curator's inbox both hold."""
    org = _org(session, COORDINATOR)
    # In coordination; a small database may have none there: then any the organization has reached.
    message_id = session.exec(select(Message.id).where(Message.organization_id == org.id,
                                                       Message.stage.not_in(["moderation", "rejected"]))
                              .order_by(Message.stage != "coordination", Message.stage_due_at, Message.id)).first()
    return f"/staff/messages/{message_id}"


INBOX_PAGES = [
    ("curator's inbox, 3 filters (stage, category, overdue)", CURATOR, _three_filters, {}),
    ("the same as the htmx partial", CURATOR, _three_filters, HTMX_ROWS),
    ("coordinator's inbox", COORDINATOR, "/staff/", {}),
    ("moderator's inbox", "moderator", "/staff/", {}),
    ("analyst's list, in work", "analyst", "/staff/", {}),
    ("analyst's list, all stages", "analyst", "/staff/?stage=all", {}),
    ("curator's keyset page 20", CURATOR, _curator_page_20, {}),
    ("text search, a common word, platform-wide", "analyst", f"/staff/?stage=all&q={COMMON_WORD}", {}),
    ("text search, a rare word, platform-wide", "analyst", f"/staff/?stage=all&q={RARE_WORD}", {}),
    ("text search, a curator's scope", CURATOR, f"/staff/?stage=all&q={COMMON_WORD}", {}),
    ("message page, curator", CURATOR, _in_coordination, {}),
    ("message page, coordinator", COORDINATOR, _in_coordination, {}),
]
