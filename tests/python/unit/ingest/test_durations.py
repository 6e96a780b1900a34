"""Speed of answer as durations (Excel ``[h]:mm:ss`` and ``h:mm:ss`` cells, ``h:mm:ss``
text) lands as seconds; a duration in any other column is refused per cell, in words."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta

import pyarrow as pa
import pytest

from dap.ingest.cells import parse_count, parse_number, parse_seconds
from dap.ingest.formats import parse_file
from dap.ingest.workbook import parse_workbook
from dap.ingest.workbook._parsed import _Columns
from dap.ingest.workbook._typing import _BULK, _SheetTyping
from dap.samples.excel_writer import Cell
from dap.schema import METRIC_COLUMNS
from testkit.tricky_cells import duration_book
from testkit.workbooks import HEADER, xlsx

D = date(2023, 3, 1)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        pytest.param(timedelta(seconds=14), 14.0, id="duration"),
        pytest.param(timedelta(hours=1, minutes=2, seconds=3.5), 3723.5, id="duration-long"),
        pytest.param(time(0, 0, 14), 14.0, id="time-of-day-format"),
        pytest.param(time(0, 1, 2, 500000), 62.5, id="time-with-fraction"),
        pytest.param("0:00:14", 14.0, id="text"),
        pytest.param(" 00:01:05 ", 65.0, id="text-padded"),
        pytest.param("1:00:00.25", 3600.25, id="text-fraction"),
        pytest.param(14.0, 14.0, id="seconds-float"),
        pytest.param(14, 14.0, id="seconds-int"),
        pytest.param("21.5", 21.5, id="seconds-text"),
    ],
)
def test_parse_seconds_reads(value, seconds):
    parsed, problem = parse_seconds(value)
    assert problem is None
    assert parsed == seconds
    assert type(parsed) is float


@pytest.mark.parametrize("value", [None, "", "  "])
def test_parse_seconds_blank(value):
    assert parse_seconds(value) == (None, None)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        pytest.param(
            "fast", "'fast' is not a number of seconds or a duration (h:mm:ss)", id="text"
        ),
        pytest.param("0:14", "'0:14' is not a number of seconds or a duration (h:mm:ss)", id="hm"),
        pytest.param("0:00:75", "'0:00:75' is not a number of seconds", id="bad-seconds"),
        pytest.param(
            datetime(1900, 1, 1, 0, 0, 14),
            "1900-01-01 00:00:14 is a date, not a duration or a number of seconds",
            id="datetime",
        ),
        pytest.param(D, "2023-03-01 is a date, not a duration or a number of seconds", id="date"),
        pytest.param(True, "True is not a number", id="bool"),
        pytest.param(math.nan, "nan is not a number", id="nan"),
    ],
)
def test_parse_seconds_problems(value, problem):
    parsed, found = parse_seconds(value)
    assert parsed is None
    assert found is not None
    assert found.startswith(problem)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        pytest.param(timedelta(seconds=14), "0:00:14 is a duration (h:mm:ss), not a number"),
        pytest.param(time(0, 0, 14), "00:00:14 is a duration (h:mm:ss), not a number"),
        pytest.param(D, "2023-03-01 is a date, not a number"),
    ],
)
@pytest.mark.parametrize("parser", [parse_number, parse_count])
def test_a_duration_is_not_a_number_elsewhere(parser, value, problem):
    assert parser(value) == (None, problem)


@pytest.mark.parametrize("style", ["[h]:mm:ss", "h:mm:ss", "text"])
def test_speed_of_answer_as_durations_lands_as_seconds(style):
    book = duration_book(style)
    parsed = parse_file(book.name, book.data)
    want = [f["avg_speed_of_answer_seconds"] for f in book.expected.values()]
    assert parsed.columns["averagespeedofanswer"] == want
    assert parsed.columns["date"] == list(book.expected)
    assert parsed.columns["load_issues"] == [None] * len(want)


def test_a_duration_in_service_level_or_a_count_is_refused_per_cell(tmp_path):
    rows: list[list[Cell]] = [
        HEADER,
        [D, timedelta(seconds=900), 900, 50, timedelta(seconds=14), 0.5, 1],
        [D + timedelta(days=1), 1000, 900, 50, 14.0, timedelta(seconds=30), 2],
    ]
    path = xlsx(tmp_path / "b.xlsx", {"Data": rows})
    parsed = parse_workbook(path.name, path.read_bytes())
    assert parsed.columns["callsoffered"] == [None, 1000]
    assert parsed.columns["averagespeedofanswer"] == [14.0, 14.0]
    assert parsed.columns["servicelevel"] == [0.5, None]
    assert parsed.columns["load_issues"] == [
        "CallsOffered (B2): 0:15:00 is a duration (h:mm:ss), not a number",
        "ServiceLevel (F3): 0:00:30 is a duration (h:mm:ss), not a number",
    ]


def test_seconds_as_floats_stay_on_the_bulk_path():
    floats: list[object] = [14.0, 15.5, 0.0]
    bulk = _BULK["seconds"](floats)
    assert bulk is not None
    assert bulk.to_pylist() == floats
    assert _BULK["seconds"]([14.0, timedelta(seconds=3)]) is None  # durations: cell by cell


def test_a_column_mixing_seconds_and_durations_types_each_cell():
    positions = {METRIC_COLUMNS[0]: 0, METRIC_COLUMNS[4]: 1}
    out = _Columns()
    grid: list[list[object]] = [
        [D, 14.0],
        [D, timedelta(seconds=15)],
        [D, time(0, 0, 16)],
        [D, "0:00:17"],
    ]
    _SheetTyping(positions, {}, out).read(list(grid), 2, "Data")
    column = out.column("averagespeedofanswer")
    assert column.type == pa.float64()
    assert column.to_pylist() == [14.0, 15.0, 16.0, 17.0]
