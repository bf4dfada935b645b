"""The audit of looks at personal data (DESIGN.md 6b): recorded after the response, read by the administrator.

Writing. A view that shows an applicant's identity calls `note()`; the records wait in the request
(`flask.g`) and `init_app`'s hook writes them when the WSGI server closes the response, that is after
its last byte went to the browser: one multi-row INSERT in a transaction of its own. The person waits
for no statement of the audit; the worker thread spends one round trip and one commit per request
that showed an identity before it takes the next request. If that INSERT fails (the database went away
in between) it is retried once and then the records are logged at ERROR level, in full, on the
`pos.pd_access` logger, so nothing is lost without a trace; only a process killed between the last
byte and the INSERT loses them.

Nothing edits or deletes a record: no page or command does, and the database refuses it (migration 0720).
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Iterable, Iterator

from flask import Flask, current_app, g
from sqlalchemy import and_, insert, or_, true
from sqlmodel import Session, select
from werkzeug.wsgi import ClosingIterator

from pos import clock
from pos.models import Applicant, Message, PdAccess, User

log = logging.getLogger("pos.pd_access")
PAGE_SIZE = 50
KIND_LABELS = {"page": "карточка сообщения", "attachment": "файл заявителя", "export": "выгрузка"}


def note(user_id: int, kind: str, *, applicant_id: int | None = None, message_id: int | None = None,
         attachment_id: int | None = None, applicant_ids: Iterable[int] = (), detail: str = "") -> None:
    """Record, once this response is sent, that `user_id` saw an applicant's identity."""
    ids = sorted(set(applicant_ids))
    g.setdefault("pd_access", []).append(dict(
        at=clock.now(), user_id=user_id, kind=kind, applicant_id=applicant_id, message_id=message_id,
        attachment_id=attachment_id, applicant_ids=f",{','.join(map(str, ids))}," if ids else "",
        detail=detail[:500]))


def write(engine, rows: list[dict]) -> None:
    """One multi-row INSERT in its own transaction; retried once, then logged in full."""
    for attempt in (1, 2):
        try:
            with engine.begin() as conn:
                conn.execute(insert(PdAccess).values(rows))
            return
        except Exception:
            if attempt == 2:
                log.exception("pd_access records not written: %s", json.dumps(rows, default=str, ensure_ascii=False))


def init_app(app: Flask) -> None:
    @app.after_request
    def _write_after_the_response(response):
        rows = g.pop("pd_access", None)
        if rows:
            engine = current_app.extensions["pos.engine"]
            if response.direct_passthrough:
                # A file (send_file) goes to the server as it is, past the response's own close callbacks.
                response.response = ClosingIterator(response.response, lambda: write(engine, rows))
            else:
                response.call_on_close(lambda: write(engine, rows))
        return response


# --- reading: the administrator's page and its CSV -------------------------------------------

@dataclass(frozen=True)
class Filters:
    user_id: int | None = None
    applicant_id: int | None = None
    kind: str = ""
    date_from: date | None = None
    date_to: date | None = None


@dataclass
class Row:
    record: PdAccess
    user: str
    message_number: str


@dataclass
class Page:
    rows: list[Row]
    next_before: int | None  # the id the next (older) page starts below
    filters: Filters = field(default_factory=Filters)


def find_applicant(session: Session, value: str) -> int | None:
    """An applicant by number or by exact e-mail (what a person asking «who saw my data» gives)."""
    value = value.strip()
    if value.isdigit() and len(value) <= 9:
        return int(value)
    if "@" in value:
        return session.exec(select(Applicant.id).where(Applicant.email == value.lower())).first() \
            or session.exec(select(Applicant.id).where(Applicant.email == value)).first()
    return None


def _where(f: Filters, policy):
    conditions = []
    if f.user_id:
        conditions.append(PdAccess.user_id == f.user_id)
    if f.applicant_id:
        conditions.append(or_(PdAccess.applicant_id == f.applicant_id,
                              PdAccess.applicant_ids.contains(f",{f.applicant_id},")))
    if f.kind:
        conditions.append(PdAccess.kind == f.kind)
    if f.date_from:
        conditions.append(PdAccess.at >= policy.to_utc(datetime.combine(f.date_from, time(0), policy.tz)))
    if f.date_to:
        conditions.append(PdAccess.at < policy.to_utc(datetime.combine(f.date_to + timedelta(days=1), time(0),
                                                                       policy.tz)))
    return and_(true(), *conditions)


def _rows(session: Session, records: list[PdAccess]) -> list[Row]:
    users = {u.id: u for u in session.exec(select(User).where(User.id.in_({r.user_id for r in records})))} \
        if records else {}
    message_ids = {r.message_id for r in records if r.message_id}
    numbers = dict(session.exec(select(Message.id, Message.number).where(Message.id.in_(message_ids))).all()) \
        if message_ids else {}
    return [Row(r, f"{users[r.user_id].full_name} ({users[r.user_id].login})" if r.user_id in users else "—",
                numbers.get(r.message_id, "")) for r in records]


def page(session: Session, f: Filters, policy, *, before: int | None = None, page_size: int = PAGE_SIZE) -> Page:
    """The newest records first, keyset-paginated by id (each page costs the same however deep)."""
    query = select(PdAccess).where(_where(f, policy))
    if before:
        query = query.where(PdAccess.id < before)
    records = list(session.exec(query.order_by(PdAccess.id.desc()).limit(page_size + 1)))
    more = len(records) > page_size
    records = records[:page_size]
    return Page(_rows(session, records), records[-1].id if more else None, f)


CSV_HEADER = ["Запись", "Когда (UTC)", "Сотрудник", "Что", "Заявитель", "Сообщение", "Вложение",
              "Заявители выгрузки", "Подробности"]


def csv_rows(engine, f: Filters, policy) -> Iterator[list]:
    """Every record under the filters, newest first, a batch at a time, in a session of its own that lives
    as long as the download (a streamed response outlives the request's session)."""
    with Session(engine) as session:
        before = None
        while True:
            batch = page(session, f, policy, before=before, page_size=500)
            lines = [[r.id, r.at.isoformat(sep=" ", timespec="seconds"), row.user, KIND_LABELS.get(r.kind, r.kind),
                      r.applicant_id or "", row.message_number, r.attachment_id or "", r.applicant_ids.strip(","),
                      r.detail] for row in batch.rows for r in (row.record,)]
            session.rollback()  # no transaction held while the client reads (SQLite's BEGIN IMMEDIATE blocks writers)
            yield from lines
            if batch.next_before is None:
                return
            before = batch.next_before
