"""The monthly rating as a stored snapshot: computed as a draft, recomputable while a draft, then published.

`compute_draft()` (the job on the 1st, the analyst's «пересчитать») and `publish()` (the analyst, or the
platform itself on the 15th, clause 4.3) are one transaction each. Once published, a month's rows are
what the pages, exports and the CLI show for good; the mapper events of pos/models/rating.py refuse any
later change to them.

For the monthly job: on the 1st, `compute_draft(session, env, rating.previous_month(<local month>),
Rules.from_config(config))`; on the morning of the 15th, `publish(session, env, month, None)` when
`get(session, month)` is not yet published (`AlreadyPublished` otherwise: run twice, publish once).
Reading: `get()`, `rows()` (in display order), `published_by()`, `places()` (the change of place from
the previous month).
"""
from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from sqlmodel import Session, delete, select

from pos import clock
from pos.models import OutboxEvent, RatingMonth, RatingRow, User
from pos.models.rating import PUBLISHED
from pos.services import outbox, rating
from pos.services.messages import Env

AUTOMATICALLY = "автоматически"


class AlreadyPublished(Exception):
    """The month is published: it cannot be recomputed or published again."""


def _decimal(value: Fraction | None) -> Decimal | None:
    if value is None:
        return None
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _row(snapshot_id: int, r: rating.OrgRating) -> RatingRow:
    row = RatingRow(rating_id=snapshot_id, organization_id=r.organization_id, organization_name=r.name,
                    is_rated=r.rated, parent_id=r.parent_id, mean=_decimal(r.mean), place=r.place,
                    passages=r.passages)
    for key, indicator in r.indicators.items():
        setattr(row, f"{key}_on_time", indicator.on_time)
        setattr(row, f"{key}_total", indicator.total)
        setattr(row, f"{key}_percent", _decimal(indicator.percent))
    return row


def get(session: Session, month: date, *, for_update: bool = False) -> RatingMonth | None:
    query = select(RatingMonth).where(RatingMonth.month == month.replace(day=1))
    # Writers lock the month's row: a recomputation and a publication never interleave.
    return session.exec(query.with_for_update() if for_update else query).first()


def rows(session: Session, snapshot: RatingMonth) -> list[RatingRow]:
    """The rated ИОГВ by place (the unplaced after them), each followed by its subordinate organizations."""
    # compute_draft stores them in that order.
    return list(session.exec(select(RatingRow).where(RatingRow.rating_id == snapshot.id).order_by(RatingRow.id)))


def compute_draft(session: Session, env: Env, month: date, rules: rating.Rules = rating.Rules(),
                  with_incidents: bool = False) -> RatingMonth:
    """Compute (or recompute) the month's draft from the facts as they are now; commits. Official messages only,
    unless the analyst counts the incidents' passages in (`with_incidents`, recorded on the month)."""
    month = month.replace(day=1)
    snapshot = get(session, month, for_update=True)
    if snapshot is not None and snapshot.status == PUBLISHED:
        session.rollback()
        raise AlreadyPublished(f"Рейтинг за {month:%m.%Y} опубликован и не пересчитывается.")
    results = rating.compute(session, month, env.timezone, rules, with_incidents)
    try:
        if snapshot is None:
            snapshot = RatingMonth(month=month, computed_at=clock.now(), timezone=env.timezone,
                                   min_sample=rules.min_sample, weights=[])
            session.add(snapshot)
        snapshot.computed_at, snapshot.timezone, snapshot.min_sample = clock.now(), env.timezone, rules.min_sample
        snapshot.weights = [str(w) for w in rules.weights]
        snapshot.with_incidents = with_incidents
        session.flush()
        session.exec(delete(RatingRow).where(RatingRow.rating_id == snapshot.id))
        for r in results:
            session.add(_row(snapshot.id, r))
            for sub in r.subordinates:
                session.add(_row(snapshot.id, sub))
            session.flush()  # in this order: `rows()` reads them back by id
        session.commit()
    except Exception:
        session.rollback()
        raise
    return snapshot


