"""The administrator's organizations: the two trees, creating, renaming, moving, closing and reopening,
competence (the categories routed to each) and the regulation of a jurisdiction. Each change is one
transaction with its record in the change log (pos.services.admin_audit)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from pos import workflow as wf
from pos.models import Category, Message, Organization, OrganizationCategory, RoleGrant, User
from pos.models.org import ORG_KINDS
from pos.services import accounts, admin_audit
from pos.services.choices import organizations as tree_order
from pos.services.messages import Env
from pos.workflow import ACTIVE_STAGES, REGULATION_AMUR, REGULATION_TYNDA, Role

REGULATION_LABELS = {
    REGULATION_AMUR: "Постановление Правительства Амурской области № 232 (ИОГВ и подведомственные организации)",
    REGULATION_TYNDA: "Постановление Администрации г. Тынды № 608 (администрация и её органы)",
}
ROOT_KINDS = ("region", "municipal_admin")
MAX_NAME, MAX_SHORT = 300, 120


def _label(org: Organization) -> str:
    return org.short_name or org.name


def _snapshot(org: Organization) -> dict:
    return {"name": org.name, "short_name": org.short_name, "kind": org.kind, "parent_id": org.parent_id,
            "is_active": org.is_active, "regulation": org.regulation}


def _get(session: Session, org_id: int) -> Organization:
    org = session.get(Organization, org_id)
    if org is None:
        raise LookupError(org_id)
    return org


def _names(name: str, short_name: str) -> tuple[str, str]:
    name, short_name = " ".join((name or "").split()), " ".join((short_name or "").split())
    if not name:
        raise wf.Invalid("Укажите полное название организации.", "name")
    if len(name) > MAX_NAME:
        raise wf.Invalid(f"Название — не длиннее {MAX_NAME} символов.", "name")
    if len(short_name) > MAX_SHORT:
        raise wf.Invalid(f"Краткое название — не длиннее {MAX_SHORT} символов.", "short_name")
    return name, short_name or name


# --- reading -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TreeFilters:
    jurisdiction_id: int | None = None
    q: str = ""
    status: str = ""  # "" every one, "open", "closed"


@dataclass(frozen=True)
class TreeRow:
    org: Organization
    depth: int
    competence: int


def tree(session: Session, filters: TreeFilters) -> list[TreeRow]:
    """Both trees in order (each organization after its parent), filtered."""
    counts = dict(session.exec(select(OrganizationCategory.organization_id, func.count())
                               .group_by(OrganizationCategory.organization_id)).all())
    rows = []
    q = filters.q.strip().casefold()
    for org in tree_order(session, active_only=False):
        if filters.jurisdiction_id and (org.root_id or org.id) != filters.jurisdiction_id:
            continue
        if filters.status == "open" and not org.is_active or filters.status == "closed" and org.is_active:
            continue
        if q and q not in org.name.casefold() and q not in org.short_name.casefold():
            continue
        rows.append(TreeRow(org, org.path.count("/") - 2, counts.get(org.id, 0)))
    return rows


def jurisdictions(session: Session) -> list[Organization]:
    return list(session.exec(select(Organization).where(Organization.parent_id.is_(None)).order_by(Organization.id)))


def competence(session: Session, org_id: int) -> list[int]:
    return sorted(session.exec(select(OrganizationCategory.category_id)
                               .where(OrganizationCategory.organization_id == org_id)))


def open_messages(session: Session, org_id: int, limit: int = 500) -> list[Message]:
    """The organization's messages still on the way (to be handed on when it is closed)."""
    return list(session.exec(select(Message).where(Message.organization_id == org_id,
                                                   Message.stage.in_(list(ACTIVE_STAGES)))
                             .order_by(Message.stage_due_at).limit(limit)))


def staff(session: Session, org_id: int) -> list[tuple[User, str]]:
    rows = session.exec(select(User, RoleGrant.role).join(RoleGrant, RoleGrant.user_id == User.id)
                        .where(RoleGrant.organization_id == org_id).order_by(User.full_name)).all()
    return [(user, role) for user, role in rows]


