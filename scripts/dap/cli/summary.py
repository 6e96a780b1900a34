"""``dap summary``: print the yearly calls-handled table from the local warehouse."""

from __future__ import annotations

import argparse
import sys

from dap.cli._common import Subparsers, add_lake_option, lake_uri
from dap.settings import Settings


def register(sub: Subparsers[argparse.ArgumentParser], settings: Settings) -> None:
    parser = sub.add_parser(
        "summary",
        help="print the yearly calls-handled table from the local warehouse",
        description=(
            "Print calls offered and handled, the calls-handled percentage, service level and "
            "speed of answer by year from the trusted marts `dbt build` wrote to "
            "LAKE/warehouse.duckdb, with the count of quarantined rows."
        ),
    )
    add_lake_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from dap.publish.summary import format_summary, read_summary  # noqa: PLC0415

    sys.stdout.write(format_summary(read_summary(lake_uri(args, settings))) + "\n")
    return 0
