"""Typing a sheet's cells into Arrow columns: each column in bulk when its cells are all
of the usual type, otherwise cell by cell through its column's parser, with the same
values, problems and skipped rows either way."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from datetime import date
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc

from dap.errors import Location, WorkbookError
from dap.ingest.cells import (
    EXCEL_1900,
    PARSERS,
    DateSystem,
    ParseResult,
    is_blank,
    parse_date,
    quote,
    text_date_order,
)
from dap.ingest.pii import column_letter
from dap.ingest.workbook._parsed import _Columns
from dap.schema import (
    CARRIED_SEPARATOR,
    DATE_COLUMN,
    METRIC_COLUMNS,
    Kind,
    MetricColumn,
    carried_columns,
)

UNREADABLE_DATE_SHARE = 0.5
"""Above this share of unreadable dates the column, not the rows, is considered broken."""

CellNotes = dict[tuple[int, int], str]
"""(row, column), 0-based -> why a cell the parser reads as empty has no value."""


class _SheetTyping:
    """Types a sheet's rows a batch at a time, column by column: the usual cells (Excel
    dates in the date column, floats in the others) in bulk, as Arrow arrays, every other
    cell through its column's parser, with the same values, problems and skipped rows as
    one row at a time."""

    def __init__(
        self,
        positions: dict[MetricColumn, int],
        notes: CellNotes,
        out: _Columns,
        date_system: DateSystem = EXCEL_1900,
    ) -> None:
        self.positions = positions
        self.notes = notes
        self.out = out
        self.carried = CARRIED_SEPARATOR.join(carried_columns(positions))
        self.parsers: dict[Kind, Callable[[object], ParseResult]] = dict(PARSERS)
        if date_system != EXCEL_1900:  # serials count from the workbook's own day zero
            self.parsers["date"] = functools.partial(parse_date, system=date_system)
        self.dates_seen = 0
        self.date_problems: list[tuple[int, str]] = []
        self.text_dates: list[tuple[int, str, str]] = []
        """(row, text, order) of each date written day and month first (``13/03/2023``):
        ``order`` as :func:`~dap.ingest.cells.text_date_order` reads it."""

    def read(self, batch: list[Sequence[object]], first_row: int, sheet: str) -> tuple[int, int]:
        """Append ``batch`` (its first row is row ``first_row``) to the columns; return how
        many rows were kept (not blank) and how many of them have issues."""
        width = min(map(len, batch))
        issues: dict[int, list[str]] = {}
        typed: list[pa.Array | list[object]] = []
        empties: list[set[int]] = []
        for column, index in self.positions.items():
            if index < width:
                cells = [row[index] for row in batch]
            else:
                cells = [row[index] if index < len(row) else None for row in batch]
            values, empty = self._column(column, index, cells, first_row, issues)
            typed.append(values)
            empties.append(empty)

        # A row is skipped when every metric cell is empty (blank, and no note on it).
        skipped = set.intersection(*empties)
        keep = [r for r in range(len(batch)) if r not in skipped] if skipped else None
        types = self.out.types

        def kept(values: pa.Array | list[object], name: str) -> pa.Array:
            if isinstance(values, pa.Array):
                return values if keep is None else values.take(pa.array(keep, pa.int64()))
            return pa.array(values if keep is None else [values[r] for r in keep], types[name])

        count = len(batch) - len(skipped)
        arrays = {
            column.raw_name: kept(values, column.raw_name)
            for column, values in zip(self.positions, typed, strict=True)
        }
        for column in METRIC_COLUMNS:
            if column not in self.positions:
                arrays[column.raw_name] = pa.nulls(count, types[column.raw_name])
        load_issues: list[object] = [None] * len(batch)
        for r, texts in issues.items():
            load_issues[r] = "; ".join(texts)
        arrays["load_issues"] = kept(load_issues, "load_issues")
        arrays["source_sheet"] = self.out.constant(sheet, count)
        arrays["source_row_number"] = kept(
            list(range(first_row, first_row + len(batch))), "source_row_number"
        )
        arrays["carried_columns"] = self.out.constant(self.carried, count)
        self.out.add(arrays)
        empty_dates = empties[list(self.positions).index(DATE_COLUMN)]
        self.dates_seen += count - len(empty_dates - skipped)
        return count, len(issues)

    def _column(
        self,
        column: MetricColumn,
        index: int,
        cells: list[object],
        first_row: int,
        issues: dict[int, list[str]],
    ) -> tuple[pa.Array | list[object], set[int]]:
        """One column's typed values and the positions of its empty cells; unreadable
        values add their description to ``issues`` (by position in the batch)."""
        whole = _BULK[column.kind](cells)
        empty: set[int] = set()
        if whole is not None:
            return whole, empty
        values = _CELLWISE[column.kind](cells)
        parse = self.parsers[column.kind]
        letter = column_letter(index)
        notes = self.notes
        for r in [r for r, v in enumerate(values) if v is _SLOW]:
            raw = cells[r]
            row_number = first_row + r
            blank = is_blank(raw)
            note = notes.get((row_number - 1, index)) if notes and blank else None
            value, problem = (None, note) if note is not None else parse(raw)
            values[r] = value
            if blank and note is None:
                empty.add(r)
            if problem is not None:
                issues.setdefault(r, []).append(f"{column.label} ({letter}{row_number}): {problem}")
                if column is DATE_COLUMN:
                    self.date_problems.append((row_number, note or quote(raw)))
                    text = raw.strip() if isinstance(raw, str) else None
                    order = text_date_order(text) if text is not None else None
                    if text is not None and order is not None:
                        self.text_dates.append((row_number, text, order))
        return values, empty


_SLOW: Final = object()
"""A cell the bulk reading leaves to its column's parser."""
_INT64_MIN, _INT64_END = -(2**63), 2**63


