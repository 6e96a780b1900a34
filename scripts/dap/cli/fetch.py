"""``dap fetch``: download the dataset export from the City's open data portal."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dap.cli._common import Subparsers, say
from dap.settings import Settings


def register(sub: Subparsers[argparse.ArgumentParser], settings: Settings) -> None:
    from dap.ingest.exports import EXPORT_FORMATS, EXPORTS_URL  # noqa: PLC0415

    parser = sub.add_parser(
        "fetch",
        help="download the dataset export (.xlsx, CSV or Parquet) from the City's open data portal",
        description=(
            "Download the export with a timeout and retries with exponential backoff, check "
            "that the bytes are the format asked for (a workbook, CSV or Parquet, told from "
            "the content: an error page never passes), write "
            "OUT/3-1-1-contact-centre-metrics.FORMAT atomically and print its path. "
            "`dap load` reads every format."
        ),
    )
    parser.add_argument("--out", type=Path, required=True, help="folder to write into")
    parser.add_argument(
        "--format",
        dest="export_format",
        choices=EXPORT_FORMATS,
        default="xlsx",
        help="the export to download: xlsx (a workbook; default), csv (the portal's "
        "';'-delimited CSV) or parquet",
    )
    parser.add_argument(
        "--url",
        help=f"export URL (default {EXPORTS_URL}/FORMAT)",
    )
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to wait for the server (default 60)"
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=4,
        help="attempts after the first on network errors, 429 and 5xx (default 4)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from dap.ingest.fetch import fetch_export  # noqa: PLC0415

    path = fetch_export(
        args.out,
        args.url,
        export_format=args.export_format,
        timeout=args.timeout,
        retries=args.retries,
        progress=say,
    )
    sys.stdout.write(f"{path}\n")
    return 0
