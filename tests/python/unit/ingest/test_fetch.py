"""Downloading the export, against a local HTTP server on 127.0.0.1 (no other network)."""

from __future__ import annotations

import io
import re
import socket
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from python_calamine import CalamineWorkbook

from dap.cli import main
from dap.errors import FetchError
from dap.ingest.exports import DEFAULT_URL, EXPORT_FORMATS, ExportFormat, export_url
from dap.ingest.fetch import fetch_export
from dap.samples.excel_writer import Cell, write_xls, write_xlsx

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEETS: dict[str, list[list[Cell]]] = {
    "Sheet1": [["Date", "CallsOffered"], [date(2024, 9, 30), 478]]
}
SLOW_SECONDS = 1.5
PORTAL_CSV = (
    "\ufeffDate;CallsOffered;CallsHandled;CallsAbandoned;AverageSpeedofAnswer;ServiceLevel;BI_ID\r\n"
    "2024-09-30;478;477;1;0.80083857442348;0.99163179916318;1\r\n"
).encode()
"""The portal's CSV export: ``;``, a byte-order mark, CRLF."""

Route = Callable[["_Handler", int], None]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.hits[self.path] += 1
            hit = self.server.hits[self.path]
        route = self.server.routes.get(self.path)
        if route is None:
            self.reply(404, b"not found", "text/plain")
        else:
            route(self, hit)

    def reply(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, routes: dict[str, Route]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes = routes
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that gave up (the timeout test) is expected, not an error."""

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("served")
    write_xlsx(folder / "export.xlsx", SHEETS)
    write_xls(folder / "export.xls", SHEETS)
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    parquet = io.BytesIO()
    pq.write_table(pa.table({"date": [date(2024, 9, 30)], "callsoffered": [478]}), parquet)
    return {
        "xlsx": (folder / "export.xlsx").read_bytes(),
        "xls": (folder / "export.xls").read_bytes(),
        "zip": raw.getvalue(),
        "csv": PORTAL_CSV,
        "parquet": parquet.getvalue(),
    }


@pytest.fixture
def server(workbooks: dict[str, bytes], monkeypatch: pytest.MonkeyPatch) -> Iterator[_Server]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    xlsx = workbooks["xlsx"]

    def ok(h: _Handler, _hit: int) -> None:
        h.reply(200, xlsx, XLSX_TYPE)

    def flaky(h: _Handler, hit: int) -> None:
        if hit <= 2:
            h.reply(503, b"try later", "text/plain")
        else:
            h.reply(200, xlsx, XLSX_TYPE)

    def throttled(h: _Handler, hit: int) -> None:
        if hit == 1:
            h.reply(429, b"slow down", "text/plain", {"Retry-After": "7"})
        elif hit == 2:
            h.reply(429, b"slow down", "text/plain", {"Retry-After": "3600"})
        else:
            h.reply(200, xlsx, XLSX_TYPE)

    def cut_off(h: _Handler, hit: int) -> None:
        if hit == 1:  # promise the whole body, send half, hang up
            h.send_response(200)
            h.send_header("Content-Type", XLSX_TYPE)
            h.send_header("Content-Length", str(len(xlsx)))
            h.end_headers()
            h.wfile.write(xlsx[: len(xlsx) // 2])
            h.close_connection = True
        else:
            h.reply(200, xlsx, XLSX_TYPE)

    def dated(h: _Handler, hit: int) -> None:
        if hit == 1:  # an HTTP-date Retry-After: not a number of seconds, so ignored
            h.reply(503, b"later", "text/plain", {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
        else:
            h.reply(200, xlsx, XLSX_TYPE)

    def soon(h: _Handler, hit: int) -> None:
        if hit == 1:  # asks for less than the backoff: the backoff wins
            h.reply(429, b"slow down", "text/plain", {"Retry-After": "1"})
        else:
            h.reply(200, xlsx, XLSX_TYPE)

    def slow(h: _Handler, _hit: int) -> None:
        time.sleep(SLOW_SECONDS)
        h.reply(200, xlsx, XLSX_TYPE)

    routes: dict[str, Route] = {
        "/ok": ok,
        "/legacy": lambda h, _: h.reply(200, workbooks["xls"], "application/vnd.ms-excel"),
        "/flaky": flaky,
        "/throttled": throttled,
        "/dated": dated,
        "/soon": soon,
        "/down": lambda h, _: h.reply(500, b"boom", "text/plain"),
        "/forbidden": lambda h, _: h.reply(403, b"no", "text/plain"),
        "/html": lambda h, _: h.reply(200, b"<!DOCTYPE html><html>Maintenance</html>", "text/html"),
        "/json": lambda h, _: h.reply(200, b'{"error": "quota"}', "application/json"),
        "/truncated": lambda h, _: h.reply(200, xlsx[: len(xlsx) // 2], XLSX_TYPE),
        "/plain-zip": lambda h, _: h.reply(200, workbooks["zip"], "application/zip"),
        "/cut-off": cut_off,
        "/slow": slow,
        "/exports/csv": lambda h, _: h.reply(200, workbooks["csv"], "text/csv; charset=utf-8"),
        "/exports/parquet": lambda h, _: h.reply(
            200, workbooks["parquet"], "application/octet-stream"
        ),
        "/exports/xlsx": ok,
        "/parquet-cut": lambda h, _: h.reply(
            200, workbooks["parquet"][:100], "application/octet-stream"
        ),
    }
    srv = _Server(routes)
    thread = threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=5)


class _Recorder:
    """A fake sleep and progress sink."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self.messages: list[str] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def progress(self, message: str) -> None:
        self.messages.append(message)


def _fetch(
    out: Path,
    url: str,
    rec: _Recorder,
    *,
    timeout: float = 60.0,
    retries: int = 4,
    backoff: float = 1.0,
) -> Path:
    return fetch_export(
        out,
        url,
        timeout=timeout,
        retries=retries,
        backoff=backoff,
        sleep=rec.sleep,
        progress=rec.progress,
    )


def test_downloads_a_workbook(server: _Server, tmp_path: Path) -> None:
    rec = _Recorder()
    path = _fetch(tmp_path / "raw", server.url("/ok"), rec)
    assert path == tmp_path / "raw" / "3-1-1-contact-centre-metrics.xlsx"
    assert list(path.parent.iterdir()) == [path]
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert rows[1][0] == date(2024, 9, 30)
    assert server.hits["/ok"] == 1
    assert rec.sleeps == []
    assert any(m.startswith("downloaded ") for m in rec.messages)


def test_legacy_xls_is_accepted_and_named_xls(server: _Server, tmp_path: Path) -> None:
    path = _fetch(tmp_path, server.url("/legacy"), _Recorder())
    assert path.name == "3-1-1-contact-centre-metrics.xls"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_retries_5xx_with_growing_backoff(server: _Server, tmp_path: Path) -> None:
    rec = _Recorder()
    path = _fetch(tmp_path, server.url("/flaky"), rec, backoff=0.5)
    assert path.is_file()
    assert server.hits["/flaky"] == 3
    assert rec.sleeps == [0.5, 1.0]
    assert any("503" in m for m in rec.messages)


def test_honours_retry_after_capped(server: _Server, tmp_path: Path) -> None:
    rec = _Recorder()
    _fetch(tmp_path, server.url("/throttled"), rec)
    assert server.hits["/throttled"] == 3
    assert rec.sleeps == [7.0, 60.0]


def test_reports_each_attempt_and_each_wait(server: _Server, tmp_path: Path) -> None:
    rec = _Recorder()
    url = server.url("/flaky")
    _fetch(tmp_path, url, rec, backoff=0.5)
    assert rec.messages[:-1] == [
        f"downloading {url} (attempt 1 of 5)",
        "HTTP 503 Service Unavailable; retrying in 0.5 s",
        f"downloading {url} (attempt 2 of 5)",
        "HTTP 503 Service Unavailable; retrying in 1 s",
        f"downloading {url} (attempt 3 of 5)",
    ]
    assert re.fullmatch(r"downloaded \d+(\.\d)? kB", rec.messages[-1])


def test_backoff_doubles_up_to_the_cap(server: _Server, tmp_path: Path) -> None:
    rec = _Recorder()
    with pytest.raises(FetchError, match="9 attempts"):
        _fetch(tmp_path, server.url("/down"), rec, retries=8)
    assert server.hits["/down"] == 9
    assert rec.sleeps == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]
    assert all(type(s) is float for s in rec.sleeps)


