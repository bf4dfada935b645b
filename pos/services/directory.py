"""The workflow's view of the world, answered from the database."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, String, bindparam, cast, func, literal, null
from sqlmodel import Session, select

from pos.deadlines import INCIDENT, MAX_POSTPONE_DAYS, DeadlinePolicy, ProductionCalendar, StageRule
from pos.models import (AcceleratedSubcategory, ApprovalStep, CalendarOverride, Message, Organization,
                        OrganizationCategory, RoleGrant, RoleGrantCategory, StageDeadline, Subcategory, Category,
                        Applicant)
from pos.services import reference
from pos.workflow import DEFAULT_REGULATION, Actor, Grant, OrgInfo


# Of the tables' own columns: a Core statement skips the ORM's execution (every new message reads this).
_day, _rule = CalendarOverride.__table__.c, StageDeadline.__table__.c
_POLICY = select(literal("calendar").label("what"), _day.day, _day.is_working,
                 cast(null(), Integer).label("jurisdiction_id"), cast(null(), String).label("kind"),
                 cast(null(), String).label("stage"), cast(null(), Integer).label("amount"),
                 cast(null(), String).label("unit")).union_all(
    select(literal("stage"), null(), null(), _rule.jurisdiction_id, _rule.kind, _rule.stage, _rule.amount, _rule.unit))


def load_policy(session: Session, tz_name: str, max_postpone_days: int = MAX_POSTPONE_DAYS) -> DeadlinePolicy:
    """The calendar's local overrides and the stage deadlines in force, read in one statement."""
    days, rules, incident_rules = {}, {}, {}
    for what, day, is_working, jurisdiction_id, kind, stage, amount, unit in session.execute(_POLICY):
        if what == "calendar":
            days[day] = bool(is_working)
        else:
            (incident_rules if kind == INCIDENT else rules)[(jurisdiction_id, stage)] = StageRule(amount, unit)
    return DeadlinePolicy(ProductionCalendar(days), ZoneInfo(tz_name), rules, max_postpone_days, incident_rules)


def kept_policy(session: Session, tz_name: str, max_postpone_days: int = MAX_POSTPONE_DAYS) -> DeadlinePolicy:
    """`load_policy`, kept by the process between requests while the directory stays as it is
    (pos.services.reference)."""
    return reference.kept(session, ("policy", tz_name, max_postpone_days),
                          lambda: load_policy(session, tz_name, max_postpone_days))


def regulation_of(session: Session, org_id: int | None) -> str:
    """The regulation of the organization's jurisdiction (its tree's root); the platform's default for none."""
    return _regulations(session).get(int(org_id), DEFAULT_REGULATION) if org_id else DEFAULT_REGULATION


def _regulations(session: Session) -> dict[int, str]:
    """Each organization's jurisdiction's regulation, those set (kept: pos.services.reference)."""
    def read():
        orgs = session.execute(select(_org.c.id, _org.c.root_id, _org.c.regulation)).all()
        own = {id_: regulation for id_, _root, regulation in orgs}
        return {id_: own.get(root or id_) for id_, root, _regulation in orgs if own.get(root or id_)}
    return reference.kept(session, ("regulations",), read)


# A person's grants with the categories each is limited to, and their applicant profile: one statement.
_GRANTS = select(literal("grant"), RoleGrant.id, RoleGrant.role, RoleGrant.organization_id,
                 RoleGrantCategory.category_id) \
    .outerjoin(RoleGrantCategory, RoleGrantCategory.grant_id == RoleGrant.id) \
    .where(RoleGrant.user_id == bindparam("user_id"))
_PERSON = _GRANTS.union_all(select(literal("applicant"), Applicant.id, null(), null(), null())
                            .where(Applicant.user_id == bindparam("user_id")))
# The applicant profile of each user the session's sign-in read it for (pos.services.accounts): by user id.
_APPLICANTS = "pos.applicant_of"  # in session.info


def _read_person(session: Session, statement, user_id: int) -> tuple[tuple[Grant, ...], int | None]:
    grants: dict[int, tuple[str, int | None, set[int]]] = {}
    applicant_id = None
    for what, pk, role, org_id, category_id in session.execute(statement, {"user_id": user_id}):
        if what == "applicant":
            applicant_id = pk  # one at most: applicant.user_id is unique
            continue
        limits = grants.setdefault(pk, (role, org_id, set()))[2]
        if category_id is not None:
            limits.add(category_id)
    return tuple(Grant(role, org_id, frozenset(limits)) for _pk, (role, org_id, limits) in sorted(grants.items())), \
        applicant_id


