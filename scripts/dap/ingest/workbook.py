"""Reading one workbook: find the sheets that carry the metrics and type every cell.

Whole-file problems raise :class:`~dap.errors.WorkbookError` naming file, sheet, row
and column. Problems with single values do not stop the load: the value lands as null
in its typed column and is described in ``load_issues``, so dbt can route the row.

Before the parser sees the bytes, :mod:`dap.ingest.guard` checks the container: an
encrypted file, a damaged zip, a decompression bomb or a sheet spanning more cells than
can be held stop the load with a message instead of a crash or unbounded memory. Its notes
on error cells (``#N/A``) and formulas saved without a value, which the parser reads as
empty, are quoted in ``load_issues``.

Every sheet is scanned for personal data (:mod:`dap.ingest.pii`), hidden ones and those without
metrics included, since the landing zone keeps the whole file. With the ``stop`` policy
any finding raises :class:`~dap.errors.PiiError` once the whole workbook has been scanned;
with ``mask`` the text is masked before any cell is typed, so nothing derived from the
workbook (typed values, ``load_issues``, sheet names, messages) holds the value.

Memory: a sheet is read row by row, scanned in batches of :data:`SCAN_BATCH_ROWS` rows,
and its typed values are kept as Arrow arrays of :data:`ARROW_CHUNK_ROWS` rows, so beyond
the parser's own copy of the sheet (32 bytes a cell) a row costs a few dozen bytes.
"""

from __future__ import annotations

import collections
import dataclasses
import gc
import io
import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Final, cast

import pyarrow as pa
import pyarrow.compute as pc
from python_calamine import (
    CalamineError,
    CalamineSheet,
    CalamineWorkbook,
    SheetTypeEnum,
    SheetVisibleEnum,
)

from dap.errors import Location, PiiError, WorkbookError
from dap.ingest.cells import PARSERS, is_blank, quote
from dap.ingest.guard import ParserProbe, check_archive
from dap.ingest.pii import (
    PiiFinding,
    PiiPolicy,
    column_letter,
    mask_grid,
    mask_pii,
    scan_grid,
    scan_name,
)
from dap.schema import (
    DATE_COLUMN,
    HEADER_INDEX,
    METRIC_COLUMNS,
    RAW_SCHEMA,
    Kind,
    MetricColumn,
    normalise_header,
)

HEADER_SEARCH_ROWS = 20
"""How far down a sheet the header row may start (title rows above it are allowed)."""
UNREADABLE_DATE_SHARE = 0.5
"""Above this share of unreadable dates the column, not the rows, is considered broken."""
SCAN_BATCH_ROWS = 4096
"""Rows scanned for personal data at a time, before any of them is typed."""
ARROW_CHUNK_ROWS = 65_536
"""Typed values are held as Python objects for at most this many rows, then as Arrow."""

CellNotes = dict[tuple[int, int], str]
"""(row, column), 0-based -> why a cell the parser reads as empty has no value."""


@dataclass
class SheetResult:
    name: str
    header_row: int
    rows: int = 0
    rows_with_issues: int = 0


class _Columns:
    """The typed rows, column by column, as Arrow arrays (a few bytes a value): one chunk
    per batch of at most :data:`ARROW_CHUNK_ROWS` rows."""

    def __init__(self) -> None:
        self.names = _column_names()
        self.types = {name: RAW_SCHEMA.field(name).type for name in self.names}
        self.chunks: dict[str, list[pa.Array]] = {name: [] for name in self.names}
        self.rows = 0

    def add(self, batch: dict[str, pa.Array]) -> None:
        """Append one batch: an array of the same length for every column."""
        lengths = {len(batch[name]) for name in self.names}
        if len(lengths) != 1:
            raise ValueError(f"a batch's columns differ in length: {sorted(lengths)}")
        for name in self.names:
            self.chunks[name].append(batch[name])
        self.rows += lengths.pop()

    def column(self, name: str) -> pa.ChunkedArray:
        return pa.chunked_array(self.chunks[name], self.types[name])


