"""What staff forms offer to choose from: organizations, staff of an organization, heads, the classifier.

The organizations and the categories are small tables that one page asks about many times (its filters, its
rows' names, the scope of the person's role, the header): each is read once per database session and kept in
`session.info` until the session flushes, commits or rolls back, so a page costs one statement for each table
however often it asks, and a change made in the session is never answered from before it. What the pages ask on
every request (the options of the filters, the names of organizations, categories and staff, the subtrees) is
kept by the process between requests as plain values (pos.services.reference): read again after any change.
"""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, select

from pos.models import AnswerTemplate, Category, Organization, RoleGrant, RoleGrantCategory, Subcategory, User
from pos.services import reference
from pos.workflow import Role

_CACHED = ("pos.organizations", "pos.categories")


@event.listens_for(OrmSession, "after_flush")
@event.listens_for(OrmSession, "after_commit")
@event.listens_for(OrmSession, "after_rollback")
def _forget(session, *_args) -> None:
    for key in _CACHED:
        session.info.pop(key, None)


def _tree_order(org: Organization) -> list[int]:
    # Paths hold ids ("/1/12/"): sort numerically, level by level.
    return [int(p) for p in org.path.strip("/").split("/") if p]


def _all_organizations(session: Session) -> list[Organization]:
    if "pos.organizations" not in session.info:
        session.info["pos.organizations"] = sorted(session.exec(select(Organization)), key=_tree_order)
    return session.info["pos.organizations"]


def organizations(session: Session, *, active_only: bool = True) -> list[Organization]:
    """Every organization, tree order (each after its parent)."""
    return [o for o in _all_organizations(session) if o.is_active or not active_only]


def subtree_of(session: Session, org_ids: Iterable[int | None]) -> list[int]:
    """The organizations and everything under them, as sorted ids (kept: pos.services.reference)."""
    wanted = tuple(sorted({i for i in org_ids if i is not None}))

    def read():
        paths = tuple(o.path for o in _all_organizations(session) if o.id in wanted)
        return sorted(o.id for o in _all_organizations(session) if paths and o.path.startswith(paths))
    return list(reference.kept(session, ("subtree", wanted), read))


def org_paths(session: Session) -> dict[int, str]:
    """Every organization's path in the tree ("/1/12/") by id (kept; not to be changed by the caller)."""
    return reference.kept(session, ("org paths",), lambda: {o.id: o.path for o in _all_organizations(session)})


def org_short_names(session: Session) -> dict[int, str]:
    """Every organization's short name (its name if it has none) by id, the closed ones too (kept; not to be
    changed by the caller)."""
    return reference.kept(session, ("org names",), lambda: {
        o.id: o.short_name or o.name for o in organizations(session, active_only=False)})


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
    return subtree_of(session, [org_id])


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


def staff_names(session: Session) -> dict[int, str]:
    """Every staff account's full name by id (kept; not to be changed by the caller)."""
    return reference.kept(session, ("staff names",), lambda: dict(
        session.exec(select(User.id, User.full_name).where(User.is_staff)).all()))


def executors_of(session: Session, org_ids: list[int]) -> list:
    """The executors and coordinators of any of these organizations (rows of id, full_name, position), by name,
    each once: one statement, kept between requests (pos.services.reference)."""
    if not org_ids:
        return []
    return reference.kept(session, ("executors", tuple(sorted(org_ids))), lambda: list(session.exec(
        select(User.id, User.full_name, User.position).join(RoleGrant, RoleGrant.user_id == User.id)
        .where(RoleGrant.organization_id.in_(org_ids), RoleGrant.role.in_([Role.EXECUTOR, Role.COORDINATOR]),
               User.is_active)
        .order_by(User.full_name, User.id).distinct()).all()))


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


def _all_categories(session: Session) -> list[Category]:
    if "pos.categories" not in session.info:
        session.info["pos.categories"] = list(session.exec(select(Category).order_by(Category.name, Category.id)))
    return session.info["pos.categories"]


def categories(session: Session) -> list[Category]:
    """The categories in use, by name."""
    return [c for c in _all_categories(session) if c.is_active]


def category_names(session: Session) -> dict[int, str]:
    """Every category's name by id, those no longer in use too (old messages keep them); kept
    (pos.services.reference), not to be changed by the caller."""
    return reference.kept(session, ("category names",), lambda: {c.id: c.name for c in _all_categories(session)})


def subcategory_names(session: Session) -> dict[int, str]:
    """Every subcategory's name by id, those no longer in use too (kept; not to be changed by the caller)."""
    return reference.kept(session, ("subcategory names",), lambda: dict(
        session.exec(select(Subcategory.id, Subcategory.name)).all()))


def subcategory_options(session: Session, category_id: int | None, *, any_label: str,
                        no_category_label: str) -> list[tuple]:
    """The options of a subcategory select that follows the chosen category: only that category's
    subcategories (the classifier has ~90 of them, 14 named «Иное»), none before a category is chosen."""
    if category_id is None:
        return [("", no_category_label)]
    subs = reference.kept(session, ("subcategories", category_id), lambda: [
        (s.id, s.name) for s in session.exec(select(Subcategory.id, Subcategory.name)
                                             .where(Subcategory.category_id == category_id, Subcategory.is_active)
                                             .order_by(Subcategory.name))])
    return [("", any_label)] + subs


def category_options(session: Session) -> list[tuple[int, str]]:
    """The categories in use as a select's options (id, name), by name."""
    return reference.kept(session, ("categories",), lambda: [(c.id, c.name) for c in categories(session)])


def org_options(session: Session, within: int | None) -> list[tuple[int, str]]:
    """Every organization (`within` None) or one's subtree, as a select's options (id, label), tree order; the
    closed ones too (their messages stay)."""
    def read():
        orgs = organizations(session, active_only=False)
        if within is not None:
            ids = set(subtree_ids(session, within))
            orgs = [o for o in orgs if o.id in ids]
        return org_labels(orgs)
    return reference.kept(session, ("organizations", within), read)


def active_org_options(session: Session) -> list[tuple[int, str]]:
    """The open organizations as a select's options (id, label), tree order: where a message may go (kept)."""
    return reference.kept(session, ("open organizations",), lambda: org_labels(organizations(session)))


def org_short_name(session: Session, org_id: int | None) -> str:
    """The short name of an organization (its name if it has none); "" for none."""
    return org_short_names(session).get(org_id, "") if org_id else ""


def templates(session: Session, category_id: int | None) -> list[AnswerTemplate]:
    """The category's answer templates and the general ones."""
    query = select(AnswerTemplate).where((AnswerTemplate.category_id == category_id)
                                         | (AnswerTemplate.category_id.is_(None)), AnswerTemplate.is_active)
    return list(session.exec(query.order_by(AnswerTemplate.category_id.is_(None), AnswerTemplate.title)))
