"""Reading one workbook: find the sheets that carry the metrics and type every cell.

Whole-file problems raise :class:`~dap.errors.WorkbookError` naming file, sheet, row
and column. Problems with single values do not stop the load: the value lands as null
in its typed column and is described in ``load_issues``, so dbt can route the row.

Before the parser sees the bytes, :mod:`dap.ingest.guard` checks the container: an
encrypted file, a damaged zip, a decompression bomb or a sheet spanning more cells than
can be held stop the load with a message instead of a crash or unbounded memory. Its notes
on error cells (``#N/A``) and formulas saved without a value, which the parser reads as
empty, are quoted in ``load_issues``.

Every sheet is scanned for personal data (:mod:`dap.ingest.pii`), hidden ones and those
without metrics included, since the landing zone keeps the whole file. With the ``stop``
policy any finding raises :class:`~dap.errors.PiiError` once the whole workbook has been
scanned; with ``mask`` the text is masked before any cell is typed, so nothing derived
from the workbook (typed values, ``load_issues``, sheet names, messages) holds the value.

Memory: a sheet is read row by row, scanned in batches of :data:`SCAN_BATCH_ROWS` rows,
and its typed values are kept as Arrow arrays of :data:`ARROW_CHUNK_ROWS` rows, so beyond
the parser's own copy of the sheet (32 bytes a cell) a row costs a few dozen bytes.

One module a concern:

- :mod:`._read`: :func:`parse_workbook`; the sheets read row by row and scanned for
  personal data, the metric sheets' rows handed on in batches. :func:`parse_table` reads
  a file of one table (CSV, Parquet: :mod:`dap.ingest.formats`) the same way, as a
  workbook of one sheet.
- :mod:`._fast`: a large `.xlsx` read to Arrow by fastexcel in the parser probe's child,
  beside the container check, and proved cell for cell against its counts.
- :mod:`._split`: a large sheet of that read cut into two halves read at once (the
  probe's child and a child of its own), and joined back.
- :mod:`._sheets`: finding a sheet's header row and the metric columns in it.
- :mod:`._typing`: typing a batch's cells into Arrow columns, in bulk or cell by cell.
- :mod:`._parsed`: :class:`ParsedWorkbook`, the typed columns and what was read.
- :mod:`._date_system`: the date system (1900 or 1904, an ``.ods``'s day zero) the
  workbook's serial numbers count in, read from the file.
"""

from dap.ingest.pii import column_letter
from dap.ingest.workbook._parsed import ParsedWorkbook, SheetResult
from dap.ingest.workbook._read import (
    ARROW_CHUNK_ROWS,
    SCAN_BATCH_ROWS,
    parse_table,
    parse_workbook,
)
from dap.ingest.workbook._sheets import HEADER_SEARCH_ROWS
from dap.ingest.workbook._typing import UNREADABLE_DATE_SHARE, CellNotes

__all__ = [
    "ARROW_CHUNK_ROWS",
    "HEADER_SEARCH_ROWS",
    "SCAN_BATCH_ROWS",
    "UNREADABLE_DATE_SHARE",
    "CellNotes",
    "ParsedWorkbook",
    "SheetResult",
    "column_letter",
    "parse_table",
    "parse_workbook",
]
