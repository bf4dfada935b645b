"""The demo's monthly rating: answered messages walked through coordination and approval in the two months
before this one, the month before last published (with places), the last month's draft awaiting the analyst."""
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, update
from sqlmodel import Session, select

from pos import clock
from pos.models import Applicant, OutboxEvent, User
from pos.services import rating, rating_snapshots
from pos.services.messages import Env, act, submit_message
from pos.workflow import Action

# ИОГВ: (category, subcategory, coordinator, approving head, [late coordination, late approval] per message)
BODIES = {
    "zhkh": (("Жилищно-коммунальное хозяйство", "Несвоевременный вывоз мусора"), "zhkh.coordinator",
             "zhkh.minister", ["", "", "", "", "", "a"]),
    "transport": (("Дороги", "Ямы и выбоины на дороге"), "transport.coordinator", "transport.head",
                  ["", "", "c", "", "a", ""]),
    "health": (("Скорая медицинская помощь",
                "Нарушение маршрутизации или дефицит бригад скорой медицинской помощи"),
               "health.coordinator", "health.head", ["c", "", "ca", "", "", "c"]),
}
TEXT = "Просим принять меры: проблема повторяется каждую неделю (демонстрационное сообщение для рейтинга)."
ON_TIME, LATE = timedelta(hours=2), timedelta(days=6)


def _user(session: Session, login: str) -> User:
    return session.exec(select(User).where(User.login == login)).one()


def _walk(session: Session, env: Env, applicant: Applicant | None, org_id: int, category_id: int, sub_id: int,
          coordinator: User, head: User, moderator: User, at: datetime, late: str) -> None:
    with clock.frozen(at):
        fields = {"text": TEXT, "category_id": category_id, "subcategory_id": sub_id, "organization_id": org_id}
        if applicant is not None:
            fields["applicant_id"] = applicant.id
        message = submit_message(session, env, fields, source="seed",
                                 user_id=applicant.user_id if applicant is not None else None)
    at += timedelta(hours=1)
    with clock.frozen(at):
        act(session, env, moderator, message.id, Action.ACCEPT, {})
    at += LATE if "c" in late else ON_TIME
    with clock.frozen(at):
        act(session, env, coordinator, message.id, Action.SEND_FOR_APPROVAL,
            {"result": "resolved", "answer_text": "Проведена проверка, нарушение устранено.",
             "executor_position": coordinator.position, "executor_name": coordinator.full_name,
             "approver_id": head.id})
    at += LATE if "a" in late else ON_TIME
    with clock.frozen(at):
        act(session, env, head, message.id, Action.APPROVE, {})


def load(session: Session, env: Env, categories, orgs) -> int:
    from pos.models import Subcategory

    tz = ZoneInfo(env.timezone)
    this_month = clock.now().astimezone(tz).date().replace(day=1)
    last = rating.previous_month(this_month)
    before = rating.previous_month(last)
    # No author: these only feed the rating, and no demo applicant's list or mailbox fills with them.
    applicant = None
    first_event = session.exec(select(func.max(OutboxEvent.id))).one() or 0
    moderator = _user(session, "moderator")
    count = 0
    for month, shift in ((before, 1), (last, 0)):
        for key, ((category, subcategory), coordinator, head, lateness) in BODIES.items():
            cat = categories[category]
            sub = session.exec(select(Subcategory).where(Subcategory.category_id == cat.id,
                                                         Subcategory.name == subcategory)).one()
            # The month before last the order changes: what was late there is on time now, and back.
            lateness = lateness[shift:] + lateness[:shift]
            for i, late in enumerate(lateness):
                at = datetime.combine(month.replace(day=2 + 3 * i), time(10), tz)
                _walk(session, env, applicant, orgs[key].id, cat.id, sub.id, _user(session, coordinator),
                      _user(session, head), moderator, at, late)
                count += 1
    analyst = _user(session, "analyst")
    with clock.frozen(datetime.combine(last.replace(day=10), time(11), tz)):
        rating_snapshots.compute_draft(session, env, before)
        rating_snapshots.publish(session, env, before, analyst)
    with clock.frozen(datetime.combine(this_month, time(1), tz)):
        rating_snapshots.compute_draft(session, env, last)
    # Their notifications are of months ago: marked delivered, so the workers do not send them today.
    session.execute(update(OutboxEvent).where(OutboxEvent.id > first_event)
                    .values(status="done", done_at=clock.now()))
    session.commit()
    return count
