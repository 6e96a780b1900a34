"""``dap pipeline``: fetch the export, load it, build when something is new, publish."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from dap.cli._common import Subparsers, add_lake_option, lake_uri, open_s3_zones, say
from dap.settings import Settings

if TYPE_CHECKING:
    import boto3

    from dap.ingest.exports import ExportFormat
    from dap.lake.audit import Identity
    from dap.lake.catalog import GlueCatalog
    from dap.lake.storage import Lake

DESCRIPTION = """\
The nightly run, one command: fetch the City's export (dap fetch), load it (dap load:
an export already landed is skipped), run `dbt build` only when the lake holds an
extract or a supersede/retract/restore event the last successful build did not read, or
when the dbt project's files (dbt_project.yml, models/, macros/, tests/*.sql, analyses/)
changed; then render the report (dap report) and publish it to a folder or s3:// (each
file with its content type and a Cache-Control header; the site bucket's own encryption
unless --publish-kms-key-id), and on an s3:// lake send the load's and the build's
CloudWatch metrics (dap metrics).

With nothing new and the page already published to --publish, it says "nothing new: ..."
and exits 0 without starting dbt. A re-issued export (same dates, some figures changed)
has a new sha256: it lands, and the build and the page follow.

dbt runs from the project's folder (DAP_DBT_PROJECT_DIR, default the current folder) on
the target dbt chooses (DBT_TARGET, else the profile's default), with the lake given as
DAP_LAKE. What the last build read is kept in LAKE/_audit/pipeline/last_build.json,
written only after a build that passed. The report is rendered in full before anything
is published, and the page goes last. Progress goes to stderr (dbt's output too); the
summary to stdout. Exit status 1 names the step that failed and what to do."""


def register(sub: Subparsers[argparse.ArgumentParser], settings: Settings) -> None:
    from dap.ingest.exports import EXPORT_FORMATS, EXPORTS_URL  # noqa: PLC0415

    parser = sub.add_parser(
        "pipeline",
        help="fetch the export, load it, dbt build if anything is new, publish the report",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--url",
        default=settings.export_url,
        help=f"the export to fetch (default: $DAP_EXPORT_URL, else {EXPORTS_URL}/FORMAT)",
    )
    add_lake_option(parser)
    parser.add_argument(
        "--publish",
        default=settings.publish,
        metavar="URI",
        help="where the page goes: a folder or s3://bucket/prefix (default: $DAP_PUBLISH, "
        "else build/site)",
    )
    parser.add_argument(
        "--format",
        dest="export_format",
        choices=EXPORT_FORMATS,
        help="the export's format (default: the URL's last segment when it names one, else xlsx)",
    )
    parser.add_argument(
        "--kms-key-id",
        metavar="KEY",
        help="SSE-KMS key for the lake's objects (default: $DAP_KMS_KEY_ID); s3:// only",
    )
    parser.add_argument(
        "--publish-kms-key-id",
        metavar="KEY",
        help="SSE-KMS key for the published files (default: $DAP_PUBLISH_KMS_KEY_ID, else "
        "the site bucket's default encryption: a site served through CloudFront is SSE-S3, "
        "never the lake's key); s3:// only",
    )
    parser.add_argument(
        "--allow-unprotected-bucket",
        action="store_true",
        help="write even to s3:// buckets without default encryption or versioning",
    )
    glue = parser.add_mutually_exclusive_group()
    glue.add_argument(
        "--glue-database",
        metavar="NAME",
        help="Glue database of the raw table (default: $DAP_RAW_DATABASE, else raw)",
    )
    glue.add_argument(
        "--no-glue", action="store_true", help="s3:// lakes: do not register raw partitions"
    )
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to wait for the portal (default 60)"
    )
    parser.add_argument(
        "--retries", type=int, default=4, help="download retries (default 4, as dap fetch)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from dap.ingest.exports import EXPORT_FORMATS, export_url  # noqa: PLC0415
    from dap.lake.audit import local_identity  # noqa: PLC0415
    from dap.lake.storage import open_lake  # noqa: PLC0415
    from dap.ops.pipeline import PipelineConfig, find_dbt, run_pipeline  # noqa: PLC0415
    from dap.settings import child_environment, use_arrow_memory_pool  # noqa: PLC0415

    use_arrow_memory_pool(settings)

    uri = lake_uri(args, settings)
    landing_uri = settings.landing_lake or uri
    raw_uri = settings.raw_lake or uri
    tail = (args.url or "").rstrip("/").rsplit("/", 1)[-1]
    named = [f for f in EXPORT_FORMATS if f == (args.export_format or tail)]
    export_format: ExportFormat = named[0] if named else "xlsx"
    url = args.url or export_url(export_format)
    lake: Lake
    catalog: GlueCatalog | None = None
    identify: Callable[[], Identity] = local_identity
    session: boto3.Session | None = None
    if any(u.startswith("s3://") for u in (landing_uri, raw_uri)):
        if not all(u.startswith("s3://") for u in (landing_uri, raw_uri)):
            say("dap pipeline: error: the landing and raw zones must both be s3:// or both local")
            return 2
        lake, catalog, identify = open_s3_zones(args, settings, landing_uri, raw_uri)
        uri = uri if uri.startswith("s3://") else landing_uri  # zones apart, no DAP_LAKE
        import boto3  # noqa: PLC0415

        session = boto3.Session()
    else:
        lake = open_lake(uri)
    if args.publish.startswith("s3://") and session is None:
        import boto3  # noqa: PLC0415

        session = boto3.Session()
    config = PipelineConfig(
        url=url,
        export_format=export_format,
        lake_uri=uri,
        publish_uri=args.publish,
        project_dir=settings.dbt_project_dir,
        dbt_command=find_dbt(settings.dbt_executable),
        dbt_target=settings.dbt_target,
        dbt_target_path=settings.dbt_target_path,
        dbt_env=child_environment({"DAP_LAKE": uri}),
        pii=settings.pii,
        publish_kms_key_id=args.publish_kms_key_id or settings.publish_kms_key_id,
        allow_unprotected=args.allow_unprotected_bucket,
        athena_output_location=settings.athena_s3_staging_dir,
        athena_work_group=settings.athena_work_group,
        timeout=args.timeout,
        retries=args.retries,
    )
    result = run_pipeline(
        config, lake, progress=say, catalog=catalog, identify=identify, session=session
    )
    sys.stdout.write(result.summary() + "\n")
    return 0
