"""The rating of a month as a table (issue 9, item 6): the CLI's and the page's CSV, XLSX and JSON.

One row per ИОГВ, in the order of places; columns: organization id, organization name, for each of the
six indicators its numerator, denominator and percentage, the mean, the place, the status (draft or
published) and the time of publication. No personal data: organizations and figures only.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from decimal import Decimal
from typing import Iterator
from zoneinfo import ZoneInfo

from pos.models import RatingMonth, RatingRow
from pos.models.rating import INDICATOR_KEYS
from pos.services.rating import NO_DATA

# Clause 4.2, 1)–6), in short.
INDICATOR_LABELS = {
    "coordination_first": "1. Координация",
    "agreement_first": "2. Согласование",
    "approval_first": "3. Утверждение",
    "coordination_repeated": "4. Координация, повторные",
    "agreement_repeated": "5. Согласование, повторные",
    "approval_repeated": "6. Утверждение, повторные",
}


_FIGURE = re.compile(r"\d{1,3}\.\d\d")


def header() -> list[str]:
    columns = ["ID организации", "Организация"]
    for key in INDICATOR_KEYS:
        label = INDICATOR_LABELS[key]
        columns += [f"{label}: в срок", f"{label}: всего", f"{label}: %"]
    return columns + ["Среднее, %", "Место", "Статус", "Опубликован"]


def _published(snapshot: RatingMonth, tz: str) -> str:
    at: datetime | None = snapshot.published_at
    return at.astimezone(ZoneInfo(tz)).isoformat(sep=" ", timespec="minutes") if at else ""


def _number(value: Decimal | None) -> str:
    return NO_DATA if value is None else f"{value:.2f}"


def table(snapshot: RatingMonth, rows: list[RatingRow]) -> Iterator[list]:
    """The rated rows (subordinate organizations are information, not rows of the rating)."""
    for row in rows:
        if not row.is_rated:
            continue
        cells: list = [row.organization_id, row.organization_name]
        for key in INDICATOR_KEYS:
            on_time, total, percent = row.figures(key)
            cells += [on_time, total, _number(percent)]
        cells += ["" if row.mean is None else f"{row.mean:.2f}", "" if row.place is None else row.place,
                  snapshot.status, _published(snapshot, snapshot.timezone)]
        yield cells


def to_csv(snapshot: RatingMonth, rows: list[RatingRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header())
    writer.writerows(table(snapshot, rows))
    return out.getvalue()


def to_csv_bytes(snapshot: RatingMonth, rows: list[RatingRow]) -> bytes:
    """UTF-8 with a BOM: Excel opens the Cyrillic right."""
    return to_csv(snapshot, rows).encode("utf-8-sig")


def to_xlsx(snapshot: RatingMonth, rows: list[RatingRow]) -> bytes:
    """The same table as an XLSX workbook (numbers as numbers, «нет данных» as text)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(f"Рейтинг {snapshot.month:%m.%Y}")
    sheet.append(header())
    for cells in table(snapshot, rows):
        sheet.append([_cell(value) for value in cells])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(value):
    """A percentage or a mean written as text by `table()` goes into the sheet as a number."""
    return float(value) if isinstance(value, str) and _FIGURE.fullmatch(value) else value


def to_json(snapshot: RatingMonth, rows: list[RatingRow]) -> dict:
    """Machine-readable: percentages as strings with two decimals, null for «нет данных»."""
    def fmt(value):
        return None if value is None else f"{value:.2f}"

    return {
        "month": snapshot.month.strftime("%Y-%m"),
        "status": snapshot.status,
        "published_at": _published(snapshot, snapshot.timezone) or None,
        "automatically": snapshot.published_automatically,
        "min_sample": snapshot.min_sample,
        "weights": snapshot.weights,
        "rows": [{"organization_id": r.organization_id, "organization_name": r.organization_name,
                  "is_rated": r.is_rated, "parent_id": r.parent_id,
                  "indicators": {key: dict(zip(("on_time", "total"), r.figures(key)[:2]),
                                           percent=fmt(r.figures(key)[2])) for key in INDICATOR_KEYS},
                  "mean": fmt(r.mean), "place": r.place, "passages": r.passages} for r in rows],
    }
