"""Statements beyond queries and CTAS, as dbt-athena and its own test suite send them:
SHOW, EXPLAIN, INSERT … VALUES into Athena's default TEXTFILE tables, the `sequence`
table function, and text that is not SQL. Driven through boto3's Athena client over HTTP.

Result shapes follow Athena's documentation (SHOW is Hive DDL output: one string column,
no header row; EXPLAIN has one varchar column, `Query Plan`) and what dbt-athena 1.11.1's
own tests expect of them (tests/functional/adapter/test_connections.py and
test_on_schema_change.py in its source distribution).
"""

from __future__ import annotations

import pytest

from athena_local import AthenaLocal
from testkit.athena_client import AthenaClient as Client

BUCKET = "athena-statements-test"


@pytest.fixture
def client(athena_local: AthenaLocal) -> Client:
    c = Client(athena_local, BUCKET)
    c.create_bucket()
    c.result("create schema lab")
    c.result(
        "create table lab.calls with (partitioned_by = array['year'], "
        f"external_location = 's3://{BUCKET}/calls/') as "
        "select * from (values (7, 'a', 2020), (9, 'b', 2021)) as t (handled, queue, year)"
    )
    return c


def test_show_columns_tables_databases_and_partitions(client: Client) -> None:
    execution, columns, rows = client.result("show columns from lab.calls")
    # Hive DDL output: a utility statement, no header row, one string column; partition
    # keys last.
    assert (execution["StatementType"], execution["SubstatementType"]) == (
        "UTILITY",
        "SHOW_COLUMNS",
    )
    assert columns == ["field:string"]
    assert rows == [["handled"], ["queue"], ["year"]]
    assert client.result("show columns in calls from lab")[2] == rows
    assert client.result("/* dbt */ show columns from `lab`.`calls`")[2] == rows
    assert client.result("show tables in lab")[2] == [["calls"]]
    assert client.result("show tables in lab 'x*|cal*'")[2] == [["calls"]]
    assert client.result("show tables in lab 'x*'")[2] == []
    assert ["lab"] in client.result("show databases")[2]
    assert client.result("show schemas like 'la*'")[2] == [["lab"]]
    assert client.result("show partitions lab.calls")[2] == [["year=2020"], ["year=2021"]]


def test_show_refusals(client: Client) -> None:
    assert client.fails("show columns from lab.nope").startswith("TABLE_NOT_FOUND")
    assert client.fails("show columns from nope.calls").startswith("SCHEMA_NOT_FOUND")
    assert client.fails("show partitions lab.nope").startswith("TABLE_NOT_FOUND")
    assert client.fails("show create table lab.calls").startswith("NOT_SUPPORTED")
    assert client.fails("describe lab.calls").startswith("NOT_SUPPORTED")


def test_explain_checks_the_statement_and_returns_a_plan(client: Client) -> None:
    execution, columns, rows = client.result("EXPLAIN SELECT handled FROM lab.calls")
    assert (execution["StatementType"], execution["SubstatementType"]) == ("UTILITY", "EXPLAIN")
    assert columns == ["Query Plan:varchar"]
    # dbt-athena reads EXPLAIN as plain text: the first row is the column's name.
    assert rows[0] == ["Query Plan"]
    assert len(rows) > 1
    assert client.result("explain (type validate) select 1")[2] == [["Valid"], ["true"]]
    assert client.fails("explain select nope from lab.calls").startswith("COLUMN_NOT_FOUND")
    assert client.fails("explain analyze select 1").startswith("NOT_SUPPORTED")
    assert client.fails("explain (format json) select 1").startswith("NOT_SUPPORTED")


def test_insert_values_into_athenas_default_textfile_table(client: Client) -> None:
    location = f"s3://{BUCKET}/seed/"
    client.result(
        f"create external table lab.seed (id int, name string, at timestamp) location '{location}'"
    )
    client.result(
        "insert into lab.seed values (1, 'one', timestamp '2024-01-02 03:04:05'), (2, null, null)"
    )
    client.result("insert into lab.seed (name, id) values ('three', 3)")
    rows = client.rows("select id, name, at from lab.seed order by id")
    assert rows == [
        ["1", "one", "2024-01-02 03:04:05.000"],
        ["2", None, None],
        ["3", "three", None],
    ]
    # Written as LazySimpleSerDe writes text: \x01 between fields, \N for NULL.
    objects = client.s3.list_objects_v2(Bucket=BUCKET, Prefix="seed/")["Contents"]
    text = b"".join(
        client.s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read() for o in objects
    )
    assert b"1\x01one\x012024-01-02 03:04:05.000\n" in text
    assert b"2\x01\\N\x01\\N\n" in text


def test_delimited_text_table_reads_what_another_writer_left(client: Client) -> None:
    client.s3.put_object(
        Bucket=BUCKET, Key="text/part-0", Body=b"1,x,2024-01-01\n2,,not a date\n3\n"
    )
    client.result(
        "create external table lab.text (id int, tag string, day date) "
        f"row format delimited fields terminated by ',' location 's3://{BUCKET}/text/'"
    )
    # LazySimpleSerDe: a value that does not convert is NULL, a missing field is NULL.
    assert client.rows("select * from lab.text order by id") == [
        ["1", "x", "2024-01-01"],
        ["2", "", None],
        ["3", None, None],
    ]


def test_sequence_table_function(client: Client) -> None:
    rows = client.rows(
        "select count(*), min(sequential_number), max(sequential_number) "
        "from table(sequence(start => 0, stop => 1000))"
    )
    assert rows == [["1001", "0", "1000"]]
    assert client.rows("select n from table(sequence(1, 10, 3)) as t (n)") == [
        ["1"],
        ["4"],
        ["7"],
        ["10"],
    ]
    assert client.rows("select * from table(sequence(start => 3, stop => -1, step => -2))") == [
        ["3"],
        ["1"],
        ["-1"],
    ]
    assert (
        client.fails("select * from table(sequence(start => 0, stop => 3, step => 0))")
        == "INVALID_FUNCTION_ARGUMENT: step must not be zero"
    )
    assert client.fails("select * from table(sequence(start => 5, stop => 1))").startswith(
        "INVALID_FUNCTION_ARGUMENT"
    )
    reason = client.fails("select not_a_column from table(sequence(start => 0, stop => 9))")
    assert "Column 'not_a_column' cannot be resolved" in reason
    # More than 100 partitions from one INSERT fails as on Athena.
    reason = client.fails(
        "insert into lab.calls select sequential_number, 'q', sequential_number "
        "from table(sequence(start => 0, stop => 1000))"
    )
    assert reason.startswith("HIVE_TOO_MANY_OPEN_PARTITIONS")


def test_text_that_is_not_sql_is_a_syntax_error(client: Client) -> None:
    reason = client.fails("THIS IS NOT SQL")
    assert reason.startswith("SYNTAX_ERROR: line 1:1: mismatched input 'THIS'. Expecting:")
    reason = client.fails("-- a comment\n  hello")
    assert reason.startswith("SYNTAX_ERROR: line 2:3: mismatched input 'hello'")
    assert client.fails("msck repair table lab.calls").startswith("NOT_SUPPORTED")
