"""What staff forms offer to choose from: organizations, staff of an organization, heads, the classifier."""
from __future__ import annotations

from sqlmodel import Session, select

from pos.models import AnswerTemplate, Category, Organization, RoleGrant, RoleGrantCategory, Subcategory, User
from pos.workflow import Role


def organizations(session: Session, *, active_only: bool = True) -> list[Organization]:
    """Every organization, tree order (each after its parent)."""
    query = select(Organization)
    if active_only:
        query = query.where(Organization.is_active)
    orgs = list(session.exec(query))
    # Paths hold ids ("/1/12/"): sort numerically, level by level.
    return sorted(orgs, key=lambda o: [int(p) for p in o.path.strip("/").split("/") if p])


def org_label(org: Organization, parents: dict[int, Organization] | None = None) -> str:
    """The short name; a subordinate organization also names its parent body."""
    name = org.short_name or org.name
    parent = (parents or {}).get(org.parent_id)
    if parent is not None and parent.parent_id is not None:
        return f"{name} ({parent.short_name or parent.name})"
    return name


def org_labels(orgs: list[Organization]) -> list[tuple[int, str]]:
    by_id = {o.id: o for o in orgs}
    return [(o.id, org_label(o, by_id)) for o in orgs]


def subtree_ids(session: Session, org_id: int) -> list[int]:
    org = session.get(Organization, org_id)
    if org is None:
        return []
    return list(session.exec(select(Organization.id).where(Organization.path.startswith(org.path))))


def staff_with_roles(session: Session, org_id: int | None, roles: tuple[str, ...]) -> list[User]:
    if org_id is None:
        return []
    users = session.exec(select(User).join(RoleGrant, RoleGrant.user_id == User.id)
                         .where(RoleGrant.organization_id == org_id, RoleGrant.role.in_(list(roles)), User.is_active)
                         .order_by(User.full_name)).unique().all()
    seen, result = set(), []
    for user in users:
        if user.id not in seen:
            seen.add(user.id)
            result.append(user)
    return result


def executors(session: Session, org_id: int | None) -> list[User]:
    return staff_with_roles(session, org_id, (Role.EXECUTOR, Role.COORDINATOR))


def heads(session: Session, org_id: int | None, category_id: int | None = None) -> list[User]:
    """Heads of the organization; with a category, only those entitled to approve it."""
    result = []
    for user in staff_with_roles(session, org_id, (Role.HEAD,)):
        if category_id is None:
            result.append(user)
            continue
        grants = session.exec(select(RoleGrant).where(RoleGrant.user_id == user.id, RoleGrant.role == Role.HEAD,
                                                      RoleGrant.organization_id == org_id)).all()
        for grant in grants:
            limits = set(session.exec(select(RoleGrantCategory.category_id)
                                      .where(RoleGrantCategory.grant_id == grant.id)))
            if not limits or category_id in limits:
                result.append(user)
                break
    return result


def categories(session: Session) -> list[Category]:
    return list(session.exec(select(Category).where(Category.is_active).order_by(Category.name)))


def subcategory_options(session: Session, category_id: int | None, *, any_label: str,
                        no_category_label: str) -> list[tuple]:
    """The options of a subcategory select that follows the chosen category: only that category's
    subcategories (the classifier has ~90 of them, 14 named «Иное»), none before a category is chosen."""
    if category_id is None:
        return [("", no_category_label)]
    subs = session.exec(select(Subcategory).where(Subcategory.category_id == category_id, Subcategory.is_active)
                        .order_by(Subcategory.name))
    return [("", any_label)] + [(s.id, s.name) for s in subs]


def templates(session: Session, category_id: int | None) -> list[AnswerTemplate]:
    """The category's answer templates and the general ones."""
    query = select(AnswerTemplate).where((AnswerTemplate.category_id == category_id)
                                         | (AnswerTemplate.category_id.is_(None)), AnswerTemplate.is_active)
    return list(session.exec(query.order_by(AnswerTemplate.category_id.is_(None), AnswerTemplate.title)))
