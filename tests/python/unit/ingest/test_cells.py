"""Turning one spreadsheet cell into one typed value (or a problem quoting the value)."""

from __future__ import annotations

import math
from datetime import date, datetime

import pytest

from dap.ingest.cells import (
    PARSERS,
    is_blank,
    parse_count,
    parse_date,
    parse_number,
    parse_seconds,
    quote,
)

BLANKS = [None, "", "   ", "\t"]


@pytest.mark.parametrize("value", BLANKS)
@pytest.mark.parametrize("parser", [parse_date, parse_count, parse_number])
def test_blank_cell_is_missing_not_unreadable(parser, value):
    assert parser(value) == (None, None)
    assert is_blank(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(date(2023, 3, 15), date(2023, 3, 15), id="date"),
        pytest.param(datetime(2023, 3, 15), date(2023, 3, 15), id="datetime-midnight"),
        pytest.param("2023-03-15", date(2023, 3, 15), id="iso-text"),
        pytest.param(" 2023-03-15 ", date(2023, 3, 15), id="iso-text-padded"),
        pytest.param("2023/03/15", date(2023, 3, 15), id="slashes"),
        pytest.param("2023-3-5", date(2023, 3, 5), id="single-digit-month-day"),
        pytest.param("2023-03-15T00:00:00", date(2023, 3, 15), id="iso-T-midnight"),
        pytest.param("2023-03-15 00:00", date(2023, 3, 15), id="iso-space-midnight"),
        pytest.param("2023-03-15T00:00:00.000", date(2023, 3, 15), id="iso-midnight-fraction"),
        pytest.param(45000, date(2023, 3, 15), id="serial-int"),
        pytest.param(45000.0, date(2023, 3, 15), id="serial-float"),
        pytest.param(39979, date(2009, 6, 15), id="serial-first-day-of-dataset"),
        pytest.param(61, date(1900, 3, 1), id="serial-first-after-excel-leap-bug"),
        pytest.param(45565, date(2024, 9, 30), id="serial-last-day-of-dataset"),
        pytest.param("2024-02-29", date(2024, 2, 29), id="leap-day"),
    ],
)
def test_parse_date_reads(value, expected):
    parsed, problem = parse_date(value)
    assert problem is None
    assert parsed == expected
    assert type(parsed) is date  # never a datetime: the raw column is date32


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        pytest.param(datetime(2023, 3, 15, 8, 30), "has a time of day", id="datetime-with-time"),
        pytest.param(45000.5, "45000.5 is not an Excel date serial", id="serial-fraction"),
        pytest.param(0, "is not an Excel date serial", id="serial-zero"),
        pytest.param(60, "is not an Excel date serial", id="serial-1900-02-29-that-never-was"),
        pytest.param(-3, "is not an Excel date serial", id="serial-negative"),
        pytest.param(3_000_000, "is not an Excel date serial", id="serial-after-9999"),
        pytest.param(math.nan, "is not an Excel date serial", id="nan"),
        pytest.param(math.inf, "is not an Excel date serial", id="inf"),
        pytest.param(True, "True is not a date", id="bool-true"),
        pytest.param(False, "False is not a date", id="bool-false"),
        pytest.param("not a date", "'not a date' is not a date", id="garbage"),
        pytest.param("15/03/2023", "'15/03/2023' is not a date", id="day-first"),
        pytest.param(
            "2023-03-15T10:00:00",
            "'2023-03-15T10:00:00' has a time of day (10:00); the Date column needs calendar dates",
            id="iso-with-time",
        ),
        pytest.param("2023-02-30", "'2023-02-30' is not a valid calendar date", id="feb-30"),
        pytest.param("2023-13-01", "is not a valid calendar date", id="month-13"),
        pytest.param("2023-02-29", "is not a valid calendar date", id="not-a-leap-year"),
    ],
)
def test_parse_date_problems(value, fragment):
    parsed, problem = parse_date(value)
    assert parsed is None
    assert problem is not None
    assert fragment in problem