@dataclass
class ParsedWorkbook:
    """A workbook that passed the whole-file checks, as typed columns (no ingest time yet)."""

    file_name: str
    sheets: list[SheetResult]
    skipped_sheets: list[str] = field(default_factory=list)
    pii_findings: list[PiiFinding] = field(default_factory=list)
    """Where personal data was masked (``mask`` policy), by kind; never the values."""
    data: _Columns = field(default_factory=_Columns, repr=False)

    @property
    def rows(self) -> int:
        return self.data.rows

    @property
    def columns(self) -> dict[str, list[object]]:
        """Every typed column as a list (raw-zone names plus ``load_issues``,
        ``source_sheet`` and ``source_row_number``); for inspection, the loader uses
        :meth:`to_arrow`."""
        return {name: self.data.column(name).to_pylist() for name in self.data.names}

    def to_arrow(self, sha256: str) -> pa.Table:
        """The rows as an Arrow table in raw-zone column order, minus ``ingested_at`` and
        ``extract_rows``."""
        return self._with_lineage(self._typed(), sha256)

    def by_year(self, sha256: str) -> Iterator[tuple[int | None, pa.Table]]:
        """The rows split by the year of their date, each part as :meth:`to_arrow` makes
        it; the rows without a date come last, as year None. The file's name and hash are
        added to each part after the split rather than split with it."""
        years = pc.year(self.data.column(DATE_COLUMN.raw_name))
        typed = self._typed()
        found = sorted(pc.unique(years).drop_null().to_pylist())
        for year in found + ([None] if years.null_count else []):
            mask = pc.is_null(years) if year is None else pc.equal(years, year)
            yield year, self._with_lineage(typed.filter(mask), sha256)

    def _typed(self) -> pa.Table:
        return pa.table({name: self.data.column(name) for name in self.data.names})

    def _with_lineage(self, typed: pa.Table, sha256: str) -> pa.Table:
        n = typed.num_rows
        data: dict[str, pa.Array | pa.ChunkedArray] = {
            c.raw_name: typed[c.raw_name] for c in METRIC_COLUMNS
        }
        data["load_issues"] = typed["load_issues"]
        data["source_file_name"] = pa.repeat(pa.scalar(self.file_name, pa.string()), n)
        data["source_file_sha256"] = pa.repeat(pa.scalar(sha256, pa.string()), n)
        data["source_sheet"] = typed["source_sheet"]
        data["source_row_number"] = typed["source_row_number"]
        return pa.table(data)

    @property
    def years(self) -> list[int | None]:
        years: list[int | None] = pc.year(self.data.column(DATE_COLUMN.raw_name)).to_pylist()
        return years


def parse_workbook(file_name: str, data: bytes, *, pii: PiiPolicy = "stop") -> ParsedWorkbook:
    """Parse workbook bytes (.xlsx, .xls, .xlsb or .ods, detected from the content).

    ``pii``: ``stop`` raises :class:`~dap.errors.PiiError` listing every cell with personal
    data; ``mask`` masks it and lists the cells in ``pii_findings``.
    """
    findings = scan_name(Location(mask_pii(file_name)), file_name)
    file_name = mask_pii(file_name)  # as it lands, and in every message
    where = Location(file_name)
    probe = ParserProbe(file_name, data)  # in another process, beside the archive check
    try:
        report = check_archive(file_name, data)
    except BaseException:
        probe.stop()
        raise
    probe.result()
    try:
        try:
            book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        except CalamineError as exc:
            raise WorkbookError(where, f"not a readable Excel workbook ({exc})") from exc
        except Exception as exc:  # calamine raises plain errors for some damaged files
            raise WorkbookError(where, f"not a readable Excel workbook ({exc})") from exc
        result = ParsedWorkbook(file_name, [])
        collecting = gc.isenabled()
        gc.disable()
        try:
            partial_headers, deferred = _read_sheets(book, result, findings, pii, report.notes)
        finally:
            if collecting:
                gc.enable()
    except BaseException as exc:
        # The probe has had the parser open the file already; should it still panic here
        # (pyo3 raises a Rust panic as PanicException, a BaseException), say so.
        if type(exc).__name__ != "PanicException":
            raise
        problem = f"not a readable Excel workbook (the reader failed on it: {exc})"
        raise WorkbookError(where, problem) from exc
    if findings and pii == "stop":
        raise PiiError(findings)
    if deferred is not None:
        raise deferred
    result.pii_findings = findings

    if not result.sheets and partial_headers:
        raise WorkbookError(partial_headers[0].location, partial_headers[0].problem)
    if not result.sheets:
        wanted = ", ".join(c.label for c in METRIC_COLUMNS if c.required)
        raise WorkbookError(
            where,
            f"no sheet has the required columns ({wanted}) in a header row within its first "
            f"{HEADER_SEARCH_ROWS} rows; sheets: {_names(book)}",
        )
    if result.rows == 0:
        sheets = ", ".join(repr(s.name) for s in result.sheets)
        raise WorkbookError(where, f"no data rows under the header (sheets {sheets})")
    return result


