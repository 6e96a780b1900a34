"""The ``dap`` command: one entry point for getting data into the lake.

Exit status: 0 on success, 1 when the input or the lake is at fault (the message says
which file, sheet, row and column), 2 for a mistake on the command line.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from dap import __version__
from dap.errors import DapError
from dap.lake.storage import resolve_lake_uri

LAKE_HELP = (
    "the lake: a local folder or s3://bucket/prefix (default: $DAP_LAKE if set, else ./lake)"
)


def _say(message: str) -> None:
    """Progress goes to stderr so stdout stays clean for the summary."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def _cmd_sample(args: argparse.Namespace) -> int:
    from dap.samples.synthetic import write_sample  # noqa: PLC0415 - keep `dap --help` fast

    files = write_sample(args.out, seed=args.seed, start=args.start, end=args.end)
    for f in files:
        sys.stdout.write(f"{f.path}  {f.first_date} to {f.last_date}  {f.rows:,} rows\n")
    sys.stdout.write(f"wrote {len(files)} sample workbook(s) to {args.out}\n")
    return 0


def _cmd_fetch(args: argparse.Namespace) -> int:
    from dap.ingest.fetch import fetch_export  # noqa: PLC0415

    path = fetch_export(
        args.out, args.url, timeout=args.timeout, retries=args.retries, progress=_say
    )
    sys.stdout.write(f"{path}\n")
    return 0


def _cmd_load(args: argparse.Namespace) -> int:
    from dap.lake.audit import Identity, aws_identity, local_identity  # noqa: PLC0415
    from dap.lake.load import load_workbooks  # noqa: PLC0415
    from dap.lake.storage import Lake, S3Lake, ZonedLake, open_lake, resolve_lake_uri  # noqa: PLC0415

    uri = resolve_lake_uri(args.lake)
    landing_uri = args.landing or os.environ.get("DAP_LANDING_LAKE") or uri
    raw_uri = args.raw or os.environ.get("DAP_RAW_LAKE") or uri
    catalog = None
    lake: Lake
    identify: Callable[[], Identity]
    if any(u.startswith("s3://") for u in (landing_uri, raw_uri)):
        import boto3  # noqa: PLC0415 - only S3 lakes need boto3's import time

        from dap.lake.catalog import GlueCatalog  # noqa: PLC0415

        if not all(u.startswith("s3://") for u in (landing_uri, raw_uri)):
            _say("dap load: error: the landing and raw zones must both be s3:// or both local")
            return 2
        session = boto3.Session()  # the one session every AWS client of this load uses
        kms_key_id = args.kms_key_id or os.environ.get("DAP_KMS_KEY_ID") or None
        allow = args.allow_unprotected_bucket
        if allow:
            _say("warning: --allow-unprotected-bucket: not checking encryption and versioning")
        landing = open_lake(landing_uri, session, kms_key_id=kms_key_id, allow_unprotected=allow)
        raw = (
            landing
            if raw_uri == landing_uri
            else open_lake(raw_uri, session, kms_key_id=kms_key_id, allow_unprotected=allow)
        )
        assert isinstance(raw, S3Lake)
        lake = landing if raw is landing else ZonedLake(landing, raw)
        if kms_key_id:
            _say(f"encrypting every object with SSE-KMS key {kms_key_id}")
        if not args.no_glue:
            database = args.glue_database or os.environ.get("DAP_RAW_DATABASE") or "raw"
            catalog = GlueCatalog(session, database=database, lake_root=raw.root)

        def identify() -> Identity:
            return aws_identity(session)
    else:
        if landing_uri != uri or raw_uri != uri:
            _say("dap load: error: --landing and --raw are for s3:// zones; use --lake DIR")
            return 2
        lake = open_lake(uri)  # a local folder: no catalog, no encryption options
        identify = local_identity

    def identify_and_say() -> Identity:
        who = identify()
        _say(f"loading as {who.name}")
        return who

    _say(f"loading {len(args.workbooks)} workbook(s) into {lake.uri}")
    summary = load_workbooks(
        args.workbooks,
        lake,
        progress=_say,
        catalog=catalog,
        pii=args.pii,
        identify=identify_and_say,
    )
    sys.stdout.write(f"loaded: {summary.describe()}\n")
    return 0


