"""The fast read of a large `.xlsx` sheet: fastexcel (calamine in Rust) straight to Arrow,
in the parser probe's child process, while the container check runs in this one.

A large workbook spends most of its load in the parser. Read cell by cell through
python-calamine, every cell becomes a Python object before it is typed; fastexcel reads
the same sheet to Arrow columns in Rust. It runs in the probe's memory-limited child
(:class:`~dap.ingest.guard.ParserProbe`), started beside
:func:`~dap.ingest.guard.check_archive`, so the two use both cores, and a hostile file that
the check would refuse can only exhaust the child. Its columns reach this process as an
Arrow IPC file, and are used only once the check has passed. A sheet of 64 MB of XML and
more (about 250,000 rows) is read in two halves at once (:mod:`._split`), its columns
joined here.

The fast read keeps every check of the cell-by-cell read, or steps aside:

- the header row is found by the same search (:func:`._sheets._find_header`) over the
  sheet's first rows, read with openpyxl's streaming reader, and fastexcel's column names
  and first data rows must agree with them;
- every column is typed by fastexcel from its first 1,000 rows with
  ``dtype_coercion="strict"``, which refuses a column mixing kinds of cells there (text
  among numbers, a date among counts, a duration, a boolean); below them, that every cell
  was read as it was is checked against the container check's count of the sheet's cells
  (:func:`_check_every_cell_read`); the date column must hold calendar dates at midnight from
  1900-03-01 on in a workbook of the 1900 date system; counts whole numbers within 64
  bits; numbers finite. A null cell is empty, or carries the container check's note
  (an error cell, a formula saved without a value) as the cell-by-cell read gives it;
- personal data: the text cells of the rows down to the header and every text column
  below it are scanned (a column fastexcel types as numbers or dates holds no text).

Anything else (a value that would need a cell-level message, an unusual header, a
1904 workbook, a small file) raises :class:`NotFast` or is never tried, and the sheet is
read cell by cell, with the messages and ``load_issues`` that read gives. The two reads
give the same columns for the same sheet (``tests/python/unit/ingest/test_fast_read.py``
compares them on every workbook the tests have).
"""

from __future__ import annotations

import functools
import io
import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dap.ingest.cells import is_blank
from dap.ingest.guard import SheetCells
from dap.ingest.pii import PiiFinding, column_letter, scan_cells
from dap.ingest.workbook import _split
from dap.ingest.workbook._parsed import UNREADABLE_DATE_EXAMPLES, SheetResult, _Columns
from dap.ingest.workbook._sheets import (
    HEADER_SEARCH_ROWS,
    _carries_some_measures_only,
    _find_header,
    _has_figures,
    _notes_sheet,
)
from dap.ingest.workbook._typing import CellNotes, _check_date_column
from dap.schema import (
    CARRIED_SEPARATOR,
    DATE_COLUMN,
    HEADER_INDEX,
    METRIC_COLUMNS,
    MetricColumn,
    carried_columns,
    normalise_header,
)

FAST_READ_MIN_BYTES = 1 << 20
"""Workbooks smaller than this (a year of days is a few dozen KB) are read cell by cell:
the fast read pays a process and a second reader, and saves nothing on a small sheet."""
CHECK_ROWS = 5
"""Data rows below the header compared between the two readers."""
if TYPE_CHECKING:
    from fastexcel import ExcelReader
    from openpyxl import Workbook
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

_FIRST_DATE = date(1900, 3, 1)
"""From this day on, Excel's 1900 serials and every reader agree (day 60 is the 29
February 1900 Excel counts and the calendar has not)."""
_METADATA_KEY = b"dap.fast_read"
_BY_RAW_NAME = {column.raw_name: column for column in METRIC_COLUMNS}


class NotFast(Exception):  # noqa: N818 - a signal to read cell by cell, not an error
    """The sheet needs the cell-by-cell read; the text says why (for tests and logs)."""


