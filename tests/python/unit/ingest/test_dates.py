"""Dates as real tools make them: the workbook's date system (1900 or 1904) for serial
numbers, text dates day and month first (refused, never guessed), date-times, and every
unreadable date reported at load time."""

from __future__ import annotations

import io
import json
import struct
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path

import openpyxl
import pytest
import xlwt

from dap.errors import WorkbookError
from dap.ingest.cells import (
    EXCEL_1900,
    EXCEL_1904,
    DateSystem,
    parse_date,
    quote,
    text_date_order,
)
from dap.ingest.formats import parse_file
from dap.ingest.workbook import parse_workbook
from dap.ingest.workbook._date_system import (
    biff_date_mode,
    detect_date_system,
    xlsb_workbook_flags,
)
from dap.samples.excel_writer import Cell
from testkit.tricky_cells import EPOCH_1904, book_1904, day_month_book
from testkit.workbooks import HEADER, manifest, row, run_dap, sha256_of, xlsx

D = date(2023, 3, 1)

# --- the date system -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "system", "expected"),
    [
        pytest.param(41698, EXCEL_1904, date(2018, 3, 1), id="1904-serial"),
        pytest.param(41698.0, EXCEL_1904, date(2018, 3, 1), id="1904-serial-float"),
        pytest.param(0, EXCEL_1904, date(1904, 1, 1), id="1904-day-zero"),
        pytest.param(41698, EXCEL_1900, date(2014, 2, 28), id="1900-same-serial"),
        pytest.param(45000, EXCEL_1900, date(2023, 3, 15), id="1900-serial"),
        pytest.param(
            10, DateSystem("day zero 2000-01-01", date(2000, 1, 1), 0), date(2000, 1, 11), id="ods"
        ),
    ],
)
def test_serials_count_from_the_systems_day_zero(value, system, expected):
    assert parse_date(value, system) == (expected, None)


def test_the_1904_system_is_1462_days_later_for_the_same_serial():
    later, _ = parse_date(41698, EXCEL_1904)
    earlier, _ = parse_date(41698)
    assert isinstance(later, date)
    assert isinstance(earlier, date)
    assert (later - earlier).days == 1462


@pytest.mark.parametrize(
    ("value", "system"),
    [
        pytest.param(-1, EXCEL_1904, id="1904-before-day-zero"),
        pytest.param(2_957_004, EXCEL_1904, id="1904-after-9999"),
        pytest.param(60, EXCEL_1900, id="1900-leap-day-that-never-was"),
    ],
)
def test_serials_out_of_the_systems_range(value, system):
    assert parse_date(value, system) == (None, f"{value} is not an Excel date serial")


