"""`dap metrics`: CloudWatch custom metrics for a load and a dbt run, read back from a moto
server with GetMetricData (no other network)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from dap.lake.audit import latest_record
from dap.lake.load import load_workbooks
from dap.lake.storage import open_lake
from dap.ops.metrics import NAMESPACE, QUARANTINE_TEST, from_audit_record, from_run_results, publish
from testkit.workbooks import clean_env, run_dap, simple_book

pytestmark = pytest.mark.s3


@pytest.fixture(autouse=True)
def _fresh_cloudwatch(moto_endpoint: str) -> None:
    """CloudWatch sums what every test published: start each test from an empty server."""
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=30).raise_for_status()


def _value(cloudwatch: Any, name: str, stage: str, at: datetime, stat: str = "Sum") -> float:
    """Metric ``name`` (dimension Stage=stage) over the ten minutes around ``at``, in
    one-minute periods added up (or the largest, for Maximum)."""
    response = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "m",
                "MetricStat": {
                    "Metric": {
                        "Namespace": NAMESPACE,
                        "MetricName": name,
                        "Dimensions": [{"Name": "Stage", "Value": stage}],
                    },
                    "Period": 60,
                    "Stat": stat,
                },
            }
        ],
        StartTime=at - timedelta(minutes=5),
        EndTime=at + timedelta(minutes=5),
    )
    values: list[float] = response["MetricDataResults"][0]["Values"]
    assert values, (name, stage, "no data")
    return max(values) if stat == "Maximum" else sum(values)


def _run_results(tmp_path: Path, generated: datetime, statuses: dict[str, Any]) -> Path:
    """A run_results.json in dbt's shape: unique_id -> status or (status, failures)."""
    results = []
    for unique_id, outcome in statuses.items():
        status, failures = outcome if isinstance(outcome, tuple) else (outcome, None)
        results.append({"unique_id": unique_id, "status": status, "failures": failures})
    path = tmp_path / "run_results.json"
    path.write_text(
        json.dumps(
            {
                "metadata": {"generated_at": generated.isoformat().replace("+00:00", "Z")},
                "elapsed_time": 42.5,
                "results": results,
            }
        )
    )
    return path


def test_a_load_is_published_from_its_audit_record(moto_env, tmp_path):
    books = [simple_book(tmp_path / f"b{i}.xlsx", date(2021 + i, 1, 1), 3 + i) for i in range(2)]
    lake = open_lake(str(tmp_path / "lake"))
    summary = load_workbooks(books, lake)
    latest = latest_record(lake)
    assert latest is not None
    assert latest[0] == summary.audit_key
    measurement = from_audit_record(latest[1], latest[0])

    cloudwatch = boto3.Session().client("cloudwatch")
    publish(cloudwatch, measurement)

    at = measurement.timestamp
    assert _value(cloudwatch, "RowsLanded", "load", at) == summary.rows == 7
    assert _value(cloudwatch, "FilesLanded", "load", at) == 2
    assert _value(cloudwatch, "Failures", "load", at) == 0
    duration = _value(cloudwatch, "DurationSeconds", "load", at)
    assert duration == latest[1]["duration_seconds"] >= 0


def test_cli_publishes_the_newest_load_and_a_failed_one(moto_env, tmp_path):
    lake = tmp_path / "lake"
    env = clean_env(**moto_env)
    first = run_dap("load", simple_book(tmp_path / "a.xlsx", date(2020, 1, 1), 2), "--lake", lake)
    second = run_dap("load", simple_book(tmp_path / "b.xlsx", date(2020, 6, 1), 5), "--lake", lake)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr

    published = run_dap("metrics", "load", "--lake", lake, env=env)
    assert published.returncode == 0, published.stderr
    assert "RowsLanded = 5" in published.stdout  # the newest load, not the first
    assert f"published 4 metric(s) to CloudWatch {NAMESPACE} (Stage=load)" in published.stderr

    failed = run_dap("metrics", "load", "--failed", env=env)
    assert failed.returncode == 0, failed.stderr
    cloudwatch = boto3.Session().client("cloudwatch")
    now = datetime.now(UTC)
    assert _value(cloudwatch, "RowsLanded", "load", now) == 5
    assert _value(cloudwatch, "Failures", "load", now) == 1  # 0 for the load, 1 for the failure
    assert _value(cloudwatch, "Failures", "load", now, stat="Maximum") == 1


