"""``dap report``: render the public report from the trusted marts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dap.cli._common import Subparsers, add_lake_option, lake_uri, say
from dap.settings import Settings


def register(sub: Subparsers[argparse.ArgumentParser], settings: Settings) -> None:
    parser = sub.add_parser(
        "report",
        help="render the public report (HTML page, PNG chart, daily CSV) from the trusted marts",
        description=(
            "Read the trusted marts and the quarantine from the local warehouse "
            "(LAKE/warehouse.duckdb) and write index.html (self-contained, works offline), "
            "calls-handled.png and calls-handled-daily.csv to a folder or s3://bucket/prefix "
            "(a bucket without default encryption or versioning is refused)."
        ),
    )
    add_lake_option(parser)
    parser.add_argument(
        "--out",
        default="build/report",
        help="folder or s3://bucket/prefix to write to (default build/report)",
    )
    parser.add_argument(
        "--allow-unprotected-bucket",
        action="store_true",
        help="upload even to a bucket without default encryption or versioning",
    )
    parser.add_argument(
        "--kms-key-id",
        metavar="KEY",
        help="SSE-KMS key for the files uploaded (key id, ARN or alias/NAME); s3:// only "
        "(default: $DAP_KMS_KEY_ID, else the bucket's default encryption). Readers of a "
        "public page need kms:Decrypt on it",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from dap.lake.storage import open_lake  # noqa: PLC0415
    from dap.publish.report import write_report  # noqa: PLC0415

    lake = lake_uri(args, settings)
    if "://" in lake:
        say(f"{lake}: the report reads the local warehouse; give --lake a local folder")
        return 2
    kms_key_id = args.kms_key_id or settings.kms_key_id
    out = open_lake(
        args.out, kms_key_id=kms_key_id, allow_unprotected=args.allow_unprotected_bucket
    )
    if args.out.startswith("s3://"):
        if args.allow_unprotected_bucket:
            say("warning: --allow-unprotected-bucket: not checking encryption and versioning")
        if kms_key_id:
            say(f"encrypting every file with SSE-KMS key {kms_key_id}")
    for written in write_report(Path(lake), out):
        sys.stdout.write(f"wrote {written}\n")
    return 0
