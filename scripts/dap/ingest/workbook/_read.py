"""Reading a workbook with python-calamine: the container check and the parser probe
first, then every sheet row by row, scanned for personal data a batch at a time before
any of its rows is typed, and the metric sheets' rows typed in batches."""

from __future__ import annotations

import collections
import dataclasses
import gc
import io
import itertools
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import cast

from python_calamine import (
    CalamineError,
    CalamineSheet,
    CalamineWorkbook,
    SheetTypeEnum,
    SheetVisibleEnum,
)

from dap.errors import Location, PiiError, WorkbookError
from dap.ingest.cells import EXCEL_1900, DateSystem, is_blank
from dap.ingest.guard import ParserProbe, check_archive
from dap.ingest.pii import PiiFinding, PiiPolicy, mask_grid, mask_pii, scan_grid, scan_name
from dap.ingest.workbook import _fast
from dap.ingest.workbook._date_system import _ZIP_MAGIC, detect_date_system
from dap.ingest.workbook._fast import read_fast_sheets
from dap.ingest.workbook._parsed import (
    UNREADABLE_DATE_EXAMPLES,
    ParsedWorkbook,
    SheetResult,
    _Columns,
)
from dap.ingest.workbook._sheets import (
    HEADER_SEARCH_ROWS,
    WANTED_COLUMNS,
    HeaderSeen,
    _carries_some_measures_only,
    _find_header,
    _has_figures,
    _notes_sheet,
    _PartialHeaderError,
    headers_seen_note,
)
from dap.ingest.workbook._typing import CellNotes, _check_date_column, _SheetTyping
from dap.schema import carried_columns

SCAN_BATCH_ROWS = 4096
"""Rows scanned for personal data at a time, before any of them is typed."""
ARROW_CHUNK_ROWS = 65_536
"""Typed values are held as Python objects for at most this many rows, then as Arrow."""


def parse_workbook(file_name: str, data: bytes, *, pii: PiiPolicy = "stop") -> ParsedWorkbook:
    """Parse workbook bytes (.xlsx, .xls, .xlsb or .ods, detected from the content).

    ``pii``: ``stop`` raises :class:`~dap.errors.PiiError` listing every cell with personal
    data; ``mask`` masks it and lists the cells in ``pii_findings``.
    """
    findings = scan_name(Location(mask_pii(file_name)), file_name)
    file_name = mask_pii(file_name)  # as it lands, and in every message
    with tempfile.TemporaryDirectory(prefix="dap-fast-read-") as fast_dir:
        fast_to = Path(fast_dir) if _fast_read_pays(data) else None
        # In another process, beside the archive check: the parser opens the file, and
        # reads its large sheets to Arrow (workbook._fast).
        probe = ParserProbe(file_name, data, fast_to)
        try:
            report = check_archive(file_name, data)
        except BaseException:
            probe.stop()
            raise
        # A large .xlsx is opened while the probe is still reading its sheets: the check
        # has passed, and it has measured what could make opening an .xlsx abort (the
        # shared string count, the sheets' extent). Anything else is opened only once the
        # probe has had the parser open it (a damaged .xls can abort the parser). A
        # failure to open is held until the probe has given its verdict.
        opened = _open(data, probe.file_path()) if fast_to is not None else None
        probe.result()
        if opened is None:
            opened = _open(data)
        fast = read_fast_sheets(fast_to, report.cells) if fast_to is not None else {}
    return _parse_checked(file_name, data, findings, pii, report.notes, fast, opened)


def _open(data: bytes, path: str | None = None) -> CalamineWorkbook | BaseException:
    """The workbook opened by calamine, from ``path`` (a file holding ``data``) where
    there is one: calamine then reads the zip members it needs from the file, where from
    the bytes it would hold a copy of the whole workbook (45 MB for a million rows)."""
    try:
        if path is not None:
            return CalamineWorkbook.from_path(path)
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:
        return exc
    except BaseException as exc:  # a Rust panic (PanicException): the same
        if type(exc).__name__ != "PanicException":
            raise
        return exc