@dataclass(frozen=True)
class FastSheet:
    """What the child read of one sheet: the header it found and every column below it."""

    name: str
    header_row: int
    """1-based, as the cell-by-cell read numbers it."""
    positions: dict[MetricColumn, int]
    columns: pa.RecordBatch | pa.Table
    """Below the header; a table of two chunks a column when read in two halves."""
    absolute: list[int]
    """Each column's 0-based position in the sheet (column A is 0)."""
    header_texts: list[tuple[int, int, str]]
    """(1-based row, 0-based column, text) of every text cell from row 1 to the header."""
    header_cells: int = 0
    """Cells with a value from row 1 to the header."""
    header_typed: int = 0
    """Of those, the text and boolean cells."""
    counted: SheetCells | None = None
    """The sheet's cells as the container check counted them in its XML (set by
    :func:`read_fast_sheets`)."""
    split_row: int | None = None
    """Where the sheet was read in two halves at once (:mod:`._split`), the first row of
    the second half; its columns are joined already."""


# ---------------------------------------------------------------- in the child process


def read_in_child(source: str | bytes, out_dir: Path) -> None:
    """Read every visible worksheet of the `.xlsx` ``source`` (a path, or the bytes) that
    has a header the fast read can take, each into ``out_dir/<n>.arrow``; leave the others
    out. Runs in the parser probe's child; an ordinary error leaves the sheet (or the
    workbook) to the cell-by-cell read, which meets the problem and reports it. A large
    sheet of a workbook given by path is read in two halves at once (:mod:`._split`)."""
    import fastexcel  # noqa: PLC0415 - the child's import, not the loader's
    import openpyxl  # noqa: PLC0415

    # openpyxl is given a file object: by name it insists on an .xlsx suffix.
    opened = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")  # noqa: SIM115
    with opened:
        book = openpyxl.load_workbook(opened, read_only=True, data_only=True)
        reader = fastexcel.read_excel(source)
        path = source if isinstance(source, str) else None
        _read_sheets_in_child(book, reader, path, out_dir)


def _read_sheets_in_child(
    book: Workbook, reader: ExcelReader, path: str | None, out_dir: Path
) -> None:
    for number, sheet in enumerate(book.worksheets):
        if sheet.sheet_state != "visible":
            continue
        try:
            found = _read_sheet_in_child(reader, sheet, path, out_dir / f"{number}.second.ipc")
        except (NotFast, ValueError, KeyError, IndexError, TypeError):
            continue
        except Exception as exc:  # fastexcel's own errors (a strict column mixing kinds)
            if type(exc).__module__.startswith("fastexcel"):
                continue
            raise
        _write(out_dir / f"{number}.arrow", found)


def _read_sheet_in_child(
    reader: ExcelReader, sheet: ReadOnlyWorksheet, path: str | None, second_to: Path
) -> FastSheet:
    sheet.reset_dimensions()  # read the rows as they are, whatever <dimension> says
    peek = [
        list(row)
        for row in sheet.iter_rows(
            min_row=1, max_row=HEADER_SEARCH_ROWS + CHECK_ROWS, values_only=True
        )
    ]
    header = _find_header("", sheet.title, iter(peek), None)
    if header is None:
        raise NotFast("no header")
    header_row, positions = header
    member = getattr(sheet, "_worksheet_path", None)  # the sheet's XML in the zip
    cut = None
    if path is not None and isinstance(member, str):
        read_second = functools.partial(_read_second_half, sheet.title, second_to)
        cut = _split.cut_sheet(path, member, read_second, second_to)
    try:
        columns, absolute, names, split_row = _load(reader, cut, sheet.title, header_row)
    finally:
        if cut is not None:
            cut.close()
    for column, index in positions.items():
        if index not in absolute:
            raise NotFast(f"{column.label} not among fastexcel's columns")
        if HEADER_INDEX.get(normalise_header(names[absolute.index(index)])) is not column:
            raise NotFast(f"{column.label}: fastexcel's header row differs")
    found = FastSheet(
        sheet.title,
        header_row,
        positions,
        columns,
        absolute,
        [
            (r + 1, c, value)
            for r, row in enumerate(peek[:header_row])
            for c, value in enumerate(row)
            if isinstance(value, str)
        ],
        sum(value is not None for row in peek[:header_row] for value in row),
        sum(isinstance(value, str | bool) for row in peek[:header_row] for value in row),
        split_row=split_row,
    )
    _check_alignment(found, peek[header_row:])
    return found