def publish(session: Session, env: Env, month: date, user: User | None,
            rules: rating.Rules = rating.Rules()) -> RatingMonth:
    """Publish the month's draft (computing it first if there is none); `user` None: the platform did it."""
    month = month.replace(day=1)
    if get(session, month) is None:
        compute_draft(session, env, month, rules)
    snapshot = get(session, month, for_update=True)
    if snapshot.status == PUBLISHED:
        session.rollback()
        raise AlreadyPublished(f"Рейтинг за {month:%m.%Y} уже опубликован.")
    try:
        snapshot.status, snapshot.published_at = PUBLISHED, clock.now()
        snapshot.published_by_id = user.id if user is not None else None
        snapshot.published_automatically = user is None
        session.add(snapshot)
        events = _notify_published(session, snapshot)
        session.commit()
    except Exception:
        session.rollback()
        raise
    outbox.dispatch([row.id for row in events])  # after the commit: the relay sends them if this fails
    return snapshot


PUBLISHED_EVENT = "rating_published"


def _notify_published(session: Session, snapshot: RatingMonth) -> list[OutboxEvent]:
    """One outbox row per ИОГВ for its curators and heads, in the publication's transaction. The key is the
    month's and the organization's: a month is published once, so each of them is told once."""
    from pos.services.notifications import holders
    from pos.workflow import Role

    rated = [r for r in rows(session, snapshot) if r.is_rated]
    placed = sum(1 for r in rated if r.place is not None)
    events = []
    for row in rated:
        people = {u.id for role in (Role.CURATOR, Role.HEAD) for u in holders(session, row.organization_id, role)}
        if not people:
            continue
        event = OutboxEvent(created_at=clock.now(), kind="notify",
                            idempotency_key=f"rating:{snapshot.month:%Y-%m}:{row.organization_id}",
                            payload={"event": PUBLISHED_EVENT, "message_id": None, "history_id": None,
                                     "to_applicant": False, "user_ids": sorted(people), "org_role": None,
                                     "data": {"month": f"{snapshot.month:%Y-%m}",
                                              "organization_id": row.organization_id, "place": row.place,
                                              "placed": placed,
                                              "automatically": bool(snapshot.published_automatically)}})
        session.add(event)
        events.append(event)
    session.flush()
    return events


def published_by(session: Session, snapshot: RatingMonth) -> str:
    """Who published it, for the page and the export: a name, «автоматически», or empty (a draft)."""
    if snapshot.status != PUBLISHED:
        return ""
    if snapshot.published_automatically or snapshot.published_by_id is None:
        return AUTOMATICALLY
    user = session.get(User, snapshot.published_by_id)
    return user.full_name if user else ""


def places(session: Session, month: date, *, published_only: bool = True) -> dict[int, int | None]:
    """{organization id: place} of a month's rated rows (empty when it has no snapshot, or only a draft)."""
    snapshot = get(session, month)
    if snapshot is None or (published_only and snapshot.status != PUBLISHED):
        return {}
    return {r.organization_id: r.place for r in rows(session, snapshot) if r.is_rated}


def own_result(session: Session, month: date, organization_id: int) -> dict | None:
    """What a curator or a head sees: their organization's published row, its place among the placed ones
    and the change of place from the previous published month; None when the month is not published."""
    snapshot = get(session, month)
    if snapshot is None or snapshot.status != PUBLISHED:
        return None
    all_rows = rows(session, snapshot)
    row = next((r for r in all_rows if r.organization_id == organization_id), None)
    placed = sum(1 for r in all_rows if r.is_rated and r.place is not None)
    before = places(session, rating.previous_month(month)).get(organization_id)
    change = None if row is None or row.place is None or before is None else before - row.place
    return {"snapshot": snapshot, "row": row, "placed": placed, "previous_place": before, "change": change}
