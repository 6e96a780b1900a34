"""The metadata tables of an Iceberg table as Athena shows them: `"t$snapshots"`,
`$history`, `$files`, `$partitions`, `$manifests`, `$refs` (Athena's "Query Iceberg table
metadata"), with the columns, column order and types of Trino's Iceberg connector, which
Athena engine version 3 runs. pyiceberg's `inspect` reads them from the table's metadata.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from pyiceberg.table import Table

METADATA_TABLES = ("snapshots", "history", "files", "partitions", "manifests", "refs")
# Trino's Iceberg metadata tables, column by column (Trino's iceberg connector, as Athena
# engine version 3 runs it); refused: columns whose values are not emulated, with the
# type Trino gives them.
SNAPSHOT_COLUMNS = (
    "committed_at",
    "snapshot_id",
    "parent_id",
    "operation",
    "manifest_list",
    "summary",
)
HISTORY_COLUMNS = ("made_current_at", "snapshot_id", "parent_id", "is_current_ancestor")
FILES_COLUMNS = (
    "content",
    "file_path",
    "file_format",
    "record_count",
    "file_size_in_bytes",
    "column_sizes",
    "value_counts",
    "null_value_counts",
    "nan_value_counts",
    "lower_bounds",
    "upper_bounds",
    "key_metadata",
    "split_offsets",
    "equality_ids",
)
FILES_REFUSED = {
    "lower_bounds": pa.map_(pa.int32(), pa.string()),
    "upper_bounds": pa.map_(pa.int32(), pa.string()),
}
MANIFESTS_COLUMNS = (
    "path",
    "length",
    "partition_spec_id",
    "added_snapshot_id",
    "added_data_files_count",
    "added_rows_count",
    "existing_data_files_count",
    "existing_rows_count",
    "deleted_data_files_count",
    "deleted_rows_count",
    "partitions",
)
MANIFESTS_REFUSED = {
    "added_rows_count": pa.int64(),
    "existing_rows_count": pa.int64(),
    "deleted_rows_count": pa.int64(),
    "partitions": pa.list_(
        pa.struct(
            [
                ("contains_null", pa.bool_()),
                ("contains_nan", pa.bool_()),
                ("lower_bound", pa.string()),
                ("upper_bound", pa.string()),
            ]
        )
    ),
}
REFS_COLUMNS = (
    "name",
    "type",
    "snapshot_id",
    "max_reference_age_in_ms",
    "min_snapshots_to_keep",
    "max_snapshot_age_in_ms",
)


@dataclass(frozen=True)
class MetadataTable:
    """A metadata table's rows; ``refused`` columns hold no values (reading them fails)."""

    rows: pa.Table
    refused: frozenset[str]


def metadata_table(table: Table, kind: str) -> MetadataTable:
    """One metadata table of ``table``. Columns whose values are not emulated (statistics
    bounds, row counts of manifests) are listed as refused: reading them fails by name."""
    inspect = table.inspect
    if kind == "snapshots":
        found = inspect.snapshots()
        return MetadataTable(_columns(found, SNAPSHOT_COLUMNS, zoned={"committed_at"}), frozenset())
    if kind == "history":
        found = inspect.history()
        return MetadataTable(
            _columns(found, HISTORY_COLUMNS, zoned={"made_current_at"}), frozenset()
        )
    if kind == "files":
        found = inspect.files()
        rows = _columns(found, FILES_COLUMNS, refused=FILES_REFUSED)
        return MetadataTable(
            rows.set_column(0, "content", rows["content"].cast(pa.int32())),
            frozenset(FILES_REFUSED),
        )
    if kind == "partitions":
        found = inspect.partitions()
        columns: dict[str, Any] = {}
        if "partition" in found.column_names:  # Trino has none for an unpartitioned table
            columns["partition"] = found["partition"]
        columns["record_count"] = found["record_count"]
        columns["file_count"] = found["file_count"].cast(pa.int64())
        columns["total_size"] = found["total_data_file_size_in_bytes"]
        columns["data"] = pa.nulls(found.num_rows, pa.string())
        return MetadataTable(pa.table(columns), frozenset({"data"}))
    if kind == "refs":
        found = inspect.refs()
        rows = _columns(found, REFS_COLUMNS)
        return MetadataTable(
            rows.set_column(1, "type", rows["type"].cast(pa.string())), frozenset()
        )
    found = inspect.manifests()
    return MetadataTable(
        _columns(found, MANIFESTS_COLUMNS, refused=MANIFESTS_REFUSED),
        frozenset(MANIFESTS_REFUSED),
    )


def _columns(
    found: pa.Table,
    names: tuple[str, ...],
    *,
    zoned: set[str] | None = None,
    refused: dict[str, pa.DataType] | None = None,
) -> pa.Table:
    """pyiceberg's metadata rows as Trino's columns, in Trino's order."""
    columns = {}
    for name in names:
        if refused and name in refused:
            columns[name] = pa.nulls(found.num_rows, refused[name])
        elif zoned and name in zoned:
            columns[name] = _with_zone(found[name])
        else:
            columns[name] = found[name]
    return pa.table(columns)


def _with_zone(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Trino's Iceberg metadata tables report times as timestamp(3) with time zone."""
    return column.cast(pa.timestamp("ms", tz="UTC"))