def _cmd_metrics(args: argparse.Namespace) -> int:
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
        from dap.lake.storage import open_lake, resolve_lake_uri  # noqa: PLC0415

        uri = args.landing or os.environ.get("DAP_LANDING_LAKE") or resolve_lake_uri(args.lake)
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
        _say(f"dry run: not published ({measurement.source})")
        return 0
    metrics.publish(session.client("cloudwatch"), measurement, args.namespace)
    _say(
        f"published {len(measurement.metrics)} metric(s) to CloudWatch {args.namespace} "
        f"(Stage={measurement.stage}) from {measurement.source}"
    )
    return 0


def _cmd_summary(args: argparse.Namespace) -> int:
    from dap.lake.storage import resolve_lake_uri  # noqa: PLC0415
    from dap.publish.summary import format_summary, read_summary  # noqa: PLC0415

    sys.stdout.write(format_summary(read_summary(resolve_lake_uri(args.lake))) + "\n")
    return 0


def _cmd_athena_local(args: argparse.Namespace) -> int:
    from athena_local.serve import serve  # noqa: PLC0415 - moto and sqlglot load slowly

    return serve(
        host=args.host,
        port=args.port,
        region=args.region,
        buckets=args.bucket,
        query_log=args.query_log,
        log_requests=args.log_requests,
        command=args.command[1:] if args.command[:1] == ["--"] else args.command,
        say=_say,
    )


def _cmd_report(args: argparse.Namespace) -> int:
    from dap.publish.report import write_report  # noqa: PLC0415

    lake = resolve_lake_uri(args.lake)
    if "://" in lake:
        _say(f"{lake}: the report reads the local warehouse; give --lake a local folder")
        return 2
    for written in write_report(
        Path(lake), args.out, allow_unprotected=args.allow_unprotected_bucket
    ):
        sys.stdout.write(f"wrote {written}\n")
    return 0


def _cmd_docs_coverage(args: argparse.Namespace) -> int:
    from dap.ops.docs_coverage import measure  # noqa: PLC0415

    coverage = measure(args.target)
    sys.stdout.write(coverage.report() + "\n")
    if not coverage.complete:
        _say(f"documentation coverage is below 100%: {len(coverage.missing)} item(s) missing")
        return 1
    return 0


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date as YYYY-MM-DD") from exc


