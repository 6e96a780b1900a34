"""``dap restore``: undo ``dap retract``; the extract is read by every later dbt build."""

from __future__ import annotations

import argparse

from dap.cli._common import Subparsers
from dap.cli.retract import SHA_OR_FILE, add_change_options, run_change
from dap.settings import Settings

DESCRIPTION = f"""\
Restore a retracted extract: every later `dbt build` reads its rows again, exactly as
before it was retracted. Like `dap retract`, it deletes and rewrites nothing: it appends a
`restored` event to the extract event log (_audit/events/) and writes
an audit record of who restored what, when and why under _audit/extracts/. An extract that
is not retracted is left alone.

{SHA_OR_FILE}

Run `dbt build` afterwards: the daily mart recomputes the years the extract has rows in."""


def register(sub: Subparsers[argparse.ArgumentParser], settings: Settings) -> None:
    parser = sub.add_parser(
        "restore",
        help="undo `dap retract`: the extract is read by every later dbt build again",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_change_options(parser, settings, verb="restoring")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from dap.lake.extracts import RESTORED  # noqa: PLC0415

    return run_change(args, settings, RESTORED)
