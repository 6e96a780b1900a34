"""The formats ``dap load`` reads, told from the content of a file, never its name.

- **Workbooks**: ``.xlsx``, ``.xlsm``, ``.xlsb`` and ``.ods`` (zip archives, told apart by
  their parts) and legacy ``.xls`` (an OLE compound file), read by
  :func:`dap.ingest.workbook.parse_workbook`.
- **CSV**, the portal's default export: UTF-8 text (a byte-order mark or not; UTF-16 with
  one, Windows-1252 without one also read) delimited by ``;`` or ``,``, told by the first
  rows splitting into the metric columns (or into columns of one width).
- **Parquet**, the portal's Parquet export: ``PAR1`` at both ends.

CSV and Parquet files are read as a workbook of one sheet (``csv``, ``parquet``) through
the same header search, typing, personal-data scan and checks
(:func:`dap.ingest.workbook.parse_table`): the same messages, the same ``load_issues``.
Other files are refused with a message saying what the file is and what to do: tab-
delimited text (TSV), an Excel 2003 XML spreadsheet, an Apple Numbers document, JSON, HTML,
XML, PDF, gzip, another zip archive, binary data, an empty file.

One module a concern: :mod:`._detect` (:func:`detect_format`, :class:`FileFormat`),
:mod:`._csv`, :mod:`._parquet` (the readers), :mod:`._limits` (how large a file may be),
:mod:`._dispatch` (:func:`parse_file`).
"""

from dap.ingest.formats._detect import NOT_READABLE, Detected, FileFormat, detect_format
from dap.ingest.formats._dispatch import parse_file
from dap.ingest.formats._limits import MAX_COLUMNS, MAX_PARQUET_BYTES, MAX_ROWS

__all__ = [
    "MAX_COLUMNS",
    "MAX_PARQUET_BYTES",
    "MAX_ROWS",
    "NOT_READABLE",
    "Detected",
    "FileFormat",
    "detect_format",
    "parse_file",
]
