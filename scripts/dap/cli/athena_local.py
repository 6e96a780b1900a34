"""``dap athena-local``: the local Athena endpoint (a development tool, package
:mod:`athena_local`, installed with the ``athena-local`` extra)."""

from __future__ import annotations

import argparse
from pathlib import Path

from dap.cli._common import Subparsers, say
from dap.errors import DapError
from dap.settings import Settings

INSTALL_HINT = (
    "the local Athena endpoint is a development tool installed apart from the loader: "
    "run `make athena-local` in a checkout, or `pip install '.[athena-local]'`"
)


def register(sub: Subparsers[argparse.ArgumentParser], settings: Settings) -> None:
    parser = sub.add_parser(
        "athena-local",
        help="run a local Athena-compatible endpoint (S3, Glue and Athena) for development",
        description=(
            "Serve moto's AWS APIs (S3, Glue, KMS, STS, ...) with Athena queries executed: "
            "each query is checked as Athena SQL and refused as Athena would refuse it, then "
            "run on DuckDB with Athena's meaning over the endpoint's S3 objects. Point clients "
            "at it with AWS_ENDPOINT_URL=http://HOST:PORT and any access key. State lives in "
            "memory; GET /_athena_local/queries returns the query log. Stop with Ctrl-C, or "
            "give a command after -- to run against the endpoint. README: 'The local Athena "
            "endpoint' lists what is emulated and what is refused."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=4566, help="port; 0 picks a free one (default 4566)"
    )
    parser.add_argument(
        "--region",
        default=settings.aws_region,
        help="region the --bucket buckets are created in (default: $AWS_REGION, else ca-central-1)",
    )
    parser.add_argument(
        "--bucket",
        action="append",
        default=[],
        metavar="NAME",
        help="create this bucket at start (repeatable)",
    )
    parser.add_argument(
        "--query-log",
        type=Path,
        metavar="PATH",
        help="also append every query to PATH (JSON lines)",
    )
    parser.add_argument(
        "--log-requests", action="store_true", help="print a line per HTTP request to stderr"
    )
    parser.add_argument(
        "command",
        nargs=argparse.REMAINDER,
        metavar="-- COMMAND",
        help="run COMMAND against the endpoint (AWS_ENDPOINT_URL, AWS_REGION and throwaway "
        "credentials set), then stop it and exit with COMMAND's status, e.g. "
        "dap athena-local --port 0 --bucket lake -- dbt build --target athena",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        from athena_local.serve import serve  # noqa: PLC0415 - moto and sqlglot load slowly
    except ModuleNotFoundError as exc:
        raise DapError(f"{INSTALL_HINT} (missing: {exc.name})") from exc
    return serve(
        host=args.host,
        port=args.port,
        region=args.region,
        buckets=args.bucket,
        query_log=args.query_log,
        log_requests=args.log_requests,
        command=args.command[1:] if args.command[:1] == ["--"] else args.command,
        say=say,
    )
