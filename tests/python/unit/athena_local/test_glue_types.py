"""Glue column types of arrays, maps and structs, both ways: what a CTAS registers (Hive's
spelling, as Athena writes it) and the DuckDB type a table or view column is read as (tables
carry Hive's spelling, the endpoint's views Trino's)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from athena_local.errors import AthenaQueryError
from athena_local.types import arrow_to_hive, hive_to_duckdb, is_nested_type, trino_type_name


@pytest.mark.parametrize(
    ("glue", "duckdb"),
    [
        ("array<int>", "INTEGER[]"),
        ("array(integer)", "INTEGER[]"),
        ("ARRAY<STRING>", "VARCHAR[]"),
        ("array<array<bigint>>", "BIGINT[][]"),
        ("map<string,int>", "MAP(VARCHAR, INTEGER)"),
        ("map(varchar, decimal(10, 2))", "MAP(VARCHAR, DECIMAL(10, 2))"),
        ("map<string,array<double>>", "MAP(VARCHAR, DOUBLE[])"),
        ("struct<a:int,b:string>", 'STRUCT("a" INTEGER, "b" VARCHAR)'),
        ("struct<a: int, b: array<int>>", 'STRUCT("a" INTEGER, "b" INTEGER[])'),
        ("row(a integer, b varchar)", 'STRUCT("a" INTEGER, "b" VARCHAR)'),
        ("varchar(10)", "VARCHAR"),
    ],
)
def test_glue_types_read_as_duckdb_types(glue: str, duckdb: str) -> None:
    assert hive_to_duckdb(glue) == duckdb


@pytest.mark.parametrize("glue", ["array", "array<>", "map<int>", "struct<a>", "map<int,blob>"])
def test_incomplete_nested_types_are_refused(glue: str) -> None:
    with pytest.raises(AthenaQueryError) as refused:
        hive_to_duckdb(glue)
    assert refused.value.name == "NOT_SUPPORTED"
    assert glue in refused.value.message  # names the whole type, not a member


@pytest.mark.parametrize(
    ("arrow", "hive", "trino"),
    [
        (pa.list_(pa.int32()), "array<int>", "array(integer)"),
        (pa.list_(pa.string()), "array<string>", "array(varchar)"),
        (pa.list_(pa.list_(pa.int64())), "array<array<bigint>>", "array(array(bigint))"),
        (pa.map_(pa.string(), pa.float64()), "map<string,double>", "map(varchar, double)"),
        (
            pa.struct([("a", pa.int32()), ("b", pa.decimal128(5, 2))]),
            "struct<a:int,b:decimal(5,2)>",
            "row(a integer, b decimal(5,2))",
        ),
    ],
)
def test_ctas_registers_members_and_reads_back_the_same(
    arrow: pa.DataType, hive: str, trino: str
) -> None:
    assert arrow_to_hive(arrow, "c") == hive
    assert trino_type_name(arrow) == trino
    assert is_nested_type(hive)
    assert is_nested_type(trino)
    # What is registered is what the table is read as, whichever spelling.
    assert hive_to_duckdb(hive) == hive_to_duckdb(trino)


def test_anonymous_rows_and_bare_null_members_are_refused() -> None:
    with pytest.raises(AthenaQueryError, match="Anonymous row type is not supported in Hive"):
        arrow_to_hive(pa.struct([("_0", pa.int32())]), "c")
    with pytest.raises(AthenaQueryError, match="Unsupported Hive type: unknown"):
        arrow_to_hive(pa.list_(pa.null()), "c")
