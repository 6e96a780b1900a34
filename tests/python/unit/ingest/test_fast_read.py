"""The fast read (fastexcel to Arrow in the probe's child, dap.ingest.workbook._fast) gives
what the cell-by-cell read gives, on every kind of workbook: the same typed columns,
sheets, skipped sheets, personal-data findings and errors, or it steps aside.

Each case is parsed twice: with the fast read allowed for any size (it normally starts at
1 MiB) and with it off. Where the case is one the fast read must take, the test also
checks that it did (else the comparison would prove nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from io import BytesIO
from typing import Any

import openpyxl
import pytest

from dap.errors import DapError
from dap.ingest.guard import _zip
from dap.ingest.workbook import _fast, _split, parse_workbook
from dap.ingest.workbook._parsed import ParsedWorkbook
from testkit import realtools, tricky_cells
from testkit.workbooks import HEADER, REQUIRED_HEADER, SHEET, rows_for


@dataclass
class Outcome:
    fast_sheets: list[str]
    value: dict[str, Any]


@pytest.fixture
def fast_sheets(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the sheets the fast read typed (not stepped aside from)."""
    taken: list[str] = []
    real = _fast.read_fast_sheet

    def spy(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        taken.append(args[1])
        return result

    monkeypatch.setattr(_fast, "read_fast_sheet", spy)
    return taken


def _summary(parsed: ParsedWorkbook) -> dict[str, Any]:
    return {
        "table": parsed.to_arrow("0" * 64),
        "sheets": [vars(sheet) for sheet in parsed.sheets],
        "skipped": parsed.skipped_sheets,
        "pii": [finding.as_record() for finding in parsed.pii_findings],
        "unreadable_dates": parsed.unreadable_dates,
        "carried": parsed.columns_carried,
    }


def _parse(name: str, data: bytes, pii: str) -> dict[str, Any]:
    try:
        return _summary(parse_workbook(name, data, pii=pii))  # type: ignore[arg-type]
    except DapError as exc:
        return {"error": type(exc).__name__, "message": str(exc)}


def both_ways(
    monkeypatch: pytest.MonkeyPatch, taken: list[str], name: str, data: bytes, pii: str = "stop"
) -> list[str]:
    """Parse ``data`` both ways, assert the same outcome, return the sheets read fast.
    The fast read is tried twice: each sheet read whole, and each sheet cut in two halves
    read at once (:mod:`dap.ingest.workbook._split`, which normally starts at 64 MB of
    XML), where a row to cut at is found."""
    monkeypatch.setattr(_fast, "FAST_READ_MIN_BYTES", 0)
    fast = _parse(name, data, pii)
    read_fast = list(taken)
    monkeypatch.setattr(_split, "SPLIT_MIN_BYTES", 0)
    monkeypatch.setattr(_zip, "ROW_ORDER_MIN_BYTES", 0)
    halves = _parse(name, data, pii)
    del taken[len(read_fast) :]
    monkeypatch.setattr(_fast, "FAST_READ_MIN_BYTES", 1 << 62)
    slow = _parse(name, data, pii)
    assert taken == read_fast, "the fast read ran with the threshold out of reach"
    for read in (fast, halves):
        assert read.keys() == slow.keys(), (read.get("message"), slow.get("message"))
        for key in slow:
            if key == "table":
                assert read[key].schema == slow[key].schema
                assert read[key].to_pydict() == slow[key].to_pydict()
            else:
                assert read[key] == slow[key], key
    return read_fast


def _book(build: Callable[[openpyxl.Workbook], None]) -> bytes:
    book = openpyxl.Workbook()
    build(book)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _metrics_sheet(book: openpyxl.Workbook, rows: list[list[Any]], title: str = SHEET) -> Any:
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    return sheet


PLAIN_ROWS = [HEADER, *rows_for(date(2023, 1, 1), 40)]


def test_a_plain_export_is_read_fast_and_alike(monkeypatch, fast_sheets) -> None:
    data = _book(lambda book: _metrics_sheet(book, PLAIN_ROWS))
    assert both_ways(monkeypatch, fast_sheets, "plain.xlsx", data) == [SHEET]


def test_title_rows_an_offset_table_blank_rows_and_a_footnote(monkeypatch, fast_sheets) -> None:
    def build(book: openpyxl.Workbook) -> None:
        rows: list[list[Any]] = [["3-1-1 metrics, exported 2024-01-02"], []]
        rows += [[None, *r] for r in PLAIN_ROWS]  # the table starts in column B
        rows[10] = []  # a blank row inside the table
        rows += [[], ["Source: contact centre reporting"]]
        _metrics_sheet(book, rows)

    assert both_ways(monkeypatch, fast_sheets, "offset.xlsx", _book(build)) == [SHEET]


def test_formulas_without_a_saved_value_carry_their_note(monkeypatch, fast_sheets) -> None:
    def build(book: openpyxl.Workbook) -> None:
        sheet = _metrics_sheet(book, PLAIN_ROWS)
        sheet["B5"] = "=NA()"  # openpyxl saves no value: the container check notes it
        sheet["A9"] = "=TODAY()"

    data = _book(build)
    assert both_ways(monkeypatch, fast_sheets, "formulas.xlsx", data) == [SHEET]


def test_error_cells_carry_their_note(monkeypatch, fast_sheets) -> None:
    days = realtools.days_of(2022, 8)
    data = realtools.excel_xlsx(days, total_row=True)
    both_ways(monkeypatch, fast_sheets, "excel.xlsx", data)


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("C7", "abc"),  # text among counts
        ("C8", 12.5),  # a fraction of a call
        ("C9", datetime(2023, 1, 1)),  # a date among counts
        ("A10", datetime(2023, 1, 9, 8, 30)),  # a date with a time of day
        ("A11", "2023-01-10"),  # a date as text
        ("A12", 45000.0),  # a serial number among dates
        ("A13", date(1900, 1, 15)),  # before Excel's 1900 leap-day bug settles
        ("F14", True),  # a boolean among numbers
        ("E15", timedelta(seconds=30)),  # a duration among numbers
        ("B16", " "),  # a blank that is text
        ("B17", float(2**62)),  # a count far beyond any day's
    ],
)
def test_a_cell_the_column_parser_must_read_steps_aside_or_matches(
    monkeypatch, fast_sheets, cell, value
) -> None:
    def build(book: openpyxl.Workbook) -> None:
        _metrics_sheet(book, PLAIN_ROWS)[cell] = value

    both_ways(monkeypatch, fast_sheets, "odd-cell.xlsx", _book(build))