def _load(
    reader: ExcelReader, cut: _split.Cut | None, title: str, header_row: int
) -> tuple[pa.RecordBatch, list[int], list[str], int | None]:
    """The sheet's columns below the header, their positions and names, and the row the
    sheet was cut at: read whole with ``reader``, or, when the sheet was ``cut``, its
    first half (the second half's own process wrote the rest); read whole after all
    should the second half fail (then no row)."""
    import fastexcel  # noqa: PLC0415 - the child's import

    first = fastexcel.read_excel(cut.first) if cut is not None else reader
    try:
        columns, absolute, names = _load_below(first, title, header_row)
    except BaseException:
        if cut is not None:
            cut.abandon()
        raise
    if cut is None:
        return columns, absolute, names, None
    if cut.second_done():  # its columns are joined to these in the loader's process
        return columns, absolute, names, cut.row
    return (*_load_below(reader, title, header_row), None)


def _load_below(
    reader: ExcelReader, title: str, header_row: int
) -> tuple[pa.RecordBatch, list[int], list[str]]:
    # Each column's type is decided by its first 1,000 rows, where a mix of kinds is
    # refused ("strict"). Below them fastexcel makes a cell of another kind fit the type
    # (text to a number or empty, a date to empty); that is caught in the loader's process
    # by counting the cells (_check_every_cell_read): about 0.5 s quicker on a million
    # rows than typing every column over all its rows.
    loaded = reader.load_sheet(title, header_row=header_row - 1, dtype_coercion="strict")
    columns = loaded.to_arrow()
    # The columns read, as load_sheet decided them (available_columns() would type every
    # column again over all its rows: 0.3 s on a million rows).
    absolute = [info.absolute_index for info in loaded.selected_columns]
    names = [info.name for info in loaded.selected_columns]
    return columns, absolute, names


def _read_second_half(title: str, second_to: Path, path: str, row: int) -> None:
    """In the second half's own process: its rows (from ``row`` on, no header), each
    column typed from its first 1,000 rows as the first half's are, to ``second_to``."""
    import fastexcel  # noqa: PLC0415 - the child's import

    loaded = fastexcel.read_excel(path).load_sheet(title, header_row=None, dtype_coercion="strict")
    columns = loaded.to_arrow()
    absolute = [info.absolute_index for info in loaded.selected_columns]
    meta = {"row": row, "absolute": absolute}
    _write_batch(second_to, columns, meta)


def _check_alignment(found: FastSheet, rows: list[list[object]]) -> None:
    """The first data rows as openpyxl read them equal fastexcel's (the same row numbers)."""
    for r, row in enumerate(rows[: min(CHECK_ROWS, found.columns.num_rows)]):
        for index in found.positions.values():
            theirs = row[index] if index < len(row) else None
            ours = found.columns.column(found.absolute.index(index))[r].as_py()
            if not _same(theirs, ours):
                raise NotFast(f"row {found.header_row + 1 + r}: readers disagree")


def _same(a: object, b: object) -> bool:
    if is_blank(a) or is_blank(b):
        return is_blank(a) and is_blank(b)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    if isinstance(a, datetime) and isinstance(b, datetime):
        return bool(a == b)
    if isinstance(a, date) and isinstance(b, date):
        return a == (b.date() if isinstance(b, datetime) else b)
    return bool(a == b)


def _write(path: Path, found: FastSheet) -> None:
    meta = {
        "name": found.name,
        "header_row": found.header_row,
        "positions": {column.raw_name: index for column, index in found.positions.items()},
        "absolute": found.absolute,
        "header_texts": found.header_texts,
        "header_cells": found.header_cells,
        "header_typed": found.header_typed,
        "split_row": found.split_row,
    }
    _write_batch(path, found.columns, meta)


def _write_batch(path: Path, columns: pa.RecordBatch, meta: dict[str, object]) -> None:
    schema = columns.schema.with_metadata({_METADATA_KEY: json.dumps(meta)})
    partial = path.with_suffix(".partial")  # renamed once whole: never read half-written
    with pa.OSFile(str(partial), "wb") as sink, pa.ipc.new_file(sink, schema) as writer:
        writer.write_batch(columns.replace_schema_metadata(schema.metadata))
    partial.rename(path)


# ---------------------------------------------------------------- in the loader's process


