"""``dap cost``: a monthly and yearly AWS estimate from the lake and the last dbt build."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dap.cli._common import Subparsers, add_lake_option, lake_uri, say
from dap.settings import Settings


def register(sub: Subparsers[argparse.ArgumentParser], settings: Settings) -> None:
    parser = sub.add_parser(
        "cost",
        help="estimate the monthly and yearly AWS cost from the lake and the last build",
        description=(
            "Print a monthly and yearly estimate per AWS service: S3 storage by zone (measured "
            "in the lake, with the versions S3 keeps), S3 requests, Athena (the bytes each "
            "query of the last dbt build scanned, from run_results.json), Glue Data Catalog, "
            "KMS, CloudTrail data events, CloudWatch and CloudFront, from a dated price file, "
            "followed by every assumption made. Measure an s3:// lake after a build on the "
            "athena target (or on the local endpoint: make run-athena)."
        ),
    )
    add_lake_option(parser)
    parser.add_argument(
        "--results",
        metavar="S3_URI",
        default=settings.athena_s3_staging_dir,
        help="Athena's query results, measured as the results zone "
        "(default: $DAP_ATHENA_S3_STAGING_DIR; none: not counted)",
    )
    parser.add_argument(
        "--run-results",
        type=Path,
        default=settings.dbt_target_path / "run_results.json",
        help="run_results.json of a dbt build on the athena target (default: "
        "$DBT_TARGET_PATH/run_results.json, else target/run_results.json)",
    )
    parser.add_argument(
        "--runs-per-month",
        type=_positive,
        default=30.0,
        metavar="N",
        help="dbt builds a month (default 30: nightly)",
    )
    parser.add_argument(
        "--loads-per-month",
        type=_positive,
        default=1.0,
        metavar="N",
        help="new exports loaded a month (default 1)",
    )
    parser.add_argument(
        "--page-views-per-month",
        type=_positive,
        default=2000.0,
        metavar="N",
        help="views of the public page a month, for CloudFront (default 2000)",
    )
    parser.add_argument(
        "--prices",
        type=Path,
        metavar="FILE",
        help="a price file (default: the newest in dap/ops/prices/)",
    )
    parser.set_defaults(func=run)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from exc
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative")
    return value


def run(args: argparse.Namespace, settings: Settings) -> int:
    from dap.ops import cost  # noqa: PLC0415

    prices = cost.load_prices(args.prices)
    scan = cost.read_run_results(args.run_results)
    zones = {zone: cost.ZoneUsage(zone) for zone in cost.ZONES}
    notes: list[str] = []
    glue_count: int | None = None
    lake = lake_uri(args, settings)
    s3_uris = [u for u in (lake, settings.landing_lake, settings.raw_lake, args.results) if u]
    session = None
    if any(u.startswith("s3://") for u in s3_uris):
        import boto3  # noqa: PLC0415 - only S3 lakes pay boto3's import time

        session = boto3.Session()
    if lake.startswith("s3://"):
        assert session is not None
        say(f"measuring {lake}")
        cost.measure_s3(session, lake, zones)
        for uri, zone in ((settings.landing_lake, "landing"), (settings.raw_lake, "raw")):
            if uri and uri != lake:
                for name in [k for k, z in cost.ZONE_OF_TOP_FOLDER.items() if z == zone]:
                    cost.measure_s3(session, f"{uri.rstrip('/')}/{name}", zones, zone=zone)
        glue_count = cost.glue_objects(session)
    else:
        say(f"measuring {lake}")
        notes += cost.measure_local(Path(lake), zones)
    if args.results:
        if not args.results.startswith("s3://"):
            say(f"warning: --results {args.results} is not s3://: results zone not measured")
        else:
            assert session is not None
            cost.measure_s3(session, args.results, zones, zone="results")
    else:
        notes.append("results zone: not measured (no --results or $DAP_ATHENA_S3_STAGING_DIR)")
    notes.append(
        "zones: landing, raw, curated and trusted under the lake's top-level folders of those "
        "names ($DAP_LANDING_LAKE and $DAP_RAW_LAKE where set); a zone in a bucket of its own "
        "for curated or trusted is measured only if it is the lake's"
    )
    workload = cost.Workload(
        runs_per_month=args.runs_per_month,
        loads_per_month=args.loads_per_month,
        page_views_per_month=args.page_views_per_month,
    )
    result = cost.estimate(zones, scan, prices, workload, glue_object_count=glue_count, notes=notes)
    sys.stdout.write(cost.format_estimate(result) + "\n")
    return 0
