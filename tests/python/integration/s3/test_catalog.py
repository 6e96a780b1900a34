"""dap.lake.catalog: the raw zone's Glue table, against a moto server on 127.0.0.1."""

from __future__ import annotations

import itertools
from typing import Any

import boto3
import pyarrow as pa
import pytest

from dap.errors import CatalogError, DapError
from dap.lake.catalog import GlueCatalog, glue_columns, glue_type
from dap.schema import DATASET, NULL_PARTITION, RAW_SCHEMA
from testkit.glue import GLUE_COLUMNS, PARQUET_SERDE, assert_raw_table, closed_port

pytestmark = pytest.mark.s3

ROOT = "s3://dap-catalog-test/lake"
LOCATION = f"{ROOT}/raw/{DATASET}/"
_numbers = itertools.count(1)


@pytest.fixture
def database(moto_env: dict[str, str]) -> str:
    return f"catalog_test_{next(_numbers)}"


@pytest.fixture
def glue(moto_env: dict[str, str]) -> Any:
    return boto3.Session().client("glue")


def _catalog(database: str, schema: pa.Schema = RAW_SCHEMA, root: str = ROOT) -> GlueCatalog:
    return GlueCatalog(boto3.Session(), database=database, lake_root=root, schema=schema)


def _table(glue: Any, database: str) -> dict[str, Any]:
    table: dict[str, Any] = glue.get_table(DatabaseName=database, Name=DATASET)["Table"]
    return table


def _columns(descriptor: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["Name"], c["Type"]) for c in descriptor["Columns"]]


def _partitions(glue: Any, database: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for page in glue.get_paginator("get_partitions").paginate(
        DatabaseName=database, TableName=DATASET
    ):
        for partition in page["Partitions"]:
            (value,) = partition["Values"]
            assert value not in found
            found[value] = partition
    return found


def _old_table_input(columns: list[tuple[str, str]], location: str) -> dict[str, Any]:
    """A raw table as an earlier loader (or a person) might have registered it."""
    return {
        "Name": DATASET,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"EXTERNAL": "TRUE", "classification": "parquet", "owner": "data-team"},
        "StorageDescriptor": {
            "Columns": [{"Name": n, "Type": t} for n, t in columns],
            "Location": location,
            "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "SerdeInfo": {"SerializationLibrary": PARQUET_SERDE},
        },
        "PartitionKeys": [{"Name": "year", "Type": "int"}],
    }


def _record(catalog: GlueCatalog, *operations: str) -> list[str]:
    """Names of the given Glue operations the catalog calls from now on."""
    calls: list[str] = []
    for operation in operations:
        catalog.client.meta.events.register(
            f"before-call.glue.{operation}", lambda model, **_: calls.append(model.name)
        )
    return calls


# -- types -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arrow_type", "expected"),
    [
        (pa.string(), "string"),
        (pa.int64(), "bigint"),
        (pa.int32(), "int"),
        (pa.float64(), "double"),
        (pa.bool_(), "boolean"),
        (pa.date32(), "date"),
        (pa.timestamp("ms"), "timestamp"),
        (pa.timestamp("us"), "timestamp"),
        (pa.timestamp("ns", tz="UTC"), "timestamp"),
    ],
)
def test_glue_type(arrow_type, expected):
    assert glue_type(arrow_type) == expected


@pytest.mark.parametrize(
    "arrow_type", [pa.int16(), pa.float32(), pa.decimal128(10, 2), pa.list_(pa.int64())]
)
def test_unmapped_type_is_an_error(arrow_type):
    with pytest.raises(CatalogError, match="has no Glue type mapping"):
        glue_type(arrow_type)
    schema = pa.schema([pa.field("ok", pa.string()), pa.field("odd", arrow_type)])
    with pytest.raises(CatalogError, match=r"raw column 'odd': Arrow type .* no Glue type"):
        glue_columns(schema)


def test_columns_follow_the_raw_schema_without_the_partition_column():
    assert list(glue_columns(RAW_SCHEMA)) == GLUE_COLUMNS
    with_year = RAW_SCHEMA.append(pa.field("year", pa.int32()))
    assert list(glue_columns(with_year)) == GLUE_COLUMNS


# -- database and table ----------------------------------------------------------------


def test_ensure_table_creates_database_and_table(glue, database):
    assert _catalog(database).ensure_table() is True

    assert "raw zone" in glue.get_database(Name=database)["Database"]["Description"].lower()
    assert_raw_table(glue, database, LOCATION)
    assert _partitions(glue, database) == {}


