"""Workbooks whose cells are made the way real tools and habits make them, each with the
figures the daily mart must show per date (or the refusal the load must give).

- :func:`book_1904`: a workbook saved with the 1904 date system (Excel "Use 1904 date
  system", old Mac workbooks), its dates as bare serial numbers in General format or as
  date-formatted cells; ``.xlsx`` (openpyxl), ``.xls`` (xlwt) or ``.ods`` (the XML written
  here, as LibreOffice writes it).
- :func:`duration_book`: speed of answer as Excel durations (``[h]:mm:ss`` or ``h:mm:ss``
  formats) or as ``h:mm:ss`` text in a CSV: lands as seconds.
- :func:`day_month_book`: text dates day and month first, as a month-first tool leaves
  day-first text (days 1-12 real dates with day and month swapped, the rest text), or
  text read both ways: refused.
- :func:`odd_headers_book`: headers as copy-paste and other tools leave them: a byte-order
  mark, zero-width, thin, narrow and no-break spaces, full-width letters, underscores and
  words split by spaces: the figures land as with the export's own headers.

Each returns a :class:`TrickyBook`: its file name, bytes, and the expected figures.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

import openpyxl
import xlwt
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from testkit.workbooks import HEADER

Figures = dict[str, float | int]
"""One day of the daily mart (``fct_contact_centre_daily``): calls_offered, calls_handled,
calls_abandoned, avg_speed_of_answer_seconds, service_level."""

EPOCH_1904 = date(1904, 1, 1)
EPOCH_1900 = date(1899, 12, 30)


@dataclass(frozen=True)
class TrickyBook:
    name: str
    """A file name with the extension of its format."""
    data: bytes
    expected: dict[date, Figures] = field(default_factory=dict)
    """The daily mart's figures per date once loaded and built; empty when refused."""
    refused: str | None = None
    """A fragment of the refusal message when the load must stop (then nothing lands)."""
    sheet: str = "Data"


def figures(n: int, *, seconds: float | None = None) -> Figures:
    """Day ``n``'s figures (distinct per day, exactly representable, handled + abandoned
    within offered)."""
    return {
        "calls_offered": 1000 + n,
        "calls_handled": 900 + n,
        "calls_abandoned": 50 + n,
        "avg_speed_of_answer_seconds": float(14 + n) if seconds is None else seconds,
        "service_level": 0.5 + n / 64,
    }


def _cells(n: int) -> list[object]:
    f = figures(n)
    return [
        f["calls_offered"],
        f["calls_handled"],
        f["calls_abandoned"],
        f["avg_speed_of_answer_seconds"],
        f["service_level"],
    ]


_COLUMNS = HEADER[:6]  # Date and the five measures


def book_1904(
    fmt: Literal["xlsx", "xls", "ods"] = "xlsx",
    *,
    first: date = date(2018, 3, 1),
    days: int = 5,
    date_cells: Literal["serial", "date"] = "serial",
) -> TrickyBook:
    """``days`` days from ``first`` in a 1904-date-system workbook: the Date column as
    serial numbers in General format (``serial``: 2018-03-01 is 41,698, which the 1900
    system reads as 2014-02-28) or as date-formatted cells (``date``)."""
    dates = [first + timedelta(days=i) for i in range(days)]
    expected = {d: figures(i + 1) for i, d in enumerate(dates)}
    rows = [[d, *_cells(i + 1)] for i, d in enumerate(dates)]
    if fmt == "xlsx":
        data = _xlsx_1904(rows, date_cells)
    elif fmt == "xls":
        data = _xls_1904(rows, date_cells)
    else:
        data = _ods(rows, date_cells, null_date=EPOCH_1904)
    return TrickyBook(f"metrics-1904-{date_cells}.{fmt}", data, expected)


def _xlsx_1904(rows: list[list[object]], date_cells: str) -> bytes:
    book = openpyxl.Workbook()
    book.epoch = CALENDAR_MAC_1904
    sheet = book.active
    assert sheet is not None
    sheet.title = "Data"
    sheet.append(_COLUMNS)
    for values in rows:
        day = values[0]
        assert isinstance(day, date)
        cell_value = (day - EPOCH_1904).days if date_cells == "serial" else day
        sheet.append([cell_value, *values[1:]])
        if date_cells == "date":
            sheet.cell(row=sheet.max_row, column=1).number_format = "yyyy-mm-dd"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xls_1904(rows: list[list[object]], date_cells: str) -> bytes:
    book = xlwt.Workbook()
    book.dates_1904 = True
    sheet = book.add_sheet("Data")
    as_date = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for c, label in enumerate(_COLUMNS):
        sheet.write(0, c, label)
    for r, values in enumerate(rows, start=1):
        day = values[0]
        assert isinstance(day, date)
        if date_cells == "serial":
            sheet.write(r, 0, (day - EPOCH_1904).days)
        else:
            sheet.write(r, 0, datetime(day.year, day.month, day.day), as_date)
        for c, value in enumerate(values[1:], start=1):
            sheet.write(r, c, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


_ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)