def test_cli_publishes_a_dbt_run_from_run_results(moto_env, tmp_path):
    generated = datetime.now(UTC).replace(microsecond=0)
    path = _run_results(
        tmp_path,
        generated,
        {
            "model.vancouver_311.a": "success",
            "model.vancouver_311.b": "error",
            "test.vancouver_311.t1": ("pass", 0),
            "test.vancouver_311.t2": ("fail", 3),
            "test.vancouver_311.t3": ("warn", 2),
            QUARANTINE_TEST: ("warn", 17),
            "seed.vancouver_311.s": "success",
        },
    )
    result = run_dap("metrics", "dbt", "--run-results", path, env=clean_env(**moto_env))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Failures = 2",
        "TestFailures = 1",
        "Warnings = 2",
        "DurationSeconds = 42.5 s",
        "RowsQuarantined = 17",
    ]
    cloudwatch = boto3.Session().client("cloudwatch")
    assert _value(cloudwatch, "Failures", "dbt", generated) == 2
    assert _value(cloudwatch, "TestFailures", "dbt", generated) == 1
    assert _value(cloudwatch, "RowsQuarantined", "dbt", generated) == 17
    assert _value(cloudwatch, "DurationSeconds", "dbt", generated) == 42.5


def test_a_run_without_the_quarantine_test_reports_no_quarantine_figure(tmp_path):
    path = _run_results(tmp_path, datetime.now(UTC), {"model.vancouver_311.a": "success"})
    names = [m.name for m in from_run_results(path).metrics]
    assert "RowsQuarantined" not in names
    assert names == ["Failures", "TestFailures", "Warnings", "DurationSeconds"]


def test_dry_run_publishes_nothing(tmp_path):
    path = _run_results(tmp_path, datetime.now(UTC), {"test.vancouver_311.t": ("fail", 1)})
    # No endpoint or credentials: a dry run must not need them.
    env = clean_env(AWS_ENDPOINT_URL="http://127.0.0.1:9", AWS_MAX_ATTEMPTS="1")
    result = run_dap("metrics", "dbt", "--run-results", path, "--dry-run", env=env)
    assert result.returncode == 0, result.stderr
    assert "TestFailures = 1" in result.stdout
    assert "dry run: not published" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["load", "--lake", "{tmp}/empty"], "no audit record under _audit/loads/"),
        (["dbt", "--run-results", "{tmp}/missing.json"], "cannot read dbt's run results"),
        (["dbt", "--run-results", "{tmp}/bad.json"], "not dbt's run_results.json"),
    ],
)
def test_missing_or_wrong_inputs_are_clear_errors(tmp_path, args, message):
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad.json").write_text('{"results": []}')
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = run_dap("metrics", *argv, "--dry-run", env=clean_env())
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_cloudwatch_is_a_clear_error(tmp_path):
    path = _run_results(tmp_path, datetime.now(UTC), {"model.vancouver_311.a": "success"})
    env = clean_env(
        AWS_ENDPOINT_URL="http://127.0.0.1:9",
        AWS_ACCESS_KEY_ID="x",
        AWS_SECRET_ACCESS_KEY="x",
        AWS_DEFAULT_REGION="ca-central-1",
        AWS_MAX_ATTEMPTS="1",
    )
    result = run_dap("metrics", "dbt", "--run-results", path, env=env)
    assert result.returncode == 1
    assert f"cannot publish metrics to CloudWatch namespace {NAMESPACE}" in result.stderr
    assert "Traceback" not in result.stderr