def read_fast_sheets(out_dir: Path, counted: dict[str, SheetCells]) -> dict[str, FastSheet]:
    """The sheets the child read, by their name in the workbook, each with its cells as
    the container check counted them (``counted``, by sheet name)."""
    sheets: dict[str, FastSheet] = {}
    for path in sorted(out_dir.glob("*.arrow")):
        with pa.memory_map(str(path)) as source:
            reader = pa.ipc.open_file(source)
            columns = reader.get_batch(0) if reader.num_record_batches else None
            meta = json.loads(reader.schema.metadata[_METADATA_KEY])
        if columns is None:
            continue
        counted_cells = counted.get(meta["name"])
        split_row = meta.get("split_row")
        if split_row is not None and (counted_cells is None or not counted_cells.in_row_order):
            # Read in two halves, which make the sheet only if no cell below the cut
            # belongs above it: unknown here, so the sheet is read cell by cell.
            continue
        if split_row is not None:
            columns = _split.join_halves(
                columns, meta["absolute"], meta["header_row"], _second(path, split_row), split_row
            )
            if columns is None:
                continue  # the halves do not make the sheet: read cell by cell
        sheets[meta["name"]] = FastSheet(
            meta["name"],
            meta["header_row"],
            {_BY_RAW_NAME[name]: index for name, index in meta["positions"].items()},
            columns,
            list(meta["absolute"]),
            [(r, c, text) for r, c, text in meta["header_texts"]],
            meta["header_cells"],
            meta["header_typed"],
            counted_cells,
            split_row,
        )
    return sheets


def _second(path: Path, row: int) -> tuple[pa.RecordBatch, list[int]] | None:
    """The second half the child read of a sheet cut in two at ``row`` (``<n>.arrow``'s
    ``<n>.second.ipc``), with its columns' positions; None if there is none, or if its
    reader says it cut at another row."""
    second = path.with_suffix(".second.ipc")
    if not second.exists():
        return None
    with pa.memory_map(str(second)) as source:
        reader = pa.ipc.open_file(source)
        meta = json.loads(reader.schema.metadata[_METADATA_KEY])
        if meta["row"] != row:
            return None
        return reader.get_batch(0), list(meta["absolute"])


@dataclass
class _Typed:
    arrays: dict[MetricColumn, pa.Array]
    empty: pa.Array  # per row: every metric cell empty (blank without a note)
    issues: dict[int, list[str]]
    date_problems: list[tuple[int, str]]
    dates_seen: int


def read_fast_sheet(
    file_name: str,
    sheet: str,
    fast: FastSheet,
    out: _Columns,
    notes: CellNotes,
    findings: list[PiiFinding],
    *,
    read: bool,
) -> SheetResult | None:
    """Scan the sheet the child read for personal data (into ``findings``) and, when
    ``read``, type its metric columns into ``out`` as the cell-by-cell read would. Raises
    :class:`NotFast`, having changed nothing, when that read is needed instead. ``sheet``
    is the name as it lands (masked)."""
    _check_every_cell_read(fast, notes)  # the scan below reads the text columns as typed
    typed = _type_columns(fast, notes) if read else None
    findings.extend(_scan(file_name, sheet, fast))
    if typed is None:
        return None
    first_row = fast.header_row + 1
    height = len(typed.empty)
    skipped = typed.empty.true_count
    count = height - skipped

    def kept(values: pa.Array) -> pa.Array:
        return values.filter(pc.invert(typed.empty)) if skipped else values

    data = _Columns()
    types = data.types
    arrays: dict[str, pa.Array] = {}
    for column in METRIC_COLUMNS:
        if column in typed.arrays:
            arrays[column.raw_name] = kept(typed.arrays[column])
        else:
            arrays[column.raw_name] = pa.nulls(count, types[column.raw_name])
    if typed.issues:
        issues: list[str | None] = [None] * height
        for r, texts in typed.issues.items():
            issues[r] = "; ".join(texts)
        arrays["load_issues"] = kept(pa.array(issues, types["load_issues"]))
    else:
        arrays["load_issues"] = pa.nulls(count, types["load_issues"])
    arrays["source_sheet"] = data.constant(sheet, count)
    rows = np.arange(first_row, first_row + height, dtype=np.int64)
    arrays["source_row_number"] = kept(pa.array(rows, types["source_row_number"]))
    carried = CARRIED_SEPARATOR.join(carried_columns(fast.positions))
    arrays["carried_columns"] = data.constant(carried, count)
    if count:
        data.add(arrays)
    result = SheetResult(sheet, fast.header_row, columns_carried=carried_columns(fast.positions))
    result.rows = count
    result.rows_with_issues = len(typed.issues)
    if _carries_some_measures_only(fast.positions) and not _has_figures(data, fast.positions):
        raise _notes_sheet(file_name, sheet, fast.header_row, fast.positions)
    problems = typed.date_problems
    _check_date_column(file_name, sheet, fast.positions, typed.dates_seen, problems)
    result.unreadable_dates = len(problems)
    result.unreadable_date_examples = problems[:UNREADABLE_DATE_EXAMPLES]
    out.extend(data)
    return result


