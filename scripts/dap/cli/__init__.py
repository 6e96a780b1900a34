"""The ``dap`` command: one module per subcommand, assembled here.

Exit status: 0 on success, 1 when the input or the lake is at fault (the message says
which file, sheet, row and column), 2 for a mistake on the command line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from dap import __version__, settings
from dap.cli import (
    athena_local,
    build,
    cost,
    docs_coverage,
    extracts,
    fetch,
    load,
    metrics,
    pipeline,
    repair,
    report,
    restore,
    retract,
    sample,
    summary,
    verify,
)
from dap.errors import DapError, printable

COMMANDS = (
    sample,
    fetch,
    load,
    extracts,
    retract,
    restore,
    verify,
    repair,
    metrics,
    cost,
    build,
    pipeline,
    summary,
    report,
    docs_coverage,
    athena_local,
)
"""In the order `dap --help` lists them: data in, then out, then tools."""


def build_parser(config: settings.Settings | None = None) -> argparse.ArgumentParser:
    config = config or settings.from_environment()
    parser = argparse.ArgumentParser(
        prog="dap",
        description=(
            "Vancouver 3-1-1 contact centre data platform: get the City's Excel extracts "
            "into the lake, where dbt picks them up. `dap COMMAND --help` explains each."
        ),
        epilog=(
            "Typical use: dap fetch --out downloads && dap load downloads/*.xlsx && dap build "
            "&& dap report (dap build starts dbt only when something is new).\n\n"
            + settings.describe()
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"dap {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub, config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    config = settings.from_environment()  # read once; options given on the command line win
    args = build_parser(config).parse_args(argv)
    try:
        status: int = args.func(args, config)
    except DapError as exc:
        # One line, whatever a file, sheet or member name in the message holds.
        sys.stderr.write(f"dap {args.command}: error: {printable(str(exc))}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write(f"dap {args.command}: interrupted\n")
        return 130
    return status


if __name__ == "__main__":
    raise SystemExit(main())