def _add_metrics_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from dap.ops.metrics import NAMESPACE  # noqa: PLC0415

    metrics = sub.add_parser(
        "metrics",
        help="publish CloudWatch custom metrics for a load or a dbt run",
        description=(
            f"Publish the pipeline's health to CloudWatch (namespace {NAMESPACE}, dimension "
            "Stage), where infra/platform.yaml's alarms watch it. `dap metrics load` reads "
            "the newest load audit record in the lake (or --audit-key) and publishes "
            "RowsLanded, FilesLanded, DurationSeconds and Failures=0; `dap metrics load "
            "--failed` publishes Failures=1 after a load that stopped (it leaves no record), "
            "e.g. `dap load ... || dap metrics load --failed`. `dap metrics dbt` reads "
            "dbt's run_results.json and publishes Failures, TestFailures, Warnings, "
            "RowsQuarantined and DurationSeconds. AWS credentials and region come from the "
            "usual places (environment, profile, role)."
        ),
    )
    metrics.add_argument("stage", choices=["load", "dbt"], help="what to report on")
    metrics.add_argument("--lake", help=LAKE_HELP + "; load only")
    metrics.add_argument(
        "--landing",
        metavar="S3_URI",
        help="the landing zone, where the audit records are, if it has a bucket of its own "
        "(default: $DAP_LANDING_LAKE if set, else the lake); load only",
    )
    metrics.add_argument(
        "--audit-key",
        metavar="KEY",
        help="the audit record to report, e.g. _audit/loads/2026/11/23/...json "
        "(default: the newest); load only",
    )
    metrics.add_argument(
        "--failed", action="store_true", help="report a load that failed; load only"
    )
    metrics.add_argument(
        "--run-results",
        type=Path,
        default=Path(os.environ.get("DBT_TARGET_PATH", "target")) / "run_results.json",
        help="dbt's run results (default: $DBT_TARGET_PATH/run_results.json, else "
        "target/run_results.json); dbt only",
    )
    metrics.add_argument(
        "--namespace", default=NAMESPACE, help=f"CloudWatch namespace (default {NAMESPACE})"
    )
    metrics.add_argument(
        "--dry-run", action="store_true", help="print the metrics without publishing them"
    )
    metrics.set_defaults(func=_cmd_metrics)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dap",
        description=(
            "Vancouver 3-1-1 contact centre data platform: get the City's Excel extracts "
            "into the lake, where dbt picks them up."
        ),
        epilog=(
            "Typical use: dap fetch --out downloads && dap load downloads/*.xlsx && dbt build. "
            "See README.md."
        ),
    )
    parser.add_argument("--version", action="version", version=f"dap {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sample = sub.add_parser(
        "sample",
        help="write deterministic synthetic workbooks shaped like the City's export",
        description=(
            "Write one .xlsx workbook per year plus a legacy .xls for the earliest year, with "
            "realistic weekday/weekend volumes and the quirks of the real export (missing "
            "days, over-accounted days, text dates, lowercase headers, extra sheets) and one "
            "planted data-entry error for the quarantine. The same seed gives the same bytes."
        ),
    )
    sample.add_argument("--out", type=Path, required=True, help="folder to write into")
    sample.add_argument("--seed", type=int, default=311, help="random seed (default 311)")
    sample.add_argument(
        "--start",
        type=_iso_date,
        default=date(2020, 1, 1),
        help="first day, YYYY-MM-DD (default 2020-01-01)",
    )
    sample.add_argument(
        "--end",
        type=_iso_date,
        default=date(2024, 9, 30),
        help="last day, YYYY-MM-DD (default 2024-09-30)",
    )
    sample.set_defaults(func=_cmd_sample)

    from dap.ingest.fetch import DEFAULT_URL  # noqa: PLC0415

    fetch = sub.add_parser(
        "fetch",
        help="download the dataset export (.xlsx) from the City's open data portal",
        description=(
            "Download the 3-1-1 contact centre metrics export as .xlsx, with a timeout, "
            "retries with exponential backoff, and a check that the bytes are a workbook. "
            "Writes OUT/3-1-1-contact-centre-metrics.xlsx atomically and prints its path."
        ),
    )
    fetch.add_argument("--out", type=Path, required=True, help="folder to write into")
    fetch.add_argument("--url", default=DEFAULT_URL, help=f"export URL (default {DEFAULT_URL})")
    fetch.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to wait for the server (default 60)"
    )
    fetch.add_argument(
        "--retries",
        type=int,
        default=4,
        help="attempts after the first on network errors, 429 and 5xx (default 4)",
    )
    fetch.set_defaults(func=_cmd_fetch)

    load = sub.add_parser(
        "load",
        help="check workbooks and land them in the lake's landing and raw zones",
        description=(
            "Check every WORKBOOK (.xlsx or legacy .xls; .xlsm, .xlsb and .ods too) and land "
            "it: original bytes to "
            "landing/ (content-addressed by sha256), typed Parquet partitioned by year to "
            "raw/, a manifest to _manifests/. Every sheet with the metric columns is read; "
            "headers match ignoring case, spaces and underscores. A workbook already landed "
            "is skipped. A whole-file problem in any workbook (not a workbook, no sheet "
            "with the required columns, a required column missing, no data rows, a date "
            "column that cannot be read) stops the load before anything is written. "
            "Values that cannot be read land as null with the reason in load_issues; dbt "
            "routes such rows to the quarantine. Workbooks are ingested in the order given; "
            "where they overlap, the most recently ingested wins, so give the newest last. "
            "Into an s3:// lake, each workbook's years are also registered as partitions "
            "of the Glue table contact_centre_metrics in the --glue-database (the table is "
            "created or brought in line with the raw schema on every load) before its "
            "manifest is written, so Athena and dbt's source read the raw zone. "
            "Every text cell is scanned for personal data first (see --pii). A bucket "
            "without default encryption or versioning is refused. Each load ends by "
            "writing an audit record to _audit/loads/ (who, when, files with sha256, rows "
            "per partition, objects written)."
        ),
    )
    load.add_argument("workbooks", nargs="+", type=Path, metavar="WORKBOOK")
    load.add_argument("--lake", help=LAKE_HELP)
    load.add_argument(
        "--landing",
        metavar="S3_URI",
        help=(
            "where the landing zone lives when it has a bucket of its own (original files "
            "and the audit trail), as s3://bucket/prefix (default: $DAP_LANDING_LAKE if set, "
            "else the lake)"
        ),
    )
    load.add_argument(
        "--raw",
        metavar="S3_URI",
        help=(
            "where the raw zone lives when it has a bucket of its own (Parquet and "
            "manifests), as s3://bucket/prefix (default: $DAP_RAW_LAKE if set, else the lake)"
        ),
    )
    load.add_argument(
        "--pii",
        choices=["stop", "mask"],
        default=os.environ.get("DAP_PII", "stop"),
        help=(
            "what to do when a text cell of any sheet holds personal data (email address, "
            "phone number, postal code, payment card number, SIN, ...): 'stop' refuses the "
            "workbook, naming file, sheet, row, column and kind, never the value; 'mask' "
            "lands it with the personal data replaced by a marker in everything derived "
            "from it and lists the cells masked in the manifest and audit record "
            "(default: $DAP_PII if set, else stop)"
        ),
    )
    load.add_argument(
        "--allow-unprotected-bucket",
        action="store_true",
        help=(
            "write to s3:// buckets even without default encryption or versioning (by "
            "default such a bucket is refused before anything is written)"
        ),
    )
    glue = load.add_mutually_exclusive_group()
    glue.add_argument(
        "--glue-database",
        metavar="NAME",
        help=(
            "Glue database the raw zone is registered in, as table NAME.contact_centre_metrics "
            "over s3://.../raw/contact_centre_metrics/, partitioned by year; created if "
            "absent. Lowercase letters, digits and underscores. s3:// lakes only "
            "(default: $DAP_RAW_DATABASE if set, else raw)"
        ),
    )
    glue.add_argument(
        "--no-glue",
        action="store_true",
        help=(
            "land the files without touching the Glue catalog (when the catalog is managed "
            "elsewhere); a local lake never uses Glue"
        ),
    )
    load.add_argument(
        "--kms-key-id",
        metavar="KEY",
        help=(
            "encrypt every object written (landing, raw, manifest) with SSE-KMS under this "
            "KMS key: key id, key ARN or alias/NAME; s3:// lakes only (default: "
            "$DAP_KMS_KEY_ID if set, else no encryption header: the bucket's default "
            "encryption applies)"
        ),
    )
    load.set_defaults(func=_cmd_load)

    _add_metrics_parser(sub)

    summary = sub.add_parser(
        "summary",
        help="print the yearly calls-handled table from the local warehouse",
        description=(
            "Print calls offered, calls handled, the calls-handled percentage, service "
            "level and speed of answer by year from the trusted marts that `dbt build` "
            "wrote to LAKE/warehouse.duckdb, with the count of quarantined rows."
        ),
    )
    summary.add_argument("--lake", help=LAKE_HELP)
    summary.set_defaults(func=_cmd_summary)

    report = sub.add_parser(
        "report",
        help="render the public report (static HTML page and PNG chart) from the trusted marts",
        description=(
            "Read the trusted marts and the quarantine from the local warehouse "
            "(<lake>/warehouse.duckdb, built by `dbt build`) and write index.html, a "
            "self-contained page (inline CSS and SVG charts drawn from the figures; it "
            "fetches nothing, so it works offline), and calls-handled.png: calls-handled "
            "percentage by year with the year-over-year change, the monthly trend, service "
            "level and average speed of answer, the days held back by the quarantine and "
            "the days missing, the data's date range and when the marts were built; and "
            "calls-handled-daily.csv, the daily figures to download (text cells that a "
            "spreadsheet would run as a formula are neutralised). With an "
            "s3://bucket/prefix destination both files are uploaded for publishing."
        ),
    )
    report.add_argument("--lake", help=LAKE_HELP)
    report.add_argument(
        "--out",
        default="build/report",
        help="folder or s3://bucket/prefix to write to (default build/report)",
    )
    report.add_argument(
        "--allow-unprotected-bucket",
        action="store_true",
        help="upload even to a bucket without default encryption or versioning",
    )
    report.set_defaults(func=_cmd_report)

    docs = sub.add_parser(
        "docs-coverage",
        help="check that every model, column, source, seed, macro and exposure is documented",
        description=(
            "Read dbt's manifest.json and catalog.json (written by `dbt docs generate`) and "
            "report documentation coverage per kind: models, their grains, columns (every "
            "column the warehouse has), sources, seeds, macros and exposures with owners. "
            "Exit status 1, naming each gap, when anything is below 100%."
        ),
    )
    docs.add_argument(
        "--target",
        type=Path,
        default=Path(os.environ.get("DBT_TARGET_PATH", "target")),
        help="dbt's target folder (default: $DBT_TARGET_PATH, else ./target)",
    )
    docs.set_defaults(func=_cmd_docs_coverage)

    athena = sub.add_parser(
        "athena-local",
        help="run a local Athena-compatible endpoint (S3, Glue and Athena) for development",
        description=(
            "Serve moto's AWS APIs (S3, Glue, KMS, STS, ...) on HOST:PORT with Athena "
            "queries actually executed: each query dbt-athena or anyone else sends is "
            "parsed as Athena SQL and rejected as Athena would reject it (syntax errors, "
            "functions Trino does not have, DuckDB-only syntax, unknown columns), then "
            "translated to DuckDB keeping Athena's meaning (integer division truncates) "
            "and run over the objects in the endpoint's S3. CTAS writes Parquet and "
            "registers the table in Glue; views, external tables, drops and ALTER TABLE "
            "change Glue as Athena's DDL does. Point clients at it with "
            "AWS_ENDPOINT_URL=http://HOST:PORT and any access key. Everything is kept in "
            "memory and lost when the endpoint stops. Every query is logged: "
            "GET /_athena_local/queries returns the log as JSON. Stop with Ctrl-C, or give "
            "a command after -- to run against the endpoint."
        ),
    )
    athena.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    athena.add_argument(
        "--port",
        type=int,
        default=4566,
        help="port to listen on; 0 picks a free one (default 4566)",
    )
    athena.add_argument(
        "--region",
        default=os.environ.get("AWS_REGION", "ca-central-1"),
        help="region the --bucket buckets are created in (default: $AWS_REGION, else ca-central-1)",
    )
    athena.add_argument(
        "--bucket",
        action="append",
        default=[],
        metavar="NAME",
        help="create this bucket at start (repeatable), e.g. the lake and the query-results bucket",
    )
    athena.add_argument(
        "--query-log",
        type=Path,
        metavar="PATH",
        help="also append every query (SQL, translation, state, error) to PATH as JSON lines",
    )
    athena.add_argument(
        "--log-requests", action="store_true", help="print a line per HTTP request to stderr"
    )
    athena.add_argument(
        "command",
        nargs=argparse.REMAINDER,
        metavar="-- COMMAND",
        help=(
            "instead of serving until Ctrl-C, run COMMAND with AWS_ENDPOINT_URL, AWS_REGION "
            "and throwaway credentials set, stop the endpoint when it ends and exit with its "
            "status, e.g. dap athena-local --port 0 --bucket lake -- dbt build --target athena"
        ),
    )
    athena.set_defaults(func=_cmd_athena_local)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.func(args)
    except DapError as exc:
        sys.stderr.write(f"dap {args.command}: error: {exc}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write(f"dap {args.command}: interrupted\n")
        return 130
    return status


if __name__ == "__main__":
    raise SystemExit(main())