def _zip(members: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return out.getvalue()


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"


def _workbook_xml(namespace: str, properties: str) -> str:
    return (
        f'<?xml version="1.0"?><workbook xmlns="{namespace}">{properties}'
        '<sheets><sheet name="Data" sheetId="1"/></sheets></workbook>'
    )


@pytest.mark.parametrize(
    ("namespace", "properties", "expected"),
    [
        pytest.param(_MAIN, '<workbookPr date1904="1"/>', EXCEL_1904, id="transitional-1"),
        pytest.param(_MAIN, '<workbookPr date1904="true"/>', EXCEL_1904, id="transitional-true"),
        pytest.param(_STRICT, '<workbookPr date1904="true"/>', EXCEL_1904, id="strict"),
        pytest.param(_MAIN, '<workbookPr date1904="0"/>', EXCEL_1900, id="flag-off"),
        pytest.param(_MAIN, '<workbookPr defaultThemeVersion="1"/>', EXCEL_1900, id="no-flag"),
        pytest.param(_MAIN, "", EXCEL_1900, id="no-workbookPr"),
    ],
)
def test_xlsx_date_system_from_the_workbook_part(namespace, properties, expected):
    data = _zip({"xl/workbook.xml": _workbook_xml(namespace, properties)})
    assert detect_date_system(data) == expected


def test_xlsx_workbook_part_found_through_the_package_relationships():
    rels = (
        '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        'package/2006/relationships"><Relationship Id="rId1" Target="/book/main.xml" Type="'
        'http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
        "</Relationships>"
    )
    data = _zip(
        {
            "_rels/.rels": rels,
            "book/main.xml": _workbook_xml(_MAIN, '<workbookPr date1904="1"/>'),
        }
    )
    assert detect_date_system(data) == EXCEL_1904


def test_xlsx_from_openpyxl_both_ways():
    assert detect_date_system(book_1904("xlsx").data) == EXCEL_1904
    out = io.BytesIO()
    openpyxl.Workbook().save(out)
    assert detect_date_system(out.getvalue()) == EXCEL_1900


@pytest.mark.parametrize("flag", [True, False])
def test_xls_date_mode_record(flag):
    book = xlwt.Workbook()
    book.dates_1904 = flag
    book.add_sheet("Data").write(0, 0, "Date")
    out = io.BytesIO()
    book.save(out)
    assert detect_date_system(out.getvalue()) == (EXCEL_1904 if flag else EXCEL_1900)


def test_biff_walk_stops_at_the_first_sheet():
    record = struct.pack("<HH", 0x0809, 4) + b"\0" * 4  # BOF
    boundsheet = struct.pack("<HH", 0x0085, 2) + b"\0\0"
    datemode = struct.pack("<HHH", 0x0022, 2, 1)
    assert biff_date_mode(record + datemode + boundsheet) == 1
    assert biff_date_mode(record + boundsheet + datemode) is None  # not in the globals
    assert biff_date_mode(record[:3]) is None  # truncated


def _xlsb_record(kind: int, data: bytes) -> bytes:
    head = bytes([kind]) if kind < 0x80 else bytes([(kind & 0x7F) | 0x80, kind >> 7])
    return head + bytes([len(data)]) + data


@pytest.mark.parametrize(("flags", "expected"), [(1, EXCEL_1904), (0, EXCEL_1900), (8, EXCEL_1900)])
def test_xlsb_workbook_property_flag(flags, expected):
    part = (
        _xlsb_record(0x83, b"")  # BrtBeginBook
        + _xlsb_record(0x80, b"\0" * 10)  # BrtFileVersion (its content does not matter)
        + _xlsb_record(0x99, struct.pack("<II", flags, 0) + b"\0" * 4)  # BrtWbProp
        + _xlsb_record(0x8F, b"")  # BrtBeginBundleShs
    )
    assert xlsb_workbook_flags(part) == flags
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("xl/workbook.bin", part)
    assert detect_date_system(out.getvalue()) == expected


def test_xlsb_without_the_property_record_is_1900():
    assert xlsb_workbook_flags(_xlsb_record(0x83, b"") + _xlsb_record(0x8F, b"")) is None


def _content(null_date: str | None) -> str:
    settings = (
        f'<table:calculation-settings><table:null-date table:date-value="{null_date}"/>'
        "</table:calculation-settings>"
        if null_date
        else ""
    )
    return (
        '<?xml version="1.0"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"><office:body>'
        f'<office:spreadsheet>{settings}<table:table table:name="Data"/>'
        "</office:spreadsheet></office:body></office:document-content>"
    )


@pytest.mark.parametrize(
    ("null_date", "expected"),
    [
        pytest.param("1904-01-01", EXCEL_1904, id="1904"),
        pytest.param("1899-12-30", EXCEL_1900, id="default-written"),
        pytest.param(None, EXCEL_1900, id="absent"),
        pytest.param(
            "2000-01-01", DateSystem("day zero 2000-01-01", date(2000, 1, 1), 0), id="other"
        ),
    ],
)
def test_ods_null_date(null_date, expected):
    data = _zip(
        {
            "mimetype": "application/vnd.oasis.opendocument.spreadsheet",
            "content.xml": _content(null_date),
        }
    )
    assert detect_date_system(data) == expected


def test_ods_null_date_after_the_first_table_is_not_read():
    content = _content(None).replace(
        "</office:spreadsheet>",
        '<table:calculation-settings><table:null-date table:date-value="1904-01-01"/>'
        "</table:calculation-settings></office:spreadsheet>",
    )
    assert detect_date_system(_zip({"content.xml": content})) == EXCEL_1900


@pytest.mark.parametrize(
    "data",
    [b"", b"Date,CallsOffered\n", b"PK\x03\x04broken", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"],
    ids=["empty", "csv", "broken-zip", "ole-without-biff"],
)
def test_anything_else_is_1900(data):
    assert detect_date_system(data) == EXCEL_1900


@pytest.mark.parametrize("fmt", ["xlsx", "xls", "ods"])
@pytest.mark.parametrize("date_cells", ["serial", "date"])
def test_a_1904_workbook_lands_the_right_dates(fmt, date_cells):
    book = book_1904(fmt, date_cells=date_cells)
    parsed = parse_file(book.name, book.data)
    assert parsed.date_system == EXCEL_1904
    assert parsed.columns["date"] == list(book.expected)
    assert parsed.columns["callsoffered"] == [f["calls_offered"] for f in book.expected.values()]
    assert parsed.columns["load_issues"] == [None] * len(book.expected)


def test_a_1900_workbook_with_serials_is_unchanged(tmp_path):
    serials = [(date(2018, 3, 1) + timedelta(days=i) - date(1899, 12, 30)).days for i in range(3)]
    path = xlsx(
        tmp_path / "b.xlsx", {"Data": [HEADER, *(row(s, i) for i, s in enumerate(serials))]}
    )
    parsed = parse_workbook(path.name, path.read_bytes())
    assert parsed.date_system == EXCEL_1900
    assert parsed.columns["date"] == [date(2018, 3, 1), date(2018, 3, 2), date(2018, 3, 3)]


def test_the_1904_serial_would_be_1462_days_early_read_as_1900():
    book = book_1904("xlsx")
    first = next(iter(book.expected))
    assert (first - EPOCH_1904).days == 41698  # what the cell holds
    assert parse_date(41698)[0] == first - timedelta(days=1462)


# --- text dates day and month first ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "order"),
    [
        ("13/03/2023", "day-first"),
        ("03/13/2023", "month-first"),
        ("03/04/2023", "either"),
        ("1.3.23", "either"),
        ("31-12-2023", "day-first"),
        ("12-31-23", "month-first"),
        ("32/13/2023", None),
        ("2023-03-13", None),
        ("13/03/2023 08:00", None),
        ("13/03-2023", None),
        ("Total", None),
    ],
)
def test_text_date_order(text, order):
    assert text_date_order(text) == order


def test_day_first_text_in_a_month_first_tool_is_refused():
    book = day_month_book("swapped-by-tool")
    with pytest.raises(WorkbookError) as caught:
        parse_file(book.name, book.data)
    exc = caught.value
    assert exc.code == "unreadable_dates"
    assert (exc.location.file, exc.location.sheet, exc.location.row) == (book.name, "Data", 14)
    assert exc.location.column == "Date"
    message = str(exc)
    assert "8 date(s) are text with day and month before the year" in message
    assert "'13/03/2023' (row 14)" in message
    assert "beside 12 real date(s)" in message
    assert "a spreadsheet tool probably read day-first dates month-first" in message
    assert "Re-export the dates from the source as YYYY-MM-DD text or as Excel dates" in message


def test_text_dates_read_both_ways_are_refused():
    book = day_month_book("both-orders")
    with pytest.raises(WorkbookError) as caught:
        parse_file(book.name, book.data)
    message = str(caught.value)
    assert "some read only day-first ('13/03/2023')" in message
    assert "others only month-first ('03/14/2023')" in message
    assert "YYYY-MM-DD" in message


@pytest.mark.parametrize(
    ("texts", "fragment"),
    [
        pytest.param(
            ["13/03/2023", "14/03/2023", "01/04/2023"],
            "they look day-first ('13/03/2023' reads no other way), but the order of a column "
            "is not guessed",
            id="day-first-only",
        ),
        pytest.param(
            ["03/13/2023", "04/01/2023"],
            "they look month-first ('03/13/2023' reads no other way)",
            id="month-first-only",
        ),
        pytest.param(
            ["01/03/2023", "02/03/2023"],
            "which part is the day cannot be told from the file",
            id="either",
        ),
    ],
)
def test_a_column_of_text_dates_in_one_order_is_refused(tmp_path, texts, fragment):
    rows: list[list[Cell]] = [HEADER, *(row(t, i) for i, t in enumerate(texts))]
    path = xlsx(tmp_path / "b.xlsx", {"Data": rows})
    with pytest.raises(WorkbookError) as caught:
        parse_workbook(path.name, path.read_bytes())
    message = str(caught.value)
    assert f"the date column (A) cannot be read: {len(texts)} of {len(texts)} values" in message
    assert fragment in message
    assert caught.value.code == "unreadable_dates"


def test_one_day_first_text_date_among_real_dates_is_refused(tmp_path):
    rows: list[list[Cell]] = [HEADER, *(row(D + timedelta(days=i), i) for i in range(9))]
    rows.append(row("10.03.23", 10))
    path = xlsx(tmp_path / "b.xlsx", {"Data": rows})
    with pytest.raises(WorkbookError) as caught:
        parse_workbook(path.name, path.read_bytes())
    assert caught.value.location.row == 11
    assert "'10.03.23' (row 11), beside 9 real date(s)" in str(caught.value)


def test_iso_text_and_real_dates_mixed_still_load(tmp_path):
    rows: list[list[Cell]] = [HEADER, row(D, 1), row("2023-03-02", 2), row(45000, 3)]
    parsed = parse_workbook("b.xlsx", xlsx(tmp_path / "b.xlsx", {"Data": rows}).read_bytes())
    assert parsed.columns["date"] == [D, date(2023, 3, 2), date(2023, 3, 15)]


def test_text_dates_in_a_csv_day_first_are_refused():
    text = "Date,CallsOffered\n13/03/2023,5\n14/03/2023,6\n2023-03-15,7\n"
    with pytest.raises(WorkbookError) as caught:
        parse_file("calls.csv", text.encode())
    assert caught.value.location.sheet == "csv"
    assert "beside 1 real date(s)" in str(caught.value)


# --- date-times ------------------------------------------------------------------------------


def test_date_times_at_midnight_are_dates(tmp_path):
    rows: list[list[Cell]] = [HEADER, row(datetime(2023, 3, 1), 1), row(datetime(2023, 3, 2), 2)]
    parsed = parse_workbook("b.xlsx", xlsx(tmp_path / "b.xlsx", {"Data": rows}).read_bytes())
    assert parsed.columns["date"] == [D, date(2023, 3, 2)]


def test_a_date_time_with_a_time_of_day_is_refused_in_words(tmp_path):
    rows: list[list[Cell]] = [HEADER, row(D, 1), row(D, 2), row(datetime(2023, 3, 1, 8, 0), 3)]
    parsed = parse_workbook("b.xlsx", xlsx(tmp_path / "b.xlsx", {"Data": rows}).read_bytes())
    assert parsed.columns["date"][2] is None
    assert parsed.columns["load_issues"][2] == (
        "Date (A4): 2023-03-01 08:00 has a time of day (08:00); the Date column needs "
        "calendar dates"
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        pytest.param(date(2023, 3, 1), "2023-03-01", id="date"),
        pytest.param(datetime(2023, 3, 1, 8, 0), "2023-03-01 08:00", id="datetime"),
        pytest.param(datetime(2023, 3, 1, 8, 0, 5), "2023-03-01 08:00:05", id="datetime-seconds"),
        pytest.param(time(0, 0, 14), "00:00:14", id="time"),
        pytest.param(time(8, 30, 0, 500000), "08:30:00.5", id="time-fraction"),
        pytest.param(timedelta(seconds=14), "0:00:14", id="duration"),
        pytest.param(timedelta(hours=26, minutes=3), "26:03:00", id="duration-over-a-day"),
        pytest.param(timedelta(seconds=-5), "-0:00:05", id="negative-duration"),
        pytest.param("  text ", "'text'", id="text"),
        pytest.param(12.5, "12.5", id="float"),
    ],
)
def test_quote_renders_dates_times_and_durations_readably(value, shown):
    assert quote(value) == shown


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("2023-03-01 08:00", "'2023-03-01 08:00' has a time of day (08:00)"),
        ("2023-03-01T00:00:30", "'2023-03-01T00:00:30' has a time of day (00:00:30)"),
        ("2023-03-01T24:00", "'2023-03-01T24:00' is not a valid calendar date"),
    ],
)
def test_iso_text_with_a_time_of_day(text, problem):
    value, found = parse_date(text)
    assert value is None
    assert found is not None
    assert found.startswith(problem)


