"""Turning one spreadsheet cell into one typed value.

Each parser returns ``(value, problem)``: the typed value, or ``None`` and a short
description of why the cell could not be read (the value as received is quoted in it).
An empty cell is ``(None, None)``: missing, not unreadable. Business rules (negative
counts, handled above offered, ...) are not checked here; dbt routes those.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta

from dap.schema import Kind

ParseResult = tuple[object, str | None]

EXCEL_EPOCH = date(1899, 12, 30)
"""Day zero of Excel's 1900 date system for serials from 61 (1900-03-01) on; below that
Excel counts a 29 February 1900 that never was, so those serials are not read as dates."""
_MIN_SERIAL = 61
_MAX_SERIAL = 2_958_465  # 9999-12-31
_ISO_DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[T ]00:00(?::00(?:\.0+)?)?)?$")
_NUMBER_TEXT = re.compile(
    r"""
    [+-]?
    (?: [0-9]{1,3} (?: ,[0-9]{3} )+         # 1,234,567
      | [0-9]{1,3} (?: [ \u00a0\u202f][0-9]{3} )+   # 1 234 567 (space, no-break spaces)
      | [0-9]+ )
    (?: \.[0-9]* )?
    | [+-]? \.[0-9]+
    """,
    re.VERBOSE,
)
"""Numbers as text: ASCII digits, an optional sign, thousands separators only between
groups of three (so the decimal comma of ``12,5`` is not read as 125), a decimal point and
an exponent (split off before matching). Not ``1_000``, ``0x10``, ``nan``, ``inf`` or digits
of other scripts (Python's ``float()`` takes all of those, Excel none)."""
_EXPONENT = re.compile(r"[eE][+-]?[0-9]{1,4}$")
_QUOTE_LIMIT = 40
_INT64 = range(-(2**63), 2**63)
"""Counts land as int64; a larger whole number is unreadable, not a crash when writing."""


def quote(value: object) -> str:
    """The value as received, shortened for messages."""
    text = repr(value) if not isinstance(value, str) else repr(value.strip())
    return text if len(text) <= _QUOTE_LIMIT else text[: _QUOTE_LIMIT - 4] + "...'"


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def parse_date(value: object) -> ParseResult:  # noqa: PLR0911 - one return per cell type
    if type(value) is date:  # the common case first: an Excel date
        return value, None
    if is_blank(value):
        return None, None
    if isinstance(value, datetime):
        if value.time() != datetime.min.time():
            return None, f"{quote(value)} has a time of day, not a calendar date"
        return value.date(), None
    if isinstance(value, date):
        return value, None
    if isinstance(value, bool):
        return None, f"{quote(value)} is not a date"
    if isinstance(value, int | float):
        return _from_serial(float(value))
    if isinstance(value, str):
        match = _ISO_DATE.match(value.strip())
        if match:
            try:
                return date(*(int(part) for part in match.groups())), None
            except ValueError:
                return None, f"{quote(value)} is not a valid calendar date"
    return None, f"{quote(value)} is not a date (expected an Excel date or YYYY-MM-DD)"


def _from_serial(serial: float) -> ParseResult:
    in_range = _MIN_SERIAL <= serial <= _MAX_SERIAL
    if not math.isfinite(serial) or not serial.is_integer() or not in_range:
        return None, f"{quote(serial)} is not an Excel date serial"
    return EXCEL_EPOCH + timedelta(days=int(serial)), None


def _number_from_text(text: str) -> float | None:
    """A number written as text (see :data:`_NUMBER_TEXT`); ``85%`` is 0.85."""
    cleaned = text.strip()
    scale = 1.0
    if cleaned.endswith("%"):
        cleaned, scale = cleaned[:-1].rstrip(), 0.01
    exponent = _EXPONENT.search(cleaned)
    mantissa = cleaned[: exponent.start()] if exponent else cleaned
    if not _NUMBER_TEXT.fullmatch(mantissa):
        return None
    digits = mantissa.replace(",", "").replace(" ", "").replace("\u00a0", "")
    number = float(digits.replace("\u202f", "") + (exponent.group() if exponent else ""))
    return number * scale if math.isfinite(number) else None


def parse_number(value: object) -> ParseResult:
    if type(value) is float and math.isfinite(value):  # the common case first
        return value, None
    if is_blank(value):
        return None, None
    if isinstance(value, bool):
        return None, f"{quote(value)} is not a number"
    if isinstance(value, int | float):
        number: float | None = float(value)
        if number is not None and not math.isfinite(number):
            number = None
    elif isinstance(value, str):
        number = _number_from_text(value)
    else:
        number = None
    if number is None:
        return None, f"{quote(value)} is not a number"
    return number, None


def parse_count(value: object) -> ParseResult:
    if type(value) is float and value.is_integer() and -(2.0**63) <= value < 2.0**63:
        return int(value), None  # the common case first (is_integer() is False for nan, inf)
    number, problem = parse_number(value)
    if number is None:
        return None, problem
    assert isinstance(number, float)
    if not number.is_integer():
        return None, f"{quote(value)} is not a whole number"
    if int(number) not in _INT64:
        return None, f"{quote(value)} is too large for a count"
    return int(number), None


PARSERS: dict[Kind, Callable[[object], ParseResult]] = {
    "date": parse_date,
    "count": parse_count,
    "number": parse_number,
}
