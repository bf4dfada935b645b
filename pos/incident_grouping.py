"""Whether two public posts are about the same problem (pure): lemmas of the text, the place, the time.

Two posts are about the same problem when they were published within the window (POS_INCIDENT_WINDOW_HOURS,
72 by default) of each other, their places do not differ when both are known (the settlement and street of
`pos.services.addresses.place`: «ул. Ленина» and «Ленина» are one, «ул. Мира» another), and their texts share
enough words by lemma (an incident one of whose posts names another place is not the post's, even
through its posts without a place) (pymorphy3: «яма», «ямы», «ямой» are one word; stop words left out): at least
MIN_SHARED lemmas and a Dice coefficient 2|A∩B| / (|A| + |B|) of at least POS_INCIDENT_SIMILARITY (0.3).
A post joins the incident holding its most similar post; none: a new incident.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pos.services import addresses, lemmas

MIN_SHARED = 2
DEFAULT_SIMILARITY = 0.3
DEFAULT_WINDOW_HOURS = 72


def text_lemmas(text: str) -> list[str]:
    return sorted(lemmas.message_lemmas(text or ""))


def place_key(place: str) -> tuple[str, str] | None:
    found = addresses.place(place or "")
    return found.key if found else None


def similarity(a: set[str] | list[str], b: set[str] | list[str]) -> float:
    a, b = set(a), set(b)
    if len(a & b) < MIN_SHARED:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


@dataclass(frozen=True)
class Candidate:
    incident_id: int
    lemmas: tuple[str, ...]
    place: str
    published_at: datetime


def places_differ(a: str, b: str) -> bool:
    ka, kb = place_key(a), place_key(b)
    return ka is not None and kb is not None and ka != kb


class Pool:
    """The candidates of one intake, indexed by lemma: a post is compared only with the incidents that have a
    post sharing enough words with it."""

    def __init__(self, candidates=()):
        self.items: list[Candidate] = []
        self.by_lemma: dict[str, list[int]] = {}
        self.by_incident: dict[int, list[int]] = {}
        for c in candidates:
            self.add(c)

    def add(self, candidate: Candidate) -> None:
        self.items.append(candidate)
        self.by_incident.setdefault(candidate.incident_id, []).append(len(self.items) - 1)
        for word in set(candidate.lemmas):
            self.by_lemma.setdefault(word, []).append(len(self.items) - 1)

    def sharing(self, post_lemmas) -> list[Candidate]:
        counts: dict[int, int] = {}
        for word in set(post_lemmas):
            for i in self.by_lemma.get(word, ()):
                counts[i] = counts.get(i, 0) + 1
        incidents = {self.items[i].incident_id for i, n in counts.items() if n >= MIN_SHARED}
        # Every post of those incidents: one naming another place rules its incident out.
        return [self.items[i] for incident in incidents for i in self.by_incident[incident]]



def best_incident(post_lemmas: list[str], place: str, published_at: datetime, candidates, *,
                  window: timedelta = timedelta(hours=DEFAULT_WINDOW_HOURS),
                  threshold: float = DEFAULT_SIMILARITY) -> int | None:
    """The incident the post belongs to among the candidates' (their posts), or None for a new one.
    An incident one of whose posts names another place is never the post's (its placeless posts included)."""
    other_place = {c.incident_id for c in candidates if places_differ(place, c.place)}
    best, best_score = None, 0.0
    for c in candidates:
        if c.incident_id in other_place or abs(c.published_at - published_at) > window:
            continue
        score = similarity(post_lemmas, c.lemmas)
        if score >= threshold and score > best_score:
            best, best_score = c.incident_id, score
    return best