def _check_every_cell_read(fast: FastSheet, notes: CellNotes) -> None:
    """:class:`NotFast` unless fastexcel took every cell below the header as it was.

    Below the rows that decided a column's type, fastexcel makes a cell of another kind
    fit it: text becomes a number or empty, a boolean a number, a date empty. So the cells
    are counted against the container check's count of the sheet's XML. Every cell with
    content must be a value fastexcel read, a value in the rows down to the header, or a
    cell the check noted (an error, a formula without a value: empty to fastexcel). And
    the cells below the header that carry a type other than a number must be the noted
    errors and the values of the columns fastexcel typed as text: the check's count of
    typed cells is an upper bound, so equality says there is no other (a text or a
    boolean made a number, say). Anything unaccounted for, in either direction (a shared
    formula's ``t="shared"`` counts as a typed cell, for one), leaves the sheet to the
    cell-by-cell read."""
    counted = fast.counted
    if counted is None:
        raise NotFast("the sheet's cells were not counted")
    if any(row < fast.header_row for row, _ in notes):
        raise NotFast("a noted cell above the data")
    errors = sum(note.startswith("error cell") for note in notes.values())
    read = sum(len(column) - column.null_count for column in fast.columns.columns)
    if counted.with_content != read + fast.header_cells + len(notes):
        raise NotFast("a cell fastexcel did not read as it was")
    if counted.typed != fast.header_typed + errors + _texts_below_header(fast.columns):
        raise NotFast("a text, boolean or date-text cell among numbers below the header")


_MADE_TEXT = r"^\s*([-+.0-9]|(?i:true|false|nan|inf)\s*$)"
"""A value that fastexcel may have made into text from a number, a date or a boolean
below the rows that typed its column as text."""


def _texts_below_header(columns: pa.RecordBatch) -> int:
    """The text cells of the columns fastexcel typed as text (a footnote, a notes column),
    for :func:`_check_every_cell_read`: each is a cell of text only if none could be a
    number or date made text, so a column with one that could is :class:`NotFast`."""
    texts = 0
    for values in columns.columns:
        if pa.types.is_boolean(values.type) and values.null_count < len(values):
            raise NotFast("a column of booleans")
        if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            continue
        present = len(values) - values.null_count
        if present and pc.any(pc.match_substring_regex(values, _MADE_TEXT)).as_py():
            raise NotFast("text in a column that may hold numbers made text")
        texts += present
    return texts


def _type_columns(fast: FastSheet, notes: CellNotes) -> _Typed:
    """Every metric column typed, or :class:`NotFast` if a cell needs its column's parser."""
    first_row = fast.header_row + 1
    height = fast.columns.num_rows
    arrays: dict[MetricColumn, pa.Array] = {}
    empties: list[pa.Array] = []
    issues: dict[int, list[str]] = {}
    date_problems: list[tuple[int, str]] = []
    empty_dates: set[int] = set()
    for column, index in fast.positions.items():
        values = fast.columns.column(fast.absolute.index(index))
        arrays[column] = _TYPERS[column.kind](values, column)
        noted: list[int] = []
        for r in _null_positions(values):
            note = notes.get((first_row + r - 1, index))
            if note is None:
                if column is DATE_COLUMN:
                    empty_dates.add(r)
                continue
            noted.append(r)
            where = f"{column_letter(index)}{first_row + r}"
            issues.setdefault(r, []).append(f"{column.label} ({where}): {note}")
            if column is DATE_COLUMN:
                date_problems.append((first_row + r, note))
        empty = pc.is_null(arrays[column])
        if noted:  # a noted cell is not empty: its row stays, with the note as its issue
            rows = pa.array(range(height), pa.int64())
            empty = pc.and_(empty, pc.invert(pc.is_in(rows, value_set=pa.array(noted))))
        empties.append(empty)
    all_empty = empties[0]
    for empty in empties[1:]:
        all_empty = pc.and_(all_empty, empty)
    if isinstance(all_empty, pa.ChunkedArray):  # a sheet read in two halves
        all_empty = all_empty.combine_chunks()
    skipped = set(_true_positions(all_empty))
    kept = height - len(skipped)
    return _Typed(
        arrays,
        all_empty,
        {r: texts for r, texts in sorted(issues.items()) if r not in skipped},
        sorted(date_problems),
        kept - len(empty_dates - skipped),
    )


