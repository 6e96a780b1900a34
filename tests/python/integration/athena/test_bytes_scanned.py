"""Bytes scanned on the local Athena endpoint, as Athena reports them, through to dbt's run
results, and a budget for what a full build of the real data scans.

One module fixture loads the City's real export (``../shared/data``; skipped when absent)
into s3:// on the endpoint and runs ``dbt build --target athena`` once (about a minute and
a half on two cores); every test reads that build.
"""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from athena_local import AthenaLocal
from athena_local.billing import billed_bytes
from athena_local.serve import create_lake_key, create_protected_bucket
from dap.ops.cost import MEGABYTE
from testkit.athena_lake import prepare_lake, session
from testkit.support import ATHENA_REGION, BIN, REAL_CSV, REPO_ROOT, DbtResult, run_dbt_cli

pytestmark = [pytest.mark.dbt, pytest.mark.s3]

LAKE_BUCKET = "vancouver-311-lake"
RESULTS_BUCKET = "vancouver-311-athena-results"

SCAN_BUDGET_BYTES = 8 * MEGABYTE
"""What a full `dbt build` of the real data (2009-2024, 5,585 days) may scan, summed over
run_results.json's `data_scanned_in_bytes`. Measured: about 4.07 MB (4,066,306 bytes), 178
nodes. A model or test that starts reading whole tables where it needs a column or a
partition of them breaks this."""
BILLED_BUDGET_BYTES = 300 * 10 * MEGABYTE
"""What Athena may bill for the same build: every query is billed at least 10 MB, so this
is a budget on the number of queries that read data (measured: 128, 1,280 MB)."""


@dataclass
class RealBuild:
    endpoint: AthenaLocal
    env: dict[str, str]
    build: DbtResult
    run_results_path: Path


