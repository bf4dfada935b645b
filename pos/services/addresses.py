"""Addresses of problems grouped by place: settlement and street, house numbers dropped.

`place()` reads an address as people type it («г. Благовещенск, ул. Ленина, 12», «Тында, Профсоюзная улица
д.10», «ул.Ленина 12») and gives the settlement and the street under one spelling: the street's type
(«ул.», «улица», «ул» → «ул.»), case, «ё» and spaces folded, the house, building, flat and entrance left out,
and so are the postal code, the region, the district and the country. What it cannot read as a street (a
landmark: «школа № 5») is kept as the street-level part as typed, folded the same way. An address of a
problem grouped by street is not personal data: no house, no flat.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Street types: every spelling (lower case, no dot) → the one shown.
_STREET_TYPES = {
    "ул.": ("ул", "улица"),
    "пер.": ("пер", "переулок", "пер-к"),
    "пр-т": ("пр", "пр-т", "пр-кт", "просп", "проспект", "пркт"),
    "пр-д": ("пр-д", "проезд", "прд"),
    "пл.": ("пл", "площадь"),
    "б-р": ("б-р", "бульвар", "бул", "бульв"),
    "ш.": ("ш", "шоссе"),
    "наб.": ("наб", "набережная"),
    "мкр.": ("мкр", "микрорайон", "мкрн", "мк-н", "м-н"),
    "туп.": ("туп", "тупик"),
    "кв-л": ("кв-л", "квартал"),
    "тракт": ("тракт",),
    "аллея": ("аллея", "ал"),
}
STREET_TYPE = {spelling: shown for shown, spellings in _STREET_TYPES.items() for spelling in spellings}

# Settlement types: every spelling → the one shown.
_SETTLEMENT_TYPES = {
    "г.": ("г", "город", "гор"),
    "пгт": ("пгт", "посёлок городского типа", "поселок городского типа"),
    "рп": ("рп", "р.п", "рабочий посёлок", "рабочий поселок"),
    "п.": ("п", "пос", "посёлок", "поселок"),
    "с.": ("с", "село"),
    "д.": ("д", "дер", "деревня"),
    "ст-ца": ("ст-ца", "станица"),
    "х.": ("х", "хутор"),
}
SETTLEMENT_TYPE = {spelling: shown for shown, spellings in _SETTLEMENT_TYPES.items() for spelling in spellings}

# Parts of an address above the settlement or below the street: left out.
_ABOVE = re.compile(r"^(\d{6}|россия|российская федерация|рф)$"
                    r"|(^|\s)(обл|область|край|респ|республика|р-н|район|муниципальный округ|м\.о|го)(\s|$)")
_HOUSE_WORDS = (r"(?:д|дом|корп|корпус|к|стр|строение|кв|квартира|оф|офис|под|подъезд|эт|этаж|лит|литера|уч|участок"
                r"|влд|владение)\.?")
_HOUSE = re.compile(rf"^(?:{_HOUSE_WORDS}\s*)?\d+\s*[а-я]?(?:\s*[/-]\s*\d+\s*[а-я]?)?$"
                    rf"|^{_HOUSE_WORDS}\s*\d+")
# A house number at the end of a street part: «ленина 12», «ленина д 12а», «ленина 12/1».
_TRAILING_HOUSE = re.compile(rf"(?:\s+(?:{_HOUSE_WORDS}\s*)?|\s*{_HOUSE_WORDS}\s*)\d+\s*[а-я]?(?:\s*[/-]\s*\d+\s*[а-я]?)?$")
_QUOTES = re.compile(r"[«»\"“”„']")
_SPACES = re.compile(r"\s+")
# A street or settlement type glued to the name: «ул.Ленина», «г.Тында».
_GLUED = re.compile(r"(?<![а-я])([а-я]{1,6})\.(?=[а-я0-9])", re.IGNORECASE)
_TYPE_WORD = r"(?:" + "|".join(sorted((re.escape(s) for s in STREET_TYPE), key=len, reverse=True)) + r")"
# A street type in the middle of a part without commas («г. Тында ул. Мира 5») starts a new part.
_SPLIT_BEFORE_STREET = re.compile(rf"\s(?={_TYPE_WORD}\.?\s)")


@dataclass(frozen=True)
class Place:
    """A problem's place: `key` groups the spellings of one street; `settlement` and `street` are shown."""
    settlement: str  # «г. Благовещенск»; "" when the address names none
    street: str  # «ул. Ленина»; "" when the address names only a settlement

    @property
    def key(self) -> tuple[str, str]:
        """The settlement without its type («г. Тында» and «Тында» are one), the street with its type but «ул.»
        (the type people leave out: «Ленина 12» is «ул. Ленина»; «пр-т Ленина» is another street)."""
        street = self.street[len("ул. "):] if self.street.startswith("ул. ") else self.street
        return fold(_strip_type(self.settlement, SETTLEMENT_TYPE)), fold(street)

    @property
    def label(self) -> str:
        return ", ".join(part for part in (self.settlement, self.street) if part) or "адрес не указан"

    @property
    def search(self) -> str:
        """The words that find the place's messages in the inbox search: the street's name, else the settlement's."""
        if self.street:
            return _strip_type(self.street, STREET_TYPE)
        return _strip_type(self.settlement, SETTLEMENT_TYPE)


