"""The words of message texts as lemmas (pymorphy3's Russian dictionary), stop words left out.

«мусор», «мусора», «мусором» are one lemma, «мусор». Left out: the Russian list of the `stop-words`
package; every word pymorphy3 tags as a preposition, conjunction, particle, interjection, pronoun (and
pronoun-like adjective: «этот», «наш»), numeral (and ordinal: «третий»); words of one letter; and
`DOMAIN_STOP_WORDS` below, the address abbreviations and courtesy words every message has and that say
nothing about the problem.

Speed: the analyzer loads once per process (about 0.7 s, then shared), and a word is parsed once: the
token → lemma map is cached (bounded by the vocabulary, not the number of texts).
"""
from __future__ import annotations

import re
from collections import Counter
from functools import cache, lru_cache
from typing import Iterable

# Parts of speech that carry no problem (OpenCorpora tags, as pymorphy3 gives them).
_DROPPED_POS = {"PREP", "CONJ", "PRCL", "INTJ", "NPRO", "NUMR"}
_DROPPED_GRAMMEMES = {"Apro", "Anum"}  # pronoun-like adjectives («этот», «который»), ordinals («третий»)
# Words every message has; lemmas. Small on purpose: anything here is a word the analyst never sees.
DOMAIN_STOP_WORDS = frozenset({
    "ул", "улица", "г", "город", "д", "дом", "кв", "корп", "стр", "пр", "пер", "мкр", "обл",
    "просить", "пожалуйста", "здравствуйте", "уважаемый", "спасибо", "добрый", "день",
})
_WORD = re.compile(r"[а-яё]+(?:-[а-яё]+)*")


@cache
def analyzer():
    import pymorphy3  # loads the dictionary: once per process, and only where words are counted
    return pymorphy3.MorphAnalyzer(lang="ru")


@cache
def stop_words() -> frozenset[str]:
    from stop_words import get_stop_words
    return frozenset(w.replace("ё", "е") for w in get_stop_words("russian")) | DOMAIN_STOP_WORDS


@lru_cache(maxsize=200_000)
def lemma(word: str) -> str | None:
    """The dictionary form of a lower-case word («ё» as «е»), None for a stop word."""
    if len(word) < 2 or word.replace("ё", "е") in stop_words():
        return None
    parsed = analyzer().parse(word)[0]
    tag = parsed.tag
    if tag.POS in _DROPPED_POS or any(g in tag for g in _DROPPED_GRAMMEMES):
        return None
    normal = parsed.normal_form.replace("ё", "е")
    return None if normal in stop_words() else normal


def words(text: str) -> Iterable[str]:
    """The words of a text in lower case, «ё» kept: the form is also what the inbox search looks for."""
    return _WORD.findall(text.casefold())


def message_lemmas(text: str) -> dict[str, str]:
    """The lemmas of one text, each once, with the first form it took there (lower case, «ё» kept)."""
    found: dict[str, str] = {}
    for word in words(text):
        if (normal := lemma(word)) is not None:
            found.setdefault(normal, word)
    return found


def count(texts: Iterable[str]) -> tuple[Counter, dict[str, Counter]]:
    """How many texts each lemma is in (a word counted once per text), and the forms it took."""
    counts: Counter = Counter()
    forms: dict[str, Counter] = {}
    for text in texts:
        for normal, form in message_lemmas(text).items():
            counts[normal] += 1
            forms.setdefault(normal, Counter())[form] += 1
    return counts, forms


def _common_start(words: Iterable[str]) -> str:
    words = list(words)
    stem = words[0] if words else ""
    for word in words[1:]:
        i = 0
        while i < min(len(stem), len(word)) and stem[i] == word[i]:
            i += 1
        stem = stem[:i]
    return stem


def search_stem(normal: str, forms: Counter | dict[str, int]) -> str:
    """What finds the texts of a lemma with the inbox's substring search: the longest beginning its forms share
    («трубы», «трубой» → «труб»), of at least four letters; else (the forms differ early: «идёт», «шёл») the most
    frequent form, which finds the texts with that form."""
    stem = _common_start(forms)
    if len(stem) >= 4 or (stem and stem in forms):
        return stem
    return max(forms.items(), key=lambda item: (item[1], item[0]))[0] if forms else normal
