"""The raw zone's contract: which workbook columns carry the metrics and how they land.

This is the one place that names the columns. Raw column names are the City's API
field names (lowercase, as Athena stores identifiers); dbt staging renames them to
business names.
"""

from __future__ import annotations

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

Kind = Literal["date", "count", "number"]


@dataclass(frozen=True)
class MetricColumn:
    label: str
    """The header as the City's export writes it."""
    raw_name: str
    """The column name in the raw zone (the API's field name)."""
    kind: Kind
    required: bool


METRIC_COLUMNS: tuple[MetricColumn, ...] = (
    MetricColumn("Date", "date", "date", required=True),
    MetricColumn("CallsOffered", "callsoffered", "count", required=True),
    MetricColumn("CallsHandled", "callshandled", "count", required=True),
    MetricColumn("CallsAbandoned", "callsabandoned", "count", required=True),
    MetricColumn("AverageSpeedofAnswer", "averagespeedofanswer", "number", required=True),
    MetricColumn("ServiceLevel", "servicelevel", "number", required=True),
    MetricColumn("BI_ID", "bi_id", "count", required=False),
)
DATE_COLUMN = METRIC_COLUMNS[0]

_ARROW_TYPES: dict[Kind, pa.DataType] = {
    "date": pa.date32(),
    "count": pa.int64(),
    "number": pa.float64(),
}

LINEAGE_FIELDS: tuple[pa.Field, ...] = (
    pa.field("load_issues", pa.string()),
    pa.field("source_file_name", pa.string(), nullable=False),
    pa.field("source_file_sha256", pa.string(), nullable=False),
    pa.field("source_sheet", pa.string(), nullable=False),
    pa.field("source_row_number", pa.int64(), nullable=False),
    pa.field("ingested_at", pa.timestamp("ms"), nullable=False),
    pa.field("extract_rows", pa.int64(), nullable=False),
)
"""Columns the loader adds to every row. ``load_issues`` lists cells that could not be
read as their column's type, with the value as received; it is null when all were read.
``extract_rows`` is how many rows the workbook lands across all its partition files: a
reader that finds fewer rows of an extract than that is looking at a load that was
interrupted (or is still running), and leaves the extract out
(models/intermediate/int_daily_metrics_validated.sql)."""

RAW_SCHEMA = pa.schema(
    [pa.field(c.raw_name, _ARROW_TYPES[c.kind]) for c in METRIC_COLUMNS] + list(LINEAGE_FIELDS)
)
"""Schema of the Parquet files in the raw zone (the partition column lives in the path)."""


def normalise_header(value: object) -> str:
    """Header text compared ignoring case, spaces, underscores and surrounding noise."""
    text = str(value).replace("\ufeff", "").replace("\u00a0", " ")
    return "".join(ch for ch in text.lower() if ch not in " _\t\r\n")


HEADER_INDEX: dict[str, MetricColumn] = {normalise_header(c.label): c for c in METRIC_COLUMNS}