def _null_positions(values: pa.Array) -> list[int]:
    if values.null_count == 0:
        return []
    return _true_positions(pc.is_null(values))


def _true_positions(mask: pa.Array) -> list[int]:
    indices: list[int] = pc.indices_nonzero(mask).to_pylist()
    return indices


def _all_null(values: pa.Array) -> bool:
    nulls: int = values.null_count
    return nulls == len(values)


def _dates(values: pa.Array, column: MetricColumn) -> pa.Array:
    if _all_null(values):
        return pa.nulls(len(values), pa.date32())
    if pa.types.is_date32(values.type):
        days = values
    elif pa.types.is_timestamp(values.type) and values.type.tz is None:
        days = pc.cast(values, pa.date32())
        if not pc.all(pc.equal(pc.cast(days, values.type), values)).as_py():
            raise NotFast(f"{column.label}: a date with a time of day")
    else:
        raise NotFast(f"{column.label}: cells of type {values.type}")
    first = pc.min(days).as_py()
    if first is not None and first < _FIRST_DATE:
        raise NotFast(f"{column.label}: a date before {_FIRST_DATE}")
    return days


def _floats(values: pa.Array, column: MetricColumn) -> pa.Array:
    if _all_null(values):
        return pa.nulls(len(values), pa.float64())
    if pa.types.is_integer(values.type):
        return pc.cast(values, pa.float64())
    if not pa.types.is_float64(values.type):
        raise NotFast(f"{column.label}: cells of type {values.type}")
    if not pc.all(pc.is_finite(values)).as_py():
        raise NotFast(f"{column.label}: a value that is not finite")
    return values


def _counts(values: pa.Array | pa.ChunkedArray, column: MetricColumn) -> pa.Array | pa.ChunkedArray:
    if _all_null(values):
        return pa.nulls(len(values), pa.int64())
    if pa.types.is_integer(values.type):
        return pc.cast(values, pa.int64())
    floats = _floats(values, column)
    low, high = pc.min_max(floats).values()
    if low is not None and not (low.as_py() >= -(2.0**63) and high.as_py() < 2.0**63):
        raise NotFast(f"{column.label}: a count beyond 64 bits")
    if isinstance(floats, pa.ChunkedArray):  # a sheet read in two halves
        return pa.chunked_array([_whole(chunk, column) for chunk in floats.chunks], pa.int64())
    return _whole(floats, column)


def _whole(floats: pa.Array, column: MetricColumn) -> pa.Array:
    """``floats`` (finite, within 64 bits) as whole numbers, or :class:`NotFast`."""
    if floats.offset:  # not from the child's file: Arrow's checked cast
        try:
            return pc.cast(floats, pa.int64())
        except pa.ArrowInvalid as exc:
            raise NotFast(f"{column.label}: a count that is not a whole number") from exc
    # Whole numbers within 64 bits, as the parser takes them; numpy's cast and compare is
    # about five times quicker than Arrow's checked cast. Empty cells hold 0 here and keep
    # their validity bits.
    given = floats.fill_null(0.0).to_numpy()
    counts = given.astype(np.int64)
    if not np.array_equal(counts.astype(np.float64), given):
        raise NotFast(f"{column.label}: a count that is not a whole number")
    validity = floats.buffers()[0]
    return pa.Array.from_buffers(
        pa.int64(), len(floats), [validity, pa.py_buffer(counts)], floats.null_count
    )


_TYPERS = {"date": _dates, "count": _counts, "number": _floats, "seconds": _floats}


def _scan(file_name: str, sheet: str, fast: FastSheet) -> list[PiiFinding]:
    """Personal data in the sheet's text: the rows down to the header, then each text
    column below it; in row and column order, as the cell-by-cell read finds it."""
    cells = list(fast.header_texts)
    first_row = fast.header_row + 1
    for position, values in zip(fast.absolute, fast.columns.columns, strict=True):
        if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            continue  # numbers, dates, durations, booleans: no text to scan
        if _all_null(values):
            continue
        for r in _true_positions(pc.is_valid(values)):
            text = values[r].as_py()
            cells.append((first_row + r, position, text))
    cells.sort(key=lambda cell: (cell[0], cell[1]))
    return scan_cells(file_name, sheet, cells)