@pytest.mark.parametrize(
    ("path", "backoff", "sleeps"), [("/dated", 1.0, [1.0]), ("/soon", 2.0, [2.0])]
)
def test_retry_after_only_lengthens_a_wait(
    server: _Server, tmp_path: Path, path: str, backoff: float, sleeps: list[float]
) -> None:
    rec = _Recorder()
    _fetch(tmp_path, server.url(path), rec, backoff=backoff)
    assert server.hits[path] == 2
    assert rec.sleeps == sleeps


def test_no_retries_means_one_attempt(server: _Server, tmp_path: Path) -> None:
    rec = _Recorder()
    url = server.url("/down")
    with pytest.raises(FetchError, match=r"after 1 attempt: HTTP 500"):
        _fetch(tmp_path, url, rec, retries=0)
    assert server.hits["/down"] == 1
    assert rec.sleeps == []
    assert rec.messages == [f"downloading {url} (attempt 1 of 1)"]
    assert list(tmp_path.iterdir()) == []


def test_gives_up_after_the_last_retry(server: _Server, tmp_path: Path) -> None:
    rec = _Recorder()
    url = server.url("/down")
    with pytest.raises(FetchError) as info:
        _fetch(tmp_path, url, rec, retries=2)
    message = str(info.value)
    assert url in message
    assert "3 attempts" in message
    assert "HTTP 500" in message
    assert server.hits["/down"] == 3
    assert rec.sleeps == [1.0, 2.0]
    assert list(tmp_path.iterdir()) == []


