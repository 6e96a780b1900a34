"""The local Athena endpoint, driven through boto3's Athena client over HTTP as dbt-athena does.

Each test checks one way Athena behaves (or refuses) that DuckDB on its own would not.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import time
from dataclasses import dataclass
from typing import Any

import boto3
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests

from athena_local import AthenaLocal
from testkit.support import ATHENA_REGION, BIN, aws_env

BUCKET = "athena-local-test"
RESULTS = f"s3://{BUCKET}/results/"


@dataclass
class Client:
    endpoint: AthenaLocal
    athena: Any
    glue: Any
    s3: Any

    def run(self, sql: str, database: str = "default") -> dict[str, Any]:
        """Start a query; return its QueryExecution (as the first poll sees it)."""
        query_id = self.athena.start_query_execution(
            QueryString=sql,
            QueryExecutionContext={"Database": database},
            ResultConfiguration={"OutputLocation": RESULTS},
        )["QueryExecutionId"]
        return self.athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]

    def ok(self, sql: str, database: str = "default") -> dict[str, Any]:
        execution = self.run(sql, database)
        status = execution["Status"]
        assert status["State"] == "SUCCEEDED", status.get("StateChangeReason")
        return execution

    def fails(self, sql: str, database: str = "default") -> str:
        status = self.run(sql, database)["Status"]
        assert status["State"] == "FAILED", f"expected {sql!r} to fail"
        assert status["AthenaError"]["ErrorCategory"] == 2  # user error
        return str(status["StateChangeReason"])

    def rows(self, sql: str, database: str = "default") -> tuple[list[str], list[list[Any]]]:
        """(column types, data rows) of a query, header row checked and dropped."""
        execution = self.ok(sql, database)
        pages, token = [], None
        while True:
            kwargs = {"NextToken": token} if token else {}
            page = self.athena.get_query_results(
                QueryExecutionId=execution["QueryExecutionId"], **kwargs
            )
            pages.append(page)
            token = page.get("NextToken")
            if not token:
                break
        info = pages[0]["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
        values = [
            [d.get("VarCharValue") for d in row["Data"]]
            for page in pages
            for row in page["ResultSet"]["Rows"]
        ]
        assert values[0] == [c["Name"] for c in info], "first row is the header"
        return [c["Type"] for c in info], values[1:]


@pytest.fixture
def client(athena_local: AthenaLocal) -> Client:
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=ATHENA_REGION
    )
    url = athena_local.url
    c = Client(
        athena_local,
        session.client("athena", endpoint_url=url),
        session.client("glue", endpoint_url=url),
        session.client("s3", endpoint_url=url),
    )
    c.s3.create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": ATHENA_REGION}
    )
    c.ok("create schema if not exists `lab`")
    return c


def _ctas_sample(client: Client, name: str = "counts", partitioned: bool = False) -> None:
    partition = ", partitioned_by=ARRAY['year']" if partitioned else ""
    client.ok(
        f"""create table lab.{name} with (table_type='hive', is_external=true,
        external_location='s3://{BUCKET}/lab/{name}/1', format='parquet'{partition})
        as select * from (values
            (7, 2, date '2020-05-17', 2020),
            (9, 4, date '2021-01-02', 2021),
            (1, 3, date '2021-02-03', 2021)
        ) as t (handled, offered, day, year)"""
    )


# Meaning: Athena's, not DuckDB's ------------------------------------------------------


def test_integer_division_truncates_as_on_athena(client: Client) -> None:
    types, rows = client.rows("select 7 / 2 as a, -7 / 2 as b, 7.0 / 2 as c, 7 / 2.0 as d")
    assert rows == [["3", "-3", "3.5", "3.5"]]
    # Athena reads an unquoted 7.0 as a double (AWS's Athena docs: an exact decimal is
    # written DECIMAL '7.0'), so the last two divisions are double divisions.
    assert types == ["integer", "integer", "double", "double"]
    # The same text on DuckDB means something else: that is what the endpoint guards.
    assert duckdb.sql("select 7 / 2").fetchone() == (3.5,)


def test_integer_division_of_columns_truncates(client: Client) -> None:
    _ctas_sample(client)
    _, rows = client.rows("select handled / offered as q from lab.counts order by day")
    assert rows == [["3"], ["2"], ["0"]]


def test_integer_division_by_zero_fails_as_on_athena(client: Client) -> None:
    assert client.fails("select 1 / 0 as q") == "DIVISION_BY_ZERO: Division by zero"
    # Athena reads 1.0 as a double, as it does 1.0e0 (dbt-athena's test__convert_numbers
    # expects 1 / 0.0 to be Infinity); only DECIMAL '1.0' is a decimal, whose division by
    # zero fails. Double division is IEEE.
    types, rows = client.rows("select 1.0e0 / 0 as a, 1.0 / 0 as b, 1 / -0.0 as c, 0 / 0.0 as d")
    assert rows == [["Infinity", "Infinity", "-Infinity", "NaN"]]
    assert types == ["double"] * 4
    assert client.fails("select decimal '1.0' / 0 as q") == "DIVISION_BY_ZERO: Division by zero"


def test_result_types_are_athenas(client: Client) -> None:
    _ctas_sample(client)
    types, rows = client.rows(
        """select sum(handled) as total, date_trunc('month', max(day)) as month_start,
        count(*) as n, avg(handled) as mean, max(day) as last_day, true as flag,
        cast('2024-01-02 03:04:05.678' as timestamp) as at
        from lab.counts"""
    )
    assert types == ["bigint", "date", "bigint", "double", "date", "boolean", "timestamp"]
    assert rows == [
        ["17", "2021-02-01", "3", repr(17 / 3), "2021-02-03", "true", "2024-01-02 03:04:05.678"]
    ]


def test_dbt_athena_datediff_and_dateadd_work(client: Client) -> None:
    # The SQL dbt-athena's datediff/dateadd macros generate.
    _, rows = client.rows(
        """select
        ((to_milliseconds((cast(date '2024-03-01' as date) - cast(date '2024-02-01' as date))))
            / 86400000) as days,
        date_add('day', 1, date '2024-02-29') as next_day,
        date_diff('day', date '2024-01-01', date '2024-12-31') as span,
        try_cast('x' as integer) as not_a_number,
        current_timestamp at time zone 'UTC' is not null as has_now"""
    )
    assert rows == [["29", "2024-03-01", "365", None, "true"]]


# Refusals: what Athena would reject -------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("select epoch_ms(1)", "FUNCTION_NOT_FOUND: line 1:8: Function 'epoch_ms' not registered"),
        (
            "select ifnull(null, 1)",
            "FUNCTION_NOT_FOUND: line 1:8: Function 'ifnull' not registered",
        ),
        ("select left('abc', 1)", "FUNCTION_NOT_FOUND: line 1:8: Function 'left' not registered"),
        (
            "select 1 as a,\n  strftime(current_date, '%Y')",
            "FUNCTION_NOT_FOUND: line 2:3: Function 'strftime' not registered",
        ),
        ("select 1::integer", "SYNTAX_ERROR: line 1:9: mismatched input '::'"),
        ("select * exclude (a) from (select 1 as a, 2 as b)", "SYNTAX_ERROR"),
        ("select from where", "SYNTAX_ERROR"),
        ("select 1; select 2", "SYNTAX_ERROR: Only one sql statement is allowed"),
    ],
)
def test_queries_athena_rejects_fail_with_athenas_error(
    client: Client, sql: str, expected: str
) -> None:
    assert client.fails(sql).startswith(expected)


def test_unknown_column_table_and_schema(client: Client) -> None:
    _ctas_sample(client)
    assert client.fails("select handled,\n  no_such from lab.counts") == (
        "COLUMN_NOT_FOUND: line 2:3: Column 'no_such' cannot be resolved"
    )
    assert client.fails("select * from lab.nothing") == (
        "TABLE_NOT_FOUND: Table 'awsdatacatalog.lab.nothing' does not exist"
    )
    assert (
        client.fails("select * from nowhere.t")
        == "SCHEMA_NOT_FOUND: Schema 'nowhere' does not exist"
    )


# CTAS, views, external tables, DDL ---------------------------------------------------


def test_ctas_writes_parquet_and_registers_the_table_and_partitions(client: Client) -> None:
    _ctas_sample(client, partitioned=True)
    table = client.glue.get_table(DatabaseName="lab", Name="counts")["Table"]
    columns = [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]
    assert columns == [("handled", "int"), ("offered", "int"), ("day", "date")]
    assert table["PartitionKeys"] == [{"Name": "year", "Type": "int"}]
    assert table["StorageDescriptor"]["Location"] == f"s3://{BUCKET}/lab/counts/1"
    partitions = client.glue.get_partitions(DatabaseName="lab", TableName="counts")["Partitions"]
    assert sorted(p["Values"][0] for p in partitions) == ["2020", "2021"]
    keys = [
        o["Key"] for o in client.s3.list_objects_v2(Bucket=BUCKET, Prefix="lab/counts/")["Contents"]
    ]
    assert sorted(k.rsplit("/", 1)[0] for k in keys) == [
        "lab/counts/1/year=2020",
        "lab/counts/1/year=2021",
    ]
    data = client.s3.get_object(Bucket=BUCKET, Key=sorted(keys)[1])["Body"].read()
    assert pq.read_table(io.BytesIO(data)).column_names == ["handled", "offered", "day"]
    _, rows = client.rows("select year, count(*) from lab.counts group by year order by year")
    assert rows == [["2020", "1"], ["2021", "2"]]


def test_only_registered_partitions_are_read(client: Client) -> None:
    _ctas_sample(client, partitioned=True)
    client.glue.batch_delete_partition(
        DatabaseName="lab", TableName="counts", PartitionsToDelete=[{"Values": ["2021"]}]
    )
    _, rows = client.rows("select year from lab.counts")
    assert rows == [["2020"]]


def test_ctas_refusals(client: Client) -> None:
    _ctas_sample(client)
    assert client.fails(
        f"create table lab.counts with (external_location='s3://{BUCKET}/x/') as select 1 as a"
    ).startswith("ALREADY_EXISTS")
    assert client.fails(
        f"create table lab.other with (external_location='s3://{BUCKET}/lab/counts/1') "
        "as select 1 as a"
    ).startswith("HIVE_PATH_ALREADY_EXISTS")
    assert client.fails(
        f"create table lab.p with (external_location='s3://{BUCKET}/p/', "
        "partitioned_by=ARRAY['a']) as select 1 as a, 2 as b"
    ).startswith("HIVE_COLUMN_ORDER_MISMATCH")
    assert client.fails(
        f"create table lab.tz with (external_location='s3://{BUCKET}/tz/') "
        "as select current_timestamp as now"
    ).startswith("NOT_SUPPORTED: Unsupported Hive type: timestamp(3) with time zone")
    assert client.fails(
        f"create table lab.unnamed with (external_location='s3://{BUCKET}/u/') as select 1 + 1"
    ).endswith("Column name not specified at position 1")
    assert "TOO_MANY_OPEN_PARTITIONS" in client.fails(
        f"create table lab.many with (external_location='s3://{BUCKET}/many/', "
        "partitioned_by=ARRAY['n']) as select n from unnest(sequence(1, 101)) as t (n)"
    )


def test_views_are_stored_as_athena_views_and_expand(client: Client) -> None:
    _ctas_sample(client)
    client.ok(
        "create or replace view lab.shares as select day, handled * 1.0 / offered as share "
        "from lab.counts"
    )
    view = client.glue.get_table(DatabaseName="lab", Name="shares")["Table"]
    assert view["TableType"] == "VIRTUAL_VIEW"
    assert view["ViewOriginalText"].startswith("/* Presto View: ")
    assert [c["Name"] for c in view["StorageDescriptor"]["Columns"]] == ["day", "share"]
    _, rows = client.rows("select share from lab.shares where day = date '2020-05-17'")
    assert rows == [["3.5"]]
    assert client.fails("create view lab.shares as select 1 as a").startswith("ALREADY_EXISTS")
    client.ok("drop view lab.shares")
    assert client.fails("select * from lab.shares").startswith("TABLE_NOT_FOUND")


def test_csv_external_table_as_dbt_athena_seeds_it(client: Client) -> None:
    client.s3.put_object(Bucket=BUCKET, Key="seed/rules.csv", Body=b'code,n\nA,1\n"B, b",\n')
    client.ok(
        """create external table `lab`.`rules__dbt_tmp` (`code` string, `n` string)
        row format serde 'org.apache.hadoop.hive.serde2.OpenCSVSerde'
        location 's3://athena-local-test/seed/'
        tblproperties ('skip.header.line.count'='1')"""
    )
    types, rows = client.rows(
        "select code, cast(nullif(n, '') as integer) as n from lab.rules__dbt_tmp order by code"
    )
    assert types == ["varchar", "integer"]
    assert rows == [["A", "1"], ["B, b", None]]


def test_insert_appends_and_adds_partitions(client: Client) -> None:
    _ctas_sample(client, partitioned=True)
    client.ok(
        "insert into lab.counts (handled, offered, day, year) select 5, 5, date '2022-01-01', 2022"
    )
    _, rows = client.rows("select year, count(*) from lab.counts group by year order by year")
    assert rows == [["2020", "1"], ["2021", "2"], ["2022", "1"]]


def test_alter_table_set_tblproperties_and_rename(client: Client) -> None:
    _ctas_sample(client)
    client.ok("alter table `lab`.`counts` set tblproperties ('classification' = 'parquet')")
    table = client.glue.get_table(DatabaseName="lab", Name="counts")["Table"]
    assert table["Parameters"]["classification"] == "parquet"
    client.ok("alter table `lab`.`counts` rename to `lab`.`renamed`")
    _, rows = client.rows("select count(*) from lab.renamed")
    assert rows == [["3"]]
    assert client.fails("select * from lab.counts").startswith("TABLE_NOT_FOUND")


def test_drop_table_keeps_the_data_and_drop_schema_needs_cascade(client: Client) -> None:
    _ctas_sample(client)
    assert client.fails("drop schema lab").startswith("GENERIC_USER_ERROR")
    client.ok("drop table lab.counts")
    assert client.s3.list_objects_v2(Bucket=BUCKET, Prefix="lab/counts/")["KeyCount"] == 1
    client.ok("drop table if exists lab.counts")
    client.ok("drop schema lab cascade")
    assert client.fails("select 1 from lab.t").startswith("SCHEMA_NOT_FOUND")


# Protocol ------------------------------------------------------------------------------


def test_results_page_like_athena(client: Client) -> None:
    types, rows = client.rows("select n from unnest(sequence(1, 2500)) as t (n) order by n")
    assert types == ["bigint"]  # Trino's sequence() yields bigints
    assert [r[0] for r in rows] == [str(n) for n in range(1, 2501)]


def test_ddl_results_have_no_header_row(client: Client) -> None:
    execution = client.ok("create schema if not exists lab2")
    assert execution["StatementType"] == "DDL"
    results = client.athena.get_query_results(QueryExecutionId=execution["QueryExecutionId"])
    assert results["ResultSet"]["Rows"] == []


def test_results_of_a_failed_query_are_refused(client: Client) -> None:
    execution = client.run("select nothing")
    with pytest.raises(client.athena.exceptions.InvalidRequestException):
        client.athena.get_query_results(QueryExecutionId=execution["QueryExecutionId"])


def test_every_query_is_in_the_log(client: Client) -> None:
    client.ok("select 7 / 2 as q")
    client.fails("select epoch_ms(1)")
    log = requests.get(f"{client.endpoint.url}/_athena_local/queries", timeout=10).json()
    assert log == client.endpoint.query_log()
    last_two = log[-2:]
    assert [e["state"] for e in last_two] == ["SUCCEEDED", "FAILED"]
    assert "//" in last_two[0]["translated"]  # integer division, translated
    assert last_two[1]["error_name"] == "FUNCTION_NOT_FOUND"
    assert last_two[1]["query"] == "select epoch_ms(1)"


def test_cli_serves_until_interrupted(tmp_path: Any) -> None:
    log = tmp_path / "queries.jsonl"
    proc = subprocess.Popen(
        [
            str(BIN / "dap"),
            "athena-local",
            "--port",
            "0",
            "--bucket",
            "cli-bucket",
            "--query-log",
            str(log),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = ""
        deadline = time.monotonic() + 60
        assert proc.stderr is not None
        while not url and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if "listening on" in line:
                url = line.split("listening on ", 1)[1].split()[0]
        assert url.startswith("http://127.0.0.1:")
        env = aws_env(url)
        session = boto3.Session(
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            region_name=ATHENA_REGION,
        )
        assert "cli-bucket" in [
            b["Name"] for b in session.client("s3", endpoint_url=url).list_buckets()["Buckets"]
        ]
        athena = session.client("athena", endpoint_url=url)
        athena.start_query_execution(
            QueryString="select 1 as one",
            ResultConfiguration={"OutputLocation": "s3://cli-bucket/r/"},
        )
        entries = [json.loads(line) for line in log.read_text().splitlines()]
        assert [(e["query"], e["state"]) for e in entries] == [("select 1 as one", "SUCCEEDED")]
    finally:
        proc.send_signal(subprocess.signal.SIGINT)
        assert proc.wait(timeout=30) == 0


def test_pyarrow_roundtrip_of_written_parquet_types(client: Client) -> None:
    client.ok(
        f"""create table lab.kinds with (external_location='s3://{BUCKET}/kinds/')
        as select cast(1 as bigint) as b, cast(2.5 as double) as d, 'x' as s,
        date '2020-01-01' as day, cast('2020-01-01 00:00:01' as timestamp) as at"""
    )
    keys = client.s3.list_objects_v2(Bucket=BUCKET, Prefix="kinds/")["Contents"]
    table = pq.read_table(
        io.BytesIO(client.s3.get_object(Bucket=BUCKET, Key=keys[0]["Key"])["Body"].read())
    )
    assert [str(t) for t in table.schema.types][:4] == ["int64", "double", "string", "date32[day]"]
    assert pa.types.is_timestamp(table.schema.field("at").type)


# Found in review: behaviours a dbt user would hit -------------------------------------


def test_running_totals_and_filtered_sums_of_integers(client: Client) -> None:
    types, rows = client.rows(
        """select sum(x) over (order by x rows unbounded preceding) as running,
        sum(x) filter (where x > 1) over () as big
        from (values 1, 2, 3) as t (x) order by x"""
    )
    assert types == ["bigint", "bigint"]
    assert rows == [["1", "5"], ["3", "5"], ["6", "5"]]


def test_the_machines_time_zone_does_not_leak_in(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "America/Vancouver")
    time.tzset()
    try:
        _, rows = client.rows(
            "select hour(from_iso8601_timestamp('2024-01-02T03:00:00Z')) as h, "
            "cast(from_unixtime(0) as date) as d"
        )
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert rows == [["3", "1970-01-01"]]


@pytest.mark.parametrize(
    "sql",
    [
        "select x from (values 1, 2) t (x)",
        "with a as (select 1 as x), b (y) as (select x from a) select y from b",
        "select listagg(x, ',') within group (order by x) from (values 'a', 'b') as t (x)",
        "select x, count(*) from (values 1, 2) as t (x) group by rollup (x)",
    ],
)
def test_valid_trino_syntax_that_looks_like_a_call_is_accepted(client: Client, sql: str) -> None:
    client.ok(sql)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("select 1 = '1'", "TYPE_MISMATCH: '=' cannot be applied to integer, varchar"),
        (
            "select day from lab.counts where day = '2020-05-17'",
            "TYPE_MISMATCH: '=' cannot be applied to date, varchar",
        ),
        ("select 'a' || 1", "TYPE_MISMATCH: Unexpected parameters"),
        ("select 1 in ('1', '2')", "TYPE_MISMATCH: 'IN' cannot be applied"),
    ],
)
def test_text_is_not_converted_to_other_types(client: Client, sql: str, expected: str) -> None:
    _ctas_sample(client)
    assert client.fails(sql).startswith(expected)
    assert duckdb.sql("select 1 = '1'").fetchone() == (True,)  # what DuckDB would do


def test_date_diff_counts_whole_units_and_date_arithmetic_stays_a_date(client: Client) -> None:
    types, rows = client.rows(
        """select date_diff('month', date '2024-01-15', date '2024-03-14') as months,
        date_diff('day', timestamp '2024-01-01 23:00:00', timestamp '2024-01-02 01:00:00') as days,
        date '2024-03-01' - interval '1' day as eve"""
    )
    assert rows == [["1", "0", "2024-02-29"]]
    assert types == ["bigint", "bigint", "date"]


def test_alter_table_columns_as_on_schema_change_sends_them(client: Client) -> None:
    _ctas_sample(client)
    client.ok("alter table lab.counts add columns (note string)")
    _, rows = client.rows("select count(*), count(note) from lab.counts")
    assert rows == [["3", "0"]]
    client.ok("alter table lab.counts change column note remark varchar(20)")
    client.ok("alter table lab.counts replace columns (handled int, offered int, day date)")
    columns = client.glue.get_table(DatabaseName="lab", Name="counts")["Table"]
    assert [c["Name"] for c in columns["StorageDescriptor"]["Columns"]] == [
        "handled",
        "offered",
        "day",
    ]
    assert client.fails("alter table lab.counts add columns (day date)").endswith(
        "Column 'day' already exists"
    )


def test_partition_values_are_written_as_hive_writes_them(client: Client) -> None:
    client.ok(
        f"""create table lab.kinds_by with (external_location='s3://{BUCKET}/by/',
        partitioned_by=ARRAY['flag', 'label'])
        as select 1 as n, true as flag, 'a/b=c' as label"""
    )
    partition = client.glue.get_partitions(DatabaseName="lab", TableName="kinds_by")
    (only,) = partition["Partitions"]
    assert only["Values"] == ["true", "a/b=c"]
    assert only["StorageDescriptor"]["Location"].endswith("/by/flag=true/label=a%2Fb%3Dc/")
    _, rows = client.rows("select n, flag, label from lab.kinds_by")
    assert rows == [["1", "true", "a/b=c"]]


def test_a_retried_request_token_runs_the_query_once(client: Client) -> None:
    _ctas_sample(client)
    ids = [
        client.athena.start_query_execution(
            QueryString="insert into lab.counts select 1, 1, date '2022-01-01', 2022",
            ClientRequestToken="same-request-token-0123456789abcdef",
            ResultConfiguration={"OutputLocation": RESULTS},
        )["QueryExecutionId"]
        for _ in range(2)
    ]
    assert ids[0] == ids[1]
    _, rows = client.rows("select count(*) from lab.counts")
    assert rows == [["4"]]
    with pytest.raises(client.athena.exceptions.InvalidRequestException):
        client.athena.get_query_results(QueryExecutionId=ids[0], NextToken="not-a-token")


def test_unaliased_columns_and_regexp_groups_follow_athena(client: Client) -> None:
    execution = client.ok("select regexp_replace('a1b2', '(\\d)', '<$1>') as r, 1 + 1")
    results = client.athena.get_query_results(QueryExecutionId=execution["QueryExecutionId"])
    header, row = results["ResultSet"]["Rows"]
    assert [d["VarCharValue"] for d in header["Data"]] == ["r", "_col1"]
    assert [d["VarCharValue"] for d in row["Data"]] == ["a<1>b<2>", "2"]


def test_cli_runs_a_command_against_the_endpoint_and_passes_its_status_on() -> None:
    script = (
        "import os, sys, boto3\n"
        "names = [b['Name'] for b in boto3.client('s3').list_buckets()['Buckets']]\n"
        "print(os.environ['AWS_ENDPOINT_URL'], os.environ['AWS_ACCESS_KEY_ID'], names)\n"
        "sys.exit(3)\n"
    )
    proc = subprocess.run(
        [
            str(BIN / "dap"),
            "athena-local",
            "--port",
            "0",
            "--bucket",
            "cmd-bucket",
            "--",
            str(BIN / "python"),
            "-c",
            script,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
    )
    assert proc.returncode == 3, proc.stderr
    url, key, buckets = proc.stdout.split(" ", 2)
    assert url.startswith("http://127.0.0.1:")
    assert key == "athena-local"  # throwaway credentials, never the caller's
    assert buckets.strip() == "['cmd-bucket']"


def test_binary_uuid_and_ipaddress_literals_come_back_with_their_types(client: Client) -> None:
    # Trino drops whitespace inside X'...'; uuid and ipaddress keep their own type names
    # (dbt-athena converts by them) and print as Trino prints them.
    types, rows = client.rows(
        "select X'68 65 6C' as b, uuid 'E50E499B-982F-4CBE-9F50-E11B1C83572E' as u, "
        "ipaddress '::ffff:10.0.0.1' as v4, ipaddress '2001:0DB8::0001' as v6"
    )
    assert types == ["varbinary", "uuid", "ipaddress", "ipaddress"]
    assert bytes.fromhex(rows[0][0]) == b"hel"
    assert rows[0][1:] == ["e50e499b-982f-4cbe-9f50-e11b1c83572e", "10.0.0.1", "2001:db8::1"]
    assert client.fails("select X'6 5 c'").startswith("SYNTAX_ERROR")
    # Hive tables have no column type for either; a cast of a column is not emulated.
    assert client.fails(
        f"create table lab.ids with (external_location='s3://{BUCKET}/ids/') "
        "as select uuid 'e50e499b-982f-4cbe-9f50-e11b1c83572e' as u"
    ).startswith("NOT_SUPPORTED: Unsupported Hive type: uuid")
    assert client.fails("select cast(x as ipaddress) from (values '10.0.0.1') as t (x)").startswith(
        "NOT_SUPPORTED"
    )


def test_rows_and_json_come_back_as_athena_prints_them(client: Client) -> None:
    types, rows = client.rows(
        "select cast(row(1, 'x', array[2]) as row(a integer, b varchar, c array(integer))) as r,"
        " json '[1, 2, [\"c\"]]' as j, cast(map(array['b', 'a'], array[1, 2]) as json) as m"
    )
    assert types == ["row", "json", "json"]
    assert rows == [["{a=1, b=x, c=[2]}", '[1,2,["c"]]', '{"a":2,"b":1}']]
    # DuckDB numbers an unnamed row's fields where Athena names them itself.
    assert client.fails("select row(1, 2) as r").startswith("NOT_SUPPORTED")


def test_zoned_literals_keep_their_zone_as_result_columns_only(client: Client) -> None:
    types, rows = client.rows(
        "select timestamp '2024-07-05 12:34:56.789 America/New_York' as a,"
        " timestamp '2024-07-05 12:34:56.7 -00:30' as b, time '12:34:56' as c,"
        " time '12:34:56.789 -00:30' as d"
    )
    zoned = "timestamp with time zone"
    assert types == [zoned, zoned, "time", "time with time zone"]
    assert rows == [
        [
            "2024-07-05 12:34:56.789 America/New_York",
            "2024-07-05 12:34:56.700 -00:30",
            "12:34:56.000",
            "12:34:56.789-00:30",
        ]
    ]
    # Anywhere else the zone would be lost in DuckDB: refused by name.
    reason = client.fails("select timestamp '2024-07-05 12:34:56 America/New_York' < now()")
    assert reason.startswith("NOT_SUPPORTED")
    assert "timestamp with time zone" in reason
