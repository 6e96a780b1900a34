"""``dap docs-coverage``: documentation coverage of the dbt project (a CI gate)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dap.cli._common import Subparsers, say
from dap.settings import Settings


def register(sub: Subparsers[argparse.ArgumentParser], settings: Settings) -> None:
    parser = sub.add_parser(
        "docs-coverage",
        help="check that every model, column, source, seed, macro and exposure is documented",
        description=(
            "Read dbt's manifest.json and catalog.json (from `dbt docs generate`) and report "
            "documentation coverage per kind. Exit status 1, naming each gap, below 100%."
        ),
    )
    parser.add_argument(
        "--target",
        type=Path,
        default=settings.dbt_target_path,
        help="dbt's target folder (default: $DBT_TARGET_PATH, else ./target)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from dap.ops.docs_coverage import measure  # noqa: PLC0415

    coverage = measure(args.target)
    sys.stdout.write(coverage.report() + "\n")
    if not coverage.complete:
        say(f"documentation coverage is below 100%: {len(coverage.missing)} item(s) missing")
        return 1
    return 0
