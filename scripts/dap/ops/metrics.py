"""``dap metrics``: the pipeline's health as CloudWatch custom metrics.

Two stages publish, each with the dimension ``Stage``:

- ``load``: from a load's audit record (:mod:`dap.lake.audit`): ``RowsLanded``,
  ``FilesLanded``, ``DurationSeconds`` and ``Failures`` = 0; after a failed load (which
  leaves no record), ``Failures`` = 1.
- ``dbt``: from dbt's ``target/run_results.json``: ``Failures`` (nodes that errored or
  failed, tests included), ``TestFailures`` (tests that failed or errored),
  ``RowsQuarantined`` (rows in the quarantine, counted by the warn-only test
  :data:`QUARANTINE_TEST`), ``Warnings`` and ``DurationSeconds``.

The alarms in ``infra/platform.yaml`` watch ``Failures`` and ``RowsQuarantined`` in
:data:`NAMESPACE`; their names here and there must agree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from dap.errors import DapError

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import MetricDatumTypeDef

NAMESPACE = "Vancouver311/DataPlatform"
QUARANTINE_TEST = "test.vancouver_311.assert_quarantine_is_empty"
"""Returns one row per quarantined row; warns, never fails; its failure count is the metric."""

_FAILED = {"error", "fail", "runtime error"}


@dataclass(frozen=True)
class Metric:
    name: str
    value: float
    unit: Literal["Count", "Seconds"]

    def __str__(self) -> str:
        shown = f"{self.value:g}" if self.unit != "Seconds" else f"{self.value:.1f} s"
        return f"{self.name} = {shown}"


@dataclass(frozen=True)
class Measurement:
    stage: str  # "load" or "dbt"
    timestamp: datetime
    metrics: tuple[Metric, ...]
    source: str  # where the figures were read, for the message


def from_audit_record(record: Mapping[str, Any], source: str) -> Measurement:
    """A successful load, from its audit record."""
    try:
        files = record["files"]
        metrics = (
            Metric("RowsLanded", float(record["rows_landed"]), "Count"),
            Metric("FilesLanded", float(sum(f.get("status") == "landed" for f in files)), "Count"),
            Metric("DurationSeconds", float(record["duration_seconds"]), "Seconds"),
            Metric("Failures", 0.0, "Count"),
        )
        finished = _parse_time(record["finished_at"])
    except (KeyError, TypeError, ValueError) as exc:
        raise DapError(f"{source}: not a load audit record ({exc!r} missing or invalid)") from exc
    return Measurement("load", finished, metrics, source)


def failed_load(now: datetime) -> Measurement:
    """A load that stopped: it left no audit record, so only the failure is counted."""
    return Measurement("load", now, (Metric("Failures", 1.0, "Count"),), "a failed load")


def from_run_results(path: Path) -> Measurement:
    """A dbt invocation (run, test, build, ...), from its run_results.json."""
    try:
        results = json.loads(path.read_text())
    except OSError as exc:
        raise DapError(f"{path}: cannot read dbt's run results ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise DapError(f"{path}: not JSON ({exc})") from exc
    try:
        nodes: Sequence[Mapping[str, Any]] = results["results"]
        elapsed = float(results["elapsed_time"])
        generated = _parse_time(results["metadata"]["generated_at"])
    except (KeyError, TypeError, ValueError) as exc:
        raise DapError(f"{path}: not dbt's run_results.json ({exc!r} missing)") from exc
    tests = [n for n in nodes if str(n.get("unique_id", "")).startswith("test.")]
    metrics = [
        Metric("Failures", float(sum(n.get("status") in _FAILED for n in nodes)), "Count"),
        Metric("TestFailures", float(sum(n.get("status") in _FAILED for n in tests)), "Count"),
        Metric("Warnings", float(sum(n.get("status") == "warn" for n in nodes)), "Count"),
        Metric("DurationSeconds", elapsed, "Seconds"),
    ]
    quarantine = [n for n in tests if n.get("unique_id") == QUARANTINE_TEST]
    if quarantine and quarantine[0].get("failures") is not None:
        metrics.append(Metric("RowsQuarantined", float(quarantine[0]["failures"]), "Count"))
    return Measurement("dbt", generated, tuple(metrics), str(path))


def publish(
    cloudwatch: CloudWatchClient, measurement: Measurement, namespace: str = NAMESPACE
) -> None:
    """Send the measurement with PutMetricData (one call: at most 1000 values)."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    data: list[MetricDatumTypeDef] = [
        {
            "MetricName": metric.name,
            "Dimensions": [{"Name": "Stage", "Value": measurement.stage}],
            "Timestamp": measurement.timestamp,
            "Value": metric.value,
            "Unit": metric.unit,
        }
        for metric in measurement.metrics
    ]
    try:
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=data)
    except (ClientError, BotoCoreError) as exc:
        raise DapError(
            f"cannot publish metrics to CloudWatch namespace {namespace}: {exc}"
        ) from exc


def _parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