def fold(text: str) -> str:
    """Case, «ё», quotes and spaces folded: the form two spellings of one name share."""
    return _SPACES.sub(" ", _QUOTES.sub("", text.casefold().replace("ё", "е"))).strip(" .,;")


def _clean(text: str) -> str:
    """Spaces and quotes folded, case kept (for showing)."""
    return _SPACES.sub(" ", _QUOTES.sub("", text)).strip(" .,;")


def _strip_type(text: str, types: dict[str, str]) -> str:
    head, _, rest = text.partition(" ")
    return rest if rest and head.casefold().rstrip(".") in types or head.casefold() in types else text


def _kind(words: str) -> str:
    """The form a type word is looked up by: lower case, «ё» as «е», no final dot."""
    return words.casefold().rstrip(".").replace("ё", "е")


def _typed(part: str, types: dict[str, str]) -> tuple[str, str] | None:
    """(shown type, name) when the part starts or ends with one of the types: «ул. Ленина», «Ленина улица»."""
    words = part.split(" ")
    for length in (4, 3, 2, 1):  # the longest spelling first: «посёлок городского типа» before «посёлок»
        if len(words) <= length:
            continue
        head = _kind(" ".join(words[:length]))
        if head in types:
            return types[head], " ".join(words[length:])
        tail = _kind(" ".join(words[-length:]))
        if tail in types:
            return types[tail], " ".join(words[:-length])
    return None


def _without_house(name: str) -> str:
    folded = name.casefold()
    match = _TRAILING_HOUSE.search(folded)
    if match and match.start() > 0 and "№" not in folded[max(0, match.start() - 2):match.start() + 2]:
        return name[:match.start()].strip()
    return name


@lru_cache(maxsize=65536)
def place(address: str) -> Place | None:
    """The settlement and street of an address; None when it names neither."""
    text = _clean(address or "")
    if not text:
        return None
    text = _GLUED.sub(r"\1. ", text.replace("ё", "е").replace("Ё", "Е"))
    text = _SPLIT_BEFORE_STREET.sub(", ", _SPACES.sub(" ", text))
    settlement = street = ""
    numbered = False  # a house number was there: a lone untyped name is then a street
    loose: list[str] = []  # parts without a type: a settlement or a street by their order
    for raw in text.split(","):
        part = _clean(raw)
        folded = part.casefold()
        if not part or _ABOVE.search(folded):
            continue
        if _HOUSE.match(folded):
            numbered = True
            continue
        name = _without_house(part)
        numbered |= name != part
        part, kind = name, _kind(name)
        if kind in STREET_TYPE and not street and loose:
            street = f"{STREET_TYPE[kind]} {loose.pop()}"  # «Мира, улица»: the type after the name
        elif (typed := _typed(part, STREET_TYPE)) and not street:
            street = f"{typed[0]} {typed[1]}"
        elif (typed := _typed(part, SETTLEMENT_TYPE)) and not settlement and not street:
            settlement = f"{typed[0]} {typed[1]}"
        else:
            loose.append(part)
    for part in loose:
        if not settlement and not street and len(loose) > 1:
            settlement = part  # «Благовещенск, Ленина 12»: the first untyped part is the settlement
        elif not street and (settlement or numbered):
            street = part  # after a settlement, or alone with a house number: «Ленина 12»
        elif not settlement:
            settlement = part  # alone without a number: «Тында»
    if not settlement and not street:
        return None
    return Place(settlement, street)
