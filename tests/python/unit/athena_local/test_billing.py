"""Bytes scanned as Athena measures them (Parquet column chunks of the partitions read) and
as Athena bills them (rounded up to the megabyte, 10 MB minimum, DDL free)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from athena_local.billing import billed_bytes, scanned_bytes
from athena_local.dialect import parse
from athena_local.store import PARQUET_STORAGE, StoredObject, view_original_text
from dap.ops.cost import MEGABYTE

BUCKET = "lake"


@dataclass
class FakeCatalog:
    """Glue tables and S3 objects in memory: what billing reads of a Warehouse."""

    tables: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    parts: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    objects: dict[str, bytes] = field(default_factory=dict)
    reads: list[str] = field(default_factory=list)

    def get_table(self, database: str, name: str) -> dict[str, Any] | None:
        return self.tables.get((database, name))

    def partitions(self, database: str, name: str) -> list[dict[str, Any]]:
        return self.parts.get((database, name), [])

    def list_objects(self, location: str) -> list[StoredObject]:
        prefix = location.removeprefix(f"s3://{BUCKET}/")
        return [
            StoredObject(BUCKET, key, len(data))
            for key, data in sorted(self.objects.items())
            if key.startswith(prefix)
        ]

    def read(self, stored: StoredObject) -> bytes:
        self.reads.append(stored.key)
        return self.objects[stored.key]


def _parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="snappy", row_group_size=50)
    return sink.getvalue()


def _chunk_bytes(data: bytes, column: str) -> int:
    metadata = pq.ParquetFile(io.BytesIO(data)).metadata
    return sum(
        metadata.row_group(g).column(i).total_compressed_size
        for g in range(metadata.num_row_groups)
        for i in range(metadata.num_columns)
        if metadata.row_group(g).column(i).path_in_schema == column
    )


@pytest.fixture
def catalog() -> FakeCatalog:
    """trusted.daily (amount int, note string; partitioned by year: 2020, 2021) and
    curated.flat (amount, note; not partitioned), each file with several row groups."""
    fake = FakeCatalog()
    columns = [{"Name": "amount", "Type": "int"}, {"Name": "note", "Type": "string"}]
    fake.tables["trusted", "daily"] = {
        "Name": "daily",
        "TableType": "EXTERNAL_TABLE",
        "StorageDescriptor": {
            **PARQUET_STORAGE,
            "Columns": columns,
            "Location": f"s3://{BUCKET}/trusted/daily/",
        },
        "PartitionKeys": [{"Name": "year", "Type": "int"}],
    }
    fake.parts["trusted", "daily"] = []
    for year in (2020, 2021):
        rows = 120 if year == 2020 else 80
        data = pa.table(
            {
                "amount": list(range(rows)),
                "note": [f"a longer note for row {i} of {year}" for i in range(rows)],
            }
        )
        fake.objects[f"trusted/daily/year={year}/part-0"] = _parquet(data)
        fake.parts["trusted", "daily"].append(
            {
                "Values": [str(year)],
                "StorageDescriptor": {"Location": f"s3://{BUCKET}/trusted/daily/year={year}/"},
            }
        )
    fake.tables["curated", "flat"] = {
        "Name": "flat",
        "TableType": "EXTERNAL_TABLE",
        "StorageDescriptor": {
            **PARQUET_STORAGE,
            "Columns": columns,
            "Location": f"s3://{BUCKET}/curated/flat/",
        },
        "PartitionKeys": [],
    }
    fake.objects["curated/flat/part-0"] = _parquet(
        pa.table({"amount": [1, 2, 3], "note": ["x", "y", "z"]})
    )
    return fake


def _scanned(sql: str, catalog: FakeCatalog, database: str = "trusted") -> int:
    return scanned_bytes(parse(sql), database, catalog)


def _bytes(catalog: FakeCatalog, column: str, *years: int) -> int:
    return sum(
        _chunk_bytes(catalog.objects[f"trusted/daily/year={y}/part-0"], column) for y in years
    )


def test_one_column_of_one_partition_bills_that_columns_chunks_there(
    catalog: FakeCatalog,
) -> None:
    scanned = _scanned("select amount from trusted.daily where year = 2020", catalog)
    assert scanned == _bytes(catalog, "amount", 2020) > 0
    # Several row groups, all counted.
    metadata = pq.ParquetFile(io.BytesIO(catalog.objects["trusted/daily/year=2020/part-0"]))
    assert metadata.metadata.num_row_groups == 3


def test_without_a_partition_filter_every_partition_is_read(catalog: FakeCatalog) -> None:
    assert _scanned("select amount from daily", catalog) == _bytes(catalog, "amount", 2020, 2021)


@pytest.mark.parametrize(
    ("where", "years"),
    [
        ("year in (2021)", (2021,)),
        ("year >= 2021 and amount > 3", (2021,)),
        ("cast(year as varchar) = '2020'", (2020,)),
        ("year = 2019", ()),
        # A filter needing another query's result prunes nothing (no dynamic filtering).
        ("year = (select max(amount) from curated.flat)", (2020, 2021)),
        ("year = 2020 or amount > 3", (2020, 2021)),
    ],
)
def test_partition_pruning(catalog: FakeCatalog, where: str, years: tuple[int, ...]) -> None:
    scanned = _scanned(f"select note from trusted.daily where {where}", catalog)
    expected = _bytes(catalog, "note", *years)
    if "amount >" in where:
        expected += _bytes(catalog, "amount", *years)
    if "curated.flat" in where:
        expected += _chunk_bytes(catalog.objects["curated/flat/part-0"], "amount")
    assert scanned == expected


def test_columns_unused_downstream_of_an_import_cte_are_not_read(catalog: FakeCatalog) -> None:
    sql = """
        with source as (select * from trusted.daily),
        renamed as (select amount as figure, note from source),
        final as (select figure from renamed)
        select * from final
    """
    assert _scanned(sql, catalog) == _bytes(catalog, "amount", 2020, 2021)


def test_select_star_reads_every_column(catalog: FakeCatalog) -> None:
    both = _bytes(catalog, "amount", 2020, 2021) + _bytes(catalog, "note", 2020, 2021)
    assert _scanned("select * from daily", catalog) == both


def test_a_view_is_read_through_to_its_tables(catalog: FakeCatalog) -> None:
    text = "select amount, note, year from trusted.daily"
    catalog.tables["curated", "v"] = {
        "Name": "v",
        "TableType": "VIRTUAL_VIEW",
        "ViewOriginalText": view_original_text(text, "curated", []),
    }
    scanned = _scanned("select note from curated.v where year = 2021", catalog)
    assert scanned == _bytes(catalog, "note", 2021)


def test_a_views_unqualified_tables_are_in_the_views_database(catalog: FakeCatalog) -> None:
    catalog.tables["curated", "v2"] = {
        "Name": "v2",
        "TableType": "VIRTUAL_VIEW",
        "ViewOriginalText": view_original_text("select amount, note from flat", "curated", []),
    }
    scanned = _scanned("select note from curated.v2", catalog, database="trusted")
    assert scanned == _chunk_bytes(catalog.objects["curated/flat/part-0"], "note")


def test_a_table_read_twice_counts_twice(catalog: FakeCatalog) -> None:
    sql = "select a.amount from daily as a join daily as b on a.amount = b.amount"
    assert _scanned(sql, catalog) == 2 * _bytes(catalog, "amount", 2020, 2021)


def test_count_star_reads_no_column_chunk(catalog: FakeCatalog) -> None:
    assert _scanned("select count(*) from curated.flat", catalog) == 0


def test_text_tables_are_read_whole(catalog: FakeCatalog) -> None:
    catalog.tables["raw", "seed"] = {
        "Name": "seed",
        "StorageDescriptor": {
            "Columns": [{"Name": "a", "Type": "string"}, {"Name": "b", "Type": "string"}],
            "Location": f"s3://{BUCKET}/raw/seed/",
            "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.serde2.OpenCSVSerde"},
        },
        "PartitionKeys": [],
    }
    catalog.objects["raw/seed/seed.csv"] = b"a,b\n1,2\n3,4\n"
    assert _scanned("select a from raw.seed", catalog) == len(b"a,b\n1,2\n3,4\n")


def test_an_ambiguous_column_counts_for_every_table_that_has_it(catalog: FakeCatalog) -> None:
    # Athena refuses it; the engine reports that. Billing never counts it as nothing.
    sql = "select amount from trusted.daily, curated.flat"
    flat = _chunk_bytes(catalog.objects["curated/flat/part-0"], "amount")
    assert _scanned(sql, catalog) == _bytes(catalog, "amount", 2020, 2021) + flat


@pytest.mark.parametrize(
    ("scanned", "statement", "sub", "billed"),
    [
        (0, "DML", "SELECT", 10 * MEGABYTE),  # the 10 MB minimum
        (1234, "DML", "SELECT", 10 * MEGABYTE),
        (10 * MEGABYTE, "DML", "SELECT", 10 * MEGABYTE),
        (11 * MEGABYTE + 1, "DML", "INSERT", 12 * MEGABYTE),  # rounded up to the megabyte
        (5000, "DDL", "CREATE_TABLE_AS_SELECT", 10 * MEGABYTE),  # CTAS pays for its query
        (0, "DDL", "CREATE_TABLE", 0),  # DDL is free
        (0, "DDL", "DROP_TABLE", 0),
        (0, "DDL", "ALTER_TABLE", 0),
        (0, "UTILITY", "SHOW_TABLES", 0),  # SHOW and DESCRIBE too
    ],
)
def test_billed_bytes(scanned: int, statement: str, sub: str, billed: int) -> None:
    assert billed_bytes(scanned, statement, sub) == billed
