"""Reading one workbook: find the sheets that carry the metrics and type every cell.

Whole-file problems raise :class:`~dap.errors.WorkbookError` naming file, sheet, row
and column. Problems with single values do not stop the load: the value lands as null
in its typed column and is described in ``load_issues``, so dbt can route the row.

Every sheet is scanned for personal data (:mod:`dap.pii`) first, hidden ones and those
without metrics included, since the landing zone keeps the whole file. With the ``stop``
policy any finding raises :class:`~dap.errors.PiiError` once the whole workbook has been
scanned; with ``mask`` the text is masked before any cell is typed, so nothing derived
from the workbook (typed values, ``load_issues``, sheet names, messages) holds the value.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa
from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from dap.cells import PARSERS, is_blank, quote
from dap.errors import Location, PiiError, WorkbookError
from dap.pii import PiiFinding, PiiPolicy, column_letter, mask_grid, mask_pii, scan_grid, scan_name
from dap.schema import DATE_COLUMN, HEADER_INDEX, METRIC_COLUMNS, MetricColumn, normalise_header

HEADER_SEARCH_ROWS = 20
"""How far down a sheet the header row may start (title rows above it are allowed)."""
UNREADABLE_DATE_SHARE = 0.5
"""Above this share of unreadable dates the column, not the rows, is considered broken."""


@dataclass
class SheetResult:
    name: str
    header_row: int
    rows: int = 0
    rows_with_issues: int = 0


@dataclass
class ParsedWorkbook:
    """A workbook that passed the whole-file checks, as typed columns (no ingest time yet)."""

    file_name: str
    sheets: list[SheetResult]
    columns: dict[str, list[object]]
    skipped_sheets: list[str] = field(default_factory=list)
    pii_findings: list[PiiFinding] = field(default_factory=list)
    """Where personal data was masked (``mask`` policy), by kind; never the values."""

    @property
    def rows(self) -> int:
        return len(self.columns[DATE_COLUMN.raw_name])

    def to_arrow(self, sha256: str) -> pa.Table:
        """The rows as an Arrow table in raw-zone column order, minus ``ingested_at``."""
        n = self.rows
        data = {c.raw_name: self.columns[c.raw_name] for c in METRIC_COLUMNS}
        data["load_issues"] = self.columns["load_issues"]
        data["source_file_name"] = [self.file_name] * n
        data["source_file_sha256"] = [sha256] * n
        data["source_sheet"] = self.columns["source_sheet"]
        data["source_row_number"] = self.columns["source_row_number"]
        return pa.table(data)

    @property
    def years(self) -> list[int | None]:
        dates = self.columns[DATE_COLUMN.raw_name]
        return [d.year if isinstance(d, date) else None for d in dates]


def parse_workbook(file_name: str, data: bytes, *, pii: PiiPolicy = "stop") -> ParsedWorkbook:
    """Parse workbook bytes (.xlsx, .xls, .xlsb or .ods, detected from the content).

    ``pii``: ``stop`` raises :class:`~dap.errors.PiiError` listing every cell with personal
    data; ``mask`` masks it and lists the cells in ``pii_findings``.
    """
    findings = scan_name(Location(mask_pii(file_name)), file_name)
    file_name = mask_pii(file_name)  # as it lands, and in every message
    where = Location(file_name)
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except CalamineError as exc:
        raise WorkbookError(where, f"not a readable Excel workbook ({exc})") from exc
    except Exception as exc:  # calamine raises plain errors for some damaged files
        raise WorkbookError(where, f"not a readable Excel workbook ({exc})") from exc

    result = ParsedWorkbook(file_name, [], {name: [] for name in _column_names()})
    partial_headers, deferred = _read_sheets(book, result, findings, pii)
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
    book: CalamineWorkbook, out: ParsedWorkbook, findings: list[PiiFinding], pii: PiiPolicy
) -> tuple[list[_PartialHeaderError], WorkbookError | None]:
    """Scan every sheet for personal data (adding to ``findings``) and read the visible
    worksheets' metrics into ``out``.

    Returns the partial headers seen and the first whole-file problem. That problem is
    not raised here: the rest of the workbook is still scanned, and personal data found
    anywhere is reported instead (under ``stop`` its message could quote a cell).
    """
    partial_headers: list[_PartialHeaderError] = []
    deferred: WorkbookError | None = None
    scan = mask_grid if pii == "mask" else scan_grid
    for meta in book.sheets_metadata:
        name = mask_pii(meta.name)  # as it lands in source_sheet, and in every message
        worksheet = meta.typ == SheetTypeEnum.WorkSheet
        try:
            rows = book.get_sheet_by_name(meta.name)
            # The whole grid from A1, so list positions are Excel's rows and columns
            # (iter_rows() drops empty leading columns: python-calamine #177).
            grid = [] if rows.start is None else rows.to_python(skip_empty_area=False)
        except CalamineError as exc:
            findings.extend(scan_name(Location(out.file_name, name), meta.name))
            out.skipped_sheets.append(name)
            if worksheet and deferred is None:  # a chart sheet may have no cells to read
                deferred = WorkbookError(Location(out.file_name, name), f"cannot be read ({exc})")
                deferred.__cause__ = exc
            continue
        findings.extend(scan(out.file_name, meta.name, grid))
        if not worksheet or meta.visible != SheetVisibleEnum.Visible:
            out.skipped_sheets.append(name)
            continue
        if deferred is not None or (findings and pii == "stop"):
            continue  # the workbook will not load: only the scan goes on
        try:
            sheet = _read_sheet(out.file_name, name, iter(grid), out)
        except _PartialHeaderError as exc:
            partial_headers.append(exc)
            sheet = None
        except WorkbookError as exc:
            deferred = exc
            continue
        if sheet is None:
            out.skipped_sheets.append(name)
        else:
            out.sheets.append(sheet)
    return partial_headers, deferred


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
) -> SheetResult | None:
    header = _find_header(file_name, sheet, rows)
    if header is None:
        return None
    header_row, positions = header
    result = SheetResult(sheet, header_row)
    date_problems: list[tuple[int, str]] = []
    dates_seen = 0

    for offset, cells in enumerate(rows):
        row_number = header_row + offset + 1
        values = [cells[i] if i < len(cells) else None for i in positions.values()]
        if all(is_blank(v) for v in values):
            continue
        issues: list[str] = []
        for column, raw in zip(positions, values, strict=True):
            value, problem = PARSERS[column.kind](raw)
            out.columns[column.raw_name].append(value)
            if problem is not None:
                letter = column_letter(positions[column])
                issues.append(f"{column.label} ({letter}{row_number}): {problem}")
                if column is DATE_COLUMN:
                    date_problems.append((row_number, quote(raw)))
            if column is DATE_COLUMN and not is_blank(raw):
                dates_seen += 1
        for column in METRIC_COLUMNS:
            if column not in positions:
                out.columns[column.raw_name].append(None)
        out.columns["load_issues"].append("; ".join(issues) if issues else None)
        out.columns["source_sheet"].append(sheet)
        out.columns["source_row_number"].append(row_number)
        result.rows += 1
        result.rows_with_issues += bool(issues)

    _check_date_column(file_name, sheet, positions, dates_seen, date_problems)
    return result


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