def test_client_error_fails_at_once(server: _Server, tmp_path: Path) -> None:
    rec = _Recorder()
    for path, status in (("/missing", "404"), ("/forbidden", "403")):
        url = server.url(path)
        with pytest.raises(FetchError, match=status) as info:
            _fetch(tmp_path, url, rec)
        assert url in str(info.value)
        assert server.hits[path] == 1
    assert rec.sleeps == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/html", "text/html"),
        ("/json", "application/json"),
        ("/truncated", "truncated zip"),
        ("/plain-zip", "not an Excel workbook"),
    ],
)
def test_rejects_what_is_not_a_workbook(
    server: _Server, tmp_path: Path, path: str, expected: str
) -> None:
    rec = _Recorder()
    url = server.url(path)
    with pytest.raises(FetchError, match=expected) as info:
        _fetch(tmp_path, url, rec)
    message = str(info.value)
    assert url in message
    assert "bytes starting" in message
    assert server.hits[path] == 1, "a bad body is not retried"
    assert list(tmp_path.iterdir()) == []


def test_html_error_page_is_described(server: _Server, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match=r"<!DOCTYPE html>") as info:
        _fetch(tmp_path, server.url("/html"), _Recorder())
    assert "39 bytes" in str(info.value)


def test_connection_cut_mid_body_is_retried(server: _Server, tmp_path: Path) -> None:
    rec = _Recorder()
    path = _fetch(tmp_path, server.url("/cut-off"), rec)
    assert server.hits["/cut-off"] == 2
    assert rec.sleeps == [1.0]
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    assert zipfile.ZipFile(path).testzip() is None


def test_slow_server_times_out(server: _Server, tmp_path: Path) -> None:
    rec = _Recorder()
    url = server.url("/slow")
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        _fetch(tmp_path, url, rec, timeout=0.5, retries=1)
    assert time.monotonic() - started < 2 * SLOW_SECONDS
    message = str(info.value)
    assert url in message
    assert "2 attempts" in message
    assert "timed out" in message.lower()
    assert server.hits["/slow"] == 2
    assert rec.sleeps == [1.0]
    assert list(tmp_path.iterdir()) == []


