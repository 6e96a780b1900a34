"""The raw-object register: what every raw Parquet file held when the loader wrote it.

For each workbook it lands, ``dap load`` writes one small Parquet file,
``_audit/raw_objects/<time>-<sha256>.parquet``, *before* the workbook's raw files (so a raw
file never exists without its entry), one row per raw file (:data:`REGISTER_SCHEMA`): its
key, sha256, size and rows, and a content fingerprint that SQL can recompute from the rows
on DuckDB and on Athena alike (:func:`fingerprint`). dbt reads the register as the source
``contact_centre.contact_centre_raw_objects`` and its test
``assert_raw_files_match_their_register`` fails the build, naming the file, when the rows
read from a raw file no longer give the fingerprint the loader recorded.

The register is append-only, like the rest of the audit trail: a workbook landed again
after an interrupted load gets a second file with the same fingerprints (they depend on
the rows' content, not on when they were loaded); readers take the latest entry per raw
file. The folder always holds a zero-row ``_empty.parquet`` once anything was loaded, so
DuckDB finds a file to read (Athena skips names starting with ``_``).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dap.lake.audit import WrittenObject
from dap.lake.storage import AUDIT, LANDING, Lake
from dap.schema import DATE_COLUMN, METRIC_COLUMNS, RAW_SCHEMA

if TYPE_CHECKING:
    from dap.lake.catalog import GlueCatalog

REGISTER = "contact_centre_raw_objects"
"""The register's Glue table (S3 lakes) and dbt source table."""
REGISTER_PREFIX = f"{AUDIT}/raw_objects/"
REGISTER_EMPTY_KEY = f"{REGISTER_PREFIX}_empty.parquet"

_METRICS = [RAW_SCHEMA.field(c.raw_name) for c in METRIC_COLUMNS if c != DATE_COLUMN]
INTEGER_COLUMNS = tuple(f.name for f in _METRICS if pa.types.is_integer(f.type))
"""Counts: fingerprinted exactly (decimal digits, summed in SQL as decimal(38, 0))."""
NUMBER_COLUMNS = tuple(f.name for f in _METRICS if pa.types.is_floating(f.type))
"""Fractional measures: fingerprinted as a double, compared within a relative 1e-9."""

REGISTER_SCHEMA = pa.schema(
    [
        pa.field("registered_at", pa.timestamp("ms"), nullable=False),
        pa.field("raw_key", pa.string(), nullable=False),
        pa.field("source_file_sha256", pa.string(), nullable=False),
        pa.field("source_file_name", pa.string(), nullable=False),
        pa.field("partition_value", pa.string(), nullable=False),
        pa.field("object_sha256", pa.string(), nullable=False),
        pa.field("size_bytes", pa.int64(), nullable=False),
        pa.field("row_count", pa.int64(), nullable=False),
        pa.field("non_null_cells", pa.int64(), nullable=False),
        pa.field("fp_date", pa.string(), nullable=False),
        *(pa.field(f"fp_{name}", pa.string(), nullable=False) for name in INTEGER_COLUMNS),
        *(pa.field(f"fp_{name}", pa.float64(), nullable=False) for name in NUMBER_COLUMNS),
    ]
)
"""One row per raw file a load (or ``dap repair``) wrote. ``partition_value`` is the
``year`` folder's value (``2021``, ``__HIVE_DEFAULT_PARTITION__``). The fingerprints weight
each value by its ``source_row_number``, so a value changed, removed or moved to another row
changes them: ``fp_date`` = Σ days since 1970-01-01 * row number, ``fp_<count>`` = Σ value *
row number (exact, as decimal digits), ``fp_<number>`` = Σ value * row number (a double);
``non_null_cells`` counts the metric cells that hold a value."""


@dataclass(frozen=True)
class RawObject:
    """One raw Parquet file as a load wrote it (before it is written)."""

    key: str
    partition: str
    """``year=2021``"""
    partition_value: str
    """``2021``"""
    data: bytes
    rows: int
    fingerprint: dict[str, object]
    """The file's rows' :func:`fingerprint`, taken from the table it was encoded from (the
    table itself is not kept: a load holds only the encoded bytes of its years)."""
    sha256: str

    def manifest_entry(self) -> dict[str, object]:
        return {
            "key": self.key,
            "sha256": self.sha256,
            "size_bytes": len(self.data),
            "rows": self.rows,
        }


def fingerprint(table: pa.Table) -> dict[str, object]:
    """The content fingerprint of a raw file's rows (see :data:`REGISTER_SCHEMA`), as the
    SQL of ``tests/assert_raw_files_match_their_register.sql`` recomputes it."""
    table = table.combine_chunks()
    rows = pc.cast(table.column("source_row_number").combine_chunks(), pa.int64())
    result: dict[str, object] = {}
    non_null = 0
    dates = table.column(DATE_COLUMN.raw_name)
    non_null += len(dates) - dates.null_count
    days = pc.cast(dates, pa.int32()).cast(pa.int64()) if len(dates) else pa.array([])
    result["fp_date"] = str(_weighted_sum(days, rows))
    for name in INTEGER_COLUMNS:
        values = table.column(name)
        non_null += len(values) - values.null_count
        result[f"fp_{name}"] = str(_weighted_sum(values.combine_chunks(), rows))
    for name in NUMBER_COLUMNS:
        values = table.column(name)
        non_null += len(values) - values.null_count
        weighted = pc.multiply(values.combine_chunks(), pc.cast(rows, pa.float64()))
        result[f"fp_{name}"] = float(pc.sum(weighted).as_py() or 0.0)
    result["non_null_cells"] = non_null
    return result