def grants_for(session: Session, user_id: int) -> tuple[Grant, ...]:
    """The person's grants, kept by the process while the directory stays as it is (the grants are part of
    it: pos.services.reference)."""
    return reference.kept(session, ("grants", user_id), lambda: _read_person(session, _GRANTS, user_id)[0])


def note_applicant(session: Session, user_id: int, applicant_id: int | None) -> None:
    """The user's applicant profile as the statement that signed them in read it (no statement of its own)."""
    session.info.setdefault(_APPLICANTS, {})[user_id] = applicant_id


def actor_for(session: Session, user) -> Actor:
    """The workflow's picture of a signed-in user: their grants, and their applicant profile. Staff: the kept
    grants and the profile the sign-in read, no statement; anyone else one statement (an applicant profile is
    not part of the directory: a citizen's registration changes nothing kept)."""
    if user is None:
        return Actor(user_id=None)
    noted = session.info.get(_APPLICANTS, {})
    if user.is_staff and user.id in noted:
        return Actor(user_id=user.id, grants=grants_for(session, user.id), applicant_id=noted[user.id])
    grants, applicant_id = _read_person(session, _PERSON, user.id)
    return Actor(user_id=user.id, grants=grants, applicant_id=applicant_id)


# Organizations with their jurisdiction (the tree's root), built once: a statement's construction costs more
# than its run. Each is used as is or with one bound parameter. Plain columns of the tables (a Core statement:
# no ORM objects to build, no ORM execution), the few the workflow's OrgInfo needs.
_org, _root_table = Organization.__table__, Organization.__table__.alias("root")
_ORGS = (select(_org.c.id, _org.c.name, _org.c.path, _org.c.regulation, _org.c.is_active,
                _root_table.c.id.label("root_id"), _root_table.c.regulation.label("root_regulation"))
         .select_from(_org.outerjoin(_root_table, _root_table.c.id == func.coalesce(_org.c.root_id, _org.c.id))))
_ORG = _ORGS.where(_org.c.id == bindparam("org_id"))
_competence = OrganizationCategory.__table__.c
_COMPETENT = (_ORGS.join(OrganizationCategory.__table__, _competence.organization_id == _org.c.id)
              .where(_competence.category_id == bindparam("category_id"), _org.c.is_active)
              .order_by(_org.c.id))
_ACCELERATED_ANYWHERE = (select(AcceleratedSubcategory.subcategory_id)
                         .where(AcceleratedSubcategory.subcategory_id == bindparam("subcategory_id")).limit(1))
_ACCELERATED_IN = _ACCELERATED_ANYWHERE.where(AcceleratedSubcategory.jurisdiction_id == bindparam("jurisdiction_id"))
_ALL_ACCELERATED = select(AcceleratedSubcategory.jurisdiction_id, AcceleratedSubcategory.subcategory_id)
# The same organizations, each with whether the subcategory `subcategory_id` is accelerated in its jurisdiction:
# a new message's organization and its deadline's answer in one statement.
_accelerated = AcceleratedSubcategory.__table__.c
_ACCELERATED_HERE = (select(_accelerated.subcategory_id)
                     .where(_accelerated.subcategory_id == bindparam("subcategory_id"),
                            _accelerated.jurisdiction_id == func.coalesce(_root_table.c.id, _org.c.id))
                     .exists().label("accelerated"))
_WITH_ACCELERATED = {query: query.add_columns(_ACCELERATED_HERE) for query in (_ORG, _COMPETENT)}
_KEPT = (_ORG, _COMPETENT, *_WITH_ACCELERATED.values())


