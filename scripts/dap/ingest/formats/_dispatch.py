"""One entry point for every format: tell it from the content, read it with its reader."""

from __future__ import annotations

from dap.ingest.formats._csv import read_csv
from dap.ingest.formats._detect import FileFormat, detect_format
from dap.ingest.formats._parquet import read_parquet
from dap.ingest.pii import PiiPolicy
from dap.ingest.workbook import ParsedWorkbook, parse_workbook


def parse_file(file_name: str, data: bytes, *, pii: PiiPolicy = "stop") -> ParsedWorkbook:
    """Parse a workbook, CSV or Parquet file, its format told from ``data`` (never from
    ``file_name``), with the same checks, typing and personal-data scan whatever the
    format; ``file_format`` on the result says which it was.

    ``pii``: ``stop`` raises :class:`~dap.errors.PiiError` listing every cell with personal
    data; ``mask`` masks it and lists the cells in ``pii_findings``.
    """
    detected = detect_format(file_name, data)
    if detected.format is FileFormat.CSV:
        parsed = read_csv(file_name, data, detected, pii=pii)
    elif detected.format is FileFormat.PARQUET:
        parsed = read_parquet(file_name, data, pii=pii)
    else:
        parsed = parse_workbook(file_name, data, pii=pii)
    parsed.file_format = detected.format
    return parsed
