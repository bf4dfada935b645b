"""Downloads of tables: CSV (UTF-8 with BOM, so Excel opens Cyrillic) and XLSX (openpyxl, write-only).

Interface:

- `Link(value, href)`: a cell shown as a link on the page; exports write only its value.
- `Table(name, title, header, rows)`: one table of a page. `name` is what `?table=<name>` picks,
  `title` names the sheet and the file, `rows` are lists of plain values (str, int, Decimal, float,
  date, None) or `Link`s. The page renders the same object (the `data_table` macro of
  analytics/_charts.html), so the download and the page cannot disagree.
- `csv_response(filename, header, rows)`: a streamed CSV download (rows may be a generator).
- `xlsx_response(filename, sheets)`: an XLSX download; `sheets` is a list of (title, header, rows).
- `table_response(table, fmt, filename)`: one Table as `fmt` ("csv" or "xlsx").

The convention of the analytics pages (pos/views/analytics.py `respond`): every table of a page is
downloadable at the page's own URL with its filters plus `format=csv|xlsx&table=<name>`.
"""
from __future__ import annotations

import csv
import io
import re
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Iterable, Iterator
from urllib.parse import quote

from flask import Response, stream_with_context

FORMATS = ("csv", "xlsx")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = "\ufeff"


@dataclass(frozen=True)
class Link:
    value: object
    href: str | None = None

    def __str__(self) -> str:
        return "" if self.value is None else str(self.value)


@dataclass
class Table:
    name: str
    title: str
    header: list[str]
    rows: list[list] = field(default_factory=list)


def plain(value):
    """A cell as a file holds it: a link's value, a fraction or decimal as a rounded number."""
    if isinstance(value, Link):
        value = value.value
    if isinstance(value, Fraction):
        value = round(float(value), 2)
    if isinstance(value, Decimal):
        value = float(round(value, 2))
    return value


def _disposition(filename: str) -> str:
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "_", filename) or "export"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def _csv_chunks(header: list[str], rows: Iterable[Iterable]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow(header)
    for i, row in enumerate(rows, 1):
        writer.writerow(["" if v is None else plain(v) for v in row])
        if i % 500 == 0:  # a chunk at a time: a large table is never all in memory
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable]) -> Response:
    response = Response(stream_with_context(_csv_chunks(header, rows)), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = _disposition(filename)
    response.headers["Cache-Control"] = "no-store"
    return response


def _sheet_title(title: str, used: set[str]) -> str:
    # Excel: at most 31 characters, none of []:*?/\ and unique in the book.
    base = re.sub(r"[\[\]:*?/\\]", " ", title).strip()[:31] or "Лист"
    name, n = base, 2
    while name in used:
        suffix = f" ({n})"
        name, n = base[:31 - len(suffix)] + suffix, n + 1
    used.add(name)
    return name


def xlsx_response(filename: str, sheets: list[tuple[str, list[str], Iterable[Iterable]]]) -> Response:
    from openpyxl import Workbook
    book = Workbook(write_only=True)  # rows go to a temporary file as they come, not into memory
    used: set[str] = set()
    for title, header, rows in sheets:
        sheet = book.create_sheet(_sheet_title(title, used))
        sheet.append(header)
        for row in rows:
            sheet.append([_xlsx_cell(v) for v in row])
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    book.save(spool)
    spool.seek(0)

    def chunks():
        with spool:
            while block := spool.read(64 * 1024):
                yield block

    response = Response(chunks(), mimetype=XLSX_MIME)
    response.headers["Content-Disposition"] = _disposition(filename)
    response.headers["Cache-Control"] = "no-store"
    return response


def _xlsx_cell(value):
    value = plain(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.replace(tzinfo=None)  # Excel has no time zones; the page's local time is passed in
    if value is None or isinstance(value, (str, int, float, date)):
        return value
    return str(value)


def table_response(table: Table, fmt: str, filename: str) -> Response:
    if fmt == "xlsx":
        return xlsx_response(f"{filename}.xlsx", [(table.title, table.header, table.rows)])
    return csv_response(f"{filename}.csv", table.header, table.rows)
