"""Iceberg tables on the local endpoint (issue 18), driven through boto3's Athena client.

What Athena documents for Iceberg tables ("Query Apache Iceberg tables", "Iceberg table
metadata", "Time travel and version travel queries", "OPTIMIZE", "VACUUM", "MERGE INTO",
"UPDATE", "DELETE" in the Athena user guide): the table is Iceberg metadata and Parquet
data under its location, registered in Glue with `table_type=ICEBERG` and the current
`metadata_location`; rows read back equal a Hive table of the same rows; row-level changes,
time travel and the `$` metadata tables work on it and are refused on Hive tables.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import pytest

from athena_local import AthenaLocal
from athena_local.errors import AthenaQueryError
from athena_local.iceberg import IcebergTables, Reference
from testkit.athena_client import AthenaClient as Client

BUCKET = "athena-iceberg-test"
Row = tuple[int, str | None, str, int]  # id, name, ts, year
ROWS: list[Row] = [(1, "a", "2020-01-01 10:00:00", 2020), (2, "b", "2020-01-02 11:00:00", 2020)]
ROWS += [(3, "c", "2021-03-01 00:00:00", 2021), (4, None, "2021-03-02 00:00:00", 2021)]


def _values(rows: Sequence[Row]) -> str:
    def one(row: Row) -> str:
        name = "null" if row[1] is None else f"'{row[1]}'"
        return f"({row[0]}, {name}, timestamp '{row[2]}', {row[3]})"

    return ", ".join(one(r) for r in rows)


def _source(rows: Sequence[Row]) -> str:
    return f"select * from (values {_values(rows)}) as v (id, name, ts, year)"


@pytest.fixture
def client(athena_local: AthenaLocal) -> Client:
    c = Client(athena_local, BUCKET)
    c.create_bucket()
    c.ok("create schema lab")
    c.ok(
        "create table lab.calls with (table_type='iceberg', is_external=false, "
        f"location='s3://{BUCKET}/calls/', partitioning=ARRAY['year']) as {_source(ROWS)}"
    )
    c.ok(
        "create table lab.calls_hive with (partitioned_by=ARRAY['year'], "
        f"external_location='s3://{BUCKET}/calls_hive/') as {_source(ROWS)}"
    )
    return c


def _keys(client: Client, prefix: str) -> list[str]:
    listed = client.s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return [item["Key"] for item in listed.get("Contents", [])]


def test_ctas_is_stored_as_athena_stores_an_iceberg_table(client: Client) -> None:
    table = client.glue.get_table(DatabaseName="lab", Name="calls")["Table"]
    assert table["Parameters"]["table_type"] == "ICEBERG"
    metadata = table["Parameters"]["metadata_location"]
    assert metadata.startswith(f"s3://{BUCKET}/calls/metadata/")
    assert metadata.endswith(".metadata.json")
    client.s3.head_object(Bucket=BUCKET, Key=metadata.removeprefix(f"s3://{BUCKET}/"))
    data = [k for k in _keys(client, "calls/data/") if k.endswith(".parquet")]
    # Identity partitioning on year: a folder per year, as Iceberg names them.
    assert {k.split("/")[2] for k in data} == {"year=2020", "year=2021"}
    assert client.glue_types("calls") == {
        "id": "int",
        "name": "string",
        "ts": "timestamp",
        "year": "int",
    }
    query = "select id, name, ts, year from lab.{} order by id"
    assert client.typed_rows(query.format("calls")) == client.typed_rows(query.format("calls_hive"))
    aggregate = "select year, count(*), max(ts) from lab.{} group by year order by year"
    assert client.rows(aggregate.format("calls")) == client.rows(aggregate.format("calls_hive"))


def test_insert_update_delete_and_merge_change_the_rows(client: Client) -> None:
    expected: dict[int, Row] = {r[0]: r for r in ROWS}
    added: Row = (5, "e", "2022-01-01 00:00:00", 2022)
    client.ok(f"insert into lab.calls {_source([added])}")
    expected[5] = added
    execution = client.execution("update lab.calls set name = upper(name) where year = 2020")
    assert execution["Status"]["State"] == "SUCCEEDED"
    for key, (id_, name, ts, year) in list(expected.items()):
        if year == 2020 and name is not None:
            expected[key] = (id_, name.upper(), ts, year)
    client.ok("delete from lab.calls where name is null")
    expected = {k: r for k, r in expected.items() if r[1] is not None}
    changes: list[Row] = [
        (1, "z", "2020-01-01 10:00:00", 2020),
        (9, "n", "2023-05-05 05:05:05", 2023),
    ]
    client.ok(
        f"merge into lab.calls as t using ({_source(changes)}) as s on t.id = s.id "
        "when matched and s.name = 'gone' then delete "
        "when matched then update set name = s.name "
        "when not matched then insert (id, name, ts, year) values (s.id, s.name, s.ts, s.year)"
    )
    for change in changes:
        old = expected.get(change[0])
        expected[change[0]] = change if old is None else (old[0], change[1], old[2], old[3])
    rows = client.rows("select id, name, ts, year from lab.calls order by id")
    assert rows == [
        [str(r[0]), r[1], f"{r[2]}.000", str(r[3])] for _, r in sorted(expected.items())
    ]


def test_row_level_changes_compute_as_athena_does(client: Client) -> None:
    # Integer division truncates on Athena: 3 / 2 = 1, so ids 2 and 3 go.
    execution = client.execution("delete from lab.calls where id / 2 = 1")
    assert execution["Status"]["State"] == "SUCCEEDED"
    assert client.rows("select id from lab.calls order by id") == client.rows(
        "select id from lab.calls_hive where not (id / 2 = 1) order by id"
    )
    client.ok("update lab.calls set name = cast(id / 4 as varchar) where id / 4 = 1")
    assert client.rows("select id, name from lab.calls order by id") == [["1", "a"], ["4", "1"]]


def test_row_level_refusals(client: Client) -> None:
    twice = _source([(1, "x", "2020-01-01 00:00:00", 2020), (1, "y", "2020-01-01 00:00:00", 2020)])
    assert client.fails(
        f"merge into lab.calls as t using ({twice}) as s on t.id = s.id "
        "when matched then update set name = s.name"
    ).startswith("MERGE_TARGET_ROW_MULTIPLE_MATCHES")
    assert client.fails("delete from lab.calls_hive where id = 1").startswith("NOT_SUPPORTED")
    assert client.fails("update lab.calls_hive set name = 'x'").startswith("NOT_SUPPORTED")
    assert client.fails("optimize lab.calls_hive rewrite data using bin_pack").startswith(
        "NOT_SUPPORTED"
    )
    assert client.fails("select * from lab.calls_hive for version as of 1").startswith(
        "NOT_SUPPORTED"
    )
    assert client.fails(
        "create table lab.bad with (table_type='iceberg', is_external=false, "
        f"location='s3://{BUCKET}/bad/', partitioned_by=ARRAY['year']) as {_source(ROWS)}"
    ).startswith("INVALID_TABLE_PROPERTY")
    # The failed MERGE changed nothing.
    assert client.rows("select count(*) from lab.calls where name in ('x', 'y')") == [["0"]]


def test_time_travel_and_metadata_tables(client: Client) -> None:
    first = client.rows('select snapshot_id from lab."calls$snapshots"')
    assert len(first) == 1
    client.ok("delete from lab.calls where year = 2021")
    snapshots = client.rows('select snapshot_id, parent_id from lab."calls$snapshots"')
    assert len(snapshots) == 2
    assert [first[0][0]] in [[s[1]] for s in snapshots]  # the DELETE's parent is the CTAS
    history = client.rows('select snapshot_id, is_current_ancestor from lab."calls$history"')
    assert sorted(str(h[0]) for h in history) == sorted(str(s[0]) for s in snapshots)
    query = "select id, name from lab.calls{} order by id"
    assert client.rows(query.format(f" for version as of {first[0][0]}")) == client.rows(
        query.format("_hive")
    )
    assert client.rows(query.format(" for timestamp as of current_timestamp")) == client.rows(
        query.format("_hive where year = 2020")
    )
    files = client.rows('select sum(record_count) from lab."calls$files"')
    assert files == client.rows("select count(*) from lab.calls")
    # Statistics bounds are not emulated: reading them fails by name, not with made-up text.
    assert client.fails('select * from lab."calls$files"').startswith("NOT_SUPPORTED")
    assert client.rows('select name, type from lab."calls$refs"') == [["main", "BRANCH"]]
    partitions = client.rows('select partition, record_count from lab."calls$partitions"')
    assert partitions == [["{year=2020}", "2"]]
    assert client.fails("select * from lab.calls for version as of 123456789").startswith(
        "INVALID_ARGUMENTS"
    )


def test_create_table_with_partition_transforms(client: Client) -> None:
    client.ok(
        "create table lab.events (id int, name string, ts timestamp) "
        "partitioned by (day(ts), bucket(4, id), truncate(1, name)) "
        f"location 's3://{BUCKET}/events/' tblproperties ('table_type'='ICEBERG')"
    )
    client.ok(f"insert into lab.events select id, name, ts from ({_source(ROWS)})")
    folders = {k.split("/")[2] for k in _keys(client, "events/data/")}
    assert {"ts_day=2020-01-01", "ts_day=2021-03-02"} <= folders
    rows = client.rows('select partition from lab."events$partitions"')
    assert len(rows) == len(ROWS)
    assert client.rows("select id, name, ts from lab.events order by id") == client.rows(
        "select id, name, ts from lab.calls_hive order by id"
    )
    assert client.fails(
        "create table lab.wrong (id int) partitioned by (day(id)) "
        f"location 's3://{BUCKET}/wrong/' tblproperties ('table_type'='ICEBERG')"
    ).startswith("INVALID_TABLE_PROPERTY")


def test_optimize_vacuum_and_drop(client: Client) -> None:
    for year in (2030, 2031):
        client.ok(f"insert into lab.calls {_source([(year, 'x', '2020-01-01 00:00:00', 2020)])}")
    before = client.rows("select * from lab.calls order by id")
    client.ok("optimize lab.calls rewrite data using bin_pack")
    assert client.rows("select * from lab.calls order by id") == before
    # One file per partition after the rewrite (three inserts had made three in 2020).
    assert client.rows('select file_count from lab."calls$partitions" order by 1') == [
        ["1"],
        ["1"],
    ]
    client.ok("alter table lab.calls set tblproperties ('vacuum_max_snapshot_age_seconds'='1')")
    time.sleep(1.1)
    data_before = set(_keys(client, "calls/data/"))
    client.ok("vacuum lab.calls")
    assert client.rows('select count(*) from lab."calls$snapshots"') == [["1"]]
    assert set(_keys(client, "calls/data/")) < data_before  # the replaced files are gone
    assert client.rows("select * from lab.calls order by id") == before
    client.ok("drop table lab.calls")
    # DROP TABLE deletes an Iceberg table's data and metadata, unlike a Hive table's.
    assert _keys(client, "calls/") == []
    client.ok("drop table lab.calls_hive")
    assert _keys(client, "calls_hive/") != []


def test_a_change_computed_from_an_older_snapshot_is_not_committed(
    client: Client, athena_local: AthenaLocal
) -> None:
    # Two writers: the second computed its rows before the first committed. Committing
    # them would lose the first writer's rows; Athena fails the second commit instead.
    tables = IcebergTables(client.glue, athena_local.url)
    read_at = tables.current_snapshot("lab", "calls")
    rows = tables.read(Reference("lab", "calls"))
    client.ok(f"insert into lab.calls {_source([(7, 'g', '2020-01-05 00:00:00', 2020)])}")
    with pytest.raises(AthenaQueryError) as raised:
        tables.replace("lab", "calls", rows, read_at)
    assert raised.value.name == "ICEBERG_COMMIT_ERROR"
    assert client.rows("select count(*) from lab.calls") == [[str(len(ROWS) + 1)]]
    tables.replace("lab", "calls", rows, tables.current_snapshot("lab", "calls"))
    assert client.rows("select count(*) from lab.calls") == [[str(len(ROWS))]]
