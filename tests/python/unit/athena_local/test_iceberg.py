"""The pieces of athena_local.iceberg that need no endpoint: Athena's partitioning values
as an Iceberg partition spec, rows in Iceberg's types, and `$` table names.

Partition field names follow Trino's Iceberg connector (which Athena runs): `<column>_day`,
`<column>_bucket`, `<column>_trunc`, the column's own name for identity; CTAS spells
transforms Trino's way (`bucket(id, 16)`), Hive DDL the other (`bucket(16, id)`).
"""

from __future__ import annotations

import pyarrow as pa
import pytest
from pyiceberg.transforms import BucketTransform, DayTransform, IdentityTransform, TruncateTransform
from sqlglot import exp

from athena_local.dialect import parse
from athena_local.engine import _properties
from athena_local.errors import AthenaQueryError
from athena_local.iceberg import (
    Reference,
    iceberg_rows,
    iceberg_schema,
    partition_spec,
    partition_texts,
    split_reference,
)

SCHEMA = iceberg_schema(
    pa.schema([("id", pa.int32()), ("name", pa.string()), ("ts", pa.timestamp("us"))])
)


def test_partitioning_values_become_a_spec() -> None:
    spec = partition_spec(SCHEMA, ["DAY(ts)", "bucket(id, 16)", "truncate(name, 2)", "name"])
    fields = [(f.name, f.transform, SCHEMA.find_column_name(f.source_id)) for f in spec.fields]
    assert fields == [
        ("ts_day", DayTransform(), "ts"),
        ("id_bucket", BucketTransform(16), "id"),
        ("name_trunc", TruncateTransform(2), "name"),
        ("name", IdentityTransform(), "name"),
    ]


def test_hive_ddl_partitioned_by_reads_as_ctas_partitioning() -> None:
    statement = parse(
        "create table t (id int, name string, ts timestamp) "
        "partitioned by (day(ts), bucket(16, id), truncate(2, name), name) "
        "location 's3://b/t/' tblproperties ('table_type'='ICEBERG')"
    )
    assert isinstance(statement, exp.Create)
    texts = partition_texts(_properties(statement)["partitioned_by_columns"])
    assert texts == ["day(ts)", "bucket(id, 16)", "truncate(name, 2)", "name"]


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("day(id)", "INVALID_TABLE_PROPERTY"),  # a day of an integer
        ("bucket(id)", "INVALID_TABLE_PROPERTY"),  # no bucket count
        ("week(ts)", "INVALID_TABLE_PROPERTY"),  # not a transform
        ("day(nope)", "COLUMN_NOT_FOUND"),
        ("id + 1", "INVALID_TABLE_PROPERTY"),
    ],
)
def test_partitioning_refusals(value: str, error: str) -> None:
    with pytest.raises(AthenaQueryError) as raised:
        partition_spec(SCHEMA, [value])
    assert raised.value.name == error


def test_rows_take_icebergs_types() -> None:
    rows = pa.table(
        {
            "Small": pa.array([1], pa.int32()),
            "ts": pa.array([0], pa.timestamp("ms")),
            "names": pa.array([["a"]], pa.list_(pa.large_string())),
        }
    )
    stored = iceberg_rows(rows)
    assert stored.schema == pa.schema(
        [("small", pa.int32()), ("ts", pa.timestamp("us")), ("names", pa.list_(pa.string()))]
    )
    with pytest.raises(AthenaQueryError, match="time zone"):
        iceberg_rows(pa.table({"t": pa.array([0], pa.timestamp("us", tz="UTC"))}))
    # Athena has no tinyint or smallint Iceberg columns.
    for narrow in (pa.int8(), pa.int16()):
        with pytest.raises(AthenaQueryError, match="NOT_SUPPORTED: Type not supported"):
            iceberg_rows(pa.table({"n": pa.array([1], narrow)}))


def test_dollar_names() -> None:
    assert split_reference("lab", "calls") == Reference("lab", "calls")
    assert split_reference("lab", "calls$files") == Reference("lab", "calls", metadata="files")
    assert split_reference("lab", "calls$snapshot_12") == Reference("lab", "calls", snapshot_id=12)
    with pytest.raises(AthenaQueryError, match="TABLE_NOT_FOUND"):
        split_reference("lab", "calls$nope")
