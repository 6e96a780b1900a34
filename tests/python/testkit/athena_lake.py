"""The project's lake on the local Athena endpoint, as the dbt-on-Athena tests set it up:
protected buckets (versioned, SSE-KMS by default, which `dap load` requires), the
environment dbt-athena and `dap` run in, and a query read back page by page."""

from __future__ import annotations

import os
from pathlib import Path

import boto3
import requests

from athena_local import AthenaLocal
from athena_local.serve import create_lake_key, create_protected_bucket
from testkit.support import ATHENA_REGION, aws_env


def session() -> boto3.Session:
    return boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=ATHENA_REGION
    )


def prepare_lake(
    endpoint: AthenaLocal,
    profiles: Path,
    *,
    lake_bucket: str,
    results_bucket: str,
    poll_interval: str = "0.2",
) -> dict[str, str]:
    """A fresh endpoint state with the two buckets, and the environment for `dap` and
    `dbt --target athena` against it (no AWS_, DAP_ or DBT_ setting of the caller's)."""
    requests.post(f"{endpoint.url}/moto-api/reset", timeout=30).raise_for_status()
    s3 = session().client("s3", endpoint_url=endpoint.url)
    key_arn = create_lake_key(session().client("kms", endpoint_url=endpoint.url))
    for bucket in (lake_bucket, results_bucket):
        create_protected_bucket(s3, bucket, ATHENA_REGION, key_arn)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DAP_", "DBT_"))}
    env.update(
        DBT_PROFILES_DIR=str(profiles),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        DBT_TARGET="athena",
        DAP_ATHENA_S3_STAGING_DIR=f"s3://{results_bucket}/dbt/",
        DAP_ATHENA_S3_DATA_DIR=f"s3://{lake_bucket}/",
        DAP_ATHENA_POLL_INTERVAL=poll_interval,
        DAP_ATHENA_NUM_RETRIES="0",
        **aws_env(endpoint.url),
    )
    return env


def query_pages(
    endpoint: AthenaLocal, sql: str, results_bucket: str
) -> tuple[list[str], list[list[str | None]]]:
    """(column types, every row as returned, the header row first), all pages read."""
    athena = session().client("athena", endpoint_url=endpoint.url)
    query_id = athena.start_query_execution(
        QueryString=sql, ResultConfiguration={"OutputLocation": f"s3://{results_bucket}/t/"}
    )["QueryExecutionId"]
    status = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
    assert status["State"] == "SUCCEEDED", status.get("StateChangeReason")
    rows: list[list[str | None]] = []
    kwargs: dict[str, str] = {}
    while True:
        page = athena.get_query_results(QueryExecutionId=query_id, **kwargs)
        rows += [[d.get("VarCharValue") for d in r["Data"]] for r in page["ResultSet"]["Rows"]]
        if "NextToken" not in page:
            break
        kwargs = {"NextToken": page["NextToken"]}
    types = [c["Type"] for c in page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]]
    return types, rows
