"""Hand-built messages for the analytics services' tests: rows written directly, every field chosen.

The period is 11–20 November 2026 in Asia/Yakutsk (UTC+9); the previous period of the same length is
1–10 November.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from pos.models import Message
from pos.services import accounts
from pos.services.analytics import make_scope
from pos.workflow import REGULATION_AMUR, REGULATION_TYNDA
from tests.factories import classifier

TZ_NAME = "Asia/Yakutsk"
TZ = ZoneInfo(TZ_NAME)
FROM, TO = date(2026, 11, 11), date(2026, 11, 20)
NOW = datetime(2026, 11, 25, 12, tzinfo=TZ)


def local(month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


class Data:
    def __init__(self, session: Session):
        self.session = session
        self.region = accounts.create_organization(session, "Правительство области", "region",
                                                   regulation=REGULATION_AMUR)
        self.transport = accounts.create_organization(session, "Министерство транспорта", "executive_body",
                                                      self.region)
        self.roads = accounts.create_organization(session, "Управление автодорог", "subordinate", self.transport)
        self.housing = accounts.create_organization(session, "Министерство ЖКХ", "executive_body", self.region)
        self.city = accounts.create_organization(session, "Администрация города", "municipal_admin",
                                                 regulation=REGULATION_TYNDA)
        self.cat, self.sub = classifier(session, {
            "roads": ("Дороги", {"pothole": "Ямы на дороге", "snow": "Уборка снега"}),
            "housing": ("ЖКХ", {"heating": "Отопление", "waste": "Вывоз мусора"})})

    def message(self, at: datetime, *, org=None, sub: str | None = None, category: str | None = None,
                text: str = "Сообщение", address: str = "", source: str = "web", stage: str = "moderation",
                result: str | None = None, repeated: bool = False, accelerated: bool = False) -> Message:
        category_id = self.sub[sub].category_id if sub else (self.cat[category].id if category else None)
        m = Message(text=text, address=address, source=source, stage=stage, result=result,
                    category_id=category_id, subcategory_id=self.sub[sub].id if sub else None,
                    organization_id=org.id if org is not None else None, is_repeated=repeated,
                    accelerated=accelerated, received_at=at, answer_due_at=at + timedelta(days=30),
                    stage_entered_at=at, stage_due_at=at + timedelta(days=1))
        self.session.add(m)
        self.session.flush()
        return m

    def scope(self, *, organization=None, jurisdiction=None, within=None, date_from=FROM, date_to=TO):
        return make_scope(self.session, TZ_NAME, date_from, date_to,
                          jurisdiction.id if jurisdiction is not None else None,
                          organization.id if organization is not None else None,
                          within.id if within is not None else None, NOW)
