"""The most frequent problems (clause 2.1.6): categories, places and words of the messages of a period.

Every figure counts messages *received* in the scope's period [start, end) whose organization (the one
they are with now) is in the scope (pos/services/analytics.py `Scope`; an unrouted message counts only
where the scope is every organization).

- Categories and subcategories: ranked by the number of messages, with the previous period of the same
  length ([start − length, start)) beside them: the change in messages and in per cent (None when the
  previous period had none: a growth from nothing has no percentage). A category that had messages only
  before is listed too, with 0 now. Messages not yet classified are counted apart.
- Places: the addresses grouped by settlement and street (pos/services/addresses.py), the house left out;
  the place of each address is read when the message is written (`Message.place_settlement`,
  `place_street`), so the database groups the period's messages by it.
- Words: the lemmas of the texts (pos/services/lemmas.py), a word counted once per message. The texts
  read are bounded (`WORD_SAMPLE`, setting ANALYTICS_WORD_SAMPLE): a period with more messages is read as
  an even sample over it (every k-th message by id, ids grow with time), and the page says so. Reading
  them is the cost (about 1 ms per 100 short texts with the token cache warm); a bounded sample keeps the
  page under its time at any size, where a table of lemmas per message kept at submission would need a
  migration and a backfill for a figure that a sample of thousands already ranks the same way.
  Measured on PostgreSQL with 1,000,000 messages over a year (82,000 in the month asked, 2 cores, the
  machine shared): the page's three figures take 0.17–0.25 s together, the words 0.06 s of it.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction

from sqlalchemy import and_, case, func
from sqlmodel import Session, select

from pos.models import Category, Message, Subcategory
from pos.services import lemmas
from pos.services.addresses import Place
from pos.services.analytics import Scope, org_condition

WORD_SAMPLE = 3000
TOP_PLACES = 50
TOP_WORDS = 50


@dataclass
class Ranked:
    """A category or subcategory: its messages in the period and in the previous one."""
    category_id: int
    subcategory_id: int | None
    name: str
    count: int = 0
    previous: int = 0
    subcategories: list["Ranked"] = field(default_factory=list)

    @property
    def change(self) -> int:
        return self.count - self.previous

    @property
    def change_percent(self) -> Fraction | None:
        return Fraction(100 * self.change, self.previous) if self.previous else None


@dataclass(frozen=True)
class PlaceCount:
    place: Place
    count: int


@dataclass(frozen=True)
class WordCount:
    lemma: str
    count: int  # messages whose text has the word
    search: str  # what finds them in the inbox search


@dataclass
class Problems:
    categories: list[Ranked]
    unclassified: int
    unclassified_previous: int
    total: int
    previous_total: int
    places: list[PlaceCount]
    without_place: int  # messages whose address names no settlement or street
    words: list[WordCount]
    texts_read: int  # the texts the words were counted in (all of the period's, or the sample)


def _received(scope: Scope, start, end):
    return and_(Message.received_at >= start, Message.received_at < end, org_condition(Message.organization_id, scope))


def previous_start(scope: Scope):
    return scope.start - (scope.end - scope.start)


def categories(session: Session, scope: Scope) -> tuple[list[Ranked], dict[str, int]]:
    """Categories ranked with their subcategories, and the totals: now, before, unclassified now and before."""
    current = case((Message.received_at >= scope.start, 1), else_=0)
    query = (select(Message.category_id, Message.subcategory_id, current, func.count())
             .where(_received(scope, previous_start(scope), scope.end))
             .group_by(Message.category_id, Message.subcategory_id, current))
    counts: dict[tuple[int | None, int | None], list[int]] = {}
    for cat, sub, now, n in session.exec(query):
        counts.setdefault((cat, sub), [0, 0])[0 if now else 1] += int(n)
    totals = {"total": sum(c[0] for c in counts.values()), "previous": sum(c[1] for c in counts.values()),
              "unclassified": sum(c[0] for (cat, _), c in counts.items() if cat is None),
              "unclassified_previous": sum(c[1] for (cat, _), c in counts.items() if cat is None)}
    cat_ids = {cat for cat, _ in counts if cat is not None}
    sub_ids = {sub for _, sub in counts if sub is not None}
    cat_names = {i: name for i, name in session.exec(select(Category.id, Category.name)
                                                    .where(Category.id.in_(cat_ids)))} if cat_ids else {}
    sub_names = {i: name for i, name in session.exec(select(Subcategory.id, Subcategory.name)
                                                    .where(Subcategory.id.in_(sub_ids)))} if sub_ids else {}
    ranked: dict[int, Ranked] = {}
    for (cat, sub), (now, before) in counts.items():
        if cat is None:
            continue
        row = ranked.setdefault(cat, Ranked(cat, None, cat_names.get(cat, str(cat))))
        row.count += now
        row.previous += before
        # A message with a category but no subcategory yet counts in its category only.
        if sub is not None:
            row.subcategories.append(Ranked(cat, sub, sub_names.get(sub, str(sub)), now, before))
    order = lambda r: (-r.count, -r.previous, r.name)  # noqa: E731
    for row in ranked.values():
        row.subcategories.sort(key=order)
    return sorted(ranked.values(), key=order), totals


def places(session: Session, scope: Scope, limit: int = TOP_PLACES) -> tuple[list[PlaceCount], int]:
    """The places with the most messages, and how many messages named none."""
    # The place each message's address names was read when the address was written (Message.place_*):
    # the database groups the messages by it, a few spellings of each street come back.
    query = (select(Message.place_settlement, Message.place_street, func.count())
             .where(_received(scope, scope.start, scope.end))
             .group_by(Message.place_settlement, Message.place_street))
    grouped: dict[tuple[str, str], Counter] = {}
    without = 0
    for settlement, street, n in session.exec(query):
        if settlement is None and street is None:
            without += int(n)
            continue
        found = Place(settlement or "", street or "")
        grouped.setdefault(found.key, Counter())[found] += int(n)
    result = []
    for spellings in grouped.values():
        # The spelling most messages used is the one shown ("ул. Ленина" rather than "ЛЕНИНА").
        shown = max(spellings.items(), key=lambda item: (item[1], bool(item[0].settlement), item[0].label))[0]
        result.append(PlaceCount(shown, sum(spellings.values())))
    result.sort(key=lambda p: (-p.count, p.place.label))
    return result[:limit], without


def _texts(session: Session, scope: Scope, total: int, sample: int):
    query = select(Message.text).where(_received(scope, scope.start, scope.end))
    if total > sample:
        step = -(-total // sample)  # ceil: at most `sample` texts, spread over the period
        query = query.where(Message.id % step == 0)
    return session.exec(query.limit(sample))


def words(session: Session, scope: Scope, total: int, sample: int = WORD_SAMPLE,
          limit: int = TOP_WORDS) -> tuple[list[WordCount], int]:
    """The most frequent lemmas, each counted once per message, and the number of texts read."""
    texts = list(_texts(session, scope, total, sample))
    counts, _forms = lemmas.count(texts)
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
    # The inbox search folds word forms itself (migration 0700): the lemma finds every form.
    return [WordCount(lemma, n, lemma) for lemma, n in top], len(texts)


def problems(session: Session, scope: Scope, sample: int = WORD_SAMPLE) -> Problems:
    ranked, totals = categories(session, scope)
    top_places, without = places(session, scope)
    top_words, read = words(session, scope, totals["total"], sample)
    return Problems(ranked, totals["unclassified"], totals["unclassified_previous"], totals["total"],
                    totals["previous"], top_places, without, top_words, read)
