"""The inbox as a file: the messages of a role's inbox under its filters, with their authors where the
person may see them (pos.services.personal_data), and which applicants that export named (for the audit)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, literal
from sqlmodel import Session, select

from pos.deadlines import DeadlinePolicy
from pos.models import Applicant, Category, Message, Organization, Subcategory
from pos.services import inbox, personal_data
from pos.workflow import STAGE_LABELS, Actor

# A file for work, not a dump: the most urgent this many (the page says so when there are more).
EXPORT_LIMIT = 5000
HEADER = ["Номер", "Поступило", "Категория", "Подкатегория", "Организация", "Этап", "Срок этапа", "Срок ответа",
          "Адрес", "Текст"]
IDENTITY_HEADER = ["Автор", "Организация заявителя", "E-mail", "Телефон", "ИНН", "ОГРН"]


@dataclass
class Export:
    header: list[str]
    rows: list[list]
    applicant_ids: set[int]  # whose identity the file holds
    capped: bool


def export(session: Session, actor: Actor, role: str, org_id: int | None, filters: inbox.Filters, *,
           now: datetime, policy: DeadlinePolicy, local) -> Export:
    """`local` turns a UTC moment into the installation's local time (the page's own filter)."""
    filters = inbox.role_filters(role, filters)
    where = inbox.inbox_clause(session, actor, role, org_id, filters, now=now, policy=policy)
    identity = case((personal_data.identity_clause(session, actor), literal(1)), else_=literal(0))
    final = case((Message.stage.in_(["rejected", "answered"]), 1), else_=0)
    found = list(session.exec(
        select(Message, Applicant, identity).outerjoin(Applicant, Applicant.id == Message.applicant_id)
        .where(where).order_by(final, Message.stage_due_at, Message.id).limit(EXPORT_LIMIT + 1)))
    capped = len(found) > EXPORT_LIMIT
    found = found[:EXPORT_LIMIT]
    names = _names(session, [m for m, _a, _i in found])
    with_identity = any(shown for _m, _a, shown in found)
    rows, applicant_ids = [], set()
    for message, applicant, shown in found:
        row = [message.number, local(message.received_at), names["cat"].get(message.category_id, ""),
               names["sub"].get(message.subcategory_id, ""), names["org"].get(message.organization_id, ""),
               STAGE_LABELS.get(message.stage, message.stage), local(message.stage_due_at),
               local(message.answer_due_at), message.address, message.text]
        if with_identity:
            if shown and applicant is not None:
                applicant_ids.add(applicant.id)
                row += [applicant.full_name, applicant.org_name, applicant.email, applicant.phone, applicant.inn,
                        applicant.ogrn]
            else:
                row += [""] * len(IDENTITY_HEADER)
        rows.append(row)
    return Export(HEADER + (IDENTITY_HEADER if with_identity else []), rows, applicant_ids, capped)


def _names(session: Session, messages: list[Message]) -> dict[str, dict]:
    def by_id(model, ids, label):
        ids = {i for i in ids if i}
        return {o.id: label(o) for o in session.exec(select(model).where(model.id.in_(ids)))} if ids else {}
    return {"cat": by_id(Category, [m.category_id for m in messages], lambda c: c.name),
            "sub": by_id(Subcategory, [m.subcategory_id for m in messages], lambda s: s.name),
            "org": by_id(Organization, [m.organization_id for m in messages], lambda o: o.short_name or o.name)}