@pytest.fixture(scope="module")
def real_build(
    tmp_path_factory: pytest.TempPathFactory, dbt_profiles_dir: Path
) -> Iterator[RealBuild]:
    if not REAL_CSV.is_file():
        pytest.skip(f"real dataset not found at {REAL_CSV} (see ../shared/data/README.md)")
    tmp = tmp_path_factory.mktemp("bytes-scanned")
    with AthenaLocal() as endpoint:
        env = prepare_lake(
            endpoint, dbt_profiles_dir, lake_bucket=LAKE_BUCKET, results_bucket=RESULTS_BUCKET
        )
        load = subprocess.run(
            [str(BIN / "dap"), "load", "--lake", f"s3://{LAKE_BUCKET}", str(REAL_CSV)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert load.returncode == 0, load.stderr
        build = run_dbt_cli(("build",), cwd=REPO_ROOT, env=env, target=tmp / "target")
        assert build.returncode == 0, build.output[-6000:]
        # run_dbt_cli removes run_results.json; `dap cost` reads it from a file.
        path = tmp / "run_results.json"
        path.write_text(json.dumps(build.run_results))
        yield RealBuild(endpoint, env, build, path)


def _scanned(run_results: dict[str, Any]) -> dict[str, int]:
    return {
        r["unique_id"]: r["adapter_response"]["data_scanned_in_bytes"]
        for r in run_results["results"]
        if "data_scanned_in_bytes" in r.get("adapter_response", {})
    }


def check_scan_budget(run_results: dict[str, Any], budget: int) -> int:
    """The bytes a build scanned (sum over its nodes); fails when over the budget."""
    total = sum(_scanned(run_results).values())
    assert total <= budget, (
        f"dbt build scanned {total:,} bytes, over the budget of {budget:,}: "
        + ", ".join(
            f"{uid} {n:,}"
            for uid, n in sorted(_scanned(run_results).items(), key=lambda i: -i[1])[:5]
        )
    )
    return total


# The three tests on a full build of the real data through the endpoint (about 100 s on
# 2 cores) run in `make test-long`; the billing of column chunks, partitions and DDL is
# checked in `make test` below and in tests/python/unit/athena_local/test_billing.py.
@pytest.mark.long
def test_run_results_carry_the_bytes_each_query_scanned(real_build: RealBuild) -> None:
    run_results = real_build.build.run_results
    scanned = _scanned(run_results)
    ran = [r for r in run_results["results"] if not r["unique_id"].startswith("unit_test.")]
    # Every model and data test reports it (unit tests run on fixtures, no lake data).
    assert len(scanned) >= len(ran) > 100
    models = {uid: n for uid, n in scanned.items() if uid.startswith("model.")}
    tests = {uid: n for uid, n in scanned.items() if uid.startswith("test.")}
    # Views are DDL (nothing read); tables read their sources.
    assert models["model.vancouver_311.stg_contact_centre__daily_metrics"] == 0
    assert models["model.vancouver_311.fct_contact_centre_daily"] > 0
    assert sum(1 for n in tests.values() if n > 0) > len(tests) // 2
    # Plausible: no query reads more than the lake's Parquet holds in all.
    s3 = session().client("s3", endpoint_url=real_build.endpoint.url)
    lake_bytes = sum(
        item["Size"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=LAKE_BUCKET)
        for item in page.get("Contents", [])
        if not item["Key"].startswith(("landing/", "_"))
    )
    assert 0 < max(scanned.values()) <= lake_bytes
    # The endpoint's own log says the same for the same queries.
    logged = [e["data_scanned_bytes"] for e in real_build.endpoint.query_log()]
    assert set(scanned.values()) <= set(logged)


@pytest.mark.long
def test_a_full_build_of_the_real_data_stays_within_its_scan_budget(
    real_build: RealBuild,
) -> None:
    run_results = real_build.build.run_results
    total = check_scan_budget(run_results, SCAN_BUDGET_BYTES)
    assert total > 0
    billed = sum(billed_bytes(n) for n in _scanned(run_results).values())
    assert billed <= BILLED_BUDGET_BYTES
    # The budget is a real bound: the same build against a smaller budget fails.
    with pytest.raises(AssertionError, match="over the budget"):
        check_scan_budget(run_results, total - 1)


@pytest.mark.long
def test_dap_cost_prices_the_measured_build(real_build: RealBuild) -> None:
    result = subprocess.run(
        [
            str(BIN / "dap"),
            "cost",
            "--lake",
            f"s3://{LAKE_BUCKET}",
            "--results",
            f"s3://{RESULTS_BUCKET}/dbt/",
            "--run-results",
            str(real_build.run_results_path),
            "--runs-per-month",
            "30",
        ],
        env=real_build.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    (real_build.run_results_path.parent / "dap-cost.txt").write_text(out)
    queries = sum(1 for n in _scanned(real_build.build.run_results).values() if n > 0)
    assert "Athena  " in out
    assert f"{queries} queries a build" in out
    # The Athena line is the measured build priced: billed bytes x 30 runs at $5 a TB.
    billed = sum(billed_bytes(n) for n in _scanned(real_build.build.run_results).values() if n)
    athena = next(line for line in out.splitlines() if line.startswith("Athena "))
    monthly = float(athena.split()[1].lstrip("$"))
    assert monthly == pytest.approx(billed * 30 / 1024**4 * 5.0, abs=0.005)
    for zone in ("landing", "raw", "curated", "trusted", "results"):
        assert f"S3 storage, {zone}" in out
    assert "assumption" in out.lower()
    assert "Total" in out


# The endpoint itself, on tables of known layout (no dbt) --------------------------------


def _run(endpoint: AthenaLocal, sql: str) -> dict[str, Any]:
    athena = session().client("athena", endpoint_url=endpoint.url)
    query_id = athena.start_query_execution(
        QueryString=sql,
        QueryExecutionContext={"Database": "billing_check"},
        ResultConfiguration={"OutputLocation": f"s3://{RESULTS_BUCKET}/check/"},
    )["QueryExecutionId"]
    execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    return dict(execution)


@pytest.fixture
def endpoint(athena_local: AthenaLocal) -> AthenaLocal:
    """The endpoint with the lake and results buckets, for tables written by hand."""
    s3 = session().client("s3", endpoint_url=athena_local.url)
    key_arn = create_lake_key(session().client("kms", endpoint_url=athena_local.url))
    for bucket in (LAKE_BUCKET, RESULTS_BUCKET):
        create_protected_bucket(s3, bucket, ATHENA_REGION, key_arn)
    return athena_local


def test_the_endpoint_reports_column_chunks_of_partitions_read_and_ddl_as_zero(
    endpoint: AthenaLocal,
) -> None:
    s3 = session().client("s3", endpoint_url=endpoint.url)
    chunks: dict[int, int] = {}
    for year in (2023, 2024):
        sink = io.BytesIO()
        table = pa.table({"figure": list(range(500)), "label": [f"row {i}" for i in range(500)]})
        pq.write_table(table, sink)
        metadata = pq.ParquetFile(io.BytesIO(sink.getvalue())).metadata
        chunks[year] = metadata.row_group(0).column(0).total_compressed_size
        s3.put_object(Bucket=LAKE_BUCKET, Key=f"check/t/year={year}/part-0", Body=sink.getvalue())
    ddl = [
        "create database billing_check",
        "create external table t (figure bigint, label string) partitioned by (year int) "
        f"stored as parquet location 's3://{LAKE_BUCKET}/check/t/'",
    ]
    for sql in ddl:
        assert _run(endpoint, sql)["Statistics"]["DataScannedInBytes"] == 0
    glue = session().client("glue", endpoint_url=endpoint.url)
    storage = glue.get_table(DatabaseName="billing_check", Name="t")["Table"]["StorageDescriptor"]
    glue.batch_create_partition(
        DatabaseName="billing_check",
        TableName="t",
        PartitionInputList=[
            {
                "Values": [str(year)],
                "StorageDescriptor": {
                    **storage,
                    "Location": f"s3://{LAKE_BUCKET}/check/t/year={year}/",
                },
            }
            for year in chunks
        ],
    )
    one = _run(endpoint, "select sum(figure) from t where year = 2024")
    assert one["Statistics"]["DataScannedInBytes"] == chunks[2024]
    both = _run(endpoint, "select max(figure) from t")
    assert both["Statistics"]["DataScannedInBytes"] == chunks[2023] + chunks[2024]
