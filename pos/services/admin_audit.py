"""The record of administrative changes: written by each change in its own transaction, read by the
administrator (filtered by person and period, a page at a time, or as a CSV file). Nothing here or
anywhere else changes or removes a record (pos.models.admin refuses it at flush)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from pos import clock
from pos.models import AdminChange, User

PER_PAGE = 50
EXPORT_LIMIT = 100_000


def _plain(value):
    """A value as JSON keeps it (dates as text, sets as sorted lists)."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(_plain(v) for v in value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def record(session: Session, actor_id: int | None, entity: str, entity_id, action: str, summary: str,
           old: dict | None = None, new: dict | None = None) -> AdminChange:
    """Add one record to the change's transaction (the caller commits both, or neither)."""
    row = AdminChange(at=clock.now(), actor_id=actor_id, entity=entity,
                      entity_id="" if entity_id is None else str(entity_id)[:40], action=action,
                      summary=summary[:500], old=_plain(old or {}), new=_plain(new or {}))
    session.add(row)
    return row


@dataclass(frozen=True)
class Filters:
    actor_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    entity: str = ""


def _query(filters: Filters, tz: ZoneInfo):
    query = select(AdminChange)
    if filters.actor_id:
        query = query.where(AdminChange.actor_id == filters.actor_id)
    if filters.entity:
        query = query.where(AdminChange.entity == filters.entity)
    if filters.date_from:
        query = query.where(AdminChange.at >= datetime.combine(filters.date_from, time(), tz))
    if filters.date_to:
        query = query.where(AdminChange.at < datetime.combine(filters.date_to + timedelta(days=1), time(), tz))
    return query.order_by(AdminChange.id.desc())


def page(session: Session, filters: Filters, tz: ZoneInfo, number: int = 1,
         per_page: int = PER_PAGE) -> tuple[list[AdminChange], bool]:
    """One page, newest first, and whether there is a next one."""
    rows = session.exec(_query(filters, tz).offset((number - 1) * per_page).limit(per_page + 1)).all()
    return list(rows[:per_page]), len(rows) > per_page


def actors(session: Session) -> list[User]:
    """The people who made a change (for the filter)."""
    ids = select(AdminChange.actor_id).where(AdminChange.actor_id.is_not(None)).distinct()
    return list(session.exec(select(User).where(User.id.in_(ids)).order_by(User.full_name)))


EXPORT_HEADER = ["№", "Когда", "Кто", "Что", "Номер", "Действие", "Описание", "Было", "Стало"]


def export_rows(session: Session, filters: Filters, tz: ZoneInfo):
    """The rows of the CSV file (at most EXPORT_LIMIT, newest first)."""
    import json
    from pos.wording import ADMIN_ACTIONS, ADMIN_ENTITIES
    names: dict[int, str] = {}
    for row in session.exec(_query(filters, tz).limit(EXPORT_LIMIT)):
        if row.actor_id and row.actor_id not in names:
            user = session.get(User, row.actor_id)
            names[row.actor_id] = f"{user.full_name} ({user.login})" if user else str(row.actor_id)
        yield [row.id, row.at.astimezone(tz).strftime("%d.%m.%Y %H:%M:%S"),
               names.get(row.actor_id, "командная строка"), ADMIN_ENTITIES.get(row.entity, row.entity),
               row.entity_id, ADMIN_ACTIONS.get(row.action, row.action), row.summary,
               json.dumps(row.old, ensure_ascii=False) if row.old else "",
               json.dumps(row.new, ensure_ascii=False) if row.new else ""]
