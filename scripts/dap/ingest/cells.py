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
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from dap.schema import DATE_COLUMN, Kind

ParseResult = tuple[object, str | None]
DATE_LABEL = DATE_COLUMN.label


@dataclass(frozen=True)
class DateSystem:
    """How a workbook counts days: serial ``n`` is ``epoch + n`` days, for serials from
    ``first_serial`` up to 9999-12-31. The workbook says which
    (:mod:`dap.ingest.workbook._date_system`)."""

    name: str
    epoch: date
    first_serial: int

    @property
    def last_serial(self) -> int:
        return (date(9999, 12, 31) - self.epoch).days


EXCEL_1900 = DateSystem("1900", date(1899, 12, 30), 61)
"""Excel's default: day zero 1899-12-30 for serials from 61 (1900-03-01) on; below that
Excel counts a 29 February 1900 that never was, so those serials are not read as dates."""
EXCEL_1904 = DateSystem("1904", date(1904, 1, 1), 0)
"""Excel's 1904 date system (old Mac workbooks, "Use 1904 date system"): serial 0 is
1904-01-01, so the same serial is 1,462 days later than in the 1900 system."""
EXCEL_EPOCH = EXCEL_1900.epoch
_ISO_DATE = re.compile(
    r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?$"
)
_OTHER_DATE_TEXT = re.compile(r"^(\d{1,2})([./-])(\d{1,2})\2(\d{2}|\d{4})$")
"""Day and month before the year (``13/03/2023``, ``3/13/2023``, ``1.3.23``): which is the
day depends on the tool that wrote it, so it is never guessed (:func:`text_date_order`)."""
_DURATION_TEXT = re.compile(r"^(\d{1,6}):([0-5]\d):([0-5]\d(?:\.\d+)?)$")
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
    """The value as received, shortened for messages: text in quotes, dates, times and
    durations as a spreadsheet shows them (``2023-03-01 08:00``, ``0:00:14``), never as a
    Python repr."""
    if isinstance(value, str):
        text = repr(value.strip())
        return text if len(text) <= _QUOTE_LIMIT else text[: _QUOTE_LIMIT - 4] + "...'"
    if isinstance(value, datetime):
        return f"{value.date().isoformat()} {_clock(value.time())}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return _clock(value)
    if isinstance(value, timedelta):
        return _duration(value)
    text = repr(value)
    return text if len(text) <= _QUOTE_LIMIT else text[: _QUOTE_LIMIT - 3] + "..."


def _clock(moment: time) -> str:
    """``08:00``, ``08:00:14``, ``08:00:14.5``: seconds only when there are some."""
    text = f"{moment.hour:02d}:{moment.minute:02d}"
    if moment.second or moment.microsecond:
        text += f":{moment.second:02d}"
    if moment.microsecond:
        text += f"{moment.microsecond / 1e6:.6f}".rstrip("0")[1:]
    return text


def _duration(span: timedelta) -> str:
    """``0:00:14``, ``26:03:00``, ``-0:00:05`` (hours past 24 kept, as ``[h]:mm:ss``)."""
    sign, span = ("-", -span) if span < timedelta(0) else ("", span)
    whole = int(span.total_seconds())
    hours, rest = divmod(whole, 3600)
    text = f"{sign}{hours}:{rest // 60:02d}:{rest % 60:02d}"
    if span.microseconds:
        text += f"{span.microseconds / 1e6:.6f}".rstrip("0")[1:]
    return text


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def parse_date(  # noqa: PLR0911 - one return per cell type
    value: object, system: DateSystem = EXCEL_1900
) -> ParseResult:
    """A calendar date: an Excel date (at midnight), a serial number in the workbook's
    date ``system``, or ISO text (``YYYY-MM-DD``)."""
    if type(value) is date:  # the common case first: an Excel date
        return value, None
    if is_blank(value):
        return None, None
    if isinstance(value, datetime):
        if value.time() != time():
            return None, _time_of_day(quote(value), value.time())
        return value.date(), None
    if isinstance(value, date):
        return value, None
    if isinstance(value, bool):
        return None, f"{quote(value)} is not a date"
    if isinstance(value, time | timedelta):
        return None, f"{quote(value)} is a time or duration, not a calendar date"
    if isinstance(value, int | float):
        return _from_serial(value, system)
    if isinstance(value, str):
        return _date_from_text(value)
    return None, f"{quote(value)} is not a date (expected an Excel date or YYYY-MM-DD)"


