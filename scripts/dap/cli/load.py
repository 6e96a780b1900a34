"""``dap load``: check workbooks and land them in the landing and raw zones."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from dap.cli._common import Subparsers, add_lake_option, lake_uri, open_s3_zones, say
from dap.settings import Settings

if TYPE_CHECKING:
    from dap.lake.audit import Identity
    from dap.lake.catalog import GlueCatalog
    from dap.lake.storage import Lake

DESCRIPTION = """\
Check every WORKBOOK and land it: the original bytes to landing/ (named by sha256, with
the extension of the format found), typed Parquet by year to raw/, a manifest to
_manifests/, an audit record to _audit/loads/. A file already landed is skipped.

Formats accepted, told from the content, never from the file name:
  - Excel workbooks: .xlsx, .xlsm, .xlsb and legacy .xls; OpenDocument .ods;
  - CSV, as the portal exports it: ';' or ',' delimited, UTF-8 with or without a
    byte-order mark (UTF-16 with one, or Windows-1252, too), read as one sheet named 'csv';
  - Parquet (the portal's Parquet export), read as one sheet named 'parquet'.
Headers may be the export's labels (CallsOffered) or the API's field names (callsoffered).
Any other file stops the load with a message saying what it is and what to do: TSV (save
it as CSV or .xlsx), Excel 2003 XML (save it as .xlsx), Apple Numbers (export to .xlsx or
CSV), JSON (use the CSV or Parquet export), HTML, PDF, another zip, an empty file.

A metrics sheet needs a Date column and at least one measure (CallsOffered, CallsHandled,
CallsAbandoned, AverageSpeedofAnswer, ServiceLevel): split extracts such as callsGeneral.xls
(no CallsHandled) and callsHandled.xls (Date, CallsHandled) load, and each records the
measures it carries. A whole-file problem in any file (not a format above, no sheet with
Date and a measure, no data rows, dates that cannot be read, personal data with
--pii=stop) stops the load before anything is written and leaves only an audit record of
the refusal under _audit/refusals/ and its row in the extract event log. A value that
cannot be read lands as null with the reason in load_issues; dbt routes such rows to the
quarantine.

Dates are Excel dates, serial numbers (counted in the workbook's own date system, 1900 or
1904) or YYYY-MM-DD text. Day/month text such as 13/03/2023 is never guessed: a date
column holding any is refused, naming the rows. A date-time is read at midnight only.
Every date that cannot be read is printed after the load and kept in the manifest.
Speed of answer may be seconds or a duration ([h]:mm:ss, h:mm:ss): it lands as seconds.

Precedence, decided by dbt at every build: for each date, each measure comes from the
first extract, in this order, that carries it with a valid row:
  1. an extract loaded with --supersede (a later supersede before an earlier one);
  2. the extract whose data reaches the later date (its latest valid date), so an older
     or archived extract loaded after a newer one never replaces the newer one's figures;
  3. the more recently ingested (files are ingested in the order given);
  4. the larger sha256.
A re-issued callsHandled replaces handled calls only, and a day lacking offered, handled
or abandoned calls is held back until the missing part lands. Every figure that differs
beyond rounding between two extracts is listed in curated.conflicts_daily_metrics, warned
about by `dbt build` (assert_no_day_has_disagreeing_extracts) and shown in `dap report`.

--supersede marks every WORKBOOK given as a deliberate correction: its figures win over every
other extract's, for the days and measures it carries, whatever its dates or when it was
loaded. A file landed before (unchanged) is not landed again: the load only records the
supersede. It is audited: a `superseded` event per file in the extract event log
(_audit/events/, with --reason) and the load's audit record. A retracted extract stays
retracted (`dap restore` brings it back, still superseding); to undo a supersede, load the
extract that should win with --supersede, or retract the superseding one.
`dap extracts` lists what is landed; `dap retract` takes an extract back.

Into an s3:// lake, each workbook's years are registered as partitions of the Glue table
contact_centre_metrics before its manifest is written; buckets without default encryption
or versioning are refused."""


def register(sub: Subparsers[argparse.ArgumentParser], settings: Settings) -> None:
    parser = sub.add_parser(
        "load",
        help="check workbooks and land them in the lake's landing and raw zones",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("workbooks", nargs="+", metavar="WORKBOOK", type=Path)
    add_lake_option(parser)
    parser.add_argument(
        "--landing",
        metavar="S3_URI",
        help="the landing zone's own bucket (original files, audit trail), s3://bucket/prefix "
        "(default: $DAP_LANDING_LAKE, else the lake)",
    )
    parser.add_argument(
        "--raw",
        metavar="S3_URI",
        help="the raw zone's own bucket (Parquet, manifests), s3://bucket/prefix "
        "(default: $DAP_RAW_LAKE, else the lake)",
    )
    parser.add_argument(
        "--pii",
        choices=["stop", "mask"],
        default=settings.pii,
        help="personal data in any text cell (email, phone, postal code, card number, SIN, "
        "...): 'stop' refuses the workbook naming file, sheet, row, column and kind, never the "
        "value; 'mask' lands it masked and lists the cells in the manifest and audit record "
        "(default: $DAP_PII, else stop)",
    )
    parser.add_argument(
        "--allow-unprotected-bucket",
        action="store_true",
        help="write to s3:// buckets even without default encryption or versioning",
    )
    glue = parser.add_mutually_exclusive_group()
    glue.add_argument(
        "--glue-database",
        metavar="NAME",
        help="Glue database of the raw table NAME.contact_centre_metrics, created if absent; "
        "s3:// lakes only (default: $DAP_RAW_DATABASE, else raw)",
    )
    glue.add_argument(
        "--no-glue",
        action="store_true",
        help="land the files without touching the Glue catalog (a local lake never uses Glue)",
    )
    parser.add_argument(
        "--kms-key-id",
        metavar="KEY",
        help="SSE-KMS key for every object written (key id, ARN or alias/NAME); s3:// only "
        "(default: $DAP_KMS_KEY_ID, else the bucket's default encryption)",
    )
    parser.add_argument(
        "--supersede",
        action="store_true",
        help="a deliberate correction: the figures of every WORKBOOK given win over every "
        "other extract's for the days and measures it carries, even where another reaches a "
        "later date or was loaded later; a workbook landed before is not landed again, only "
        "recorded (audited: event log and audit record). See 'Precedence' above",
    )
    parser.add_argument(
        "--reason",
        metavar="TEXT",
        help="with --supersede: why, kept in the event log and the audit record and shown "
        "in the report (personal data in it is masked)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from dap.lake.audit import local_identity  # noqa: PLC0415
    from dap.lake.load import load_workbooks  # noqa: PLC0415
    from dap.lake.storage import open_lake  # noqa: PLC0415
    from dap.settings import use_arrow_memory_pool  # noqa: PLC0415

    use_arrow_memory_pool(settings)

    if args.reason is not None and not args.supersede:
        say("dap load: error: --reason goes with --supersede (why the files are a correction)")
        return 2
    uri = lake_uri(args, settings)
    landing_uri = args.landing or settings.landing_lake or uri
    raw_uri = args.raw or settings.raw_lake or uri
    lake: Lake
    catalog: GlueCatalog | None = None
    identify: Callable[[], Identity]
    if any(u.startswith("s3://") for u in (landing_uri, raw_uri)):
        if not all(u.startswith("s3://") for u in (landing_uri, raw_uri)):
            say("dap load: error: the landing and raw zones must both be s3:// or both local")
            return 2
        lake, catalog, identify = open_s3_zones(args, settings, landing_uri, raw_uri)
        kms_key_id = args.kms_key_id or settings.kms_key_id
        if kms_key_id:
            say(f"encrypting every object with SSE-KMS key {kms_key_id}")
    else:
        if landing_uri != uri or raw_uri != uri:
            say("dap load: error: --landing and --raw are for s3:// zones; use --lake DIR")
            return 2
        lake = open_lake(uri)  # a local folder: no catalog, no encryption options
        identify = local_identity

    def identify_and_say() -> Identity:
        who = identify()
        say(f"loading as {who.name}")
        return who

    say(f"loading {len(args.workbooks)} workbook(s) into {lake.uri}")
    summary = load_workbooks(
        args.workbooks,
        lake,
        progress=say,
        catalog=catalog,
        pii=args.pii,
        identify=identify_and_say,
        supersede=args.supersede,
        reason=args.reason,
    )
    sys.stdout.write(f"loaded: {summary.describe()}\n")
    for outcome in summary.landed:
        warning = unreadable_dates_warning(outcome.name, outcome.unreadable_dates)
        if warning:
            say(warning)
    return 0


def unreadable_dates_warning(file_name: str, unreadable: dict[str, object]) -> str | None:
    """The terminal's note on a landed file's unreadable dates (count, first few with sheet,
    row and value), or None if every date was read."""
    count = unreadable.get("count")
    examples = unreadable.get("examples")
    if not isinstance(count, int) or count == 0 or not isinstance(examples, list):
        return None
    shown = "; ".join(
        f"sheet {e.get('sheet')!r} row {e.get('row')}: {e.get('value')}"
        for e in examples
        if isinstance(e, dict)
    )
    more = f" (first {len(examples)}: {shown})" if count > len(examples) else f" ({shown})"
    return (
        f"warning: {file_name}: {count} date(s) could not be read{more}; those rows landed "
        "without a date and dbt holds them back in the quarantine. Correct the dates in the "
        "file (Excel dates or YYYY-MM-DD text) and load it again"
    )