def _read_sheets(
    book: CalamineWorkbook,
    out: ParsedWorkbook,
    findings: list[PiiFinding],
    pii: PiiPolicy,
    notes: dict[str, CellNotes],
) -> tuple[list[_PartialHeaderError], WorkbookError | None]:
    """Scan every sheet for personal data (adding to ``findings``) and read the visible
    worksheets' metrics into ``out``.

    Returns the partial headers seen and the first whole-file problem. That problem is
    not raised here: the rest of the workbook is still scanned, and personal data found
    anywhere is reported instead (under ``stop`` its message could quote a cell).
    """
    partial_headers: list[_PartialHeaderError] = []
    deferred: WorkbookError | None = None
    for meta in book.sheets_metadata:
        name = mask_pii(meta.name)  # as it lands in source_sheet, and in every message
        worksheet = meta.typ == SheetTypeEnum.WorkSheet
        try:
            sheet = book.get_sheet_by_name(meta.name)
        except CalamineError as exc:
            findings.extend(scan_name(Location(out.file_name, name), meta.name))
            out.skipped_sheets.append(name)
            if worksheet and deferred is None:  # a chart sheet may have no cells to read
                deferred = WorkbookError(Location(out.file_name, name), f"cannot be read ({exc})")
                deferred.__cause__ = exc
            continue
        rows = _scanned_rows(out.file_name, meta.name, _excel_rows(sheet), pii, findings)
        read = (
            worksheet
            and meta.visible == SheetVisibleEnum.Visible
            and deferred is None
            and not (findings and pii == "stop")  # the workbook will not load: scan only
        )
        result: SheetResult | None = None
        failed = False
        if read:
            try:
                result = _read_sheet(out.file_name, name, rows, out, notes.get(meta.name, {}))
            except _PartialHeaderError as exc:
                partial_headers.append(exc)
            except WorkbookError as exc:
                deferred, failed = exc, True
        collections.deque(rows, maxlen=0)  # scan the rest of the sheet
        del sheet  # free the parser's copy of the sheet before the next one
        if result is not None:
            out.sheets.append(result)
        elif not failed:
            out.skipped_sheets.append(name)
    return partial_headers, deferred


def _excel_rows(sheet: CalamineSheet) -> Iterator[list[object]]:
    """The sheet's rows from row 1, each from column A, so positions are Excel's rows and
    columns. python-calamine's ``iter_rows()`` starts at row 1 but at the first column
    with data (python-calamine #177); the first row it yields tells which it does.
    (An iterator chain rather than a generator: a million rows pass through it.)"""
    start, end = sheet.start, sheet.end
    if start is None or end is None:
        return iter(())
    first_row, first_column = start
    rows = cast(Iterator[list[object]], iter(sheet.iter_rows()))
    first = next(rows, None)
    if first is None:
        return iter(())
    parts: list[Iterable[list[object]]] = []
    if first_row > 0 and not all(is_blank(v) for v in first):
        parts.append([] for _ in range(first_row))  # it started at the first row with data
    pad: list[object] = [None] * first_column if len(first) < end[1] + 1 else []
    if pad:
        parts += [[pad + first], map(pad.__add__, rows)]
    else:
        parts += [[first], rows]
    return itertools.chain.from_iterable(parts)


