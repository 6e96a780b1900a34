"""The SQL dbt-athena 1.11.1 sends on its Iceberg paths, translated and run on DuckDB as
the endpoint does: `from (db.t)` in its partition batches (get_partition_batches.sql),
`chr(bigint)` in its bucket tests, the `timestamp '… +00:00'` bounds of a microbatch
(AthenaRelation._render_event_time_filtered) and its tests' VALUES, and MERGE's
`then insert (columns)`. Expected values are Trino's: a parenthesised name is the table,
chr takes a bigint code point, a zero-offset timestamp compares as the same instant.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from athena_local.dialect import check_query, parse, to_duckdb
from athena_local.errors import AthenaQueryError

SCHEMA = {"lab": {"t": {"id": "INTEGER", "ts": "TIMESTAMP"}}}


@pytest.fixture
def connection() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect(":memory:")
    c.execute("set TimeZone = 'UTC'")
    c.execute("create schema lab")
    c.execute("create table lab.t (id integer, ts timestamp)")
    c.execute(
        "insert into lab.t values (1, '2020-01-01 00:00:00'), (2, '2020-01-02 00:00:00'), "
        "(3, '2020-01-03 12:00:00')"
    )
    return c


def _run(connection: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[object, ...]]:
    statement = parse(sql)
    check_query(sql, statement)
    return connection.execute(to_duckdb(statement, SCHEMA, "lab")).fetchall()


def test_a_parenthesised_table_name_reads_the_table(connection: duckdb.DuckDBPyConnection) -> None:
    rows = _run(connection, 'select distinct id from ("lab"."t") order by id')
    assert rows == [(1,), (2,), (3,)]


def test_chr_takes_a_bigint(connection: duckdb.DuckDBPyConnection) -> None:
    assert _run(connection, "select chr(cast(65 + 1 as bigint)) || 'x' as c") == [("Bx",)]


def test_zero_offset_timestamps_bound_a_batch(connection: duckdb.DuckDBPyConnection) -> None:
    rows = _run(
        connection,
        "select id from lab.t where cast(ts as timestamp) >= timestamp '2020-01-02 00:00:00+00:00'"
        " and cast(ts as timestamp) < timestamp '2020-01-03 00:00:00+00:00'",
    )
    assert rows == [(2,)]
    values = _run(
        connection,
        "select id, cast(e as timestamp) from (values (4, TIMESTAMP '2020-01-04 00:00:00-0'))"
        " as v (id, e)",
    )
    assert values == [(4, dt.datetime(2020, 1, 4))]


def test_other_zoned_timestamps_stay_refused(connection: duckdb.DuckDBPyConnection) -> None:
    # Trino compares the instant, and a cast keeps the wall clock of +01:00: not emulated.
    with pytest.raises(AthenaQueryError, match="NOT_SUPPORTED"):
        _run(connection, "select id from lab.t where ts >= timestamp '2020-01-02 00:00:00+01:00'")
    with pytest.raises(AthenaQueryError, match="NOT_SUPPORTED"):
        _run(connection, "select timestamp '2020-01-02 00:00:00+00:00' + interval '1' hour")


def test_merge_insert_columns_are_not_a_function_call() -> None:
    sql = (
        "merge into lab.t as target using (select 5 as id) as src on target.id = src.id "
        "when not matched then insert (id) values (src.id)"
    )
    check_query(sql, parse(sql))
