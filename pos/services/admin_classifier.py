"""The administrator's classifier: categories and subcategories (create, rename, retire, restore) and the
accelerated (10-day) list of each jurisdiction. A retired entry stays on the messages that carry it and is
offered to nobody (every choice reads `is_active`). The regulations' appendix entries are marked: taking
one off the list, or retiring one, needs an explicit confirmation. A change of the accelerated list
recomputes the deadlines of the active messages it touches, as `recompute-deadlines` does."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, select

from pos import workflow as wf
from pos.models import AcceleratedSubcategory, Category, Message, Organization, OrganizationCategory, Subcategory
from pos.services import admin_audit
from pos.services.messages import Env
from pos.workflow import ACTIVE_STAGES, REGULATION_AMUR, REGULATION_TYNDA

APPENDIX_FILE = Path(__file__).resolve().parents[2] / "seed" / "accelerated-subcategories.json"
# The appendix of each regulation, by the key it has in the file.
APPENDIX_OF = {REGULATION_AMUR: "region-232", REGULATION_TYNDA: "city-608"}
MAX_NAME = 600


@lru_cache(maxsize=1)
def _appendices() -> dict[str, set[tuple[str, str]]]:
    data = json.loads(APPENDIX_FILE.read_text(encoding="utf-8"))
    return {key: {(category, sub) for category, subs in data[key].items() for sub in subs}
            for key in APPENDIX_OF.values()}


def _name(name: str, what: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise wf.Invalid(f"Укажите название {what}.", "name")
    if len(name) > MAX_NAME:
        raise wf.Invalid(f"Название — не длиннее {MAX_NAME} символов.", "name")
    return name


def _category(session: Session, category_id: int) -> Category:
    category = session.get(Category, category_id)
    if category is None:
        raise LookupError(category_id)
    return category


def _subcategory(session: Session, sub_id: int) -> Subcategory:
    sub = session.get(Subcategory, sub_id)
    if sub is None:
        raise LookupError(sub_id)
    return sub


# --- reading -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CategoryRow:
    category: Category
    subcategories: int
    organizations: int


def categories(session: Session, q: str = "", status: str = "") -> list[CategoryRow]:
    subs = dict(session.exec(select(Subcategory.category_id, func.count()).where(Subcategory.is_active)
                             .group_by(Subcategory.category_id)).all())
    orgs = dict(session.exec(select(OrganizationCategory.category_id, func.count())
                             .group_by(OrganizationCategory.category_id)).all())
    query = select(Category).order_by(Category.name)
    if status == "active":
        query = query.where(Category.is_active)
    elif status == "retired":
        query = query.where(Category.is_active.is_(False))
    needle = q.strip().casefold()
    return [CategoryRow(c, subs.get(c.id, 0), orgs.get(c.id, 0)) for c in session.exec(query)
            if not needle or needle in c.name.casefold()]


def jurisdictions(session: Session) -> list[Organization]:
    return list(session.exec(select(Organization).where(Organization.parent_id.is_(None)).order_by(Organization.id)))


def appendix_entries(session: Session, category: Category, subs: list[Subcategory]) -> set[tuple[int, int]]:
    """(jurisdiction, subcategory) pairs that the jurisdiction's regulation lists in its appendix."""
    found = set()
    for root in jurisdictions(session):
        listed = _appendices().get(APPENDIX_OF.get(root.regulation, ""), set())
        found |= {(root.id, s.id) for s in subs if (category.name, s.name) in listed}
    return found


def is_appendix_entry(session: Session, sub: Subcategory, jurisdiction_id: int | None = None) -> bool:
    category = session.get(Category, sub.category_id)
    entries = appendix_entries(session, category, [sub])
    return any(j == jurisdiction_id or jurisdiction_id is None for j, _ in entries)


def subcategories(session: Session, category_id: int) -> list[Subcategory]:
    return list(session.exec(select(Subcategory).where(Subcategory.category_id == category_id)
                             .order_by(Subcategory.is_active.desc(), Subcategory.name)))


def accelerated(session: Session, sub_ids: list[int]) -> set[tuple[int, int]]:
    if not sub_ids:
        return set()
    return {(a.jurisdiction_id, a.subcategory_id) for a in session.exec(
        select(AcceleratedSubcategory).where(AcceleratedSubcategory.subcategory_id.in_(sub_ids)))}