def _fast_read_pays(data: bytes) -> bool:
    """A large zip (an `.xlsx`; the child reads only what openpyxl and fastexcel take)."""
    return len(data) >= _fast.FAST_READ_MIN_BYTES and data.startswith(_ZIP_MAGIC)


def _parse_checked(
    file_name: str,
    data: bytes,
    findings: list[PiiFinding],
    pii: PiiPolicy,
    notes: dict[str, CellNotes],
    fast: dict[str, _fast.FastSheet],
    opened: CalamineWorkbook | BaseException,
) -> ParsedWorkbook:
    """The workbook read once the container check passed (``opened``: the workbook
    opened by :func:`_open`, or what opening it raised)."""
    where = Location(file_name)
    try:
        try:
            if isinstance(opened, BaseException):
                raise opened
            book = opened
        except CalamineError as exc:
            raise WorkbookError(where, f"not a readable Excel workbook ({exc})") from exc
        except Exception as exc:  # calamine raises plain errors for some damaged files
            raise WorkbookError(where, f"not a readable Excel workbook ({exc})") from exc
        result = ParsedWorkbook(file_name, [])
        result.date_system = detect_date_system(data)  # for serial numbers in General cells
        if result.date_system != EXCEL_1900:
            fast = {}  # fastexcel counts serials from 1900: these sheets are read cell by cell
        collecting = gc.isenabled()
        gc.disable()
        seen: list[HeaderSeen] = []
        try:
            partial_headers, deferred = _read_sheets(book, result, findings, pii, notes, seen, fast)
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
    wanted = WANTED_COLUMNS
    no_sheet = (
        f"no sheet has the required columns ({wanted}) in a header row within its first "
        f"{HEADER_SEARCH_ROWS} rows; sheets: {_names(book)}{headers_seen_note(seen)}"
    )
    return _checked(result, findings, pii, deferred, partial_headers, no_sheet)


def parse_table(
    file_name: str,
    table: str,
    rows: Iterable[list[object]],
    *,
    pii: PiiPolicy = "stop",
) -> ParsedWorkbook:
    """Parse a file that holds one table (a CSV or Parquet file) as a workbook with one
    sheet named ``table``, through the same header search, personal-data scan, typing and
    checks as :func:`parse_workbook`, so its messages and ``load_issues`` read the same
    (``CallsOffered (B7): 'abc' is not a number``).

    ``rows`` are the table's rows from row 1 (the header row, or title rows above it), each
    a list of cells from column A; under ``mask`` they are masked in place. The reader may
    raise :class:`~dap.errors.WorkbookError` from ``rows`` for a damaged file: it is
    reported once the rows read so far have been scanned, after any personal data found.
    """
    findings = scan_name(Location(mask_pii(file_name)), file_name)
    file_name = mask_pii(file_name)  # as it lands, and in every message
    result = ParsedWorkbook(file_name, [])
    scanned = _scanned_rows(file_name, table, iter(rows), pii, findings)
    partial_headers: list[_PartialHeaderError] = []
    deferred: WorkbookError | None = None
    sheet: SheetResult | None = None
    seen: list[HeaderSeen] = []
    try:
        if not (findings and pii == "stop"):  # the file will not load: scan only
            try:
                sheet = _read_sheet(file_name, table, scanned, result, {}, seen=seen)
            except _PartialHeaderError as exc:
                partial_headers.append(exc)
            except WorkbookError as exc:
                deferred = exc
        collections.deque(scanned, maxlen=0)  # scan the rest of the table
    except WorkbookError as exc:  # the reader's: the file is damaged past this point
        deferred = deferred or exc
    if sheet is not None:
        result.sheets.append(sheet)
    wanted = WANTED_COLUMNS
    no_header = (
        f"no header row with the required columns ({wanted}) within its first "
        f"{HEADER_SEARCH_ROWS} rows{headers_seen_note(seen)}"
    )
    return _checked(result, findings, pii, deferred, partial_headers, no_header)


