"""``dap verify``: check the lake's landing copies, raw files and manifests (only reads)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from dap.cli._common import Subparsers, add_lake_option, lake_uri, say
from dap.errors import LakeError
from dap.settings import Settings

if TYPE_CHECKING:
    from dap.lake.catalog import GlueCatalog
    from dap.lake.storage import Lake

DESCRIPTION = """\
Check that the lake holds exactly what its loads wrote, and name what does not.

For every landed workbook (every manifest in _manifests/): the manifest parses; the
landing copy is there and its sha256 is the workbook's; every raw Parquet file the load
wrote is there with the sha256 and size the manifest records, and has its entry in the
raw-object register (_audit/raw_objects/) that `dbt build` checks the raw zone against.
On S3 the sha256 is S3's own checksum (ChecksumSHA256, recorded at upload), so nothing is
downloaded. Then: raw files and landing copies that no manifest lists (a load that stopped
before its manifest: named with their workbook, not damage; the next `dap load` of that
workbook completes it) and files no load wrote; with --glue-database, the partitions
registered in Glue against the partition folders of the raw zone.

Each problem is printed with the object, what is wrong and what to do (`dap repair ...`).
Workbooks landed before the loader recorded checksums are listed as such (`dap repair SHA`
records them). It only reads.

Exit status: 0 when the lake is whole (unfinished loads and unrecorded checksums
included), 1 when anything is missing or altered."""


def register(sub: Subparsers[argparse.ArgumentParser], settings: Settings) -> None:
    parser = sub.add_parser(
        "verify",
        help="check landing copies, raw files and manifests against their recorded sha256",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_zone_options(parser)
    parser.add_argument(
        "--glue-database",
        metavar="NAME",
        help="also check the partitions of the Glue table NAME.contact_centre_metrics "
        "against the raw zone's partition folders (s3:// lakes)",
    )
    parser.set_defaults(func=run)


def add_zone_options(parser: argparse.ArgumentParser) -> None:
    add_lake_option(parser)
    parser.add_argument(
        "--landing",
        metavar="S3_URI",
        help="the landing zone's own bucket, s3://bucket/prefix "
        "(default: $DAP_LANDING_LAKE, else the lake)",
    )
    parser.add_argument(
        "--raw",
        metavar="S3_URI",
        help="the raw zone's own bucket, s3://bucket/prefix "
        "(default: $DAP_RAW_LAKE, else the lake)",
    )


def open_zones(
    args: argparse.Namespace,
    settings: Settings,
    command: str,
    *,
    glue_database: str | None,
    writing: bool = False,
) -> tuple[Lake, GlueCatalog | None] | None:
    """The lake (both zones) and, with ``glue_database`` on S3, the Glue catalog; None
    (after saying why) when the options do not fit together. Nothing is checked or
    written here: a lake that does not exist is an empty lake."""
    from dap.lake.storage import ZonedLake, open_lake  # noqa: PLC0415

    uri = lake_uri(args, settings)
    landing_uri = args.landing or settings.landing_lake or uri
    raw_uri = args.raw or settings.raw_lake or uri
    zones = (landing_uri, raw_uri)
    if not any(u.startswith("s3://") for u in zones):
        if landing_uri != uri or raw_uri != uri:
            say(f"dap {command}: error: --landing and --raw are for s3:// zones; use --lake DIR")
            return None
        if glue_database:
            say(f"dap {command}: error: --glue-database is for s3:// lakes")
            return None
        local = open_lake(uri)
        if not Path(uri).is_dir():
            raise LakeError(f"{uri}: no lake here (not a folder); give the lake with --lake")
        return local, None
    if not all(u.startswith("s3://") for u in zones):
        say(f"dap {command}: error: the landing and raw zones must both be s3:// or both local")
        return None
    import boto3  # noqa: PLC0415

    from dap.lake.catalog import GlueCatalog  # noqa: PLC0415
    from dap.lake.storage import S3Lake  # noqa: PLC0415

    session = boto3.Session()
    # Reading needs no protection check; writing (repair) is held to the load's policy.
    kms, unprotected = (settings.kms_key_id if writing else None), not writing
    landing = open_lake(landing_uri, session, kms_key_id=kms, allow_unprotected=unprotected)
    raw = (
        landing
        if raw_uri == landing_uri
        else open_lake(raw_uri, session, kms_key_id=kms, allow_unprotected=unprotected)
    )
    assert isinstance(raw, S3Lake)
    lake: Lake = landing if raw is landing else ZonedLake(landing, raw)
    catalog = (
        GlueCatalog(session, database=glue_database, lake_root=raw.root) if glue_database else None
    )
    return lake, catalog


def run(args: argparse.Namespace, settings: Settings) -> int:
    from dap.lake.integrity import verify_lake  # noqa: PLC0415

    opened = open_zones(args, settings, "verify", glue_database=args.glue_database)
    if opened is None:
        return 2
    lake, catalog = opened
    report = verify_lake(lake, catalog=catalog, progress=say)
    sys.stdout.write(report.describe())
    return 0 if report.whole else 1