def _closed_port_url() -> str:
    """A URL on 127.0.0.1 whose port has nothing listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/export.xlsx"


def test_unreachable_host_names_the_url(tmp_path: Path) -> None:
    url = _closed_port_url()
    rec = _Recorder()
    with pytest.raises(FetchError, match="ConnectionError") as info:
        _fetch(tmp_path, url, rec, retries=1)
    assert url in str(info.value)
    assert rec.sleeps == [1.0]
    assert list(tmp_path.iterdir()) == []


def test_negative_retries_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="retries"):
        fetch_export(tmp_path, "http://127.0.0.1:9/", retries=-1)


# --- the export formats ------------------------------------------------------------------


def test_export_url_per_format() -> None:
    assert EXPORT_FORMATS == ("xlsx", "csv", "parquet")
    assert DEFAULT_URL == export_url("xlsx") == export_url()
    base = "https://opendata.vancouver.ca/api/explore/v2.1/catalog/datasets/"
    for kind in EXPORT_FORMATS:
        assert export_url(kind) == f"{base}3-1-1-contact-centre-metrics/exports/{kind}"
    with pytest.raises(ValueError, match="xlsx, csv, parquet"):
        export_url("json")  # type: ignore[arg-type]


@pytest.mark.parametrize(("kind", "body"), [("csv", "csv"), ("parquet", "parquet")])
def test_csv_and_parquet_exports_are_accepted_and_named_by_format(
    server: _Server, workbooks: dict[str, bytes], tmp_path: Path, kind: ExportFormat, body: str
) -> None:
    path = fetch_export(
        tmp_path, server.url(f"/exports/{kind}"), export_format=kind, sleep=_Recorder().sleep
    )
    assert path == tmp_path / f"3-1-1-contact-centre-metrics.{kind}"
    assert path.read_bytes() == workbooks[body]
    assert list(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize(
    ("kind", "route", "expected"),
    [
        ("csv", "/html", "did not return CSV: it is an HTML page"),
        ("csv", "/json", "did not return CSV: it is JSON"),
        ("csv", "/exports/parquet", "did not return CSV: it is a Parquet file"),
        ("parquet", "/html", "did not return a Parquet file: it is an HTML page"),
        ("parquet", "/ok", r"did not return a Parquet file: it is a workbook \(\.xlsx\)"),
        ("parquet", "/exports/csv", "did not return a Parquet file: it is CSV"),
        ("parquet", "/parquet-cut", "it is a Parquet file cut short"),
    ],
)
def test_a_body_not_in_the_chosen_format_is_rejected(
    server: _Server, tmp_path: Path, kind: ExportFormat, route: str, expected: str
) -> None:
    url = server.url(route)
    with pytest.raises(FetchError, match=expected) as info:
        fetch_export(tmp_path, url, export_format=kind, sleep=_Recorder().sleep)
    message = str(info.value)
    assert message.startswith(f"{url} did not return ")
    assert "content-type" in message
    assert "bytes starting" in message
    assert server.hits[route] == 1, "a bad body is not retried"
    assert list(tmp_path.iterdir()) == []


def test_the_default_url_follows_the_format(
    server: _Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("dap.ingest.exports.EXPORTS_URL", server.url("/exports"))
    path = fetch_export(tmp_path, export_format="csv")
    assert path.name == "3-1-1-contact-centre-metrics.csv"
    assert server.hits["/exports/csv"] == 1


def test_dap_fetch_format_option(
    server: _Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("dap.ingest.exports.EXPORTS_URL", server.url("/exports"))
    assert main(["fetch", "--out", str(tmp_path), "--format", "parquet"]) == 0
    assert capsys.readouterr().out == f"{tmp_path / '3-1-1-contact-centre-metrics.parquet'}\n"
    assert main(["fetch", "--out", str(tmp_path)]) == 0  # xlsx, as before
    assert capsys.readouterr().out == f"{tmp_path / '3-1-1-contact-centre-metrics.xlsx'}\n"
    assert (server.hits["/exports/parquet"], server.hits["/exports/xlsx"]) == (1, 1)
    url = server.url("/exports/csv")
    assert main(["fetch", "--out", str(tmp_path / "c"), "--format", "csv", "--url", url]) == 0
    assert (tmp_path / "c" / "3-1-1-contact-centre-metrics.csv").read_bytes() == PORTAL_CSV
    with pytest.raises(SystemExit):
        main(["fetch", "--out", str(tmp_path), "--format", "json"])
    assert "invalid choice: 'json'" in capsys.readouterr().err