# --- changing ------------------------------------------------------------------------------------------

def create(session: Session, actor_id: int | None, *, name: str, short_name: str, kind: str,
           parent_id: int | None, regulation: str, category_ids: list[int]) -> Organization:
    name, short_name = _names(name, short_name)
    if kind not in ORG_KINDS:
        raise wf.Invalid("Выберите вид организации.", "kind")
    parent = session.get(Organization, parent_id) if parent_id else None
    if parent_id and parent is None:
        raise wf.Invalid("Такой вышестоящей организации нет.", "parent_id")
    if parent is not None and not parent.is_active:
        raise wf.Invalid(f"Организация «{_label(parent)}» закрыта: в ней новую не создают.", "parent_id")
    if parent is None and kind not in ROOT_KINDS:
        raise wf.Invalid("Без вышестоящей организации создаётся только юрисдикция: регион или администрация "
                         "муниципального образования.", "parent_id")
    if parent is None and regulation not in REGULATION_LABELS:
        raise wf.Invalid("Выберите регламент юрисдикции.", "regulation")
    _check_categories(session, category_ids)
    org = accounts.create_organization(session, name, kind, parent, short_name=short_name,
                                       regulation=regulation, category_ids=list(category_ids))
    admin_audit.record(session, actor_id, "organization", org.id, "create", f"Создана организация «{_label(org)}»",
                       new={**_snapshot(org), "categories": sorted(category_ids)})
    session.commit()
    return org


def edit(session: Session, actor_id: int | None, org_id: int, *, name: str, short_name: str, kind: str) -> None:
    org = _get(session, org_id)
    name, short_name = _names(name, short_name)
    if kind not in ORG_KINDS:
        raise wf.Invalid("Выберите вид организации.", "kind")
    if (org.parent_id is None) != (kind in ROOT_KINDS):
        raise wf.Invalid("Корневая организация — регион или администрация муниципального образования, и только она.",
                         "kind")
    before = _snapshot(org)
    if (name, short_name, kind) == (org.name, org.short_name, org.kind):
        return
    org.name, org.short_name, org.kind = name, short_name, kind
    session.add(org)
    admin_audit.record(session, actor_id, "organization", org.id, "rename",
                       f"Организация «{before['short_name'] or before['name']}» переименована в «{_label(org)}»",
                       old=before, new=_snapshot(org))
    session.commit()


def move(session: Session, env: Env, actor_id: int | None, org_id: int, parent_id: int | None) -> int:
    """Under another parent (the subtree follows). Refuses a cycle. A move to another jurisdiction
    recomputes the deadlines of the subtree's active messages (the other jurisdiction's rules); returns
    how many changed."""
    from pos.services.deadlines import recompute

    org = _get(session, org_id)
    if org.parent_id is None:
        raise wf.Invalid("Юрисдикцию (корневую организацию) не перемещают.", "parent_id")
    if parent_id is None:
        raise wf.Invalid("Выберите новую вышестоящую организацию.", "parent_id")
    parent = session.get(Organization, parent_id)
    if parent is None:
        raise wf.Invalid("Такой вышестоящей организации нет.", "parent_id")
    if parent.path.startswith(org.path):
        raise wf.Invalid(f"Организацию нельзя подчинить ей самой или её подчинённой («{_label(parent)}»): "
                         "получился бы замкнутый круг.", "parent_id")
    if parent.id == org.parent_id:
        return 0
    old_parent = session.get(Organization, org.parent_id)
    old_path, new_path = org.path, f"{parent.path}{org.id}/"
    old_root = org.root_id
    subtree = session.exec(select(Organization).where(Organization.path.startswith(old_path))).all()
    for row in subtree:
        row.path = new_path + row.path[len(old_path):]
        row.root_id = parent.root_id
        session.add(row)
    org.parent_id = parent.id
    admin_audit.record(session, actor_id, "organization", org.id, "move",
                       f"Организация «{_label(org)}» перемещена: из «{_label(old_parent)}» в «{_label(parent)}»",
                       old={"parent_id": old_parent.id, "parent": _label(old_parent), "root_id": old_root},
                       new={"parent_id": parent.id, "parent": _label(parent), "root_id": parent.root_id})
    session.commit()
    if old_root == parent.root_id:
        return 0
    ids = list(session.exec(select(Message.id).where(Message.organization_id.in_([o.id for o in subtree]),
                                                     Message.stage.in_(list(ACTIVE_STAGES)))))
    if not ids:
        return 0
    return recompute(session, env, ids, reason=f"организация «{_label(org)}» перешла в другую юрисдикцию")


