"""``dap repair``: rebuild an extract's raw files from its landing copy, or put a landing
copy back from the original file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dap.cli._common import Subparsers, say
from dap.cli.verify import add_zone_options, open_zones
from dap.settings import Settings

DESCRIPTION = """\
Put right what `dap verify` found missing or altered. Nothing is deleted, and every repair
that writes anything writes an audit record under _audit/repairs/ (who, when, what was
wrong, every object written).

  dap repair SHA_OR_FILE
      rebuild the extract's raw Parquet files from its landing copy, with the same parser
      and the same ingested_at as its load, so they come back byte for byte as the load
      wrote them (a rebuild that does not reproduce the sha256 the manifest records is
      refused and nothing is written: repair with the loader version that landed it).
      Only the files missing or altered are written, and any missing entry of the
      raw-object register. For an extract landed before the loader recorded checksums, the
      raw files are rebuilt and their checksums recorded in its manifest. The landing copy
      must be intact: restore it first if `dap verify` says otherwise.
      SHA_OR_FILE: a sha256, a prefix of 8 or more hex digits, the file itself, or its
      landed file name (`dap extracts` lists them).

  dap repair --landing-from FILE
      put FILE back as the landing copy of the landed workbook whose sha256 it has, when
      that copy is missing or altered; a file whose sha256 no manifest records is refused.
      (`dap load FILE` also puts back a missing landing copy.)

Run `dap verify` afterwards, then `dbt build`."""


def register(sub: Subparsers[argparse.ArgumentParser], settings: Settings) -> None:
    parser = sub.add_parser(
        "repair",
        help="rebuild an extract's raw files from its landing copy, or restore a landing copy",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("extract", nargs="?", metavar="SHA_OR_FILE", help="the landed extract")
    what.add_argument(
        "--landing-from",
        metavar="FILE",
        type=Path,
        help="the original file, to put back as its landing copy",
    )
    add_zone_options(parser)
    parser.add_argument(
        "--glue-database",
        metavar="NAME",
        help="register the rebuilt files' partitions in Glue table NAME.contact_centre_metrics "
        "(s3:// lakes)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from dap.lake.audit import aws_identity, local_identity  # noqa: PLC0415
    from dap.lake.integrity import repair_extract, restore_landing  # noqa: PLC0415
    from dap.lake.storage import ZonedLake  # noqa: PLC0415
    from dap.settings import use_arrow_memory_pool  # noqa: PLC0415

    use_arrow_memory_pool(settings)

    opened = open_zones(args, settings, "repair", glue_database=args.glue_database, writing=True)
    if opened is None:
        return 2
    lake, catalog = opened
    lake.check_ready()
    if lake.uri.startswith("s3://") or isinstance(lake, ZonedLake):
        import boto3  # noqa: PLC0415

        who = aws_identity(boto3.Session())
    else:
        who = local_identity()
    if args.landing_from is not None:
        result = restore_landing(lake, args.landing_from, who=who)
    else:
        result = repair_extract(lake, args.extract, who=who, catalog=catalog, progress=say)
    sys.stdout.write(result.describe())
    return 0