_SUM_CHUNK = 1 << 16


def _weighted_sum(values: pa.Array, rows: pa.Array) -> int:
    """Σ value * row number over the non-null values, exactly (a Python int). In int64
    a chunk at a time where no product, nor a chunk's sum of them, can reach 2**63 (every
    count the quarantine lets through, every date); value by value otherwise."""
    if len(values) == values.null_count:
        return 0
    low, high = pc.min_max(values).values()
    largest = max(abs(int(low.as_py())), abs(int(high.as_py()))) * int(pc.max(rows).as_py())
    if largest * _SUM_CHUNK >= 2**63:
        numbers = values.to_pylist()
        return sum(
            int(v) * n for v, n in zip(numbers, rows.to_pylist(), strict=True) if v is not None
        )
    products = pc.multiply(pc.cast(values, pa.int64()), rows)
    total = 0
    for start in range(0, len(products), _SUM_CHUNK):
        part = pc.sum(products.slice(start, _SUM_CHUNK)).as_py()
        total += int(part or 0)
    return total


def register_key(at: datetime, sha256: str) -> str:
    """``_audit/raw_objects/20261123T101500.123456Z-<sha256>.parquet``: sortable by time,
    one flat folder (Athena reads a table's folder, not its subfolders)."""
    stamp = at if at.tzinfo else at.replace(tzinfo=UTC)
    return f"{REGISTER_PREFIX}{stamp.astimezone(UTC):%Y%m%dT%H%M%S.%fZ}-{sha256}.parquet"


def register_bytes(
    objects: Sequence[RawObject], *, source_sha256: str, source_name: str, at: datetime
) -> bytes:
    """The register file of one workbook's raw files."""
    registered = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC)
    registered = registered.replace(tzinfo=None, microsecond=registered.microsecond // 1000 * 1000)
    rows = []
    for obj in objects:
        rows.append(
            {
                "registered_at": registered,
                "raw_key": obj.key,
                "source_file_sha256": source_sha256,
                "source_file_name": source_name,
                "partition_value": obj.partition_value,
                "object_sha256": obj.sha256,
                "size_bytes": len(obj.data),
                "row_count": obj.rows,
                **obj.fingerprint,
            }
        )
    return _parquet(pa.Table.from_pylist(rows, schema=REGISTER_SCHEMA))


def _parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="snappy")
    return sink.getvalue()


def read_register(lake: Lake) -> list[dict[str, object]]:
    """Every register row, oldest file first."""
    rows: list[dict[str, object]] = []
    for key in lake.list_keys(REGISTER_PREFIX):
        if not key.endswith(".parquet") or key == REGISTER_EMPTY_KEY:
            continue
        table = pq.read_table(io.BytesIO(lake.read_bytes(key)), use_threads=False)
        rows.extend(table.to_pylist())
    return rows


def ensure_register(lake: Lake, catalog: GlueCatalog | None) -> list[WrittenObject]:
    """Make the register readable before anything is landed: its zero-row file and (S3
    lakes with a catalog) its Glue table. Returns what was written (nothing, most times)."""
    written: list[WrittenObject] = []
    if not lake.exists(REGISTER_EMPTY_KEY):
        data = _parquet(REGISTER_SCHEMA.empty_table())
        version = lake.write_bytes(REGISTER_EMPTY_KEY, data, "application/vnd.apache.parquet")
        written.append(WrittenObject(REGISTER_EMPTY_KEY, len(data), version))
    if catalog is not None:
        register_table(lake, catalog).ensure_table()
    return written


def register_table(lake: Lake, catalog: GlueCatalog) -> GlueCatalog:
    """The register's Glue table, beside the raw table, over the landing zone's
    ``_audit/raw_objects/``."""
    from dap.lake.catalog import GlueEventLog  # noqa: PLC0415 - boto3 types load lazily
    from dap.lake.storage import S3Lake, ZonedLake  # noqa: PLC0415

    class _GlueRegister(GlueEventLog):
        description = (
            "The raw-object register: one row per raw Parquet file a load wrote, with its "
            "sha256, size, rows and content fingerprint; dbt checks the raw zone against it."
        )

    store = lake.zones[LANDING] if isinstance(lake, ZonedLake) else lake
    if not isinstance(store, S3Lake):
        from dap.errors import LakeError  # noqa: PLC0415

        raise LakeError(f"{lake.uri}: the Glue catalog registers s3:// lakes only")
    return _GlueRegister.beside(
        catalog,
        table=REGISTER,
        schema=REGISTER_SCHEMA,
        location=f"{store.root.rstrip('/')}/{REGISTER_PREFIX}",
    )
