"""The directory as the staff pages read it, kept by each process between requests.

Every staff page reads the same small tables: the organizations (the header, a filter, a role's scope), the
classifier, the staff of an organization, the deadline policy. Read per request they were half of an inbox
page's statements. Each process keeps what it has read under the token of `reference_version`
(pos.models.ReferenceVersion); a request reads the token once, before anything it keeps, and reads afresh what
was kept under another token.

Every change of those rows replaces the token in the same transaction: a flush that writes one of the `WATCHED`
models (or a staff account) writes a new random token too, so a process sees the change exactly when it sees
the token. A token is never written twice: what was kept during a transaction that was rolled back is never
found again. The values kept are plain ones (tuples, rows, dicts, a DeadlinePolicy), shared by the process's
threads and changed by nobody; never ORM objects, which belong to one session. Only ORM flushes are watched: a
Core UPDATE of these tables (there is none) would have to replace the token itself.
"""
from __future__ import annotations

import secrets
import threading
from itertools import chain
from typing import Callable, TypeVar

from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import Session

from pos.models import (AcceleratedSubcategory, CalendarOverride, Category, Organization, OrganizationCategory,
                        ReferenceVersion, RoleGrant, RoleGrantCategory, StageDeadline, Subcategory, User)

WATCHED = (AcceleratedSubcategory, CalendarOverride, Category, Organization, OrganizationCategory, RoleGrant,
           RoleGrantCategory, StageDeadline, Subcategory)
_TOKEN, _CHANGED = "pos.reference_token", "pos.reference_changed"  # in session.info
_READ = select(ReferenceVersion.__table__.c.token).where(ReferenceVersion.__table__.c.id == 1)
_REPLACE = update(ReferenceVersion.__table__).where(ReferenceVersion.__table__.c.id == 1)

T = TypeVar("T")
_kept: dict[str, tuple[str, dict]] = {}  # by database: (token, {key: value})
_lock = threading.Lock()


def _changes_the_directory(row, new: bool) -> bool:
    if isinstance(row, WATCHED):
        return True
    # Staff accounts only (their names, positions, activity): a citizen's registration changes nothing kept.
    return isinstance(row, User) and (row.is_staff or (not new and inspect(row).attrs.is_staff.history.has_changes()))


@event.listens_for(Session, "before_flush")
def _note(session: Session, _context, _instances) -> None:
    if any(_changes_the_directory(row, new=True) for row in session.new) or \
            any(_changes_the_directory(row, new=False) for row in chain(session.dirty, session.deleted)):
        session.info[_CHANGED] = True


@event.listens_for(Session, "after_flush")
def _replace_token(session: Session, _context) -> None:
    if session.info.pop(_CHANGED, False):
        token = secrets.token_hex(16)
        session.connection().execute(_REPLACE.values(token=token))
        session.info[_TOKEN] = token


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_token(session: Session, *_args) -> None:
    session.info.pop(_TOKEN, None)  # the next transaction may see another one


# The token as a scalar subquery: a statement the request sends anyway (the sign-in's) reads it along.
TOKEN = _READ.scalar_subquery()


def adopt_token(session: Session, token: str | None) -> None:
    """The token as a statement of this transaction read it (`TOKEN`), before anything was kept."""
    session.info.setdefault(_TOKEN, token or secrets.token_hex(16))


def _token(session: Session) -> str:
    if _TOKEN not in session.info:
        session.info[_TOKEN] = session.execute(_READ).scalar_one_or_none() or secrets.token_hex(16)
    return session.info[_TOKEN]


def kept(session: Session, key: tuple, read: Callable[[], T]) -> T:
    """The value of `key` as `read()` gives it, from what this process keeps while the token is the same."""
    token = _token(session)
    database = str(session.get_bind().engine.url)
    with _lock:
        held = _kept.get(database)
        if held is not None and held[0] == token and key in held[1]:
            return held[1][key]
    value = read()
    if session.info.get(_TOKEN) != token:
        return value  # the read flushed a change of this transaction's: nothing kept of it
    with _lock:
        held = _kept.get(database)
        if held is None or held[0] != token:
            held = _kept[database] = (token, {})
        held[1][key] = value
    return value
