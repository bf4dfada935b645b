"""Values that come in with a request, parsed in one place and within bounds.

Ids, page numbers, dates, moments: whatever a person or a script typed into a
path, a query string, a form or a JSON body. A value out of shape or range is a
`BadValue` (its text is for people, in Russian) or None, never an integer the
database cannot hold (SQLite stops at 2**63, PostgreSQL's `integer` at 2**31)
or a date that overflows when a day is added to it.

`init_app` puts the same bounds on the URLs (every `<int:…>` route) and strips
from every request what no database can store: NUL, which PostgreSQL refuses,
and lone UTF-16 surrogates, which UTF-8 cannot encode.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

from flask import Flask, Request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter, PathConverter, UnicodeConverter, ValidationError

# Primary keys are PostgreSQL `integer` columns.
MAX_ID = 2**31 - 1
MAX_PAGE = 100_000
# Messages, filters and API periods live in this century; a day more or less never overflows.
MIN_YEAR, MAX_YEAR = 2000, 2100
MIN_DATE, MAX_DATE = date(MIN_YEAR, 1, 1), date(MAX_YEAR, 12, 31)
DATE_RANGE_TEXT = f"{MIN_DATE:%d.%m.%Y}–{MAX_DATE:%d.%m.%Y}"

_DIGITS = re.compile(r"[0-9]{1,10}")  # ASCII only: int() would also take "١٢", "1_0" and " +5"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class BadValue(ValueError):
    """A request's value out of shape or range; the text says so in Russian."""


def _label(label: str) -> str:
    return f" поля «{label}»" if label else ""


def parse_id(value, label: str = "") -> int | None:
    """A row's id: None when empty, else 1…MAX_ID, or BadValue."""
    if value is None or value == "" or value == "None":
        return None
    if isinstance(value, bool):
        raise BadValue(f"Неверное значение{_label(label)}.")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        raise BadValue(f"Неверное значение{_label(label)}.")
    if not 1 <= number <= MAX_ID:
        raise BadValue(f"Неверное значение{_label(label)}: такого номера нет.")
    return number


def id_or_none(value) -> int | None:
    """An id, or None for anything that is not one (where a bad value may simply be ignored)."""
    try:
        return parse_id(value)
    except BadValue:
        return None


def parse_page(value) -> int:
    """A page number for offset lists: 1 when absent or not a number, at most MAX_PAGE."""
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        return min(max(int(value.strip()), 1), MAX_PAGE)
    return 1


def check_date(value: date, label: str = "") -> date:
    if not MIN_DATE <= value <= MAX_DATE:
        raise BadValue(f"Дата{_label(label)} должна быть в пределах {DATE_RANGE_TEXT}.")
    return value


def parse_date(value, label: str = "") -> date | None:
    """A calendar day YYYY-MM-DD within MIN_DATE…MAX_DATE; None when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value).strip()[:10]) if len(str(value).strip()) == 10 else None
        except ValueError:
            value = None
        if value is None:
            raise BadValue(f"Неверная дата{_label(label)}: нужен формат ГГГГ-ММ-ДД.")
    return check_date(value, label)


def parse_moment(value, label: str = "", *, default_tz=None) -> datetime | None:
    """An ISO 8601 moment within the years MIN_YEAR…MAX_YEAR, made aware (`default_tz` for one without an
    offset; without `default_tz` such a moment is refused). None when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise BadValue(f"Неверная дата и время{_label(label)}.") from None
    else:
        raise BadValue(f"Неверная дата и время{_label(label)}.")
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise BadValue(f"Дата{_label(label)} вне допустимого диапазона ({MIN_YEAR}–{MAX_YEAR} годы).")
    if moment.tzinfo is None or moment.utcoffset() is None:
        if default_tz is None:
            raise BadValue(f"Дата и время{_label(label)} без часового пояса.")
        moment = moment.replace(tzinfo=default_tz)
    return moment.astimezone(timezone.utc)


def is_json_int(value) -> bool:
    """An integer as JSON gives it (not a bool, not 1e30 or Infinity, which json.loads gives as floats)."""
    return isinstance(value, int) and not isinstance(value, bool)


# --- where to go back to -----------------------------------------------------------------------------

def local_path(value, prefix: str = "/") -> str | None:
    """A path on this site under `prefix` to return to (`next`, `back`), or None: no scheme or host (also not
    the «//host» and «/\\host» that browsers read as one), no control characters (it goes into a Location
    header, which a line break would break)."""
    if not isinstance(value, str) or not value.startswith(prefix) or not value.startswith("/"):
        return None
    if value.startswith("//") or "\\" in value or "//" in value.split("?", 1)[0] \
            or any(ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0 for c in value):
        return None
    return value


# --- text no database can store --------------------------------------------------------------

def storable(value: str) -> str:
    """The text without NUL and lone surrogates."""
    return _UNSTORABLE.sub("", value)


def storable_data(value):
    """A parsed JSON body with every string (keys too) made storable."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {storable_data(k): storable_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable_data(v) for v in value]
    return value


def _clean(value):
    return storable(value) if isinstance(value, str) else value


class StorableMultiDict(ImmutableMultiDict):
    """Query string and form values (and their names) without NUL or lone surrogates."""

    def __init__(self, mapping=None):
        if mapping is None:
            super().__init__()
            return
        if isinstance(mapping, MultiDict):
            items = mapping.items(multi=True)
        elif isinstance(mapping, dict):
            items = [(k, v) for k, vs in mapping.items() for v in (vs if isinstance(vs, (list, tuple)) else [vs])]
        else:
            items = mapping
        super().__init__([(_clean(k), _clean(v)) for k, v in items])


class StorableRequest(Request):
    parameter_storage_class = StorableMultiDict

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True):
        try:
            return storable_data(super().get_json(force=force, silent=silent, cache=cache))
        except RecursionError:  # "[[[[…" nested deeper than the parser (or we) can go: not JSON to us
            if silent:
                return None
            raise BadRequest("Тело запроса: слишком глубокая вложенность JSON.") from None


# --- URL converters ------------------------------------------------------------------------

class BoundedIntegerConverter(IntegerConverter):
    """`<int:…>` that only matches ids a table can hold: past MAX_ID the URL is simply not found."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=MAX_ID if max is None else max,
                         signed=signed)


class StorableStringConverter(UnicodeConverter):
    """A path segment that holds NUL matches no route (404) instead of reaching a query."""

    def to_python(self, value: str) -> str:
        if _UNSTORABLE.search(value):
            raise ValidationError()
        return value


class StorablePathConverter(PathConverter):
    def to_python(self, value: str) -> str:
        if _UNSTORABLE.search(value):
            raise ValidationError()
        return value


def init_app(app: Flask) -> None:
    """Bounds on the URL converters (before any route is added) and the request's storable values."""
    app.url_map.converters.update(int=BoundedIntegerConverter, default=StorableStringConverter,
                                  string=StorableStringConverter, path=StorablePathConverter)
    app.request_class = StorableRequest