def _bulk_dates(cells: list[object]) -> pa.Array | None:
    """A column of Excel dates only, as an array (what :func:`~dap.ingest.cells.parse_date`
    returns for each); None if any cell is something else."""
    kinds = set(map(type, cells))
    if kinds == {date}:
        return pa.array(cells, pa.date32())
    if kinds == {str}:  # a CSV's dates: ISO text, checked calendar dates only
        return _bulk_text(cells, _ISO_DATE_TEXT, pa.date32())
    return None


def _bulk_counts(cells: list[object]) -> pa.Array | None:
    """A column of whole floats within int64 only, as int64 (what
    :func:`~dap.ingest.cells.parse_count` makes of each); None otherwise. Arrow's checked cast
    refuses fractions, NaN, infinities and values out of range, as the parser does."""
    kinds = set(map(type, cells))
    if kinds == {str}:  # a CSV's counts: plain digits
        return _bulk_text(cells, _COUNT_TEXT, pa.int64())
    if kinds != {float}:
        return None
    try:
        return pa.array(cells, pa.float64()).cast(pa.int64())
    except pa.ArrowInvalid:
        return None


def _bulk_numbers(cells: list[object]) -> pa.Array | None:
    """A column of finite floats only, as float64 (what :func:`~dap.ingest.cells.parse_number`
    returns for each); None otherwise."""
    kinds = set(map(type, cells))
    if kinds == {str}:  # a CSV's numbers: plain decimals
        return _bulk_text(cells, _NUMBER_TEXT, pa.float64())
    if kinds != {float}:
        return None
    numbers = pa.array(cells, pa.float64())
    return numbers if pc.all(pc.is_finite(numbers)).as_py() else None


_ISO_DATE_TEXT = r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}$"
"""Dates as text that Arrow's checked cast reads as :func:`~dap.ingest.cells.parse_date`
does (an impossible day such as 2023-02-29 fails the cast: the parser then says why)."""
_COUNT_TEXT = r"^[0-9]{1,15}$"
"""Counts as text read alike by Arrow and :func:`~dap.ingest.cells.parse_count` (at most 15
digits: the parser goes through a float, exact below 2**53)."""
_NUMBER_TEXT = r"^-?[0-9]{1,15}(?:\.[0-9]+)?$"
"""Numbers as text read alike by Arrow and :func:`~dap.ingest.cells.parse_number`: both
round a decimal to the nearest float."""


def _bulk_text(cells: list[object], pattern: str, kind: pa.DataType) -> pa.Array | None:
    """A column of text cells that all match ``pattern``, cast to ``kind`` in one go (the
    values the column's parser gives each, as the patterns' notes say); None if any cell
    does not match or the cast refuses one, leaving the column to the parser."""
    text = pa.array(cells, pa.string())
    if not pc.all(pc.match_substring_regex(text, pattern)).as_py():
        return None
    try:
        return text.cast(kind)
    except pa.ArrowInvalid:
        return None


