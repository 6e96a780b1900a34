"""How large a CSV or Parquet file may be: what a sheet holds, so a file that reads fine
as a workbook reads fine in any format and memory stays as bounded as a workbook's."""

from __future__ import annotations

from dap.ingest.guard import MAX_EXCEL_COLUMNS, MAX_EXCEL_ROWS, MAX_UNCOMPRESSED

MAX_ROWS = MAX_EXCEL_ROWS
"""Rows of a CSV or Parquet file, the header's included (1,048,576: a sheet's; the
dataset has one row a day)."""
MAX_COLUMNS = MAX_EXCEL_COLUMNS
"""Columns of a row (16,384: a sheet's)."""
MAX_PARQUET_BYTES = MAX_UNCOMPRESSED
"""Uncompressed bytes a Parquet file may declare in all (1 GiB, as a workbook's zip)."""
