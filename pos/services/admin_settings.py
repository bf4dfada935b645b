"""The administrator's settings: stage deadlines per jurisdiction and the calendar corrections (the same
service calls as the CLI: pos.services.deadlines), answer templates per category, Open311 API clients.
Each change is one transaction with its record in the change log."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from pos import workflow as wf
from pos.deadlines import DEFAULT_STAGE_RULES, UNIT_LABELS, StageRule
from pos.models import AnswerTemplate, ApiClient, CalendarOverride, Category, Organization, StageDeadline
from pos.services import admin_audit, open311
from pos.workflow import ACTIVE_STAGES

MAX_TITLE, MAX_TEXT = 200, 4000


# --- stage deadlines and the calendar -------------------------------------------------------------------

@dataclass(frozen=True)
class RuleCell:
    stage: str
    rule: StageRule
    source: str  # "own" (set for this jurisdiction), "default" (the installation's setting), "built-in"


def stage_rules(session: Session, jurisdiction_id: int | None) -> list[RuleCell]:
    """What each stage takes in a jurisdiction (None: the installation's default), and where that comes from."""
    rows = {(r.jurisdiction_id, r.stage): r for r in session.exec(select(StageDeadline))}
    cells = []
    for stage in ACTIVE_STAGES:
        own = rows.get((jurisdiction_id, stage.value))
        default = rows.get((None, stage.value))
        if own is not None:
            cells.append(RuleCell(stage.value, StageRule(own.amount, own.unit), "own"))
        elif default is not None:
            cells.append(RuleCell(stage.value, StageRule(default.amount, default.unit), "default"))
        else:
            cells.append(RuleCell(stage.value, DEFAULT_STAGE_RULES[stage.value], "built-in"))
    return cells


def calendar_overrides(session: Session, since: date | None = None, limit: int = 200) -> list[CalendarOverride]:
    query = select(CalendarOverride).order_by(CalendarOverride.day.desc())
    if since is not None:
        query = query.where(CalendarOverride.day >= since)
    return list(session.exec(query.limit(limit)))


# --- answer templates -----------------------------------------------------------------------------------

def _template_fields(session: Session, category_id: int | None, title: str, text: str) -> tuple[str, str]:
    title, text = " ".join((title or "").split()), (text or "").strip()
    if not title:
        raise wf.Invalid("Укажите название шаблона.", "title")
    if len(title) > MAX_TITLE:
        raise wf.Invalid(f"Название — не длиннее {MAX_TITLE} символов.", "title")
    if not text:
        raise wf.Invalid("Введите текст шаблона.", "text")
    if len(text) > MAX_TEXT:
        raise wf.Invalid(f"Текст шаблона — не длиннее {MAX_TEXT} символов.", "text")
    if category_id is not None:
        category = session.get(Category, category_id)
        if category is None or not category.is_active:
            raise wf.Invalid("Выберите категорию из списка.", "category_id")
    return title, text


def templates(session: Session, category_id: int | None = None, status: str = "") -> list[AnswerTemplate]:
    query = select(AnswerTemplate)
    if category_id:
        query = query.where(AnswerTemplate.category_id == category_id)
    if status == "active":
        query = query.where(AnswerTemplate.is_active)
    elif status == "retired":
        query = query.where(AnswerTemplate.is_active.is_(False))
    return list(session.exec(query.order_by(AnswerTemplate.category_id.is_(None).desc(), AnswerTemplate.category_id,
                                            AnswerTemplate.title)))


def _template(session: Session, template_id: int) -> AnswerTemplate:
    row = session.get(AnswerTemplate, template_id)
    if row is None:
        raise LookupError(template_id)
    return row


def create_template(session: Session, actor_id: int | None, category_id: int | None, title: str,
                    text: str) -> AnswerTemplate:
    title, text = _template_fields(session, category_id, title, text)
    row = AnswerTemplate(category_id=category_id, title=title, text=text)
    session.add(row)
    session.flush()
    admin_audit.record(session, actor_id, "answer_template", row.id, "create", f"Создан шаблон ответа «{title}»",
                       new={"category_id": category_id, "title": title, "text": text})
    session.commit()
    return row


def edit_template(session: Session, actor_id: int | None, template_id: int, category_id: int | None, title: str,
                  text: str) -> None:
    row = _template(session, template_id)
    title, text = _template_fields(session, category_id, title, text)
    before = {"category_id": row.category_id, "title": row.title, "text": row.text}
    after = {"category_id": category_id, "title": title, "text": text}
    if before == after:
        return
    row.category_id, row.title, row.text = category_id, title, text
    session.add(row)
    admin_audit.record(session, actor_id, "answer_template", row.id, "edit", f"Изменён шаблон ответа «{title}»",
                       old={k: v for k, v in before.items() if after[k] != v},
                       new={k: v for k, v in after.items() if before[k] != v})
    session.commit()


def set_template_active(session: Session, actor_id: int | None, template_id: int, active: bool) -> None:
    row = _template(session, template_id)
    if row.is_active == active:
        raise wf.Invalid(f"Шаблон «{row.title}» уже {'в употреблении' if active else 'выведен'}.")
    row.is_active = active
    session.add(row)
    admin_audit.record(session, actor_id, "answer_template", row.id, "restore" if active else "retire",
                       f"Шаблон ответа «{row.title}» {'возвращён в употребление' if active else 'выведен из употребления'}",
                       old={"is_active": not active}, new={"is_active": active})
    session.commit()


# --- API clients ----------------------------------------------------------------------------------------

def api_clients(session: Session) -> list[ApiClient]:
    return list(session.exec(select(ApiClient).order_by(ApiClient.is_active.desc(), ApiClient.name)))


def create_api_client(session: Session, actor_id: int | None, name: str,
                      organization_id: int | None) -> tuple[ApiClient, str]:
    """A client and its key (returned: it is shown once, only its hash is kept)."""
    if organization_id is not None:
        org = session.get(Organization, organization_id)
        if org is None or not org.is_active:
            raise wf.Invalid("Выберите открытую организацию из списка.", "organization_id")
    try:
        client, key = open311.new_client(session, name, organization_id)
    except ValueError as exc:
        raise wf.Invalid(str(exc), "name") from None
    admin_audit.record(session, actor_id, "api_client", client.id, "create", f"Выдан ключ клиенту API «{client.name}»",
                       new={"name": client.name, "organization_id": organization_id})
    session.commit()
    return client, key


def revoke_api_client(session: Session, actor_id: int | None, client_id: int) -> None:
    client = session.get(ApiClient, client_id)
    if client is None:
        raise LookupError(client_id)
    if not client.is_active:
        raise wf.Invalid(f"Ключ клиента «{client.name}» уже отозван.")
    client.is_active = False
    session.add(client)
    admin_audit.record(session, actor_id, "api_client", client.id, "revoke", f"Отозван ключ клиента API «{client.name}»",
                       old={"is_active": True}, new={"is_active": False})
    session.commit()


UNITS = UNIT_LABELS
