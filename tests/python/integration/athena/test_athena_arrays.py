"""Arrays and maps stored and read back through the local endpoint, and string functions
whose arguments are columns rather than literals. Driven through boto3 over HTTP, as
dbt-athena drives it (its array_construct/array_append/array_concat and replace tests build
views and tables from exactly these shapes).

Glue type spellings follow what Athena records: Hive's (``array<int>``, ``map<string,int>``)
for a CTAS table; the view columns keep the endpoint's convention of Trino names
(``array(integer)``), which dbt-athena's AthenaColumn reads in either spelling.
"""

from __future__ import annotations

import pytest

from athena_local import AthenaLocal
from testkit.athena_client import AthenaClient as Client

BUCKET = "athena-arrays-test"


@pytest.fixture
def client(athena_local: AthenaLocal) -> Client:
    c = Client(athena_local, BUCKET)
    c.create_bucket()
    c.ok("create schema if not exists lab")
    return c


def _ctas(client: Client, name: str, select: str) -> None:
    client.ok(
        f"create table lab.{name} with (format='parquet', "
        f"external_location='s3://{BUCKET}/lab/{name}/') as {select}"
    )


# replace() with column arguments ----------------------------------------------------------


def test_replace_with_columns_as_arguments(client: Client) -> None:
    # dbt's replace test passes the search and replacement as columns; an empty search
    # puts the replacement around every character (TestStringFunctions.testReplace).
    _, rows = client.typed_rows(
        """select replace(s, t, r) as replaced from (values
            (1, 'abc', '', 'xx'), (2, 'a-b-c', '-', '+'), (3, '', '', 'y'),
            (4, 'abc', cast(null as varchar), 'x'), (5, 'héé', '', '.')
        ) as v (k, s, t, r) order by k"""
    )
    assert rows == [["xxaxxbxxcxx"], ["a+b+c"], ["y"], [None], [".h.é.é."]]


# arrays and maps in tables ----------------------------------------------------------------


def test_ctas_records_element_types_and_reads_arrays_back(client: Client) -> None:
    _ctas(
        client,
        "arrays",
        "select 1 as id, array[1, 2, 3] as ints, array['a', null] as texts, "
        "array[array[1], array[2, 3]] as nested, array[1.5e0] as doubles",
    )
    assert client.glue_types("arrays") == {
        "id": "int",
        "ints": "array<int>",
        "texts": "array<string>",
        "nested": "array<array<int>>",
        "doubles": "array<double>",
    }
    types, rows = client.typed_rows(
        "select ints, texts, nested, doubles, cardinality(ints) as n, ints[3] as third, "
        "ints || 4 as appended from lab.arrays"
    )
    assert types == ["array", "array", "array", "array", "bigint", "integer", "array"]
    assert rows == [["[1, 2, 3]", "[a, null]", "[[1], [2, 3]]", "[1.5]", "3", "3", "[1, 2, 3, 4]"]]


def test_ctas_records_map_types_and_reads_maps_back(client: Client) -> None:
    _ctas(client, "maps", "select map(array['a', 'b'], array[1, 2]) as m")
    assert client.glue_types("maps") == {"m": "map<string,int>"}
    _, rows = client.typed_rows("select m['b'] as b, cardinality(m) as n from lab.maps")
    assert rows == [["2", "2"]]


def test_views_record_element_types_and_compare_arrays(client: Client) -> None:
    # dbt-athena's array tests: two views, compared with EXCEPT both ways.
    client.ok("create view lab.expected as select 1 as id, array[1, 2, 3, 4] as array_col")
    client.ok("create view lab.actual as select 1 as id, array[1, 2, 3] || 4 as array_col")
    assert client.glue_types("actual") == {"id": "integer", "array_col": "array(integer)"}
    _, rows = client.typed_rows(
        """select count(*) as n from (
            (select array_col, id from lab.expected except select array_col, id from lab.actual)
            union all
            (select array_col, id from lab.actual except select array_col, id from lab.expected)
        ) as a"""
    )
    assert rows == [["0"]]
    _, rows = client.typed_rows("select array_col from lab.actual")
    assert rows == [["[1, 2, 3, 4]"]]


def test_arrays_in_text_tables_and_as_partitions_are_refused(client: Client) -> None:
    client.ok(
        f"create external table lab.texts (id int, tags array<string>) "
        f"location 's3://{BUCKET}/lab/texts/'"
    )
    client.s3.put_object(Bucket=BUCKET, Key="lab/texts/part-0", Body=b"1\x01a\x02b\n")
    assert client.fails("select tags from lab.texts").startswith(
        "NOT_SUPPORTED: athena-local reads arrays, maps and structs from Parquet tables only"
    )
    assert client.fails("insert into lab.texts values (2, array['c'])").startswith(
        "NOT_SUPPORTED: athena-local writes arrays, maps and structs to Parquet tables only"
    )
    assert client.fails(
        f"create table lab.parted with (format='parquet', partitioned_by=array['tags'], "
        f"external_location='s3://{BUCKET}/lab/parted/') as select 1 as id, array['x'] as tags"
    ).startswith("NOT_SUPPORTED: Unsupported type array<string> for partition column 'tags'")


def test_ctas_records_named_rows_as_structs_and_refuses_anonymous_rows(client: Client) -> None:
    _ctas(client, "rows", "select cast(row(1, 'a') as row(x integer, y varchar)) as r")
    assert client.glue_types("rows") == {"r": "struct<x:int,y:string>"}
    _, rows = client.typed_rows("select r.x as x, r.y as y from lab.rows")
    assert rows == [["1", "a"]]
    # Trino's Hive connector names no fields for you (HiveTypeTranslator's refusal).
    assert client.fails(
        f"create table lab.anonymous with (format='parquet', "
        f"external_location='s3://{BUCKET}/lab/anonymous/') as select row(1, 'a') as r"
    ) == (
        "NOT_SUPPORTED: Anonymous row type is not supported in Hive. "
        "Please give each field a name: row(integer, varchar)"
    )
