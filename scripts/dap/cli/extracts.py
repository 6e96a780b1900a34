"""``dap extracts``: what is landed, as a table (or JSON)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from dap.cli._common import Subparsers, add_lake_option, lake_uri
from dap.errors import printable
from dap.settings import Settings

if TYPE_CHECKING:
    from dap.lake.extracts import LandedExtract
    from dap.lake.storage import Lake

DESCRIPTION = """\
List the extracts landed in the lake, in the order they were ingested: file name (personal
data masked), sha256 (its first 12 digits; --json has all 64), rows, first and last date,
the measure columns it carries ('all' when it carries every one), when it was ingested
(UTC) and its status:

  active      dbt builds read it
  retracted   `dap retract` took it out of every build (its files are all still there;
              `dap restore` puts it back)
  incomplete  the raw zone holds fewer of its rows than its manifest declares: dbt leaves
              it out until a load completes it (load the same file again)

The manifests (_manifests/) say what is landed, the extract event log
(_audit/events/) what was retracted. Reads only; writes nothing."""


def register(sub: Subparsers[argparse.ArgumentParser], settings: Settings) -> None:
    parser = sub.add_parser(
        "extracts",
        help="list the landed extracts: rows, dates, columns, when ingested, status",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_lake_option(parser)
    parser.add_argument(
        "--raw",
        metavar="S3_URI",
        help="the raw zone's own bucket, s3://bucket/prefix (default: $DAP_RAW_LAKE, else the "
        "lake)",
    )
    parser.add_argument(
        "--json", action="store_true", help="one JSON array on stdout, for machines"
    )
    parser.set_defaults(func=run)


def open_raw_zone(uri: str) -> Lake:
    """The zone that holds the manifests, the raw rows and the event log, for reading."""
    from dap.lake.storage import open_lake  # noqa: PLC0415

    if uri.startswith("s3://"):
        import boto3  # noqa: PLC0415 - only S3 lakes pay boto3's import time

        # Reading needs no protected bucket: that check guards writes.
        return open_lake(uri, boto3.Session(), allow_unprotected=True)
    return open_lake(uri)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from dap.lake.extracts import list_extracts  # noqa: PLC0415

    lake = open_raw_zone(args.raw or settings.raw_lake or lake_uri(args, settings))
    lake.check_ready()
    extracts = list_extracts(lake)
    if args.json:
        sys.stdout.write(json.dumps([e.as_json() for e in extracts], indent=2) + "\n")
    elif not extracts:
        sys.stdout.write(f"no extracts landed in {lake.uri}\n")
    else:
        sys.stdout.write(table(extracts))
    return 0


HEADERS = (
    "file",
    "sha256",
    "rows",
    "first date",
    "last date",
    "columns carried",
    "ingested at (UTC)",
    "status",
)
_RIGHT = {"rows"}


def _columns_carried(extract: LandedExtract) -> str:
    from dap.schema import MEASURE_COLUMNS  # noqa: PLC0415

    if extract.columns_carried == [c.raw_name for c in MEASURE_COLUMNS]:
        return "all"
    return ",".join(extract.columns_carried) or "none"


def _cells(extract: LandedExtract) -> Sequence[str]:
    return (
        printable(extract.file_name),
        extract.sha256[:12],
        f"{extract.rows:,}",
        "" if extract.first_date is None else extract.first_date.isoformat(),
        "" if extract.last_date is None else extract.last_date.isoformat(),
        _columns_carried(extract),
        extract.ingested_at.replace("T", " ").removesuffix("Z"),
        extract.status,
    )


def table(extracts: Sequence[LandedExtract]) -> str:
    """A plain-text table, one extract a line, columns padded to their widest cell."""
    rows = [HEADERS, *(_cells(e) for e in extracts)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADERS))]
    rule = tuple("-" * w for w in widths)
    lines: list[str] = []
    for cells in (rows[0], rule, *rows[1:]):
        padded = [
            cell.rjust(width) if name in _RIGHT else cell.ljust(width)
            for name, cell, width in zip(HEADERS, cells, widths, strict=True)
        ]
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines) + "\n"