def _scanned_rows(
    file_name: str,
    sheet_name: str,
    rows: Iterator[list[object]],
    pii: PiiPolicy,
    findings: list[PiiFinding],
) -> Iterator[list[object]]:
    """``rows``, scanned for personal data a batch at a time (and masked in place under
    ``mask``) before any row of the batch is handed on; findings go to ``findings``."""
    findings.extend(scan_name(Location(file_name, mask_pii(sheet_name)), sheet_name))
    scan: Callable[[str, str, list[list[object]]], list[PiiFinding]] = (
        mask_grid if pii == "mask" else scan_grid
    )
    offset = 0

    def scanned(batch: list[list[object]]) -> list[list[object]]:
        nonlocal offset
        for finding in scan(file_name, sheet_name, batch):
            where = finding.location
            if where.row is not None:  # the sheet name was scanned once, above
                moved = dataclasses.replace(where, row=where.row + offset)
                findings.append(dataclasses.replace(finding, location=moved))
        offset += len(batch)
        return batch

    batches = iter(lambda: list(itertools.islice(rows, SCAN_BATCH_ROWS)), [])
    return itertools.chain.from_iterable(map(scanned, batches))


def _column_names() -> list[str]:
    return [c.raw_name for c in METRIC_COLUMNS] + [
        "load_issues",
        "source_sheet",
        "source_row_number",
    ]


def _names(book: CalamineWorkbook) -> str:
    return ", ".join(repr(mask_pii(m.name)) for m in book.sheets_metadata) or "none"


class _PartialHeaderError(WorkbookError):
    """A header lacking required columns with no figures under it: perhaps a notes sheet.
    The sheet is skipped; the error is raised only if no sheet of the workbook qualifies."""


def _find_header(
    file_name: str, sheet: str, rows: Iterator[Sequence[object]]
) -> tuple[int, dict[MetricColumn, int]] | None:
    """Row number and column positions of the header, or None for a sheet without metrics.

    A row naming at least two of the metric columns is a header. If it lacks a required
    column, the sheet is an error when rows of figures follow it, and a sheet of notes
    (skipped) when none do.
    """
    for offset, cells in enumerate(rows):
        if offset >= HEADER_SEARCH_ROWS:
            return None
        found: dict[MetricColumn, list[int]] = {}
        for index, cell in enumerate(cells):
            column = HEADER_INDEX.get(normalise_header(cell)) if isinstance(cell, str) else None
            if column is not None:
                found.setdefault(column, []).append(index)
        if len(found) < 2:
            continue
        row_number = offset + 1
        positions = {column: indexes[0] for column, indexes in found.items()}
        missing = [c for c in METRIC_COLUMNS if c.required and c not in found]
        if missing:
            where = Location(file_name, sheet, row_number, missing[0].label)
            problem = "required column missing: " + ", ".join(repr(c.label) for c in missing)
            if not _figures_follow(rows, positions):
                raise _PartialHeaderError(where, problem)
        for column, indexes in found.items():
            if len(indexes) > 1:
                letters = " and ".join(column_letter(i) for i in indexes)
                raise WorkbookError(
                    Location(file_name, sheet, row_number, column.label),
                    f"the header appears more than once, in columns {letters}",
                )
        if missing:
            raise WorkbookError(where, problem)
        return row_number, positions
    return None


def _figures_follow(rows: Iterator[Sequence[object]], positions: dict[MetricColumn, int]) -> bool:
    """Whether any row under a header has a readable value in one of its metric columns.

    Consumes the sheet: only called when the sheet will not be read further.
    """
    for cells in rows:
        for column, index in positions.items():
            value, problem = PARSERS[column.kind](cells[index] if index < len(cells) else None)
            if value is not None and problem is None:
                return True
    return False