def _cellwise_dates(cells: list[object]) -> list[object]:
    """Each Excel date as it is, :data:`_SLOW` for the cells its parser must read."""
    return [v if type(v) is date else _SLOW for v in cells]


def _cellwise_counts(cells: list[object]) -> list[object]:
    return [
        int(v) if type(v) is float and v.is_integer() and _INT64_MIN <= v < _INT64_END else _SLOW
        for v in cells
    ]


def _cellwise_numbers(cells: list[object]) -> list[object]:
    return [v if type(v) is float and math.isfinite(v) else _SLOW for v in cells]


_BULK: dict[Kind, Callable[[list[object]], pa.Array | None]] = {
    "date": _bulk_dates,
    "count": _bulk_counts,
    "number": _bulk_numbers,
    "seconds": _bulk_numbers,  # seconds as numbers in bulk; durations go cell by cell
}
_CELLWISE: dict[Kind, Callable[[list[object]], list[object]]] = {
    "date": _cellwise_dates,
    "count": _cellwise_counts,
    "number": _cellwise_numbers,
    "seconds": _cellwise_numbers,
}


def _check_date_column(
    file_name: str,
    sheet: str,
    positions: dict[MetricColumn, int],
    dates_seen: int,
    problems: Sequence[tuple[int, str]],
    text_dates: Sequence[tuple[int, str, str]] = (),
) -> None:
    """A date column that mixes calendar dates with dates written day and month first,
    whose text dates read both ways, or where most values are unreadable is a whole-file
    problem."""
    letter = column_letter(positions[DATE_COLUMN])
    broken = bool(problems) and len(problems) > dates_seen * UNREADABLE_DATE_SHARE
    unreadable = ""
    if broken:
        value = problems[0][1]
        unreadable = (
            f"the date column ({letter}) cannot be read: {len(problems)} of {dates_seen} values "
            f"are not dates, the first is {value}"
        )
    if text_dates:
        readable = dates_seen - len(problems)
        raise _ambiguous_text_dates(
            file_name,
            sheet,
            unreadable or f"the date column ({letter}) cannot be trusted",
            readable,
            text_dates,
        )
    if broken:
        raise WorkbookError(
            Location(file_name, sheet, problems[0][0], DATE_COLUMN.label),
            f"{unreadable}; dates must be Excel dates or text as YYYY-MM-DD",
        )


def _ambiguous_text_dates(
    file_name: str,
    sheet: str,
    start: str,
    readable: int,
    text_dates: Sequence[tuple[int, str, str]],
) -> WorkbookError:
    """Dates written day and month before the year: never guessed. Beside real dates they
    are the mark of day-first text opened in a month-first tool (or the reverse): the tool
    turned the text it could read as dates (days 1-12, day and month swapped) and left the
    rest as text, so the real dates are wrong too."""
    orders = {order for _, _, order in text_dates}
    shown = ", ".join(f"{text!r} (row {row})" for row, text, _ in text_dates[:3])
    more = f" and {len(text_dates) - 3} more" if len(text_dates) > 3 else ""
    found = f"{len(text_dates)} date(s) are text with day and month before the year: {shown}{more}"
    if readable:
        what = (
            f"{found}, beside {readable} real date(s) in the same column: a spreadsheet tool "
            "probably read day-first dates month-first (or the reverse): it turned the dates "
            "it could read into real dates with day and month swapped and left the rest as "
            "text, so the real dates cannot be trusted either"
        )
    elif {"day-first", "month-first"} <= orders:
        day_first = next(t for _, t, o in text_dates if o == "day-first")
        month_first = next(t for _, t, o in text_dates if o == "month-first")
        what = (
            f"{found}; some read only day-first ({day_first!r}) and others only month-first "
            f"({month_first!r}), so the column mixes two orders"
        )
    elif orders == {"either"}:
        what = f"{found}; which part is the day cannot be told from the file"
    else:
        order = "day-first" if "day-first" in orders else "month-first"
        example = next(t for _, t, o in text_dates if o == order)
        what = (
            f"{found}; they look {order} ({example!r} reads no other way), but the order of a "
            "column is not guessed from some of its rows"
        )
    first_row = text_dates[0][0]
    return WorkbookError(
        Location(file_name, sheet, first_row, DATE_COLUMN.label),
        f"{start}: {what}. Re-export the dates from "
        "the source as YYYY-MM-DD text or as Excel dates (a date format, not text) and load "
        "the file again",
        code="unreadable_dates",
    )