# --- unreadable dates reported at load time ------------------------------------------------


def _with_unreadable_dates(path: Path) -> Path:
    rows: list[list[Cell]] = [HEADER, *(row(D + timedelta(days=i), i) for i in range(6))]
    rows[2] = row("Total", 2)
    rows[4] = row("n/a", 4)
    return xlsx(path, {"Calls": rows})


def test_unreadable_dates_are_counted_with_examples(tmp_path):
    path = _with_unreadable_dates(tmp_path / "b.xlsx")
    parsed = parse_workbook(path.name, path.read_bytes())
    assert parsed.unreadable_dates == {
        "count": 2,
        "examples": [
            {"sheet": "Calls", "row": 3, "value": "'Total'"},
            {"sheet": "Calls", "row": 5, "value": "'n/a'"},
        ],
    }


def test_every_date_read_reports_none(tmp_path):
    path = xlsx(tmp_path / "b.xlsx", {"Calls": [HEADER, row(D, 1)]})
    assert parse_workbook(path.name, path.read_bytes()).unreadable_dates == {
        "count": 0,
        "examples": [],
    }


def test_dap_load_prints_and_records_the_unreadable_dates(tmp_path):
    path = _with_unreadable_dates(tmp_path / "in" / "calls.xlsx")
    lake = tmp_path / "lake"
    result = run_dap("load", path, "--lake", lake)
    assert result.returncode == 0, result.stderr
    assert (
        "warning: calls.xlsx: 2 date(s) could not be read (sheet 'Calls' row 3: 'Total'; "
        "sheet 'Calls' row 5: 'n/a'); those rows landed without a date"
    ) in result.stderr
    expected = {
        "count": 2,
        "examples": [
            {"sheet": "Calls", "row": 3, "value": "'Total'"},
            {"sheet": "Calls", "row": 5, "value": "'n/a'"},
        ],
    }
    assert manifest(lake, sha256_of(path))["unreadable_dates"] == expected
    (record,) = [json.loads(p.read_text()) for p in (lake / "_audit" / "loads").rglob("*.json")]
    assert record["files"][0]["unreadable_dates"] == expected


def test_dap_load_says_nothing_when_every_date_reads(tmp_path):
    path = xlsx(tmp_path / "in" / "calls.xlsx", {"Calls": [HEADER, row(D, 1)]})
    result = run_dap("load", path, "--lake", tmp_path / "lake")
    assert result.returncode == 0, result.stderr
    assert "could not be read" not in result.stderr