def _read_sheet(
    file_name: str,
    sheet: str,
    rows: Iterator[Sequence[object]],
    out: ParsedWorkbook,
    notes: CellNotes,
) -> SheetResult | None:
    header = _find_header(file_name, sheet, rows)
    if header is None:
        return None
    header_row, positions = header
    result = SheetResult(sheet, header_row)
    typing = _SheetTyping(positions, notes, out.data)
    first_row = header_row + 1
    while batch := list(itertools.islice(rows, ARROW_CHUNK_ROWS)):
        kept, with_issues = typing.read(batch, first_row, sheet)
        result.rows += kept
        result.rows_with_issues += with_issues
        first_row += len(batch)
    _check_date_column(file_name, sheet, positions, typing.dates_seen, typing.date_problems)
    return result


class _SheetTyping:
    """Types a sheet's rows a batch at a time, column by column: the usual cells (Excel
    dates in the date column, floats in the others) in bulk, as Arrow arrays, every other
    cell through its column's parser, with the same values, problems and skipped rows as
    one row at a time."""

    def __init__(self, positions: dict[MetricColumn, int], notes: CellNotes, out: _Columns) -> None:
        self.positions = positions
        self.notes = notes
        self.out = out
        self.dates_seen = 0
        self.date_problems: list[tuple[int, str]] = []

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
        arrays["source_sheet"] = pa.repeat(pa.scalar(sheet, types["source_sheet"]), count)
        arrays["source_row_number"] = kept(
            list(range(first_row, first_row + len(batch))), "source_row_number"
        )
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
        parse = PARSERS[column.kind]
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
        return values, empty


_SLOW: Final = object()
"""A cell the bulk reading leaves to its column's parser."""
_INT64_MIN, _INT64_END = -(2**63), 2**63


def _bulk_dates(cells: list[object]) -> pa.Array | None:
    """A column of Excel dates only, as an array (what :func:`~dap.ingest.cells.parse_date`
    returns for each); None if any cell is something else."""
    if set(map(type, cells)) == {date}:
        return pa.array(cells, pa.date32())
    return None


def _bulk_counts(cells: list[object]) -> pa.Array | None:
    """A column of whole floats within int64 only, as int64 (what
    :func:`~dap.ingest.cells.parse_count` makes of each); None otherwise. Arrow's checked cast
    refuses fractions, NaN, infinities and values out of range, as the parser does."""
    if set(map(type, cells)) != {float}:
        return None
    try:
        return pa.array(cells, pa.float64()).cast(pa.int64())
    except pa.ArrowInvalid:
        return None


def _bulk_numbers(cells: list[object]) -> pa.Array | None:
    """A column of finite floats only, as float64 (what :func:`~dap.ingest.cells.parse_number`
    returns for each); None otherwise."""
    if set(map(type, cells)) != {float}:
        return None
    numbers = pa.array(cells, pa.float64())
    return numbers if pc.all(pc.is_finite(numbers)).as_py() else None


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
}
_CELLWISE: dict[Kind, Callable[[list[object]], list[object]]] = {
    "date": _cellwise_dates,
    "count": _cellwise_counts,
    "number": _cellwise_numbers,
}


def _check_date_column(
    file_name: str,
    sheet: str,
    positions: dict[MetricColumn, int],
    dates_seen: int,
    problems: Sequence[tuple[int, str]],
) -> None:
    """A date column where most values are unreadable is a whole-file problem."""
    if not problems or len(problems) <= dates_seen * UNREADABLE_DATE_SHARE:
        return
    row, value = problems[0]
    letter = column_letter(positions[DATE_COLUMN])
    raise WorkbookError(
        Location(file_name, sheet, row, DATE_COLUMN.label),
        f"the date column ({letter}) cannot be read: {len(problems)} of {dates_seen} values "
        f"are not dates, the first is {value}; "
        "dates must be Excel dates or text as YYYY-MM-DD",
    )
