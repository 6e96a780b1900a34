"""``dap sample``: write deterministic synthetic workbooks shaped like the City's export."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from dap.cli._common import Subparsers, iso_date
from dap.settings import Settings


def register(sub: Subparsers[argparse.ArgumentParser], settings: Settings) -> None:
    parser = sub.add_parser(
        "sample",
        help="write deterministic synthetic workbooks shaped like the City's export",
        description=(
            "Write one .xlsx workbook per year plus a legacy .xls for the earliest year, with "
            "the quirks of the real export and one planted data-entry error for the "
            "quarantine. The same seed gives the same bytes."
        ),
    )
    parser.add_argument("--out", type=Path, required=True, help="folder to write into")
    parser.add_argument("--seed", type=int, default=311, help="random seed (default 311)")
    parser.add_argument(
        "--start", type=iso_date, default=date(2020, 1, 1), help="first day (default 2020-01-01)"
    )
    parser.add_argument(
        "--end", type=iso_date, default=date(2024, 9, 30), help="last day (default 2024-09-30)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from dap.samples.synthetic import write_sample  # noqa: PLC0415 - keep `dap --help` fast

    files = write_sample(args.out, seed=args.seed, start=args.start, end=args.end)
    for f in files:
        sys.stdout.write(f"{f.path}  {f.first_date} to {f.last_date}  {f.rows:,} rows\n")
    sys.stdout.write(f"wrote {len(files)} sample workbook(s) to {args.out}\n")
    return 0