def _checked(
    result: ParsedWorkbook,
    findings: list[PiiFinding],
    pii: PiiPolicy,
    deferred: WorkbookError | None,
    partial_headers: list[_PartialHeaderError],
    no_sheet: str,
) -> ParsedWorkbook:
    """The whole-file checks once every sheet has been read and scanned: personal data
    (``stop``), the first problem met, a sheet with the metrics (``no_sheet`` says what is
    missing), data rows under its header."""
    if findings and pii == "stop":
        raise PiiError(findings)
    if deferred is not None:
        raise deferred
    result.pii_findings = findings

    where = Location(result.file_name)
    if not result.sheets and partial_headers:
        raise WorkbookError(partial_headers[0].location, partial_headers[0].problem)
    if not result.sheets:
        raise WorkbookError(where, no_sheet)
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
    seen: list[HeaderSeen] | None = None,
    fast: dict[str, _fast.FastSheet] | None = None,
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
        read_fast = fast.get(meta.name) if fast and worksheet else None
        if read_fast is not None and meta.visible == SheetVisibleEnum.Visible:
            read = deferred is None and not (findings and pii == "stop")
            handled, problem = _read_fast(
                out, name, meta.name, read_fast, notes, findings, partial_headers, read=read
            )
            deferred = deferred or problem
            if handled:
                continue
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
                result = _read_sheet(
                    out.file_name,
                    name,
                    rows,
                    out,
                    notes.get(meta.name, {}),
                    out.date_system,
                    seen,
                )
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


def _read_fast(
    out: ParsedWorkbook,
    name: str,
    raw_name: str,
    sheet: _fast.FastSheet,
    notes: dict[str, CellNotes],
    findings: list[PiiFinding],
    partial_headers: list[_PartialHeaderError],
    *,
    read: bool,
) -> tuple[bool, WorkbookError | None]:
    """A sheet the probe read to Arrow (:mod:`._fast`), scanned and (when ``read``) typed
    into ``out`` as :func:`_read_sheets` does a sheet cell by cell. Returns whether it was
    (False: nothing changed, read it cell by cell) and the whole-file problem it met."""
    scanned = scan_name(Location(out.file_name, name), raw_name)
    try:
        result = _fast.read_fast_sheet(
            out.file_name, name, sheet, out.data, notes.get(raw_name, {}), scanned, read=read
        )
    except _fast.NotFast:
        return False, None
    except _PartialHeaderError as exc:
        partial_headers.append(exc)
        result = None
    except WorkbookError as exc:
        findings.extend(scanned)
        return True, exc
    findings.extend(scanned)
    if result is not None:
        out.sheets.append(result)
    else:
        out.skipped_sheets.append(name)
    return True, None


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


def _names(book: CalamineWorkbook) -> str:
    return ", ".join(repr(mask_pii(m.name)) for m in book.sheets_metadata) or "none"


def _read_sheet(
    file_name: str,
    sheet: str,
    rows: Iterator[Sequence[object]],
    out: ParsedWorkbook,
    notes: CellNotes,
    date_system: DateSystem = EXCEL_1900,
    seen: list[HeaderSeen] | None = None,
) -> SheetResult | None:
    header = _find_header(file_name, sheet, rows, seen)
    if header is None:
        return None
    header_row, positions = header
    result = SheetResult(sheet, header_row, columns_carried=carried_columns(positions))
    data = _Columns()  # the sheet's rows join the workbook's once the sheet qualifies
    typing = _SheetTyping(positions, notes, data, date_system)
    first_row = header_row + 1
    while batch := list(itertools.islice(rows, ARROW_CHUNK_ROWS)):
        kept, with_issues = typing.read(batch, first_row, sheet)
        result.rows += kept
        result.rows_with_issues += with_issues
        first_row += len(batch)
    if _carries_some_measures_only(positions) and not _has_figures(data, positions):
        raise _notes_sheet(file_name, sheet, header_row, positions)
    problems = typing.date_problems
    _check_date_column(file_name, sheet, positions, typing.dates_seen, problems, typing.text_dates)
    result.unreadable_dates = len(problems)
    result.unreadable_date_examples = problems[:UNREADABLE_DATE_EXAMPLES]
    out.data.extend(data)
    return result