LONG_ROWS = [HEADER, *rows_for(date(2020, 1, 1), 1_200)]
"""Longer than the 1,000 rows from which fastexcel types a column: a cell below them of
another kind is made to fit the column's type there, and the fast read must notice."""


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("C1107", "abc"),  # text among counts: fastexcel makes it empty
        ("C1108", "12"),  # a number as text: fastexcel makes it 12
        ("F1114", True),  # a boolean among numbers: fastexcel makes it 1.0
        ("C1109", datetime(2023, 1, 1)),  # a date among counts: made empty
        ("E1115", timedelta(seconds=30)),  # a duration among numbers
        ("A1111", "2023-01-10"),  # a date as text among dates
        ("A1112", 45000.0),  # a serial number among dates
        ("A1113", 30.0),  # a serial number before 1900-03-01
        ("B1116", " "),  # a blank that is text
        ("C1117", "604-871-7000"),  # personal data as text among counts
        ("J1118", 7),  # a number in a column of text below its first 1,000 rows
    ],
)
def test_a_cell_below_the_typing_rows_steps_aside_or_matches(
    monkeypatch, fast_sheets, cell, value
) -> None:
    def build(book: openpyxl.Workbook) -> None:
        sheet = _metrics_sheet(book, LONG_ROWS)
        sheet[cell] = value
        if cell.startswith("J"):
            sheet["J5"] = "a note"  # column J is text in fastexcel's first 1,000 rows

    both_ways(monkeypatch, fast_sheets, "odd-cell.xlsx", _book(build), "mask")


