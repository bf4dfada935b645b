"""Full-text search of messages (text, address, answer, number) with Russian morphology, and its highlighting.

PostgreSQL: the stored `message.search_vector` (`to_tsvector('russian', …)`, migration 0700) behind a GIN
index, ranked by `ts_rank`; partial numbers and addresses through `pg_trgm` indexes (`ILIKE`).
SQLite: the FTS5 table `message_search` holds each message's words as pymorphy3 lemmas (triggers of the
migration call `pos_lemmas`, registered on every connection in `pos.db`), so «подъездов» and «подъезде»
are both «подъезд» there and in the query; ranked by FTS5's bm25.

The words found are marked in the row's snippet here, in Python, for both databases: the snippet is escaped
and only the `<mark>` tags are ours.
"""
from __future__ import annotations

import re
from functools import lru_cache

from markupsafe import Markup, escape
from sqlalchemy import Float, cast, column, func, literal, literal_column, or_, select, table, text as sql_text
from sqlalchemy.sql.elements import ColumnElement

from pos.models import Message

MAX_QUERY = 200
# Below this many characters a substring (number, address) cannot use a trigram index: words only.
SUBSTRING_MIN = 3
_DIGIT = re.compile(r"[0-9]")
SNIPPET = 160
_TOKEN = re.compile(r"[0-9a-zа-яё]+")
_CYRILLIC = re.compile(r"[а-яё]")

# SQLite's FTS5 table (not in the models: a virtual table autogenerate cannot describe; migration 0700).
fts = table("message_search", column("rowid"), column("body"), column("rank", Float))
PG_VECTOR = literal_column("message.search_vector")


@lru_cache(maxsize=200_000)
def lemma(token: str) -> str:
    """A lower-case token in its dictionary form (Russian words), as it is («ё» as «е»)."""
    if _CYRILLIC.search(token):
        from pos.services.lemmas import analyzer
        token = analyzer().parse(token)[0].normal_form
    return token.replace("ё", "е")


def tokens(value: str) -> list[str]:
    return _TOKEN.findall((value or "").casefold())


def lemmatized(value: str) -> str:
    """What the SQLite index holds for a text: its words as lemmas, in order."""
    return " ".join(lemma(t) for t in tokens(value))


def query_lemmas(q: str) -> list[str]:
    seen: list[str] = []
    for t in tokens(q[:MAX_QUERY]):
        if (normal := lemma(t)) not in seen:
            seen.append(normal)
    return seen


@lru_cache(maxsize=20_000)
def forms(token: str) -> tuple[str, ...]:
    """Every form of a query word's lexemes («батарея»: батареи, батарей, …). PostgreSQL's Snowball stemmer
    gives some forms of one word different stems («батар», «батаре»); asking for each form finds them all."""
    if token.isdigit():  # after a hyphen PostgreSQL's parser reads a number as signed: «дом-12» → «-12»
        return (token, f"-{token}")
    if not _CYRILLIC.search(token):
        return (token,)
    from pos.services.lemmas import analyzer
    found = {token}
    for parsed in analyzer().parse(token)[:3]:
        found.update(f.word for f in parsed.lexeme)
    return tuple(sorted(found))


def _candidates() -> frozenset[str]:
    from stop_words import get_stop_words
    return frozenset(get_stop_words("russian")) | {"ним"}  # Snowball's list lies within it but for «ним»


# Words that may be stop words of PostgreSQL's `russian` configuration; which of them are is asked of the
# server itself (pos/db.py, on a process's first connection), as a dictionary can be configured there.
STOP_WORD_CANDIDATES = _candidates()
_PG_STOP: set[str] = set()
_PG_STOP_KNOWN = False


def pg_stop_words_known() -> bool:
    return _PG_STOP_KNOWN


def set_pg_stop_words(words) -> None:
    global _PG_STOP_KNOWN
    _PG_STOP.update(words)
    _PG_STOP_KNOWN = True


def _pg_words(q: str) -> list[str]:
    """The query words a tsvector can hold. A stop word is never indexed, yet its other forms may be words
    that are («после»: «посла», «посол»), so it is left out rather than asked for in every form."""
    return [t for t in dict.fromkeys(tokens(q[:MAX_QUERY])) if t not in _PG_STOP]


def _pg_query(q: str) -> str:
    """The tsquery text: every word (in any of its forms) must be there. Only our tokens reach it, so the
    search box's quotes, `|`, `!` or `:*` are never tsquery syntax."""
    return " & ".join("(" + " | ".join(forms(t) + _prefix(t)) + ")" for t in _pg_words(q))


@lru_cache(maxsize=20_000)
def _prefix(token: str) -> tuple[str, ...]:
    """A proper name also as a prefix: the stemmer knows no names, so «Кантемирова» is indexed as «кантемиров»
    while «кантемиров» (its lemma, which the frequent words link with) stems to «кантемир»."""
    if not _CYRILLIC.search(token):
        return ()
    from pos.services.lemmas import analyzer
    proper = any({"Name", "Surn", "Patr", "Geox"} & set(str(p.tag).replace(" ", ",").split(","))
                 for p in analyzer().parse(token)[:3])
    return (f"{token}:*",) if proper else ()


