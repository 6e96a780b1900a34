"""Reading a Parquet file (the portal's Parquet export) as a workbook of one sheet,
``parquet``: row 1 is the column names, the data from row 2, so cells are quoted as
``CallsOffered (B7)`` as in a workbook.

The file is read with pyarrow a batch of rows at a time, and each batch handed on as the
cells a spreadsheet parser gives: whole numbers as floats (within 2**53, where that is
exact), dates as dates, text as text, so the typing takes the same paths, bulk or cell by
cell, with the same values and messages. Before anything is read the footer is checked:
at most :data:`~dap.ingest.formats.MAX_ROWS` rows, :data:`~dap.ingest.formats.MAX_COLUMNS`
columns and :data:`~dap.ingest.formats.MAX_PARQUET_BYTES` declared uncompressed (a few
kilobytes of Parquet can declare billions of empty rows), and flat columns of text,
numbers, dates and times only: every text value is scanned for personal data, and
nested or binary values could hide text from the scan.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.parquet as pq
import pyarrow.types as pat

from dap.errors import Location, WorkbookError
from dap.ingest.formats._limits import MAX_COLUMNS, MAX_PARQUET_BYTES, MAX_ROWS
from dap.ingest.pii import PiiPolicy, column_letter, mask_pii
from dap.ingest.workbook import ARROW_CHUNK_ROWS, ParsedWorkbook, parse_table

SHEET = "parquet"
"""The sheet name a Parquet file's rows land with (``source_sheet``) and messages name."""


def read_parquet(file_name: str, data: bytes, *, pii: PiiPolicy = "stop") -> ParsedWorkbook:
    """Parse Parquet bytes."""
    shown = mask_pii(file_name)
    where = Location(shown)
    try:
        parquet = pq.ParquetFile(pa.BufferReader(data))
        meta = parquet.metadata
        declared = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        schema = parquet.schema_arrow
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise WorkbookError(where, f"not a readable Parquet file ({exc})") from exc
    if meta.num_rows + 1 > MAX_ROWS:
        raise WorkbookError(
            where,
            f"the file has {meta.num_rows:,} rows, more than a sheet holds "
            f"({MAX_ROWS - 1:,} under its header); split it into files of fewer rows",
        )
    if len(schema) > MAX_COLUMNS:
        raise WorkbookError(
            where, f"the file has {len(schema):,} columns, more than the {MAX_COLUMNS:,} allowed"
        )
    if declared > MAX_PARQUET_BYTES:
        raise WorkbookError(
            where,
            f"the file declares {declared:,} bytes of data uncompressed, more than the "
            f"{MAX_PARQUET_BYTES:,} allowed",
        )
    for index, column in enumerate(schema):
        if not _flat(column.type):
            raise WorkbookError(
                Location(shown, SHEET, 1, mask_pii(column.name)),
                f"the column ({column_letter(index)}) has type {column.type}; the loader reads "
                "columns of text, numbers, dates and times only",
            )
    return parse_table(file_name, SHEET, _rows(shown, parquet, schema), pii=pii)


def _flat(kind: pa.DataType) -> bool:
    if pat.is_dictionary(kind):
        return _flat(kind.value_type)
    return bool(
        pat.is_null(kind)
        or pat.is_boolean(kind)
        or pat.is_integer(kind)
        or pat.is_floating(kind)
        or pat.is_decimal(kind)
        or pat.is_date(kind)
        or pat.is_timestamp(kind)
        or pat.is_string(kind)
        or pat.is_large_string(kind)
    )


def _rows(shown_name: str, parquet: pq.ParquetFile, schema: pa.Schema) -> Iterator[list[object]]:
    """The header row, then each row as a list of cells."""
    yield list(schema.names)
    try:
        for batch in parquet.iter_batches(batch_size=ARROW_CHUNK_ROWS, use_threads=False):
            columns = [_cells(column) for column in batch.columns]
            yield from map(list, zip(*columns, strict=True))
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise WorkbookError(Location(shown_name), f"not a readable Parquet file ({exc})") from exc


def _cells(column: pa.Array) -> list[object]:
    """A column's values as a spreadsheet parser gives cells: numbers as floats where that
    is exact, dates as dates, text as text."""
    kind = column.type
    if pat.is_dictionary(kind):
        column = column.dictionary_decode()
        kind = column.type
    if pat.is_integer(kind) or pat.is_decimal(kind) or pat.is_floating(kind):
        # Checked: integers beyond 2**53 stay Python ints, read cell by cell.
        with contextlib.suppress(pa.ArrowInvalid):
            column = column.cast(pa.float64())
    values: list[object] = column.to_pylist()
    return values
