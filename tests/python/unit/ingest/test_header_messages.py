"""Header messages show the headers seen (escaped) and the nearest match for each column
missing; a header very like a measure the sheet lacks is refused as probably misnamed."""

from __future__ import annotations

from datetime import date

import pytest

from dap.errors import WorkbookError
from dap.ingest.formats import parse_file
from dap.ingest.workbook import parse_workbook
from dap.ingest.workbook._sheets import near_matches, shown_headers
from dap.samples.excel_writer import Cell
from dap.schema import MEASURE_COLUMNS, METRIC_COLUMNS
from testkit.workbooks import HEADER, metrics, xlsx

D = date(2023, 3, 1)


def _refusal(tmp_path, sheets: dict[str, list[list[Cell]]]) -> WorkbookError:
    path = xlsx(tmp_path / "book.xlsx", sheets)
    with pytest.raises(WorkbookError) as caught:
        parse_workbook(path.name, path.read_bytes())
    return caught.value


def test_no_sheet_qualifies_shows_each_sheets_headers_and_the_nearest_match(tmp_path):
    wording: list[Cell] = ["Day", "Offered", "Handled", "Avg Speed of Answer", "Service Level %"]
    exc = _refusal(
        tmp_path,
        {
            "About": [["Notes"], ["the City's extract"]],
            "Calls": [["Daily calls"], wording, [D, 5, 4, 20.0, 0.5]],
        },
    )
    message = str(exc)
    assert exc.code == "no_metric_sheet"
    assert message.startswith("book.xlsx: no sheet has the required columns")
    assert "Headers seen: sheet 'About' row 1: 'Notes' | sheet 'Calls' row 2: 'Day', " in message
    assert "'Avg Speed of Answer' may be meant as AverageSpeedofAnswer: rename the header" in (
        message
    )
    assert "'Service Level %' may be meant as ServiceLevel: rename the header" in message
    assert "'Offered' may be meant as CallsOffered: rename the header" in message


def test_the_most_header_like_row_is_shown(tmp_path):
    rows: list[list[Cell]] = [["Report"], ["Day", "Offered calls", "Handled calls"], [D, 1, 2]]
    exc = _refusal(tmp_path, {"Calls": rows})
    assert "sheet 'Calls' row 2: 'Day', 'Offered calls', 'Handled calls'" in str(exc)


def test_at_most_ten_headers_are_shown_and_invisible_characters_escaped():
    texts = [f"h{i}" for i in range(12)]
    assert shown_headers(texts) == ", ".join(f"'h{i}'" for i in range(10)) + " and 2 more"
    assert shown_headers(["Date\u200b", "Calls\tOffered", "a\nb", "x\u202fy", "plain text"]) == (
        "'Date\\u200b', 'Calls\\tOffered', 'a\\nb', 'x\\u202fy', 'plain text'"
    )


def test_escaped_headers_cannot_forge_a_line(tmp_path):
    rows: list[list[Cell]] = [["Day\nerror: forged", "Offered\u202edesrever"], [D, 1]]
    message = str(_refusal(tmp_path, {"Calls": rows}))
    assert "\n" not in message
    assert "\u202e" not in message
    assert "'Day\\nerror: forged', 'Offered\\u202edesrever'" in message


def test_a_required_column_missing_shows_the_row_and_the_nearest_match(tmp_path):
    header: list[Cell] = ["Dates", *HEADER[1:]]
    exc = _refusal(tmp_path, {"Data": [header, [D, *metrics(1)]]})
    assert exc.code == "missing_column"
    assert exc.location.column == "Date"
    assert str(exc) == (
        "book.xlsx, sheet 'Data', row 1, column 'Date': required column missing: 'Date'; "
        "the header row has 'Dates', 'CallsOffered', 'CallsHandled', 'CallsAbandoned', "
        "'AverageSpeedofAnswer', 'ServiceLevel', 'BI_ID'; 'Dates' may be meant as Date: "
        "rename the header"
    )


def test_a_measure_misnamed_beside_a_good_header_is_refused(tmp_path):
    header: list[Cell] = [*HEADER[:4], "Avg Speed of Answer", "Service Level %"]
    exc = _refusal(tmp_path, {"Data": [header, [D, 5, 4, 1, 20.0, 0.5]]})
    assert exc.code == "missing_column"
    message = str(exc)
    assert message.startswith(
        "book.xlsx, sheet 'Data', row 1: the header row has no AverageSpeedofAnswer or "
        "ServiceLevel column, and 'Avg Speed of Answer' may be meant as AverageSpeedofAnswer"
    )
    assert "'Service Level %' may be meant as ServiceLevel: rename the header" in message


def test_a_sheet_with_an_unrelated_extra_column_still_loads_as_partial(tmp_path):
    header: list[Cell] = ["Date", "CallsHandled", "Comment", "Region"]
    path = xlsx(tmp_path / "b.xlsx", {"Data": [header, [D, 5, "ok", "west"]]})
    parsed = parse_workbook(path.name, path.read_bytes())
    assert parsed.columns_carried == ["callshandled"]


@pytest.mark.parametrize(
    "spelled",
    ["Calls\u200bOffered", "Calls\u2009Offered", "Calls\u202fOffered", "\ufeffCallsOffered"],
    ids=["zero-width", "thin", "narrow-no-break", "byte-order-mark"],
)
def test_headers_still_match_over_invisible_characters(tmp_path, spelled):
    header: list[Cell] = ["Date", spelled, *HEADER[2:]]
    path = xlsx(tmp_path / "b.xlsx", {"Data": [header, [D, *metrics(1)]]})
    assert parse_workbook(path.name, path.read_bytes()).columns["callsoffered"] == [1001]


def test_a_csv_without_the_header_shows_what_it_saw():
    text = "Day,Offered,Avg Speed of Answer\n2023-03-01,5,20\n"
    with pytest.raises(WorkbookError) as caught:
        parse_file("calls.csv", text.encode())
    message = str(caught.value)
    assert "Headers seen: sheet 'csv' row 1: 'Day', 'Offered', 'Avg Speed of Answer'" in message
    assert "'Avg Speed of Answer' may be meant as AverageSpeedofAnswer" in message


def test_near_matches_leave_known_names_and_unlike_texts_alone():
    assert near_matches(["CallsOffered", "Region"], list(MEASURE_COLUMNS), 0.7) == []
    assert near_matches(["Calls offered total"], [METRIC_COLUMNS[1]], 0.7) == [
        "'Calls offered total' may be meant as CallsOffered: rename the header"
    ]