def _ods(rows: list[list[object]], date_cells: str, *, null_date: date) -> bytes:
    """A spreadsheet as LibreOffice writes one: ``mimetype`` first and stored, the day zero
    in ``table:calculation-settings``, each number cell with its ``office:value``."""

    def cell(value: object) -> str:
        if isinstance(value, date):
            if date_cells == "serial":
                serial = (value - null_date).days
                return (
                    f'<table:table-cell office:value-type="float" office:value="{serial}">'
                    f"<text:p>{serial}</text:p></table:table-cell>"
                )
            return (
                f'<table:table-cell office:value-type="date" '
                f'office:date-value="{value.isoformat()}"><text:p>{value.isoformat()}</text:p>'
                "</table:table-cell>"
            )
        if isinstance(value, str):
            return (
                '<table:table-cell office:value-type="string">'
                f"<text:p>{value}</text:p></table:table-cell>"
            )
        return (
            f'<table:table-cell office:value-type="float" office:value="{value!r}">'
            f"<text:p>{value!r}</text:p></table:table-cell>"
        )

    body = "".join(
        "<table:table-row>" + "".join(cell(v) for v in values) + "</table:table-row>"
        for values in [list[object](_COLUMNS), *rows]
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<office:document-content {_ODS_NS} office:version="1.3">'
        "<office:body><office:spreadsheet>"
        "<table:calculation-settings>"
        f'<table:null-date table:date-value="{null_date.isoformat()}"/>'
        "</table:calculation-settings>"
        f'<table:table table:name="Data">{body}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.3">'
        '<manifest:file-entry manifest:full-path="/" manifest:version="1.3" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"),
            "application/vnd.oasis.opendocument.spreadsheet",
            compress_type=zipfile.ZIP_STORED,
        )
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def duration_book(
    style: Literal["[h]:mm:ss", "h:mm:ss", "text"] = "[h]:mm:ss",
    *,
    first: date = date(2023, 3, 1),
    days: int = 5,
) -> TrickyBook:
    """Speed of answer as durations: ``[h]:mm:ss`` and ``h:mm:ss`` formatted cells in an
    ``.xlsx`` (a contact-centre report's habit; 14 s is the serial 14/86400), or ``text``,
    ``0:00:15`` in a CSV. The mart must show the seconds (15.0)."""
    dates = [first + timedelta(days=i) for i in range(days)]
    expected = {d: figures(i + 1) for i, d in enumerate(dates)}
    if style == "text":
        lines = [",".join(str(h) for h in _COLUMNS)]
        for i, d in enumerate(dates):
            values = _cells(i + 1)
            seconds = int(figures(i + 1)["avg_speed_of_answer_seconds"])
            duration = f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
            cells = [d.isoformat(), *map(str, values[:3]), duration, repr(values[4])]
            lines.append(",".join(cells))
        text = "\n".join(lines) + "\n"
        return TrickyBook("speed-as-text.csv", text.encode(), expected, sheet="csv")
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Data"
    sheet.append(_COLUMNS)
    for i, d in enumerate(dates):
        values = _cells(i + 1)
        speed = figures(i + 1)["avg_speed_of_answer_seconds"]
        sheet.append([d, *values[:3], timedelta(seconds=speed), values[4]])
        sheet.cell(row=sheet.max_row, column=1).number_format = "yyyy-mm-dd"
        sheet.cell(row=sheet.max_row, column=5).number_format = style
    out = io.BytesIO()
    book.save(out)
    name = "speed-as-duration.xlsx" if style == "[h]:mm:ss" else "speed-as-time.xlsx"
    return TrickyBook(name, out.getvalue(), expected)


def day_month_book(
    case: Literal["swapped-by-tool", "both-orders"] = "swapped-by-tool",
) -> TrickyBook:
    """Text dates day and month first, refused (nothing lands).

    ``swapped-by-tool``: 20 days of March 2023 written ``dd/mm/yyyy`` and opened in a
    month-first tool: days 1-12 became real dates with day and month swapped (01/03/2023
    as 3 January), days 13-20 stayed text. ``both-orders``: text only, some readable only
    day-first (``13/03/2023``), others only month-first (``03/14/2023``)."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Data"
    sheet.append(_COLUMNS)
    for n, day in enumerate(range(1, 21) if case == "swapped-by-tool" else range(13, 19), 1):
        value: object
        if case == "swapped-by-tool":
            value = date(2023, day, 3) if day <= 12 else f"{day:02d}/03/2023"
        else:
            value = f"{day:02d}/03/2023" if n % 2 else f"03/{day:02d}/2023"
        sheet.append([value, *_cells(n)])
        if isinstance(value, date):
            sheet.cell(row=sheet.max_row, column=1).number_format = "mm/dd/yyyy"
    out = io.BytesIO()
    book.save(out)
    refused = (
        "a spreadsheet tool probably read day-first dates month-first"
        if case == "swapped-by-tool"
        else "some read only day-first"
    )
    return TrickyBook(f"dates-{case}.xlsx", out.getvalue(), refused=refused)


__all__ = [
    "EPOCH_1900",
    "EPOCH_1904",
    "Figures",
    "TrickyBook",
    "book_1904",
    "day_month_book",
    "duration_book",
    "figures",
]


ODD_HEADERS: tuple[str, ...] = (
    "\ufeffDate",
    "Calls\u200bOffered",
    "calls_handled",
    "Calls\u2009Abandoned",
    "Average\u202fSpeed of\u00a0Answer",
    "\uff33\uff45\uff52\uff56\uff49\uff43\uff45 Level",
)
"""The export's six headers (Date and the five measures) as other tools write them."""


def odd_headers_book(*, first: date = date(2023, 4, 1), days: int = 5) -> TrickyBook:
    """``days`` days from ``first`` under :data:`ODD_HEADERS`, in an ``.xlsx``."""
    dates = [first + timedelta(days=i) for i in range(days)]
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Data"
    sheet.append(list(ODD_HEADERS))
    for i, d in enumerate(dates):
        sheet.append([d, *_cells(i + 1)])
        sheet.cell(row=sheet.max_row, column=1).number_format = "yyyy-mm-dd"
    out = io.BytesIO()
    book.save(out)
    expected = {d: figures(i + 1) for i, d in enumerate(dates)}
    return TrickyBook("odd-headers.xlsx", out.getvalue(), expected)