def _time_of_day(quoted: str, moment: time) -> str:
    return (
        f"{quoted} has a time of day ({_clock(moment)}); "
        f"the {DATE_LABEL} column needs calendar dates"
    )


def _date_from_text(value: str) -> ParseResult:
    text = value.strip()
    match = _ISO_DATE.match(text)
    if match is None:
        if text_date_order(text) is not None:
            return None, (
                f"{quote(value)} is not a date: day and month come before the year, so which is "
                "the day is unknown; write dates as YYYY-MM-DD"
            )
        return None, f"{quote(value)} is not a date (expected an Excel date or YYYY-MM-DD)"
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        day_of = date(int(year), int(month), int(day))
        moment = (
            time(int(hour), int(minute), int(second or 0), int((fraction or "0")[:6].ljust(6, "0")))
            if hour is not None
            else time()
        )
    except ValueError:
        return None, f"{quote(value)} is not a valid calendar date"
    if moment != time():
        return None, _time_of_day(quote(value), moment)
    return day_of, None


def text_date_order(text: str) -> str | None:
    """How text with day and month before the year (``13/03/2023``) can be read:
    ``day-first``, ``month-first``, ``either`` (both parts 12 or less), or None when it is
    not such text or no order makes a calendar date."""
    match = _OTHER_DATE_TEXT.match(text.strip())
    if match is None:
        return None
    first, _, second, year_text = match.groups()
    year = int(year_text) + (2000 if len(year_text) == 2 else 0)
    orders = []
    for order, (day, month) in (
        ("day-first", (int(first), int(second))),
        ("month-first", (int(second), int(first))),
    ):
        try:
            date(year, month, day)
        except ValueError:
            continue
        orders.append(order)
    if not orders:
        return None
    return orders[0] if len(orders) == 1 else "either"


def _from_serial(value: float, system: DateSystem = EXCEL_1900) -> ParseResult:
    serial = float(value)
    in_range = system.first_serial <= serial <= system.last_serial
    if not math.isfinite(serial) or not serial.is_integer() or not in_range:
        return None, f"{quote(value)} is not an Excel date serial"
    return system.epoch + timedelta(days=int(serial)), None


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
    if isinstance(value, date | time | timedelta):
        return None, _not_a_number(value)
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


def _not_a_number(value: date | time | timedelta) -> str:
    if isinstance(value, timedelta | time):
        return f"{quote(value)} is a duration (h:mm:ss), not a number"
    return f"{quote(value)} is a date, not a number"


def parse_seconds(value: object) -> ParseResult:  # noqa: PLR0911 - one return per cell type
    """A duration in seconds (the speed of answer): a number of seconds as it is, or an
    Excel duration (``[h]:mm:ss``, read as a timedelta; ``h:mm:ss``, read as a time of
    day) or ``h:mm:ss`` text turned into seconds (``0:00:14`` is 14.0)."""
    if type(value) is float and math.isfinite(value):  # the common case first
        return value, None
    if isinstance(value, timedelta):
        return value.total_seconds(), None
    if isinstance(value, datetime | date):
        return None, f"{quote(value)} is a date, not a duration or a number of seconds"
    if isinstance(value, time):
        seconds = value.hour * 3600 + value.minute * 60 + value.second
        return seconds + value.microsecond / 1e6, None
    if isinstance(value, str):
        match = _DURATION_TEXT.match(value.strip())
        if match is not None:
            hours, minutes, seconds_text = match.groups()
            return int(hours) * 3600 + int(minutes) * 60 + float(seconds_text), None
        number, problem = parse_number(value)
        if problem is not None:
            return None, (f"{quote(value)} is not a number of seconds or a duration (h:mm:ss)")
        return number, None
    return parse_number(value)


PARSERS: dict[Kind, Callable[[object], ParseResult]] = {
    "date": parse_date,
    "count": parse_count,
    "number": parse_number,
    "seconds": parse_seconds,
}