class DbDirectory:
    """Organizations and the accelerated subcategories are looked up one by one for the first few (a new
    message needs one organization and one subcategory), then all loaded at once (a recomputation over
    many messages asks for every one)."""

    FEW = 3

    def __init__(self, session: Session, now: datetime, deadlines: DeadlinePolicy, *,
                 subcategory_id: int | None = None, classified: tuple[int, int] | None = None):
        """`subcategory_id`: the one a new message names, if known: the organizations looked up one by one
        come with whether it is accelerated in their jurisdiction (`is_accelerated` then asks nothing).
        `classified`: a subcategory and its category the caller has just read, both active (an Open311 POST
        reads them with its key): their checks ask nothing again."""
        self.session = session
        self.now = now
        self.deadlines = deadlines
        self._orgs: dict[int, OrgInfo | None] = {}
        self._all_orgs = False
        self._accelerated: dict[tuple[int, int | None], bool] = {}
        self._all_accelerated: set[tuple[int, int]] | None = None
        self._subcategory_id = subcategory_id
        self._classified = classified

    def _org_infos(self, query, **params) -> list:
        """The organizations of `query` (one of `_ORGS`), their OrgInfo remembered; the rows returned."""
        sub = self._subcategory_id
        if sub is not None and query in _WITH_ACCELERATED:
            query, params = _WITH_ACCELERATED[query], {**params, "subcategory_id": sub}
        if query in _KEPT:  # kept between requests (pos.services.reference)
            rows = reference.kept(self.session, ("competent", *sorted(params.items())),
                                  lambda: self.session.execute(query, params).all())
        else:
            rows = self.session.execute(query, params).all()
        for org_id, name, _path, own_regulation, is_active, root_id, regulation, *accelerated in rows:
            if root_id is None:  # no root row: the organization stands for its own jurisdiction
                root_id, regulation = org_id, own_regulation
            self._orgs[org_id] = OrgInfo(org_id, root_id, regulation, is_active, name)
            if accelerated:
                self._accelerated[(sub, root_id)] = bool(accelerated[0])
        return rows

    def org(self, org_id):
        if org_id is None:
            return None
        org_id = int(org_id)
        if org_id not in self._orgs and not self._all_orgs:
            if len(self._orgs) < self.FEW:
                self._org_infos(_ORG, org_id=org_id)
                self._orgs.setdefault(org_id, None)
            else:
                self._org_infos(_ORGS)
                self._all_orgs = True
        return self._orgs.get(org_id)

    def grants_of(self, user_id):
        if user_id is None:
            return ()
        return grants_for(self.session, int(user_id))

    def category_of(self, subcategory_id):
        if self._classified is not None and self._classified[0] == int(subcategory_id):
            return self._classified[1]
        sub = self.session.get(Subcategory, int(subcategory_id))
        return sub.category_id if sub and sub.is_active else None

    def category_exists(self, category_id):
        if self._classified is not None and self._classified[1] == int(category_id):
            return True
        category = self.session.get(Category, int(category_id))
        return bool(category and category.is_active)

    def is_accelerated(self, subcategory_id, jurisdiction_id):
        if subcategory_id is None:
            return False
        key = (int(subcategory_id), None if jurisdiction_id is None else int(jurisdiction_id))
        if key not in self._accelerated:
            if self._all_accelerated is None and len(self._accelerated) < self.FEW:
                query, params = ((_ACCELERATED_ANYWHERE, {}) if key[1] is None
                                 else (_ACCELERATED_IN, {"jurisdiction_id": key[1]}))
                self._accelerated[key] = self.session.execute(
                    query, {"subcategory_id": key[0], **params}).first() is not None
            else:
                if self._all_accelerated is None:
                    self._all_accelerated = {tuple(row) for row in self.session.execute(_ALL_ACCELERATED)}
                # Not yet routed (no jurisdiction): the shorter deadline if any jurisdiction lists it.
                self._accelerated[key] = (any(sub == key[0] for _, sub in self._all_accelerated) if key[1] is None
                                          else (key[1], key[0]) in self._all_accelerated)
        return self._accelerated[key]

    def route(self, category_id):
        """The organization competent for a category (the most specific one, if several)."""
        if category_id is None:
            return None
        rows = self._org_infos(_COMPETENT, category_id=int(category_id))
        if not rows:
            return None
        return max(rows, key=lambda o: (o.path.count("/"), -o.id)).id

    def has_repeat(self, message_id):
        return self.session.exec(select(Message.id).where(Message.repeated_of_id == message_id)).first() is not None

    def new_step(self, **fields):
        return ApprovalStep(**fields)