def competent_organizations(session: Session, category_id: int) -> list[Organization]:
    return list(session.exec(select(Organization).join(OrganizationCategory,
                                                       OrganizationCategory.organization_id == Organization.id)
                             .where(OrganizationCategory.category_id == category_id).order_by(Organization.name)))


def without_competent_organization(session: Session) -> list[tuple[Category, Subcategory]]:
    """Active subcategories that routing can send nowhere: no open organization is competent for their
    category (the admin home)."""
    covered = select(OrganizationCategory.category_id).join(
        Organization, Organization.id == OrganizationCategory.organization_id).where(Organization.is_active)
    return list(session.exec(select(Category, Subcategory).join(Subcategory, Subcategory.category_id == Category.id)
                             .where(Category.is_active, Subcategory.is_active, Category.id.not_in(covered))
                             .order_by(Category.name, Subcategory.name)))


# --- changing ------------------------------------------------------------------------------------------

def _entity(row: Category | Subcategory) -> tuple[str, str]:
    """A category's or a subcategory's name in the change log, and its word in the texts."""
    return ("category", "Категория") if isinstance(row, Category) else ("subcategory", "Подкатегория")


def _rename(session: Session, actor_id: int | None, row: Category | Subcategory, name: str) -> None:
    entity, what = _entity(row)
    before = row.name
    row.name = name
    session.add(row)
    admin_audit.record(session, actor_id, entity, row.id, "rename",
                       f"{what} «{before}» переименована в «{name}»", old={"name": before}, new={"name": name})
    session.commit()


def _not_already(row: Category | Subcategory, active: bool) -> None:
    if row.is_active == active:
        raise wf.Invalid(f"{_entity(row)[1]} «{row.name}» уже {'в употреблении' if active else 'выведена'}.")


def _set_active(session: Session, actor_id: int | None, row: Category | Subcategory, active: bool) -> None:
    entity, what = _entity(row)
    row.is_active = active
    session.add(row)
    admin_audit.record(session, actor_id, entity, row.id, "restore" if active else "retire",
                       f"{what} «{row.name}» {'возвращена в употребление' if active else 'выведена из употребления'}",
                       old={"is_active": not active}, new={"is_active": active})
    session.commit()


def create_category(session: Session, actor_id: int | None, name: str) -> Category:
    name = _name(name, "категории")
    if session.exec(select(Category.id).where(Category.name == name)).first() is not None:
        raise wf.Invalid(f"Категория «{name}» уже есть.", "name")
    category = Category(name=name)
    session.add(category)
    session.flush()
    admin_audit.record(session, actor_id, "category", category.id, "create", f"Создана категория «{name}»",
                       new={"name": name})
    session.commit()
    return category


def rename_category(session: Session, actor_id: int | None, category_id: int, name: str) -> None:
    category = _category(session, category_id)
    name = _name(name, "категории")
    if name == category.name:
        return
    if session.exec(select(Category.id).where(Category.name == name, Category.id != category.id)).first():
        raise wf.Invalid(f"Категория «{name}» уже есть.", "name")
    _rename(session, actor_id, category, name)


def set_category_active(session: Session, actor_id: int | None, category_id: int, active: bool) -> None:
    """Retire (refused while an organization is competent for it: say which) or restore."""
    category = _category(session, category_id)
    _not_already(category, active)
    if not active:
        needed = competent_organizations(session, category.id)
        if needed:
            names = ", ".join(f"«{o.short_name or o.name}»" for o in needed[:10])
            more = f" и ещё {len(needed) - 10}" if len(needed) > 10 else ""
            raise wf.Invalid(f"Категорию «{category.name}» нельзя вывести из употребления: по ней работают "
                             f"{names}{more}. Сначала уберите её из компетенции этих организаций.")
    _set_active(session, actor_id, category, active)


