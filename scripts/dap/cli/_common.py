"""What every command shares: progress on stderr, the --lake option, date arguments."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from dap.errors import printable

if TYPE_CHECKING:
    from dap.lake.audit import Identity
    from dap.lake.catalog import GlueCatalog
    from dap.lake.storage import Lake
    from dap.settings import Settings

Subparsers = argparse._SubParsersAction


def say(message: str) -> None:
    """Progress goes to stderr so stdout stays clean for results: one line per message,
    whatever a file or sheet name in it holds (:func:`~dap.errors.printable`)."""
    sys.stderr.write(printable(message) + "\n")
    sys.stderr.flush()


def add_lake_option(parser: argparse.ArgumentParser, *, extra: str = "") -> None:
    parser.add_argument(
        "--lake",
        help="the lake: a local folder or s3://bucket/prefix (default: $DAP_LAKE, else ./lake)"
        + extra,
    )


def lake_uri(args: argparse.Namespace, settings: Settings) -> str:
    option: str | None = args.lake
    return option or settings.lake


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date as YYYY-MM-DD") from exc


def open_s3_zones(
    args: argparse.Namespace, settings: Settings, landing_uri: str, raw_uri: str
) -> tuple[Lake, GlueCatalog | None, Callable[[], Identity]]:
    """The s3:// zones (one bucket or two), the Glue catalog and the caller's identity, all
    from one boto3 session, for the commands that write (``load``, ``retract``,
    ``restore``): they share the options --kms-key-id, --allow-unprotected-bucket,
    --glue-database and --no-glue."""
    import boto3  # noqa: PLC0415 - only S3 lakes pay boto3's import time

    from dap.lake.audit import aws_identity  # noqa: PLC0415
    from dap.lake.catalog import GlueCatalog  # noqa: PLC0415
    from dap.lake.storage import S3Lake, ZonedLake, open_lake  # noqa: PLC0415

    session = boto3.Session()  # the one session every AWS client of this command uses
    kms_key_id = args.kms_key_id or settings.kms_key_id
    allow = args.allow_unprotected_bucket
    if allow:
        say("warning: --allow-unprotected-bucket: not checking encryption and versioning")
    landing = open_lake(landing_uri, session, kms_key_id=kms_key_id, allow_unprotected=allow)
    raw = (
        landing
        if raw_uri == landing_uri
        else open_lake(raw_uri, session, kms_key_id=kms_key_id, allow_unprotected=allow)
    )
    assert isinstance(raw, S3Lake)
    lake: Lake = landing if raw is landing else ZonedLake(landing, raw)
    catalog = None
    if not args.no_glue:
        database = args.glue_database or settings.raw_database
        catalog = GlueCatalog(session, database=database, lake_root=raw.root)

    def identify() -> Identity:
        return aws_identity(session)

    return lake, catalog, identify
