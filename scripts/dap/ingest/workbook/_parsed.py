"""What reading a workbook produces: its typed columns, held as Arrow arrays, and the
sheets read, skipped and masked (:class:`ParsedWorkbook`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dap.ingest.cells import EXCEL_1900, DateSystem
from dap.ingest.pii import PiiFinding
from dap.schema import DATE_COLUMN, MEASURE_COLUMNS, METRIC_COLUMNS, RAW_SCHEMA

if TYPE_CHECKING:
    from dap.ingest.formats import FileFormat


@dataclass
class SheetResult:
    name: str
    header_row: int
    rows: int = 0
    rows_with_issues: int = 0
    columns_carried: list[str] = field(default_factory=list)
    """The measures the sheet has a column for (raw names, :data:`~dap.schema.MEASURE_COLUMNS`
    order); every row of the sheet records them in ``carried_columns``."""
    unreadable_dates: int = 0
    """Rows whose date cell could not be read (they land without a date; dbt quarantines
    them), and the first few as (row, value quoted)."""
    unreadable_date_examples: list[tuple[int, str]] = field(default_factory=list)


class _Columns:
    """The typed rows, column by column, as Arrow arrays (a few bytes a value): one chunk
    per batch of at most :data:`~dap.ingest.workbook.ARROW_CHUNK_ROWS` rows."""

    def __init__(self) -> None:
        self.names = _column_names()
        self.types = {name: RAW_SCHEMA.field(name).type for name in self.names}
        for name in SHEET_CONSTANTS:  # one value a sheet: held once, not once a row
            self.types[name] = pa.dictionary(pa.int32(), self.types[name])
        self.chunks: dict[str, list[pa.Array]] = {name: [] for name in self.names}
        self.rows = 0

    def add(self, batch: dict[str, pa.Array]) -> None:
        """Append one batch: an array of the same length for every column."""
        lengths = {len(batch[name]) for name in self.names}
        if len(lengths) != 1:
            raise ValueError(f"a batch's columns differ in length: {sorted(lengths)}")
        for name in self.names:
            values = batch[name]
            if isinstance(values, pa.ChunkedArray):  # a sheet read in two halves
                self.chunks[name].extend(values.chunks)
            else:
                self.chunks[name].append(values)
        self.rows += lengths.pop()

    def extend(self, other: _Columns) -> None:
        """Append every batch of ``other`` (the same columns), without copying values."""
        for name in self.names:  # columns may be chunked differently (a sheet read in halves)
            self.chunks[name].extend(other.chunks[name])
        self.rows += other.rows

    @staticmethod
    def constant(value: str, count: int) -> pa.Array:
        """A column of ``count`` rows that all hold ``value``, dictionary-encoded
        (:data:`SHEET_CONSTANTS`, and the file's name and hash)."""
        indices = pa.array(np.zeros(count, dtype=np.int32))
        return pa.DictionaryArray.from_arrays(indices, pa.array([value], pa.string()))

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
    file_format: FileFormat | None = None
    """The format told from the content (:func:`dap.ingest.formats.parse_file` sets it)."""
    date_system: DateSystem = EXCEL_1900
    """The date system the workbook's serial numbers count in (1904 if it says so)."""

    @property
    def rows(self) -> int:
        return self.data.rows

    @property
    def columns(self) -> dict[str, list[object]]:
        """Every typed column as a list (raw-zone names plus ``load_issues``,
        ``source_sheet``, ``source_row_number`` and ``carried_columns``); for inspection,
        the loader uses
        :meth:`to_arrow`."""
        return {name: self.data.column(name).to_pylist() for name in self.data.names}

    def to_arrow(self, sha256: str) -> pa.Table:
        """The rows as an Arrow table in raw-zone column order, minus ``ingested_at`` and
        ``extract_rows``."""
        table = self._with_lineage(self._typed(), sha256)
        return table.cast(pa.schema([RAW_SCHEMA.field(name) for name in table.column_names]))

    def by_year(self, sha256: str) -> Iterator[tuple[int | None, pa.Table]]:
        """The rows split by the year of their date, each part as :meth:`to_arrow` makes
        it; the rows without a date come last, as year None. The file's name and hash are
        added to each part after the split rather than split with it. Within a year the
        rows keep the workbook's order. Where each year's rows stand together in the
        workbook (a workbook a year, an export in date order), each part is a slice of
        the rows as they are; otherwise the rows are put in year order once (a stable
        sort) and each part is a slice of that. A part is one chunk a column, as the
        Parquet writer is always given it."""
        years = pc.year(self.data.column(DATE_COLUMN.raw_name)).combine_chunks()
        if len(years) == 0:
            return
        typed = self._typed()
        runs = pc.run_end_encode(years, run_end_type=pa.int64())
        values = runs.values.to_pylist()
        if len(set(values)) < len(values):  # a year in more than one place
            order = pc.array_sort_indices(years, order="ascending", null_placement="at_end")
            typed = typed.take(order)
            runs = pc.run_end_encode(years.take(order), run_end_type=pa.int64())
            values = runs.values.to_pylist()
        ends = runs.run_ends.to_pylist()
        starts = [0, *ends[:-1]]
        parts = sorted(
            zip(values, starts, ends, strict=True),
            key=lambda part: (part[0] is None, part[0] or 0),
        )
        for year, start, end in parts:
            part = typed.slice(start, end - start)
            if any(column.num_chunks > 1 for column in part.columns):
                part = part.combine_chunks()
            yield year, self._with_lineage(part, sha256)

    def _typed(self) -> pa.Table:
        return pa.table({name: self.data.column(name) for name in self.data.names})

    def _with_lineage(self, typed: pa.Table, sha256: str) -> pa.Table:
        n = typed.num_rows
        data: dict[str, pa.Array | pa.ChunkedArray] = {
            c.raw_name: typed[c.raw_name] for c in METRIC_COLUMNS
        }
        data["load_issues"] = typed["load_issues"]
        data["source_file_name"] = _Columns.constant(self.file_name, n)
        data["source_file_sha256"] = _Columns.constant(sha256, n)
        data["source_sheet"] = typed["source_sheet"]
        data["source_row_number"] = typed["source_row_number"]
        data["carried_columns"] = typed["carried_columns"]
        return pa.table(data)

    @property
    def columns_carried(self) -> list[str]:
        """The measures some sheet carries (raw names, in :data:`~dap.schema.MEASURE_COLUMNS`
        order): the extract's ``columns_carried`` in its manifest."""
        carried = {name for sheet in self.sheets for name in sheet.columns_carried}
        return [c.raw_name for c in MEASURE_COLUMNS if c.raw_name in carried]

    @property
    def unreadable_dates(self) -> dict[str, object]:
        """Every date that could not be read, for the load's output, manifest and audit
        record: how many, and the first few with their sheet, row and value."""
        examples = [
            {"sheet": sheet.name, "row": row, "value": value}
            for sheet in self.sheets
            for row, value in sheet.unreadable_date_examples
        ]
        count = sum(sheet.unreadable_dates for sheet in self.sheets)
        return {"count": count, "examples": examples[:UNREADABLE_DATE_EXAMPLES]}

    @property
    def years(self) -> list[int | None]:
        years: list[int | None] = pc.year(self.data.column(DATE_COLUMN.raw_name)).to_pylist()
        return years


SHEET_CONSTANTS = ("source_sheet", "carried_columns")
"""Columns with one value for a whole sheet, held dictionary-encoded (as are the file's
name and hash, added with the lineage) up to the raw file's Parquet, which encodes such a
column as a dictionary of one value anyway (:func:`dap.lake.load.build_raw_objects`): a
million-row sheet would otherwise hold its name and measure list a million times over."""

UNREADABLE_DATE_EXAMPLES = 5
"""How many unreadable dates messages, the manifest and the audit record quote."""


def _column_names() -> list[str]:
    return [c.raw_name for c in METRIC_COLUMNS] + [
        "load_issues",
        "source_sheet",
        "source_row_number",
        "carried_columns",
    ]
