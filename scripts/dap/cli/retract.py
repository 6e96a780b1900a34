"""``dap retract``: take a landed extract out of every later dbt build, deleting nothing.

``dap restore`` (:mod:`dap.cli.restore`) undoes it with the same options; both are built
here.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from dap.cli._common import Subparsers, add_lake_option, lake_uri, open_s3_zones, say
from dap.errors import printable
from dap.settings import Settings

if TYPE_CHECKING:
    from dap.lake.audit import Identity
    from dap.lake.catalog import GlueCatalog
    from dap.lake.extracts import Change
    from dap.lake.storage import Lake

SHA_OR_FILE = """\
SHA_OR_FILE names one landed extract: its full sha256, a prefix of it of at least 8 hex
digits that no other extract shares, the file itself (its sha256 is computed), or its
landed file name when no other extract has that name (`dap extracts` lists them). Anything
that names no extract, or several, exits 1 and lists the candidates."""

DESCRIPTION = f"""\
Retract a landed extract: every later `dbt build` leaves its rows out, as if it had never
been loaded; for the days it reported, the marts fall back to the rows of the next
active extract in precedence order (see `dap load --help`), if any. Nothing is deleted:
the landing copy, the raw Parquet and the manifest all stay exactly as they are. The
retraction is a tombstone, an event appended to the lake's extract event log (_audit/events/,
which dbt reads on DuckDB and, as a Glue table, on Athena), with an audit record of who
retracted what, when and why under _audit/extracts/. `dap restore SHA_OR_FILE` undoes it
the same way; the latest of an extract's retract and restore events decides.

{SHA_OR_FILE}

Run `dbt build` afterwards: the daily mart recomputes the years the extract has rows in.
A year that no other active extract reports cannot be emptied by an incremental build:
`dap retract` warns of it, and `dbt build --full-refresh --select fct_contact_centre_daily+`
rebuilds the marts without it."""


def register(sub: Subparsers[argparse.ArgumentParser], settings: Settings) -> None:
    parser = sub.add_parser(
        "retract",
        help="take a landed extract out of every later dbt build (an audited tombstone; "
        "nothing is deleted)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_change_options(parser, settings, verb="retracting")
    parser.set_defaults(func=run)


def add_change_options(parser: argparse.ArgumentParser, settings: Settings, *, verb: str) -> None:
    """SHA_OR_FILE, --reason and where the lake is: what retract and restore both take."""
    parser.add_argument("extract", metavar="SHA_OR_FILE", help="the landed extract")
    parser.add_argument(
        "--reason",
        metavar="TEXT",
        help=f"why you are {verb} it, kept in the event log and the audit record (personal "
        "data in it is masked)",
    )
    add_lake_option(parser)
    parser.add_argument(
        "--landing",
        metavar="S3_URI",
        help="the landing zone's own bucket (audit trail), s3://bucket/prefix "
        "(default: $DAP_LANDING_LAKE, else the lake)",
    )
    parser.add_argument(
        "--raw",
        metavar="S3_URI",
        help="the raw zone's own bucket (manifests, event log), s3://bucket/prefix "
        "(default: $DAP_RAW_LAKE, else the lake)",
    )
    glue = parser.add_mutually_exclusive_group()
    glue.add_argument(
        "--glue-database",
        metavar="NAME",
        help="Glue database of the event log's table NAME.contact_centre_extract_events, "
        "created if absent; s3:// lakes only (default: $DAP_RAW_DATABASE, else raw)",
    )
    glue.add_argument(
        "--no-glue", action="store_true", help="write the event without touching the Glue catalog"
    )
    parser.add_argument(
        "--kms-key-id",
        metavar="KEY",
        help="SSE-KMS key for the objects written (key id, ARN or alias/NAME); s3:// only "
        "(default: $DAP_KMS_KEY_ID, else the bucket's default encryption)",
    )
    parser.add_argument(
        "--allow-unprotected-bucket",
        action="store_true",
        help="write to s3:// buckets even without default encryption or versioning",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    from dap.lake.extracts import RETRACTED  # noqa: PLC0415

    return run_change(args, settings, RETRACTED)


def run_change(args: argparse.Namespace, settings: Settings, action: str) -> int:
    """Retract or restore ``args.extract`` and say what was done."""
    from dap.lake.extracts import change_retraction  # noqa: PLC0415

    command = "retract" if action == "retracted" else "restore"
    uri = lake_uri(args, settings)
    landing_uri = args.landing or settings.landing_lake or uri
    raw_uri = args.raw or settings.raw_lake or uri
    zones = (landing_uri, raw_uri)
    if any(u.startswith("s3://") for u in zones) and not all(u.startswith("s3://") for u in zones):
        say(f"dap {command}: error: the landing and raw zones must both be s3:// or both local")
        return 2
    if not raw_uri.startswith("s3://") and (landing_uri != uri or raw_uri != uri):
        say(f"dap {command}: error: --landing and --raw are for s3:// zones; use --lake DIR")
        return 2
    lake, catalog, identify = _open(args, settings, landing_uri, raw_uri)
    change = change_retraction(
        lake, args.extract, action, who=identify(), reason=args.reason, catalog=catalog
    )
    sys.stdout.write(describe(change, command))
    for year in change.orphan_years:
        say(
            f"warning: no other active extract has rows in {year}: an incremental `dbt build` "
            f"keeps that year's days in fct_contact_centre_daily (and the build's test "
            "assert_every_staged_row_is_accounted_for fails); rebuild with `dbt build "
            "--full-refresh --select fct_contact_centre_daily+`"
        )
    return 0


def describe(change: Change, command: str) -> str:
    """What was done, for people: the extract, the event and audit record, what next."""
    extract = change.extract
    name = (
        f"{printable(extract.file_name)} (sha256 {extract.sha256}, ingested {extract.ingested_at})"
    )
    if not change.changed:
        last = extract.retraction
        since = "" if last is None else f" since {last.recorded_at:%Y-%m-%d %H:%M:%S} UTC"
        state = "retracted" if extract.is_retracted else "active"
        return f"{command}: {name} is already {state}{since}; nothing written\n"
    undo = "dap restore" if command == "retract" else "dap retract"
    effect = (
        "every later dbt build leaves its rows out"
        if command == "retract"
        else "every later dbt build reads its rows again"
    )
    return (
        f"{change.action}: {name}\n"
        f"  {effect}; nothing was deleted (undo: {undo} {extract.sha256[:12]})\n"
        f"  event: {change.event_key}\n"
        f"  audit record: {change.audit_key}\n"
        "  next: dbt build\n"
    )


def _open(
    args: argparse.Namespace, settings: Settings, landing_uri: str, raw_uri: str
) -> tuple[Lake, GlueCatalog | None, Callable[[], Identity]]:
    """The lake (both zones), the Glue catalog and who is asking, from one boto3 session."""
    from dap.lake.audit import local_identity  # noqa: PLC0415
    from dap.lake.storage import open_lake  # noqa: PLC0415

    if not raw_uri.startswith("s3://"):
        return open_lake(raw_uri), None, local_identity
    return open_s3_zones(args, settings, landing_uri, raw_uri)