def _alternatives(q: str) -> list[tuple[str, ...]]:
    """Each query word as its lemma or itself: a lemma is not always its own lemma («Кантемирова» is indexed
    as «кантемиров», whose own lemma is «кантемир»), and the frequent words link here with lemmas."""
    return [tuple(dict.fromkeys((lemma(t), t.replace("ё", "е")))) for t in dict.fromkeys(tokens(q[:MAX_QUERY]))]


def _fts5_query(q: str) -> str:
    # Each word a quoted string: FTS5's own syntax (AND, NEAR, *, -) never reaches it from the search box.
    # Words joined by an explicit AND: FTS5 takes no implicit AND beside a parenthesised group.
    return " AND ".join("(" + " OR ".join(f'"{w}"' for w in words) + ")" if len(words) > 1 else f'"{words[0]}"'
                        for words in _alternatives(q))


def _substring(q: str) -> str:
    return q.strip()[:MAX_QUERY]


def match(dialect: str, q: str) -> ColumnElement | None:
    """The condition «the message matches q», or None when q has nothing to look for."""
    q = _substring(q)
    if not q:
        return None
    if dialect == "postgresql":
        conditions = []
        if _pg_words(q):
            # Every word in its forms, or the query as the server's own parser reads a text: a word's parts
            # split otherwise inside a hyphenated word («Пакет-63e7c9» is indexed with «63e7c9», which alone
            # it reads as «63e7», «c9»).
            conditions += [PG_VECTOR.op("@@")(func.to_tsquery("russian", _pg_query(q))),
                           PG_VECTOR.op("@@")(func.plainto_tsquery("russian", q))]
        if _substrings(q):
            conditions += [Message.number.ilike(f"%{_like(q)}%", escape="\\"),
                           Message.address.ilike(f"%{_like(q)}%", escape="\\")]
        return or_(*conditions) if conditions else None
    conditions = []
    if query_lemmas(q):
        conditions.append(Message.id.in_(
            sql_text("SELECT rowid FROM message_search WHERE message_search MATCH :fts").bindparams(fts=_fts5_query(q))))
    if _substrings(q):  # a partial number («000123»): SQLite's LIKE folds ASCII, which numbers are
        conditions.append(Message.number.like(f"%{_like(q)}%", escape="\\"))
    return or_(*conditions) if conditions else None


def rank(dialect: str, q: str) -> ColumnElement:
    """Higher is better (FTS5's bm25 is lower-better: negated)."""
    q = _substring(q)
    if dialect == "postgresql":
        if not _pg_words(q):
            return literal(0.0, Float)
        # In double precision: the rank goes into the page's cursor and must come back equal.
        return cast(func.ts_rank(PG_VECTOR, func.to_tsquery("russian", _pg_query(q))), Float(53))
    if not query_lemmas(q):
        return literal(0.0, Float)
    # bm25 of this message for the query (a message matched only by its number: 0).
    best = select(-func.bm25(literal_column("message_search"))).select_from(fts).where(
        sql_text("message_search MATCH :fts_rank").bindparams(fts_rank=_fts5_query(q)),
        fts.c.rowid == Message.id).scalar_subquery()
    return func.coalesce(best, 0.0)


def _substrings(q: str) -> bool:
    """Look for q inside numbers and addresses too: it has a digit («000123», «Ленина 15»). Words alone are
    found by the full-text index, addresses' words included; a substring test on every candidate row would
    cost more than the word match itself."""
    return len(q) >= SUBSTRING_MIN and _DIGIT.search(q) is not None


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- highlighting ------------------------------------------------------------------

def _marked(value: str, wanted: set[str], raw: str) -> list[tuple[int, int]]:
    spans = []
    lowered = value.casefold()
    for found in _TOKEN.finditer(lowered):
        if lemma(found.group()) in wanted:
            spans.append(found.span())
    if raw and len(raw) >= SUBSTRING_MIN:
        start = lowered.find(raw.casefold())
        if start >= 0:
            spans.append((start, start + len(raw)))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight(value: str, q: str, width: int = SNIPPET) -> Markup | None:
    """A snippet of `value` around its first matched word, every matched word in <mark>; None if none is."""
    q = _substring(q)
    spans = _marked(value, {w for words in _alternatives(q) for w in words}, q)
    if not spans:
        return None
    first = spans[0][0]
    start = 0 if first < width // 3 else value.rfind(" ", 0, first - width // 3) + 1
    end = min(len(value), start + width)
    if end < len(value):
        space = value.rfind(" ", start, end)
        end = space if space > first else end
    out, at = [Markup("…") if start else Markup("")], start
    for s, e in spans:
        if s >= end:
            break
        s, e = max(s, start), min(e, end)
        out += [escape(value[at:s]), Markup("<mark>"), escape(value[s:e]), Markup("</mark>")]
        at = e
    out.append(escape(value[at:end]))
    if end < len(value):
        out.append(Markup("…"))
    return Markup("").join(out)
