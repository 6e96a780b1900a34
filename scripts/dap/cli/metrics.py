"""``dap metrics``: publish CloudWatch custom metrics for a load or a dbt run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dap.cli._common import Subparsers, add_lake_option, lake_uri, say
from dap.errors import DapError
from dap.settings import Settings


def register(sub: Subparsers[argparse.ArgumentParser], settings: Settings) -> None:
    from dap.ops.metrics import NAMESPACE  # noqa: PLC0415

    parser = sub.add_parser(
        "metrics",
        help="publish CloudWatch custom metrics for a load or a dbt run",
        description=(
            f"Publish the pipeline's health to CloudWatch (namespace {NAMESPACE}, dimension "
            "Stage), where infra/platform.yaml's alarms watch it. `load` reads the newest "
            "load audit record (RowsLanded, FilesLanded, DurationSeconds, Failures=0); "
            "`load --failed` publishes Failures=1 after a load that stopped, e.g. "
            "`dap load ... || dap metrics load --failed`; `dbt` reads run_results.json "
            "(Failures, TestFailures, Warnings, RowsQuarantined, DurationSeconds)."
        ),
    )
    parser.add_argument("stage", choices=["load", "dbt"], help="what to report on")
    add_lake_option(parser, extra="; load only")
    parser.add_argument(
        "--landing",
        metavar="S3_URI",
        help="the landing zone (audit records) if it has a bucket of its own "
        "(default: $DAP_LANDING_LAKE, else the lake); load only",
    )
    parser.add_argument(
        "--audit-key",
        metavar="KEY",
        help="the audit record to report, e.g. _audit/loads/2026/11/23/...json "
        "(default: the newest); load only",
    )
    parser.add_argument("--failed", action="store_true", help="report a load that failed")
    parser.add_argument(
        "--run-results",
        type=Path,
        default=settings.dbt_target_path / "run_results.json",
        help="dbt's run results (default: $DBT_TARGET_PATH/run_results.json, else "
        "target/run_results.json); dbt only",
    )
    parser.add_argument(
        "--namespace", default=NAMESPACE, help=f"CloudWatch namespace (default {NAMESPACE})"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the metrics without publishing them"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import UTC, datetime  # noqa: PLC0415

    import boto3  # noqa: PLC0415

    from dap.ops import metrics  # noqa: PLC0415

    session = boto3.Session()  # reads the audit trail (s3://) and publishes
    measurement: metrics.Measurement
    if args.stage == "dbt":
        measurement = metrics.from_run_results(args.run_results)
    elif args.failed:
        measurement = metrics.failed_load(datetime.now(UTC))
    else:
        from dap.lake.audit import latest_record, read_record  # noqa: PLC0415
        from dap.lake.storage import open_lake  # noqa: PLC0415

        uri = args.landing or settings.landing_lake or lake_uri(args, settings)
        lake = open_lake(uri, session if uri.startswith("s3://") else None)
        if args.audit_key:
            key, record = args.audit_key, read_record(lake, args.audit_key)
        else:
            latest = latest_record(lake)
            if latest is None:
                raise DapError(f"{lake.uri}: no audit record under _audit/loads/ (no load yet?)")
            key, record = latest
        measurement = metrics.from_audit_record(record, f"{lake.uri} {key}")
    for metric in measurement.metrics:
        sys.stdout.write(f"{metric}\n")
    if args.dry_run:
        say(f"dry run: not published ({measurement.source})")
        return 0
    metrics.publish(session.client("cloudwatch"), measurement, args.namespace)
    say(
        f"published {len(measurement.metrics)} metric(s) to CloudWatch {args.namespace} "
        f"(Stage={measurement.stage}) from {measurement.source}"
    )
    return 0
