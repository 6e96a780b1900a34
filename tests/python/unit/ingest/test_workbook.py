"""Reading one workbook: which sheets are read, where rows are, and whole-file errors."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from dap.errors import Location, WorkbookError
from dap.ingest.cells import PARSERS, is_blank, quote
from dap.ingest.workbook import CellNotes, ParsedWorkbook, column_letter, parse_workbook
from dap.ingest.workbook._parsed import _Columns
from dap.ingest.workbook._typing import _SheetTyping
from dap.samples.excel_writer import Cell
from dap.schema import DATE_COLUMN, METRIC_COLUMNS, MetricColumn
from testkit.workbooks import HEADER, REQUIRED_HEADER, SHEET, metrics, row, rows_for, xls, xlsx

D1, D2, D3 = date(2023, 3, 14), date(2023, 3, 15), date(2023, 3, 16)


def _parse(path: Path) -> ParsedWorkbook:
    return parse_workbook(path.name, path.read_bytes())


def _book(tmp_path: Path, sheets: dict[str, list[list[Cell]]], name: str = "book.xlsx") -> Path:
    return xlsx(tmp_path / name, sheets)


def _error(path: Path) -> WorkbookError:
    with pytest.raises(WorkbookError) as caught:
        _parse(path)
    return caught.value


def test_reads_every_column_typed(tmp_path):
    parsed = _parse(_book(tmp_path, {SHEET: [HEADER, row(D1, 1), row("2023-03-15", 2)]}))
    assert parsed.columns["date"] == [D1, D2]
    assert parsed.columns["callsoffered"] == [1001, 1002]
    assert parsed.columns["callshandled"] == [901, 902]
    assert parsed.columns["callsabandoned"] == [51, 52]
    assert parsed.columns["averagespeedofanswer"] == [20.25, 20.5]
    assert parsed.columns["servicelevel"] == [0.5 + 1 / 64, 0.5 + 2 / 64]
    assert parsed.columns["bi_id"] == [1, 2]
    assert all(type(v) is int for v in parsed.columns["callsoffered"])
    assert parsed.columns["load_issues"] == [None, None]
    assert parsed.columns["source_sheet"] == [SHEET, SHEET]
    assert parsed.columns["source_row_number"] == [2, 3]
    assert [(s.name, s.header_row, s.rows, s.rows_with_issues) for s in parsed.sheets] == [
        (SHEET, 1, 2, 0)
    ]
    assert parsed.skipped_sheets == []
    assert parsed.years == [2023, 2023]


def test_header_on_row_three_under_a_title(tmp_path):
    rows: list[list[Cell]] = [
        ["3-1-1 Contact Centre Metrics"],
        [],
        HEADER,
        row(D1, 1),
        row(D2, 2),
    ]
    parsed = _parse(_book(tmp_path, {"Data": rows}))
    assert parsed.sheets[0].header_row == 3
    assert parsed.columns["source_row_number"] == [4, 5]
    assert parsed.columns["date"] == [D1, D2]


@pytest.mark.parametrize(("writer", "suffix"), [(xlsx, "xlsx"), (xls, "xls")])
def test_rows_and_cell_refs_are_true_excel_positions_when_the_sheet_starts_lower(
    tmp_path, writer, suffix
):
    """Header at C4 with nothing above or left of it: rows and letters still match Excel."""
    pad = [None, None]
    rows: list[list[Cell]] = [
        [],
        [],
        [],
        [*pad, *HEADER],
        [*pad, *row(D1, 1)],
        [*pad, D2, "abc", *metrics(2)[1:]],
    ]
    parsed = _parse(writer(tmp_path / f"low.{suffix}", {"Data": rows}))
    assert parsed.sheets[0].header_row == 4
    assert parsed.columns["source_row_number"] == [5, 6]
    assert parsed.columns["callsoffered"] == [1001, None]
    assert parsed.columns["load_issues"] == [None, "CallsOffered (D6): 'abc' is not a number"]


def test_header_found_in_a_later_column(tmp_path):
    rows: list[list[Cell]] = [
        ["Extract of 2023-03-16", None, None],
        [None, "note", *HEADER],
        [None, None, *row(D1, 1)],
        [None, None, "bad", *metrics(2)],
        [None, None, *row(D3, 3)],
    ]
    parsed = _parse(_book(tmp_path, {"Data": rows}))
    assert parsed.sheets[0].header_row == 2
    assert parsed.columns["date"] == [D1, None, D3]
    assert parsed.columns["load_issues"][1] == (
        "Date (C4): 'bad' is not a date (expected an Excel date or YYYY-MM-DD)"
    )


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(
            [
                "Date",
                "Calls Offered",
                "Calls Handled",
                "Calls Abandoned",
                "Average Speed of Answer",
                "Service Level",
                "BI ID",
            ],
            id="spaces",
        ),
        pytest.param(
            [
                "date",
                "calls_offered",
                "calls_handled",
                "calls_abandoned",
                "average_speed_of_answer",
                "service_level",
                "bi_id",
            ],
            id="snake-case",
        ),
        pytest.param([str(h).upper().replace("_", "") for h in HEADER], id="upper-case"),
        pytest.param([str(h).lower() for h in HEADER], id="api-field-names"),
        pytest.param(
            ["\ufeffDate", " CallsOffered ", "Calls\u00a0Handled", *HEADER[3:]],
            id="bom-and-odd-spaces",
        ),
    ],
)
def test_header_variants(tmp_path, header):
    parsed = _parse(_book(tmp_path, {"Sheet1": [header, row(D1, 7)]}))
    assert parsed.columns["date"] == [D1]
    assert parsed.columns["callsoffered"] == [1007]
    assert parsed.columns["callshandled"] == [907]
    assert parsed.columns["callsabandoned"] == [57]
    assert parsed.columns["averagespeedofanswer"] == [21.75]
    assert parsed.columns["servicelevel"] == [0.5 + 7 / 64]
    assert parsed.columns["bi_id"] == [7]


def test_columns_matched_by_header_not_position(tmp_path):
    header: list[Cell] = ["Notes", "ServiceLevel", "CallsAbandoned", "Date", "CallsHandled"]
    header += ["AverageSpeedofAnswer", "CallsOffered"]
    parsed = _parse(_book(tmp_path, {"Sheet1": [header, ["hi", 0.75, 40, D1, 800, 33.5, 900]]}))
    assert parsed.columns["date"] == [D1]
    assert parsed.columns["callsoffered"] == [900]
    assert parsed.columns["callshandled"] == [800]
    assert parsed.columns["callsabandoned"] == [40]
    assert parsed.columns["averagespeedofanswer"] == [33.5]
    assert parsed.columns["servicelevel"] == [0.75]
    assert parsed.columns["bi_id"] == [None]


def test_bi_id_is_optional(tmp_path):
    parsed = _parse(_book(tmp_path, {"Sheet1": [REQUIRED_HEADER, row(D1, 1)[:-1]]}))
    assert parsed.columns["bi_id"] == [None]
    assert parsed.columns["callsoffered"] == [1001]
    assert parsed.columns["load_issues"] == [None]


def test_non_metrics_sheet_is_skipped_alongside_a_metrics_sheet(tmp_path):
    sheets: dict[str, list[list[Cell]]] = {
        "About": [["3-1-1 Contact Centre Metrics"], ["Contains information licensed under..."]],
        "Data": [HEADER, row(D1, 1)],
        "Lookup": [["Code", "Meaning"], ["A", "Answered"]],
    }
    parsed = _parse(_book(tmp_path, sheets))
    assert [s.name for s in parsed.sheets] == ["Data"]
    assert parsed.skipped_sheets == ["About", "Lookup"]
    assert parsed.columns["source_sheet"] == ["Data"]


def test_two_metrics_sheets_are_both_read(tmp_path):
    sheets: dict[str, list[list[Cell]]] = {
        "2022": [HEADER, row(date(2022, 12, 31), 1)],
        "2023": [["Title"], [str(h).lower() for h in HEADER], *rows_for(D1, 2, start_n=2)],
    }
    parsed = _parse(_book(tmp_path, sheets))
    assert [(s.name, s.header_row, s.rows) for s in parsed.sheets] == [
        ("2022", 1, 1),
        ("2023", 2, 2),
    ]
    assert parsed.columns["source_sheet"] == ["2022", "2023", "2023"]
    assert parsed.columns["source_row_number"] == [2, 3, 4]
    assert parsed.columns["date"] == [date(2022, 12, 31), D1, D2]
    assert parsed.columns["callsoffered"] == [1001, 1002, 1003]
    assert parsed.years == [2022, 2023, 2023]


def test_hidden_sheets_are_skipped(tmp_path):
    wb = openpyxl.Workbook()
    visible = wb.active
    visible.title = "Data"
    for values in [HEADER, row(D1, 1)]:
        visible.append(values)
    for title, state, n in [("Old", "hidden", 2), ("Scratch", "veryHidden", 3)]:
        sheet = wb.create_sheet(title)
        sheet.sheet_state = state
        for values in [HEADER, row(D2, n)]:
            sheet.append(values)
    path = tmp_path / "hidden.xlsx"
    wb.save(path)

    parsed = _parse(path)
    assert [s.name for s in parsed.sheets] == ["Data"]
    assert set(parsed.skipped_sheets) == {"Old", "Scratch"}
    assert parsed.columns["callsoffered"] == [1001]


def test_legacy_xls(tmp_path):
    path = xls(
        tmp_path / "legacy.xls",
        {"Sheet1": [["Title"], HEADER, row(D1, 1), row(datetime(2023, 3, 15), 2), row(45001, 3)]},
    )
    parsed = _parse(path)
    assert parsed.sheets[0].header_row == 2
    assert parsed.columns["date"] == [D1, D2, D3]
    assert parsed.columns["callsoffered"] == [1001, 1002, 1003]
    assert parsed.columns["servicelevel"] == [0.5 + 1 / 64, 0.5 + 2 / 64, 0.5 + 3 / 64]
    assert parsed.columns["source_row_number"] == [3, 4, 5]
    assert parsed.columns["load_issues"] == [None, None, None]


def test_dates_as_text_excel_dates_and_serial_numbers(tmp_path):
    rows: list[list[Cell]] = [
        HEADER,
        row("2023-03-14", 1),
        row(datetime(2023, 3, 15), 2),
        row(45001, 3),
        row("2023/03/17", 4),
    ]
    parsed = _parse(_book(tmp_path, {"Sheet1": rows}))
    assert parsed.columns["date"] == [D1, D2, D3, date(2023, 3, 17)]
    assert parsed.columns["load_issues"] == [None] * 4


def test_blank_rows_are_skipped(tmp_path):
    header: list[Cell] = [*HEADER, "Notes"]
    rows: list[list[Cell]] = [
        header,
        row(D1, 1),
        [],
        [None] * 7 + ["a note under the data"],
        ["", " ", None, "", None, None, None],
        row(D2, 2),
        [],
    ]
    parsed = _parse(_book(tmp_path, {"Sheet1": rows}))
    assert parsed.columns["source_row_number"] == [2, 6]
    assert parsed.columns["date"] == [D1, D2]
    assert parsed.sheets[0].rows == 2


def test_row_level_unreadable_values_land_as_null_with_load_issues(tmp_path):
    rows: list[list[Cell]] = [
        HEADER,
        row(D1, 1),
        row(D2, 2),
        [D3, "abc", 903, 53, "fast", 0.5, 3],
        [date(2023, 3, 17), 1004, 12.5, 54, 21.0, "85%", 4],
        [datetime(2023, 3, 18, 9, 30), 1005, 905, 55, 21.25, 0.5, 5],
    ]
    parsed = _parse(_book(tmp_path, {"Data": rows}))
    assert parsed.rows == 5
    assert parsed.columns["callsoffered"] == [1001, 1002, None, 1004, 1005]
    assert parsed.columns["averagespeedofanswer"][2] is None
    assert parsed.columns["callshandled"][3] is None
    assert parsed.columns["servicelevel"][3] == pytest.approx(0.85)
    assert parsed.columns["date"][4] is None
    assert parsed.columns["load_issues"] == [
        None,
        None,
        "CallsOffered (B4): 'abc' is not a number; "
        "AverageSpeedofAnswer (E4): 'fast' is not a number of seconds or a duration (h:mm:ss)",
        "CallsHandled (C5): 12.5 is not a whole number",
        "Date (A6): 2023-03-18 09:30 has a time of day (09:30); the Date column needs "
        "calendar dates",
    ]
    assert parsed.sheets[0].rows_with_issues == 3
    assert parsed.years == [2023, 2023, 2023, 2023, None]


def test_up_to_half_unreadable_dates_are_row_level(tmp_path):
    rows: list[list[Cell]] = [HEADER, row(D1, 1), row("x", 2), row(D3, 3), row("y", 4)]
    parsed = _parse(_book(tmp_path, {"Data": rows}))
    assert parsed.columns["date"] == [D1, None, D3, None]
    assert parsed.years == [2023, None, 2023, None]


# --- whole-file problems ---------------------------------------------------------------


def test_not_a_workbook(tmp_path):
    path = tmp_path / "export.xlsx"
    path.write_text("Date;CallsOffered\n2023-03-14;1000\n")
    exc = _error(path)
    assert exc.location == Location("export.xlsx")
    assert str(exc).startswith("export.xlsx: not a readable Excel workbook")


def test_empty_file_is_not_a_workbook(tmp_path):
    path = tmp_path / "empty.xlsx"
    path.write_bytes(b"")
    assert "empty.xlsx: not a readable Excel workbook" in str(_error(path))


def test_no_sheet_with_the_required_columns(tmp_path):
    exc = _error(_book(tmp_path, {"About": [["hello"]], "Numbers": [["a", "b"], [1, 2]]}))
    assert str(exc) == (
        "book.xlsx: no sheet has the required columns (Date and at least one of "
        "CallsOffered, CallsHandled, CallsAbandoned, AverageSpeedofAnswer, ServiceLevel) in "
        "a header row within its first 20 rows; sheets: 'About', 'Numbers'. Headers seen: "
        "sheet 'About' row 1: 'hello' | sheet 'Numbers' row 1: 'a', 'b'"
    )


def test_a_notes_sheet_naming_some_fields_is_skipped(tmp_path):
    notes = [
        ["Date", "CallsOffered", "Meaning"],
        ["the day", "calls that reached the queue", "see the portal"],
    ]
    book = _book(tmp_path, {"About": notes, "Data": [HEADER, row(date(2024, 1, 1), 1)]})
    parsed = parse_workbook("book.xlsx", book.read_bytes())
    assert [s.name for s in parsed.sheets] == ["Data"]
    assert parsed.skipped_sheets == ["About"]


def test_a_header_without_the_date_and_figures_under_it_is_an_error_beside_a_good_sheet(
    tmp_path,
):
    no_date = [REQUIRED_HEADER[1:3], [500, 400]]
    exc = _error(_book(tmp_path, {"Data": [HEADER, row(date(2024, 1, 1), 1)], "Extra": no_date}))
    assert str(exc) == (
        "book.xlsx, sheet 'Extra', row 1, column 'Date': required column missing: 'Date'; "
        "the header row has 'CallsOffered', 'CallsHandled'"
    )


def test_a_sheet_with_some_measures_is_a_partial_extract_beside_a_full_one(tmp_path):
    """The measures a sheet's header names are those its rows carry; a measure it does not
    name lands as null, recorded as not carried (not as a blank cell: no load issue)."""
    handled = [["Date", "CallsHandled"], [D2, 400], [D3, 401]]
    parsed = _parse(_book(tmp_path, {"Data": [HEADER, row(D1, 1)], "Handled": handled}))
    assert [(s.name, s.columns_carried) for s in parsed.sheets] == [
        (
            "Data",
            [
                "callsoffered",
                "callshandled",
                "callsabandoned",
                "averagespeedofanswer",
                "servicelevel",
            ],
        ),
        ("Handled", ["callshandled"]),
    ]
    assert parsed.columns_carried == [
        "callsoffered",
        "callshandled",
        "callsabandoned",
        "averagespeedofanswer",
        "servicelevel",
    ]
    assert parsed.columns["carried_columns"] == [
        "callsoffered,callshandled,callsabandoned,averagespeedofanswer,servicelevel",
        "callshandled",
        "callshandled",
    ]
    assert parsed.columns["callshandled"] == [901, 400, 401]
    assert parsed.columns["callsoffered"] == [1001, None, None]
    assert parsed.columns["load_issues"] == [None, None, None]


def test_the_split_pair_loads_as_two_partial_extracts(tmp_path):
    general = [
        ["Date", "CallsOffered", "CallsAbandoned", "ServiceLevel", "AverageSpeedofAnswer"],
        [D1, 1000, 50, 0.9, 20.0],
    ]
    parsed = _parse(xls(tmp_path / "callsGeneral.xls", {"Sheet1": general}))
    assert parsed.columns_carried == [
        "callsoffered",
        "callsabandoned",
        "averagespeedofanswer",
        "servicelevel",
    ]
    assert parsed.columns["callshandled"] == [None]
    parsed = _parse(
        xls(tmp_path / "callsHandled.xls", {"Sheet1": [["Date", "CallsHandled"], [D1, 900]]})
    )
    assert parsed.columns_carried == ["callshandled"]
    assert parsed.columns["carried_columns"] == ["callshandled"]
    assert parsed.columns["callshandled"] == [900]


def test_a_sheet_with_some_measures_and_no_figures_is_notes(tmp_path):
    """Naming the date and some measures with text under them is a sheet of notes:
    skipped beside a metrics sheet, the reason given when there is nothing else."""
    notes = [["Date", "CallsHandled", "Meaning"], ["the day", "answered calls", "see the portal"]]
    parsed = _parse(_book(tmp_path, {"Notes": notes, "Data": [HEADER, row(D1, 1)]}))
    assert [s.name for s in parsed.sheets] == ["Data"]
    assert parsed.skipped_sheets == ["Notes"]
    assert parsed.rows == 1
    exc = _error(_book(tmp_path, {"Notes": notes}, name="notes.xlsx"))
    assert str(exc) == (
        "notes.xlsx, sheet 'Notes', row 1: the header names Date, CallsHandled but no row "
        "under it has a readable date or figure; a metrics sheet needs Date and at least one "
        "of CallsOffered, CallsHandled, CallsAbandoned, AverageSpeedofAnswer, ServiceLevel "
        "with figures under them"
    )


def test_date_header_missing_names_the_file_the_sheet_and_date(tmp_path):
    exc = _error(_book(tmp_path, {"Data": [HEADER[1:], metrics(1)]}))
    assert str(exc) == (
        "book.xlsx, sheet 'Data', row 1, column 'Date': required column missing: 'Date'; "
        "the header row has 'CallsOffered', 'CallsHandled', 'CallsAbandoned', "
        "'AverageSpeedofAnswer', 'ServiceLevel', 'BI_ID'"
    )


def test_a_repeated_label_outside_the_header_row_is_not_an_error(tmp_path):
    about = [["Date", "Date"], ["2024-01-01", "notes"]]
    parsed = parse_workbook(
        "book.xlsx", _book(tmp_path, {"About": about, "Data": [HEADER, metrics(1)]}).read_bytes()
    )
    assert [s.name for s in parsed.sheets] == ["Data"]
    assert parsed.skipped_sheets == ["About"]


def test_only_hidden_sheets_carry_metrics(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "Cover"
    hidden = wb.create_sheet("Data")
    hidden.sheet_state = "hidden"
    hidden.append(HEADER)
    hidden.append(row(D1, 1))
    path = tmp_path / "hidden-only.xlsx"
    wb.save(path)
    assert "no sheet has the required columns" in str(_error(path))


@pytest.mark.parametrize(
    ("drop", "carried"),
    [
        pytest.param(
            ["CallsHandled"],
            "callsoffered,callsabandoned,averagespeedofanswer,servicelevel",
            id="calls-handled",
        ),
        pytest.param(
            ["CallsAbandoned", "ServiceLevel"],
            "callsoffered,callshandled,averagespeedofanswer",
            id="two-columns",
        ),
    ],
)
def test_measure_columns_missing_make_a_partial_extract(tmp_path, drop, carried):
    keep = [i for i, h in enumerate(HEADER) if h not in drop]
    rows = [[r[i] for i in keep] for r in [HEADER, row(D1, 1)]]
    parsed = _parse(_book(tmp_path, {"Title": [["x"]], "Data": [["Report"], *rows]}))
    assert parsed.columns["carried_columns"] == [carried]
    assert parsed.columns["load_issues"] == [None]
    for label in drop:
        assert parsed.columns[label.lower()] == [None]


def test_a_header_without_any_measure_is_an_error(tmp_path):
    exc = _error(_book(tmp_path, {"Data": [["Report"], ["Date", "BI_ID"], [D1, 1]]}))
    assert exc.location == Location("book.xlsx", "Data", 2)
    assert str(exc) == (
        "book.xlsx, sheet 'Data', row 2: no measure column in the header: a metrics sheet "
        "needs Date and at least one of CallsOffered, CallsHandled, CallsAbandoned, "
        "AverageSpeedofAnswer, ServiceLevel; name the figures' columns in the header row; "
        "the header row has 'Date', 'BI_ID'"
    )


def test_no_data_rows(tmp_path):
    exc = _error(_book(tmp_path, {"Data": [HEADER, [], [None] * 7]}))
    assert str(exc) == "book.xlsx: no data rows under the header (sheets 'Data')"


def test_date_column_that_cannot_be_read(tmp_path):
    rows: list[list[Cell]] = [
        ["Title"],
        HEADER,
        row(D1, 1),
        row("March 14", 2),
        row("n/a", 3),
        row(True, 4),
        row(None, 5),
    ]
    exc = _error(_book(tmp_path, {"Data": rows}))
    assert exc.location == Location("book.xlsx", "Data", 4, "Date")
    assert str(exc) == (
        "book.xlsx, sheet 'Data', row 4, column 'Date': the date column (A) cannot be read: "
        "3 of 4 values are not dates, the first is 'March 14'; "
        "dates must be Excel dates or text as YYYY-MM-DD"
    )


def test_date_column_of_timestamps_cannot_be_read(tmp_path):
    rows = [HEADER, *(row(datetime(2023, 3, d, 8), d) for d in (14, 15, 16))]
    exc = _error(_book(tmp_path, {"Data": rows}))
    assert "column 'Date'" in str(exc)
    assert "3 of 3 values are not dates" in str(exc)


@pytest.mark.parametrize(
    ("header", "column", "letters"),
    [
        pytest.param([*HEADER, "Calls Offered"], "CallsOffered", "B and H", id="spelled-apart"),
        pytest.param(["date", *HEADER], "Date", "A and B", id="date-twice"),
    ],
)
def test_duplicate_header(tmp_path, header, column, letters):
    exc = _error(_book(tmp_path, {"Data": [header, [D1, *metrics(1), 1]]}))
    assert exc.location == Location("book.xlsx", "Data", 1, column)
    assert str(exc) == (
        f"book.xlsx, sheet 'Data', row 1, column {column!r}: "
        f"the header appears more than once, in columns {letters}"
    )


def test_a_bad_sheet_fails_the_file_even_after_a_good_one(tmp_path):
    sheets: dict[str, list[list[Cell]]] = {
        "Good": [HEADER, row(D1, 1)],
        "Bad": [REQUIRED_HEADER[1:3], [5, 4]],
    }
    exc = _error(_book(tmp_path, sheets))
    assert exc.location.sheet == "Bad"
    assert exc.location.column == "Date"


@pytest.mark.parametrize(
    ("index", "letter"), [(0, "A"), (25, "Z"), (26, "AA"), (27, "AB"), (701, "ZZ"), (702, "AAA")]
)
def test_column_letter(index, letter):
    assert column_letter(index) == letter


# --- the bulk reader against a row-by-row oracle ---------------------------------------------

_ODD_CELLS: list[object] = [
    None, "", "  ", "12", " 7 ", "1,234", "abc", "2023-03-14", "14/03/2023", True, 3,
    1.5, -2.0, float("nan"), float("inf"), 2.0**63, -(2.0**63), 1e300, 0.25,
    date(2023, 3, 16), datetime(2023, 3, 17, 0, 0), datetime(2023, 3, 18, 9, 30),
]  # fmt: skip


def _random_column(rng: random.Random, kind: str, rows: int) -> list[object]:
    """Cells of one column: mostly of the usual kind (read in bulk), sometimes with odd
    cells mixed in (read cell by cell), sometimes blank."""

    def usual() -> object:
        if kind == "date":
            return date(2020, 1, 1) + timedelta(days=rng.randrange(2000))
        if kind == "count":
            return float(rng.randrange(-5, 3000))
        return rng.uniform(0, 100)

    mode = rng.choice(["usual", "usual", "mixed", "odd-floats", "blank-ish"])
    if mode == "usual":
        return [usual() for _ in range(rows)]
    if mode == "odd-floats" and kind != "date":  # all floats: the bulk reader tries them
        odd = [v for v in _ODD_CELLS if type(v) is float]
        return [rng.choice(odd) if rng.random() < 0.2 else usual() for _ in range(rows)]
    share = 0.2 if mode == "mixed" else 0.9
    return [
        (None if mode == "blank-ish" else rng.choice(_ODD_CELLS))
        if rng.random() < share
        else usual()
        for _ in range(rows)
    ]


def _row_by_row(
    rows: list[list[object]], positions: dict[MetricColumn, int], first_row: int, notes: CellNotes
) -> tuple[dict[str, list[object]], int, list[tuple[int, str]]]:
    """What the reader must produce, typed one row at a time with the column parsers."""
    out: dict[str, list[object]] = {c.raw_name: [] for c in METRIC_COLUMNS}
    out |= {"load_issues": [], "source_row_number": []}
    dates_seen, date_problems = 0, []
    for offset, cells in enumerate(rows):
        number = first_row + offset
        raw = {c: cells[i] if i < len(cells) else None for c, i in positions.items()}
        noted = {c: notes.get((number - 1, i)) for c, i in positions.items()}
        if all(is_blank(v) for v in raw.values()) and not any(noted.values()):
            continue
        issues = []
        for column, index in positions.items():
            note = noted[column] if is_blank(raw[column]) else None
            value, problem = (None, note) if note else PARSERS[column.kind](raw[column])
            out[column.raw_name].append(value)
            if problem:
                issues.append(f"{column.label} ({column_letter(index)}{number}): {problem}")
            if column is DATE_COLUMN and (value is not None or problem is not None):
                dates_seen += 1
                if problem is not None:
                    date_problems.append((number, note or quote(raw[column])))
        for column in METRIC_COLUMNS:
            if column not in positions:
                out[column.raw_name].append(None)
        out["load_issues"].append("; ".join(issues) or None)
        out["source_row_number"].append(number)
    return out, dates_seen, date_problems


@pytest.mark.parametrize("seed", range(40))
def test_bulk_reader_types_like_row_by_row(seed: int) -> None:
    rng = random.Random(seed)
    columns = [c for c in METRIC_COLUMNS if c.required or rng.random() < 0.5]
    indexes = rng.sample(range(len(columns) + 2), len(columns))  # gaps: unread columns
    positions = dict(zip(columns, indexes, strict=True))
    rows_count = rng.choice([1, 7, 300])
    grid: list[list[object]] = [[None] * (max(indexes) + 1) for _ in range(rows_count)]
    for column, index in positions.items():
        for r, value in enumerate(_random_column(rng, column.kind, rows_count)):
            grid[r][index] = value
    for r in rng.sample(range(rows_count), rows_count // 10):  # blank rows, some ragged
        grid[r] = [None, "  "][: rng.randrange(3)]
    first_row = rng.randrange(2, 50)
    notes: CellNotes = {}
    for r, cells in enumerate(grid):
        for index in positions.values():
            if (index >= len(cells) or is_blank(cells[index])) and rng.random() < 0.05:
                notes[(first_row + r - 1, index)] = rng.choice(
                    ["error cell #N/A", "formula with no saved value"]
                )

    columns_out = _Columns()
    typing = _SheetTyping(positions, notes, columns_out)
    kept, with_issues = typing.read(list(grid), first_row, "Sheet")
    want, dates_seen, date_problems = _row_by_row(grid, positions, first_row, notes)

    assert kept == len(want["source_row_number"])
    assert with_issues == sum(v is not None for v in want["load_issues"])
    for name, values in want.items():
        assert columns_out.column(name).to_pylist() == values, name
    assert columns_out.column("source_sheet").to_pylist() == ["Sheet"] * kept
    assert (typing.dates_seen, typing.date_problems) == (dates_seen, date_problems)