def test_parse_date_problem_quotes_the_value_as_received():
    _, problem = parse_date("  Total  ")
    assert problem == "'Total' is not a date (expected an Excel date or YYYY-MM-DD)"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(7, 7, id="int"),
        pytest.param(5.0, 5, id="whole-float"),
        pytest.param("1,234", 1234, id="thousands-separator"),
        pytest.param(" 7 ", 7, id="padded-text"),
        pytest.param("5.0", 5, id="whole-float-text"),
        pytest.param("1 234", 1234, id="space-separator"),
        pytest.param(0, 0, id="zero"),
        pytest.param(-3, -3, id="negative-kept-for-dbt"),
        pytest.param(12_345_678_901, 12_345_678_901, id="beyond-int32"),
        pytest.param(-(2**63), -(2**63), id="int64-min"),
    ],
)
def test_parse_count_reads(value, expected):
    parsed, problem = parse_count(value)
    assert problem is None
    assert parsed == expected
    assert type(parsed) is int


@pytest.mark.parametrize(
    ("value", "expected_problem"),
    [
        pytest.param(12.5, "12.5 is not a whole number", id="fraction"),
        pytest.param("12.5", "'12.5' is not a whole number", id="fraction-text"),
        pytest.param("abc", "'abc' is not a number", id="text"),
        pytest.param(True, "True is not a number", id="bool"),
        pytest.param(math.nan, "nan is not a number", id="nan"),
        pytest.param(math.inf, "inf is not a number", id="inf"),
        pytest.param(-math.inf, "-inf is not a number", id="minus-inf"),
        pytest.param("nan", "'nan' is not a number", id="nan-text"),
        pytest.param("85%", "'85%' is not a whole number", id="percent"),
        pytest.param(date(2023, 1, 1), "2023-01-01 is a date, not a number", id="date"),
        pytest.param(1e19, "1e+19 is too large for a count", id="beyond-int64"),
        pytest.param("-1e19", "'-1e19' is too large for a count", id="beyond-int64-negative"),
    ],
)
def test_parse_count_problems(value, expected_problem):
    assert parse_count(value) == (None, expected_problem)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(0.85, 0.85, id="float"),
        pytest.param(3, 3.0, id="int"),
        pytest.param("85%", 0.85, id="percent"),
        pytest.param(" 85.5 % ", 0.855, id="percent-padded"),
        pytest.param("12.25", 12.25, id="text"),
        pytest.param("1,234.5", 1234.5, id="thousands-separator"),
        pytest.param("-2", -2.0, id="negative"),
        pytest.param("1e3", 1000.0, id="exponent"),
        pytest.param(0.8502174324324324, 0.8502174324324324, id="full-precision"),
    ],
)
def test_parse_number_reads(value, expected):
    parsed, problem = parse_number(value)
    assert problem is None
    assert type(parsed) is float
    assert parsed == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(
    ("value", "expected_problem"),
    [
        pytest.param("abc", "'abc' is not a number", id="text"),
        pytest.param("85 percent", "'85 percent' is not a number", id="words"),
        pytest.param(True, "True is not a number", id="bool"),
        pytest.param(math.nan, "nan is not a number", id="nan"),
        pytest.param(math.inf, "inf is not a number", id="inf"),
        pytest.param("inf", "'inf' is not a number", id="inf-text"),
        pytest.param("%", "'%' is not a number", id="bare-percent"),
    ],
)
def test_parse_number_problems(value, expected_problem):
    assert parse_number(value) == (None, expected_problem)


def test_quote_shortens_long_values():
    text = quote("x" * 200)
    assert len(text) <= 40
    assert text.startswith("'xxx")
    assert text.endswith("...'")
    assert quote("  abc ") == "'abc'"
    assert quote(12.5) == "12.5"


def test_parsers_cover_every_kind():
    assert {
        "date": parse_date,
        "count": parse_count,
        "number": parse_number,
        "seconds": parse_seconds,
    } == PARSERS
