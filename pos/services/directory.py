"""The workflow's view of the world, answered from the database."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from pos.deadlines import INCIDENT, MAX_POSTPONE_DAYS, DeadlinePolicy, ProductionCalendar, StageRule
from pos.models import (AcceleratedSubcategory, ApprovalStep, CalendarOverride, Message, Organization,
                        OrganizationCategory, RoleGrant, RoleGrantCategory, StageDeadline, Subcategory, Category,
                        Applicant)
from pos.workflow import DEFAULT_REGULATION, Actor, Grant, OrgInfo


def load_policy(session: Session, tz_name: str, max_postpone_days: int = MAX_POSTPONE_DAYS) -> DeadlinePolicy:
    overrides = {o.day: o.is_working for o in session.exec(select(CalendarOverride))}
    rules, incident_rules = {}, {}
    for r in session.exec(select(StageDeadline)):
        (incident_rules if r.kind == INCIDENT else rules)[(r.jurisdiction_id, r.stage)] = StageRule(r.amount, r.unit)
    return DeadlinePolicy(ProductionCalendar(overrides), ZoneInfo(tz_name), rules, max_postpone_days, incident_rules)


def regulation_of(session: Session, org_id: int | None) -> str:
    """The regulation of the organization's jurisdiction (its tree's root); the platform's default for none."""
    org = session.get(Organization, int(org_id)) if org_id else None
    root = session.get(Organization, org.root_id or org.id) if org is not None else None
    return root.regulation if root is not None and root.regulation else DEFAULT_REGULATION


def grants_for(session: Session, user_id: int) -> tuple[Grant, ...]:
    rows = session.exec(select(RoleGrant).where(RoleGrant.user_id == user_id)).all()
    if not rows:
        return ()
    limits: dict[int, set[int]] = {}
    for link in session.exec(select(RoleGrantCategory).where(RoleGrantCategory.grant_id.in_([r.id for r in rows]))):
        limits.setdefault(link.grant_id, set()).add(link.category_id)
    return tuple(Grant(r.role, r.organization_id, frozenset(limits.get(r.id, ()))) for r in rows)


def actor_for(session: Session, user) -> Actor:
    """The workflow's picture of a signed-in user: their grants, and their applicant profile."""
    if user is None:
        return Actor(user_id=None)
    applicant_id = session.exec(select(Applicant.id).where(Applicant.user_id == user.id)).first()
    return Actor(user_id=user.id, grants=grants_for(session, user.id), applicant_id=applicant_id)


class DbDirectory:
    def __init__(self, session: Session, now: datetime, deadlines: DeadlinePolicy):
        self.session = session
        self.now = now
        self.deadlines = deadlines
        self._orgs: dict[int, OrgInfo] | None = None
        self._accelerated: set[tuple[int, int]] | None = None

    def _load_orgs(self) -> dict[int, OrgInfo]:
        if self._orgs is None:
            orgs = self.session.exec(select(Organization)).all()
            by_id = {o.id: o for o in orgs}
            self._orgs = {}
            for o in orgs:
                root = by_id.get(o.root_id or o.id) or o
                self._orgs[o.id] = OrgInfo(o.id, root.id, root.regulation, o.is_active, o.name)
        return self._orgs

    def org(self, org_id):
        if org_id is None:
            return None
        return self._load_orgs().get(int(org_id))

    def grants_of(self, user_id):
        if user_id is None:
            return ()
        return grants_for(self.session, int(user_id))

    def category_of(self, subcategory_id):
        sub = self.session.get(Subcategory, int(subcategory_id))
        return sub.category_id if sub and sub.is_active else None

    def category_exists(self, category_id):
        category = self.session.get(Category, int(category_id))
        return bool(category and category.is_active)

    def is_accelerated(self, subcategory_id, jurisdiction_id):
        if subcategory_id is None:
            return False
        if self._accelerated is None:
            self._accelerated = {(a.jurisdiction_id, a.subcategory_id)
                                 for a in self.session.exec(select(AcceleratedSubcategory))}
        if jurisdiction_id is None:
            # Not yet routed: the shorter deadline if any jurisdiction lists it.
            return any(sub == subcategory_id for _, sub in self._accelerated)
        return (jurisdiction_id, subcategory_id) in self._accelerated

    def route(self, category_id):
        """The organization competent for a category (the most specific one, if several)."""
        if category_id is None:
            return None
        rows = self.session.exec(
            select(Organization).join(OrganizationCategory, OrganizationCategory.organization_id == Organization.id)
            .where(OrganizationCategory.category_id == category_id, Organization.is_active)
            .order_by(Organization.id)).all()
        if not rows:
            return None
        return max(rows, key=lambda o: (o.path.count("/"), -o.id)).id

    def has_repeat(self, message_id):
        return self.session.exec(select(Message.id).where(Message.repeated_of_id == message_id)).first() is not None

    def new_step(self, **fields):
        return ApprovalStep(**fields)