@pytest.mark.parametrize("root", ["s3://dap-catalog-test/lake/", "s3://dap-catalog-test/lake"])
def test_location_has_one_trailing_slash(glue, database, root):
    _catalog(database, root=root).ensure_table()
    assert _table(glue, database)["StorageDescriptor"]["Location"] == LOCATION


def test_ensure_table_twice_changes_nothing(glue, database):
    _catalog(database).ensure_table()
    before = _table(glue, database)

    catalog = _catalog(database)
    writes = _record(catalog, "CreateDatabase", "CreateTable", "UpdateTable")
    assert catalog.ensure_table() is False
    assert writes == []
    assert _table(glue, database) == before


def test_an_existing_database_is_kept_as_it_is(glue, database):
    glue.create_database(DatabaseInput={"Name": database, "Description": "curated by hand"})
    _catalog(database).ensure_table()
    assert glue.get_database(Name=database)["Database"]["Description"] == "curated by hand"
    assert _columns(_table(glue, database)["StorageDescriptor"]) == GLUE_COLUMNS


def test_a_different_table_is_brought_in_line(glue, database):
    glue.create_database(DatabaseInput={"Name": database})
    old_columns = [(n, "string") for n, _ in GLUE_COLUMNS[:-1]]  # all text, no ingested_at
    old_location = "s3://elsewhere/raw/contact_centre_metrics/"
    glue.create_table(DatabaseName=database, TableInput=_old_table_input(old_columns, old_location))
    old_partition = _old_table_input(old_columns, f"{old_location}year=2021/")["StorageDescriptor"]
    glue.create_partition(
        DatabaseName=database,
        TableName=DATASET,
        PartitionInput={"Values": ["2021"], "StorageDescriptor": old_partition},
    )

    assert _catalog(database).ensure_table() is True
    table = _table(glue, database)
    assert _columns(table["StorageDescriptor"]) == GLUE_COLUMNS
    assert table["StorageDescriptor"]["Location"] == LOCATION
    assert table["Parameters"] == {  # the loader's parameters, others kept
        "EXTERNAL": "TRUE",
        "classification": "parquet",
        "parquet.compression": "SNAPPY",
        "owner": "data-team",
    }
    partition = _partitions(glue, database)["2021"]["StorageDescriptor"]
    assert _columns(partition) == GLUE_COLUMNS
    assert partition["Location"] == f"{LOCATION}year=2021/"


def test_a_schema_change_in_the_loader_propagates(glue, database):
    catalog = _catalog(database)
    catalog.ensure_table()
    catalog.add_partitions(["2020", NULL_PARTITION])

    wider = RAW_SCHEMA.append(pa.field("source_url", pa.string()))
    assert _catalog(database, schema=wider).ensure_table() is True
    expected = [*GLUE_COLUMNS, ("source_url", "string")]
    assert _columns(_table(glue, database)["StorageDescriptor"]) == expected
    partitions = _partitions(glue, database)
    assert sorted(partitions) == ["2020", NULL_PARTITION]
    assert all(_columns(p["StorageDescriptor"]) == expected for p in partitions.values())


def test_a_table_registered_before_carried_columns_gains_it(glue, database):
    """The raw table and partitions an older loader registered (no carried_columns) gain
    the column on the next load; Athena reads it as null in the older files, which dbt
    takes as "carries every measure"."""
    before = pa.schema([f for f in RAW_SCHEMA if f.name != "carried_columns"])
    old = _catalog(database, schema=before)
    old.ensure_table()
    old.add_partitions(["2020", NULL_PARTITION])
    assert ("carried_columns", "string") not in _columns(
        _table(glue, database)["StorageDescriptor"]
    )

    assert _catalog(database).ensure_table() is True
    assert _columns(_table(glue, database)["StorageDescriptor"]) == GLUE_COLUMNS
    partitions = _partitions(glue, database)
    assert sorted(partitions) == ["2020", NULL_PARTITION]
    assert all(_columns(p["StorageDescriptor"]) == GLUE_COLUMNS for p in partitions.values())


def test_different_partition_keys_are_replaced(glue, database):
    glue.create_database(DatabaseInput={"Name": database})
    table_input = _old_table_input(GLUE_COLUMNS, LOCATION)
    table_input["PartitionKeys"] = [{"Name": "year", "Type": "string"}]
    glue.create_table(DatabaseName=database, TableInput=table_input)

    assert _catalog(database).ensure_table() is True
    assert _table(glue, database)["PartitionKeys"] == [{"Name": "year", "Type": "int"}]


# -- partitions ------------------------------------------------------------------------