def create_subcategory(session: Session, actor_id: int | None, category_id: int, name: str) -> Subcategory:
    category = _category(session, category_id)
    if not category.is_active:
        raise wf.Invalid(f"Категория «{category.name}» выведена из употребления.")
    name = _name(name, "подкатегории")
    if session.exec(select(Subcategory.id).where(Subcategory.category_id == category.id,
                                                 Subcategory.name == name)).first() is not None:
        raise wf.Invalid(f"Подкатегория «{name}» в этой категории уже есть.", "name")
    sub = Subcategory(category_id=category.id, name=name)
    session.add(sub)
    session.flush()
    admin_audit.record(session, actor_id, "subcategory", sub.id, "create",
                       f"Создана подкатегория «{name}» (категория «{category.name}»)",
                       new={"category_id": category.id, "name": name})
    session.commit()
    return sub


def rename_subcategory(session: Session, actor_id: int | None, sub_id: int, name: str, *,
                       confirm_appendix: bool = False) -> None:
    sub = _subcategory(session, sub_id)
    name = _name(name, "подкатегории")
    if name == sub.name:
        return
    if is_appendix_entry(session, sub) and not confirm_appendix:
        raise wf.Invalid("Это подкатегория из приложения к регламенту (ускоренный срок): подтвердите, что "
                         "переименовываете её намеренно.", "confirm_appendix")
    if session.exec(select(Subcategory.id).where(Subcategory.category_id == sub.category_id, Subcategory.name == name,
                                                 Subcategory.id != sub.id)).first():
        raise wf.Invalid(f"Подкатегория «{name}» в этой категории уже есть.", "name")
    _rename(session, actor_id, sub, name)


def set_subcategory_active(session: Session, actor_id: int | None, sub_id: int, active: bool, *,
                           confirm_appendix: bool = False) -> None:
    sub = _subcategory(session, sub_id)
    _not_already(sub, active)
    if not active and is_appendix_entry(session, sub) and not confirm_appendix:
        raise wf.Invalid(f"«{sub.name}» — подкатегория из приложения к регламенту (ускоренный срок): подтвердите, "
                         "что выводите её из употребления намеренно.", "confirm_appendix")
    category = session.get(Category, sub.category_id)
    if active and not category.is_active:
        raise wf.Invalid(f"Сначала верните в употребление категорию «{category.name}».")
    _set_active(session, actor_id, sub, active)


def set_accelerated(session: Session, env: Env, actor_id: int | None, sub_id: int, jurisdiction_id: int,
                    on: bool, *, confirm_appendix: bool = False) -> int:
    """The 10-day deadline for a subcategory in one jurisdiction, on or off; the active messages of that
    subcategory are recomputed with the reason in their history. Returns how many changed."""
    from pos.services.deadlines import recompute

    sub = _subcategory(session, sub_id)
    root = session.get(Organization, jurisdiction_id)
    if root is None or root.parent_id is not None:
        raise wf.Invalid("Укажите юрисдикцию (корневую организацию).", "jurisdiction_id")
    row = session.get(AcceleratedSubcategory, (root.id, sub.id))
    if (row is not None) == on:
        return 0
    label = root.short_name or root.name
    if not on and is_appendix_entry(session, sub, root.id) and not confirm_appendix:
        raise wf.Invalid(f"«{sub.name}» входит в приложение к регламенту юрисдикции «{label}»: подтвердите, что "
                         "снимаете ускоренный срок намеренно.", "confirm_appendix")
    if on:
        session.add(AcceleratedSubcategory(jurisdiction_id=root.id, subcategory_id=sub.id))
    else:
        session.delete(row)
    admin_audit.record(session, actor_id, "accelerated", f"{root.id}:{sub.id}", "set" if on else "unset",
                       f"«{sub.name}», юрисдикция «{label}»: ускоренный срок (10 дней) {'установлен' if on else 'снят'}",
                       old={"accelerated": not on}, new={"accelerated": on, "jurisdiction_id": root.id,
                                                        "subcategory_id": sub.id})
    session.commit()
    ids = list(session.exec(select(Message.id).where(Message.subcategory_id == sub.id,
                                                     Message.stage.in_(list(ACTIVE_STAGES)))))
    if not ids:
        return 0
    what = "установлен" if on else "снят"
    return recompute(session, env, ids, reason=f"ускоренный срок подкатегории «{sub.name}» {what} "
                                               f"(юрисдикция «{label}»)")