def set_open(session: Session, actor_id: int | None, org_id: int, is_open: bool) -> None:
    """Close (receives nothing new: routing and every choice of an organization skip it) or reopen."""
    org = _get(session, org_id)
    if org.is_active == is_open:
        raise wf.Invalid(f"Организация «{_label(org)}» уже {'открыта' if is_open else 'закрыта'}.")
    if is_open and org.parent_id is not None:
        parent = session.get(Organization, org.parent_id)
        if not parent.is_active:
            raise wf.Invalid(f"Сначала откройте вышестоящую организацию «{_label(parent)}».")
    org.is_active = is_open
    session.add(org)
    admin_audit.record(session, actor_id, "organization", org.id, "reopen" if is_open else "close",
                       f"Организация «{_label(org)}» {'открыта' if is_open else 'закрыта'}",
                       old={"is_active": not is_open}, new={"is_active": is_open})
    session.commit()


def _check_categories(session: Session, category_ids) -> None:
    for category_id in category_ids:
        category = session.get(Category, category_id)
        if category is None or not category.is_active:
            raise wf.Invalid("Выбрана категория, которой нет или которая выведена из употребления.", "category_ids")


def set_competence(session: Session, actor_id: int | None, org_id: int, category_ids: list[int]) -> None:
    org = _get(session, org_id)
    before = set(competence(session, org_id))
    wanted = set(category_ids)
    _check_categories(session, wanted - before)
    if wanted == before:
        return
    for link in session.exec(select(OrganizationCategory).where(OrganizationCategory.organization_id == org_id)):
        if link.category_id not in wanted:
            session.delete(link)
    for category_id in wanted - before:
        session.add(OrganizationCategory(organization_id=org_id, category_id=category_id))
    admin_audit.record(session, actor_id, "organization", org.id, "competence",
                       f"Организация «{_label(org)}»: изменена компетенция (категорий {len(before)} → {len(wanted)})",
                       old={"categories": before}, new={"categories": wanted})
    session.commit()


def set_regulation(session: Session, actor_id: int | None, org_id: int, regulation: str) -> None:
    org = _get(session, org_id)
    if org.parent_id is not None:
        raise wf.Invalid("Регламент задаётся юрисдикции (корневой организации).", "regulation")
    if regulation not in REGULATION_LABELS:
        raise wf.Invalid("Выберите регламент.", "regulation")
    if regulation == org.regulation:
        return
    before = org.regulation
    org.regulation = regulation
    session.add(org)
    admin_audit.record(session, actor_id, "organization", org.id, "regulation",
                       f"Юрисдикция «{_label(org)}»: регламент {regulation}",
                       old={"regulation": before}, new={"regulation": regulation})
    session.commit()


def missing_staff(session: Session) -> list[tuple[Organization, list[str]]]:
    """Open organizations without a coordinator or a head (the admin home)."""
    held: dict[int, set[str]] = {}
    rows = session.exec(select(RoleGrant.organization_id, RoleGrant.role).join(User, User.id == RoleGrant.user_id)
                        .where(RoleGrant.organization_id.is_not(None), User.is_active)).all()
    for org_id, role in rows:
        held.setdefault(org_id, set()).add(role)
    result = []
    for org in tree_order(session):
        missing = [role for role in (Role.COORDINATOR, Role.HEAD) if role not in held.get(org.id, set())]
        if missing:
            result.append((org, missing))
    return result
