"""What every command shares: progress on stderr, the --lake option, date arguments."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dap.settings import Settings

Subparsers = argparse._SubParsersAction


def say(message: str) -> None:
    """Progress goes to stderr so stdout stays clean for results."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def add_lake_option(parser: argparse.ArgumentParser, *, extra: str = "") -> None:
    parser.add_argument(
        "--lake",
        help="the lake: a local folder or s3://bucket/prefix (default: $DAP_LAKE, else ./lake)"
        + extra,
    )


def lake_uri(args: argparse.Namespace, settings: Settings) -> str:
    option: str | None = args.lake
    return option or settings.lake


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date as YYYY-MM-DD") from exc
