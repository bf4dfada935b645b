"""A small world for tests: two jurisdictions, people in every role, messages in any stage.

Messages reach their stage through the real services, so their history and
chains are what production would have.
"""
from __future__ import annotations

from sqlmodel import Session, select

from pos import clock
from pos.models import AcceleratedSubcategory, Applicant, Category, Message, Subcategory, User
from pos.services import accounts
from pos.services.messages import Env, act, submit_message
from pos.workflow import REGULATION_AMUR, REGULATION_TYNDA, Action, Role, Stage


def classifier(session: Session, categories: dict[str, tuple[str, dict[str, str]]]
               ) -> tuple[dict[str, Category], dict[str, Subcategory]]:
    """Categories and their subcategories, by key, `{key: (name, {sub_key: sub_name})}`; flushed, in order."""
    cat, sub = {}, {}
    for key, (name, children) in categories.items():
        category = Category(name=name)
        session.add(category)
        session.flush()
        cat[key] = category
        for sub_key, sub_name in children.items():
            row = Subcategory(category_id=category.id, name=sub_name)
            session.add(row)
            session.flush()
            sub[sub_key] = row
    return cat, sub


class World:
    def __init__(self, session: Session, env: Env):
        self.session, self.env = session, env
        s = session
        self.cat, self.sub = classifier(s, {
            "roads": ("Дороги", {"pothole": "Ямы и выбоины на дороге", "snow": "Уборка снега"}),
            "meals": ("Горячее питание для учащихся начальных классов",
                      {"quality": "Не устраивает качество питания в начальных классах"}),
            "culture": ("Культура", {"sport_ticket": "Отсутствие возможности купить билет на спортивное соревнование",
                                     "refund": "Отсутствие возможности вернуть денежные средства за билет в учреждение культуры"}),
            "housing": ("Жилищно-коммунальное хозяйство", {"heating": "Отсутствие отопления"}),
        })
        c = self.cat
        self.org = {}
        self.org["region"] = accounts.create_organization(s, "Правительство области", "region",
                                                          regulation=REGULATION_AMUR)
        self.org["A"] = accounts.create_organization(s, "Министерство транспорта", "executive_body",
                                                     self.org["region"], category_ids=[c["roads"].id])
        self.org["B"] = accounts.create_organization(s, "Министерство ЖКХ", "executive_body", self.org["region"],
                                                     category_ids=[c["housing"].id, c["meals"].id])
        self.org["A1"] = accounts.create_organization(s, "Управление автодорог", "subordinate", self.org["A"])
        self.org["city"] = accounts.create_organization(s, "Администрация города", "municipal_admin",
                                                        regulation=REGULATION_TYNDA,
                                                        category_ids=[c["culture"].id])
        self.org["C"] = accounts.create_organization(s, "Управление городского хозяйства", "branch_body",
                                                     self.org["city"])
        # Accelerated lists differ: the sports ticket is accelerated in the region only.
        for jur, subs in (("region", ["quality", "sport_ticket", "refund"]), ("city", ["quality", "refund"])):
            for key in subs:
                s.add(AcceleratedSubcategory(jurisdiction_id=self.org[jur].id, subcategory_id=self.sub[key].id))
        self.users: dict[str, User] = {}
        people = {
            "moderator": [(Role.MODERATOR, None)],
            "admin": [(Role.ADMINISTRATOR, None)],
            "analyst": [(Role.ANALYST, None)],
            "a.coordinator": [(Role.COORDINATOR, "A")],
            "a.executor": [(Role.EXECUTOR, "A")],
            "a.executor2": [(Role.EXECUTOR, "A")],
            "a.head1": [(Role.HEAD, "A")],
            "a.head2": [(Role.HEAD, "A")],
            "a.head3": [(Role.HEAD, "A")],
            "a.approver": [(Role.HEAD, "A")],
            "a.approver2": [(Role.HEAD, "A")],
            "a.curator": [(Role.CURATOR, "A")],
            "b.coordinator": [(Role.COORDINATOR, "B")],
            "b.executor": [(Role.EXECUTOR, "B")],
            "b.head": [(Role.HEAD, "B")],
            "city.coordinator": [(Role.COORDINATOR, "city")],
            "city.executor": [(Role.EXECUTOR, "city")],
            "city.head": [(Role.HEAD, "city")],
            "city.head2": [(Role.HEAD, "city")],
        }
        for login, roles in people.items():
            user = accounts.create_user(s, login, "secret", f"Сотрудник {login}", position="Специалист")
            for role, org_key in roles:
                accounts.grant(s, user, role, self.org[org_key].id if org_key else None)
            self.users[login] = user
        # A head limited to housing: may not approve roads.
        limited = accounts.create_user(s, "a.head_housing", "secret", "Руководитель по ЖКХ")
        accounts.grant(s, limited, Role.HEAD, self.org["A"].id, [c["housing"].id])
        self.users["a.head_housing"] = limited
        self.applicants: dict[str, Applicant] = {}
        for login in ("citizen", "citizen2"):
            user = accounts.create_user(s, login, "secret", f"Заявитель {login}", is_staff=False)
            applicant = Applicant(user_id=user.id, kind="citizen", full_name=user.full_name, email=f"{login}@example.ru",
                                  consent_at=clock.now(), consent_version="test", created_at=clock.now())
            s.add(applicant)
            s.flush()
            self.users[login] = user
            self.applicants[login] = applicant
        s.commit()

    # --- people and things --------------------------------------------------------
    def u(self, login: str) -> User:
        return self.users[login]

    def uid(self, login: str) -> int:
        return self.users[login].id

    def reload(self, message: Message) -> Message:
        self.session.expire_all()
        return self.session.get(Message, message.id)

    # --- acting -----------------------------------------------------------------------
    def act(self, login: str | None, message: Message, action: Action, **params):
        user = self.users[login] if login else None
        return act(self.session, self.env, user, message.id, action, params)

    def submit(self, *, sub: str | None = "pothole", org: str | None = None, text: str = "На дороге яма",
               applicant: str = "citizen", **extra) -> Message:
        fields = {"text": text, "applicant_id": self.applicants[applicant].id, **extra}
        if sub:
            subcategory = self.sub[sub]
            fields["category_id"], fields["subcategory_id"] = subcategory.category_id, subcategory.id
        if org:
            fields["organization_id"] = self.org[org].id
        return submit_message(self.session, self.env, fields, user_id=self.users[applicant].id)

    def answer_params(self, *, approver="a.approver", agreeing=(), result="resolved", **extra):
        params = dict(result=result, answer_text="Яма заделана.", executor_position="Главный специалист",
                      executor_name="Иванов Пётр Сергеевич", approver_id=self.uid(approver),
                      agreeing_ids=[self.uid(a) for a in agreeing])
        params.update(extra)
        return params

    def message(self, stage: Stage = Stage.MODERATION, *, org: str = "A", agreeing=(), approver=None,
                transfer_to: str | None = None, **submit) -> Message:
        """A message of `org` walked to `stage` by the people whose job it is."""
        prefix = {"A": "a", "B": "b", "city": "city"}[org]
        approver = approver or ("a.approver" if org == "A" else f"{prefix}.head")
        message = self.submit(org=org, **submit)
        if stage == Stage.MODERATION:
            return self.reload(message)
        self.act("moderator", message, Action.ACCEPT)
        if stage == Stage.COORDINATION:
            return self.reload(message)
        if transfer_to:
            self.act(f"{prefix}.coordinator", message, Action.TRANSFER, organization_id=self.org[transfer_to].id,
                     approver_id=self.uid(approver), agreeing_ids=[self.uid(a) for a in agreeing])
            return self.reload(message)
        self.act(f"{prefix}.coordinator", message, Action.ASSIGN_EXECUTOR, executor_id=self.uid(f"{prefix}.executor"))
        if stage == Stage.EXECUTION:
            return self.reload(message)
        result = "postponed" if stage == Stage.POSTPONED else "resolved"
        extra = {}
        if result == "postponed":
            from datetime import timedelta
            extra["postponed_until"] = (clock.now().date() + timedelta(days=20)).isoformat()
        self.act(f"{prefix}.executor", message, Action.PREPARE_ANSWER,
                 **self.answer_params(approver=approver, agreeing=agreeing, result=result, **extra))
        if stage in (Stage.AGREEMENT, Stage.APPROVAL):
            return self.reload(message)
        for head in agreeing:
            self.act(head, message, Action.AGREE)
        self.act(approver, message, Action.APPROVE)
        return self.reload(message)

    def history(self, message: Message):
        from pos.models import HistoryEntry
        return list(self.session.exec(select(HistoryEntry).where(HistoryEntry.message_id == message.id)
                                      .order_by(HistoryEntry.id)))
