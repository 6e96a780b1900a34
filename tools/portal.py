"""A stand-in for the City's open-data portal, on 127.0.0.1: a development tool and test
double, not part of dap.

It answers the export URL ``dap fetch`` and ``dap pipeline`` ask for,
``/api/explore/v2.1/catalog/datasets/3-1-1-contact-centre-metrics/exports/FORMAT``, with
the bytes of one file (read again at every request, so replacing the file re-issues the
export) and a 404 for anything else. The file is given (--file), or written first from the
synthetic sample as the portal's CSV export (--sample: ';'-delimited, byte-order mark,
newest day first).

    python tools/portal.py --sample build/portal/export.csv              # serve until Ctrl-C
    python tools/portal.py --file export.xlsx -- dap pipeline --lake L   # run COMMAND with
                                                  # DAP_EXPORT_URL set, then stop

Python's http.server is enough here: one client, one file, on the loopback interface.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

EXPORTS_PATH = "/api/explore/v2.1/catalog/datasets/3-1-1-contact-centre-metrics/exports"
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
}
FORMAT_OF_SUFFIX = {".xlsx": "xlsx", ".xls": "xlsx", ".csv": "csv", ".parquet": "parquet"}
CSV_HEADER = (
    "Date",
    "CallsOffered",
    "CallsHandled",
    "CallsAbandoned",
    "AverageSpeedofAnswer",
    "ServiceLevel",
    "BI_ID",
)


def export_format(path: Path) -> str:
    """The export a file stands in for, from its name (.xlsx, .xls, .csv, .parquet)."""
    try:
        return FORMAT_OF_SUFFIX[path.suffix.lower()]
    except KeyError:
        raise SystemExit(f"{path}: serve a .xlsx, .xls, .csv or .parquet file") from None


def write_sample_csv(path: Path, *, start: date, end: date, seed: int = 311, bump: int = 0) -> Path:
    """The synthetic sample's days as the portal's CSV export. ``bump`` adds that many calls
    offered and handled to the newest week: a re-issued export, same dates, new figures."""
    from dap.samples.synthetic import generate_day  # noqa: PLC0415 - the checkout's dap

    lines = [";".join(CSV_HEADER)]
    day, number = end, 1
    while day >= start:
        m = generate_day(seed, day)
        extra = bump if (end - day).days < 7 else 0
        lines.append(
            f"{day.isoformat()};{m.offered + extra};{m.handled + extra};{m.abandoned};"
            f"{m.asa};{m.service_level};{number}"
        )
        day -= timedelta(days=1)
        number += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(("\ufeff" + "\n".join(lines) + "\n").encode())
    tmp.replace(path)
    return path


class _Handler(BaseHTTPRequestHandler):
    served: Path  # set on the subclass made by `serving`
    quiet = True

    def do_GET(self) -> None:
        wanted = f"{EXPORTS_PATH}/{export_format(self.served)}"
        if self.path.split("?", 1)[0].rstrip("/") != wanted:
            self.send_error(404, "no such export")
            return
        data = self.served.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPES[export_format(self.served)])
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        if not self.quiet:
            super().log_message(format, *args)


@contextmanager
def serving(path: Path, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``path`` as the portal's export; yield the export's URL."""
    handler = type("Handler", (_Handler,), {"served": path})
    server = ThreadingHTTPServer((host, port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        bound_host, bound_port = server.server_address[:2]
        yield f"http://{bound_host!s}:{bound_port}{EXPORTS_PATH}/{export_format(path)}"
    finally:
        server.shutdown()
        server.server_close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="portal", description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--file", type=Path, help="serve this export file")
    source.add_argument(
        "--sample", type=Path, metavar="CSV", help="write the synthetic sample here, serve it"
    )
    parser.add_argument("--start", type=date.fromisoformat, default=date(2023, 1, 1))
    parser.add_argument("--end", type=date.fromisoformat, default=date(2024, 9, 30))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="-- COMMAND")
    args = parser.parse_args(argv)
    path = args.file or write_sample_csv(args.sample, start=args.start, end=args.end)
    if not path.is_file():
        parser.error(f"{path}: no such file")
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    with serving(path, args.host, args.port) as url:
        sys.stderr.write(f"portal: serving {path} at {url}\n")
        if command:
            env = {**os.environ, "DAP_EXPORT_URL": url}
            return subprocess.run(command, env=env, check=False).returncode
        sys.stdout.write(url + "\n")
        sys.stdout.flush()
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            return 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
