"""The raw zone's contract: which workbook columns carry the metrics and how they land.

This is the one place that names the columns. Raw column names are the City's API
field names (lowercase, as Athena stores identifiers); dbt staging renames them to
business names.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

DATASET = "contact_centre_metrics"
"""Name of the raw table, and of the dataset folder in the landing and raw zones."""

PARTITION_COLUMN = "year"
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
"""Hive's (and Athena's) name for the partition of rows whose year is unknown."""

# How Hive, Glue and Athena name Parquet storage: the raw table's catalog entry
# (dap.lake.catalog) and the local Athena endpoint's tables (athena_local) both use these.
PARQUET_INPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"

Kind = Literal["date", "count", "number", "seconds"]
"""How a column's cells are read: ``seconds`` is a number of seconds that a workbook may
also give as a duration (``[h]:mm:ss``), landed as seconds."""


@dataclass(frozen=True)
class MetricColumn:
    label: str
    """The header as the City's export writes it."""
    raw_name: str
    """The column name in the raw zone (the API's field name)."""
    kind: Kind
    required: bool
    """Every metrics sheet must have it: the date, which places a row on a day."""
    measure: bool = False
    """One of the day's figures. A metrics sheet has the date and at least one measure;
    an extract may carry some measures only (the City's ``callsGeneral`` and
    ``callsHandled`` workbooks), and dbt merges extracts by date, measure by measure."""


METRIC_COLUMNS: tuple[MetricColumn, ...] = (
    MetricColumn("Date", "date", "date", required=True),
    MetricColumn("CallsOffered", "callsoffered", "count", required=False, measure=True),
    MetricColumn("CallsHandled", "callshandled", "count", required=False, measure=True),
    MetricColumn("CallsAbandoned", "callsabandoned", "count", required=False, measure=True),
    MetricColumn(
        "AverageSpeedofAnswer", "averagespeedofanswer", "seconds", required=False, measure=True
    ),
    MetricColumn("ServiceLevel", "servicelevel", "number", required=False, measure=True),
    MetricColumn("BI_ID", "bi_id", "count", required=False),
)
DATE_COLUMN = METRIC_COLUMNS[0]
MEASURE_COLUMNS: tuple[MetricColumn, ...] = tuple(c for c in METRIC_COLUMNS if c.measure)
"""The day's figures, in the fixed order ``carried_columns`` lists them."""

CARRIED_SEPARATOR = ","


def carried_columns(columns: Iterable[MetricColumn]) -> list[str]:
    """Raw names of the measures among ``columns``, in :data:`MEASURE_COLUMNS` order: what
    a sheet with these columns carries (``carried_columns`` in the raw zone, joined with
    :data:`CARRIED_SEPARATOR`; ``columns_carried`` in the manifest)."""
    present = set(columns)
    return [c.raw_name for c in MEASURE_COLUMNS if c in present]


_ARROW_TYPES: dict[Kind, pa.DataType] = {
    "date": pa.date32(),
    "count": pa.int64(),
    "number": pa.float64(),
    "seconds": pa.float64(),
}

LINEAGE_FIELDS: tuple[pa.Field, ...] = (
    pa.field("load_issues", pa.string()),
    pa.field("source_file_name", pa.string(), nullable=False),
    pa.field("source_file_sha256", pa.string(), nullable=False),
    pa.field("source_sheet", pa.string(), nullable=False),
    pa.field("source_row_number", pa.int64(), nullable=False),
    pa.field("carried_columns", pa.string(), nullable=False),
    pa.field("ingested_at", pa.timestamp("ms"), nullable=False),
    pa.field("extract_rows", pa.int64(), nullable=False),
)
"""Columns the loader adds to every row. ``load_issues`` lists cells that could not be
read as their column's type, with the value as received; it is null when all were read.
``carried_columns`` lists the measures the row's sheet has a column for (raw names in
:data:`MEASURE_COLUMNS` order, comma-separated), so a measure the extract does not carry
(null, nothing to say) is told apart from a blank cell (null, a row-level problem that
``load_issues`` or dbt's rules report); it is null in files landed before the loader
wrote it, and such extracts carried every measure.
``extract_rows`` is how many rows the workbook lands across all its partition files: a
reader that finds fewer rows of an extract than that is looking at a load that was
interrupted (or is still running), and leaves the extract out
(models/intermediate/int_daily_metrics_validated.sql)."""

RAW_SCHEMA = pa.schema(
    [pa.field(c.raw_name, _ARROW_TYPES[c.kind]) for c in METRIC_COLUMNS] + list(LINEAGE_FIELDS)
)
"""Schema of the Parquet files in the raw zone (the partition column lives in the path)."""


# Unicode categories a header may carry invisibly: every kind of space (no-break, thin,
# narrow no-break, ideographic: Zs), line and paragraph separators (Zl, Zp), controls such
# as tabs and newlines (Cc) and format characters such as the zero-width space, joiners
# and the byte-order mark (Cf). Spreadsheet tools and copy-paste leave them in headers.
_INVISIBLE = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})


def normalise_header(value: object) -> str:
    """Header text compared ignoring case, underscores and every space, control or format
    character (NFKC first, so full-width letters read as their plain forms)."""
    text = unicodedata.normalize("NFKC", str(value)).casefold()
    return "".join(ch for ch in text if ch != "_" and unicodedata.category(ch) not in _INVISIBLE)


HEADER_INDEX: dict[str, MetricColumn] = {normalise_header(c.label): c for c in METRIC_COLUMNS}