def test_a_long_plain_export_is_read_fast(monkeypatch, fast_sheets, cuts) -> None:
    data = _book(lambda book: _metrics_sheet(book, LONG_ROWS))
    assert both_ways(monkeypatch, fast_sheets, "long.xlsx", data) == [SHEET]
    assert cuts[0] is None  # read whole
    assert cuts[1] is not None  # and cut in two
    assert cuts[1] > 500


@pytest.mark.parametrize("pii", ["stop", "mask"])
def test_personal_data_anywhere_is_found_alike(monkeypatch, fast_sheets, pii) -> None:
    def build(book: openpyxl.Workbook) -> None:
        rows: list[list[Any]] = [["Prepared by jane.doe@example.com"], *PLAIN_ROWS]
        sheet = _metrics_sheet(book, rows)
        sheet["J6"] = "call back 604-871-7000"  # below the header, a column without one
        sheet["J30"] = "V6B 1A1"
        hidden = book.create_sheet("Callers")
        hidden.append(["Name", "Card"])
        hidden.append(["A. Caller", "4111 1111 1111 1111"])
        hidden.sheet_state = "hidden"

    read = both_ways(monkeypatch, fast_sheets, "pii.xlsx", _book(build), pii)
    assert read == [SHEET]  # the hidden sheet is scanned, never read


def test_two_sheets_with_some_measures_each(monkeypatch, fast_sheets) -> None:
    general = [["Date", "CallsOffered", "CallsAbandoned"]]
    general += [[r[0], r[1], r[3]] for r in rows_for(date(2023, 1, 1), 10)]
    handled = [["Date", "CallsHandled", "ServiceLevel"]]
    handled += [[r[0], r[2], r[5]] for r in rows_for(date(2023, 1, 1), 10)]

    def build(book: openpyxl.Workbook) -> None:
        _metrics_sheet(book, general, "General")
        sheet = book.create_sheet("Handled")
        for row in handled:
            sheet.append(row)
        notes = book.create_sheet("About")
        notes.append(["Date", "CallsOffered"])  # a header with no figures under it
        notes.append(["see the other sheets", None])

    read = both_ways(monkeypatch, fast_sheets, "split.xlsx", _book(build))
    assert read[:2] == ["General", "Handled"]  # About mixes text into its Date column


def test_a_required_column_missing_fails_alike(monkeypatch, fast_sheets) -> None:
    rows = [REQUIRED_HEADER[:1] + REQUIRED_HEADER[2:], *rows_for(date(2023, 1, 1), 5)]
    both_ways(monkeypatch, fast_sheets, "missing.xlsx", _book(lambda b: _metrics_sheet(b, rows)))


TOOL_FILES = {
    "libreoffice": realtools.libreoffice_xlsx,
    "streamed": realtools.streamed_xlsx,
    "google-sheets": realtools.google_sheets_xlsx,
    "excel": realtools.excel_xlsx,
    "text-figures": realtools.text_figures_xlsx,
    "strict": realtools.strict_xlsx,
    "strict-iso": lambda days: realtools.strict_xlsx(days, iso_dates=True),
}


@pytest.mark.parametrize("tool", sorted(TOOL_FILES))
def test_files_as_real_tools_write_them(monkeypatch, fast_sheets, tool) -> None:
    data = TOOL_FILES[tool](realtools.days_of(2021, 12))
    both_ways(monkeypatch, fast_sheets, f"{tool}.xlsx", data)


@pytest.mark.parametrize(
    "book",
    [
        tricky_cells.book_1904("xlsx", date_cells="serial"),
        tricky_cells.book_1904("xlsx", date_cells="date"),
        tricky_cells.duration_book("[h]:mm:ss"),
        tricky_cells.duration_book("h:mm:ss"),
        tricky_cells.duration_book("text"),
        tricky_cells.day_month_book("swapped-by-tool"),
        tricky_cells.day_month_book("both-orders"),
        tricky_cells.odd_headers_book(),
    ],
    ids=lambda book: book.name,
)
def test_tricky_cells(monkeypatch, fast_sheets, book) -> None:
    read = both_ways(monkeypatch, fast_sheets, book.name, book.data)
    if "1904" in book.name:
        assert read == []  # fastexcel counts serials from 1900: never read fast