def test_add_partitions(glue, database):
    catalog = _catalog(database)
    catalog.ensure_table()
    catalog.add_partitions(["2021", NULL_PARTITION, "2021"])

    table_sd = _table(glue, database)["StorageDescriptor"]
    partitions = _partitions(glue, database)
    assert sorted(partitions) == ["2021", NULL_PARTITION]
    for value, partition in partitions.items():
        assert partition["StorageDescriptor"] == {
            **table_sd,
            "Location": f"{LOCATION}year={value}/",
        }
    assert partitions[NULL_PARTITION]["StorageDescriptor"]["Location"] == (
        "s3://dap-catalog-test/lake/raw/contact_centre_metrics/year=__HIVE_DEFAULT_PARTITION__/"
    )


def test_add_partitions_again_changes_nothing(glue, database):
    catalog = _catalog(database)
    catalog.ensure_table()
    catalog.add_partitions(["2021", "2022"])
    before = _partitions(glue, database)

    again = _catalog(database)
    updates = _record(again, "BatchUpdatePartition", "UpdatePartition")
    again.add_partitions(["2022", "2021", "2023"])
    assert updates == []
    after = _partitions(glue, database)
    assert sorted(after) == ["2021", "2022", "2023"]
    assert {v: after[v] for v in before} == before


def test_add_partitions_repairs_a_partition_registered_elsewhere(glue, database):
    catalog = _catalog(database)
    catalog.ensure_table()
    stale = _old_table_input(GLUE_COLUMNS[:3], "s3://elsewhere/year=2021/")["StorageDescriptor"]
    glue.create_partition(
        DatabaseName=database,
        TableName=DATASET,
        PartitionInput={"Values": ["2021"], "StorageDescriptor": stale},
    )

    catalog.add_partitions(["2021"])
    partition = _partitions(glue, database)["2021"]["StorageDescriptor"]
    assert partition["Location"] == f"{LOCATION}year=2021/"
    assert _columns(partition) == GLUE_COLUMNS


def test_add_partitions_beyond_one_batch(glue, database):
    catalog = _catalog(database)
    catalog.ensure_table()
    values = [str(year) for year in range(1900, 2150)]  # 250: three BatchCreatePartition calls
    calls = _record(catalog, "BatchCreatePartition")
    catalog.add_partitions(values)
    assert calls == ["BatchCreatePartition"] * 3
    assert sorted(_partitions(glue, database)) == values

    catalog.add_partitions(values)  # all there: read back in one BatchGetPartition
    assert sorted(_partitions(glue, database)) == values


def test_no_partitions_no_call(database):
    catalog = _catalog(database)
    calls = _record(catalog, "BatchCreatePartition", "BatchGetPartition")
    catalog.add_partitions([])
    assert calls == []


# -- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Raw", "raw-zone", "raw zone", "", "x" * 256, "räw"])
def test_names_athena_cannot_read_are_refused(moto_env, name):
    with pytest.raises(CatalogError, match=r"Glue database name .*lowercase letters, digits"):
        _catalog(name)
    with pytest.raises(CatalogError, match=r"Glue table name .*lowercase letters, digits"):
        GlueCatalog(boto3.Session(), database="raw", lake_root=ROOT, table=name)


@pytest.mark.parametrize("root", ["lake", "/data/lake", "s3://", "s3:///x", "gs://bucket/p"])
def test_only_s3_lakes(moto_env, root):
    with pytest.raises(CatalogError, match="s3:// lakes only"):
        _catalog("raw", root=root)


def test_a_glue_error_names_table_and_code(glue, database):
    catalog = _catalog(database)
    catalog.ensure_table()
    glue.delete_table(DatabaseName=database, Name=DATASET)

    with pytest.raises(CatalogError) as caught:
        catalog.add_partitions(["2021"])
    assert isinstance(caught.value, DapError)
    assert str(caught.value).startswith(
        f"Glue catalog: cannot add partitions to {database}.{DATASET} (EntityNotFoundException: "
    )


def test_unreachable_glue_is_a_catalog_error(moto_env, monkeypatch, database):
    monkeypatch.setenv("AWS_ENDPOINT_URL_GLUE", f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(
        CatalogError,
        match=rf"^Glue catalog: cannot read database {database} \(Could not connect to the",
    ):
        _catalog(database).ensure_table()


def test_missing_credentials_is_a_catalog_error(moto_env, monkeypatch, database):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(CatalogError, match=rf"database {database} \(Unable to locate credentials"):
        _catalog(database).ensure_table()


def test_missing_region_is_a_catalog_error(moto_env, monkeypatch, database):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(CatalogError, match=r"Glue client .*You must specify a region"):
        _catalog(database)
