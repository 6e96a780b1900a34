"""Download the City's 3-1-1 contact centre export from the open-data portal.

The body is streamed to a temporary file in the output directory, checked to be a workbook
(an `.xlsx` zip holding ``xl/workbook.xml``, or a legacy OLE2 `.xls`) and only then renamed
to ``3-1-1-contact-centre-metrics.xlsx`` (or ``.xls``). Connection errors, timeouts, HTTP 429
and 5xx are retried with exponential backoff; other failures raise `FetchError` at once.
Nothing is left behind in the output directory when the download fails.
"""

from __future__ import annotations

import os
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import requests

from dap.errors import FetchError

DEFAULT_URL = (
    "https://opendata.vancouver.ca/api/explore/v2.1/catalog/datasets/"
    "3-1-1-contact-centre-metrics/exports/xlsx"
)
EXPORT_STEM = "3-1-1-contact-centre-metrics"
MAX_DELAY = 60.0
CHUNK_SIZE = 1 << 16
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
PEEK_BYTES = 64


class _RetryableError(Exception):
    """A failure worth another attempt (connection, timeout, 429, 5xx)."""

    def __init__(self, description: str, retry_after: float | None = None) -> None:
        super().__init__(description)
        self.retry_after = retry_after


def fetch_export(
    out_dir: Path,
    url: str = DEFAULT_URL,
    *,
    timeout: float = 60.0,
    retries: int = 4,
    backoff: float = 1.0,
    progress: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Path:
    """Download the export into ``out_dir`` and return the workbook's path.

    ``timeout`` applies to connecting and to each read; ``retries`` is how many more attempts
    follow a failed one (so ``retries + 1`` in all), waiting ``backoff * 2**n`` seconds
    (or the server's numeric ``Retry-After``), never more than 60 s.
    """
    if retries < 0:
        raise ValueError("retries must be >= 0")
    report = progress or (lambda _message: None)
    out_dir.mkdir(parents=True, exist_ok=True)
    attempts = retries + 1
    last_error = ""
    for attempt in range(attempts):
        report(f"downloading {url} (attempt {attempt + 1} of {attempts})")
        try:
            return _download_once(out_dir, url, timeout, report)
        except _RetryableError as exc:
            last_error = str(exc)
            if attempt + 1 == attempts:
                break
            delay = min(MAX_DELAY, max(backoff * 2**attempt, exc.retry_after or 0.0))
            report(f"{last_error}; retrying in {delay:g} s")
            sleep(delay)
    raise FetchError(
        f"could not download {url} after {attempts} attempt{'s' * (attempts > 1)}: {last_error}"
    )


def _download_once(out_dir: Path, url: str, timeout: float, report: Callable[[str], None]) -> Path:
    """One attempt: request, stream to a temp file, validate, rename into place."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{EXPORT_STEM}.", suffix=".part", dir=out_dir)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            content_type, size = _stream(url, timeout, fh)
        report(f"downloaded {_human_size(size)}")
        suffix = _workbook_suffix(tmp, url, content_type, size)
        tmp.chmod(0o644)
        target = out_dir / f"{EXPORT_STEM}{suffix}"
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def _stream(url: str, timeout: float, fh: BinaryIO) -> tuple[str, int]:
    """GET ``url`` and write the body to ``fh``; return its content type and size."""
    try:
        with requests.get(url, stream=True, timeout=(timeout, timeout)) as response:
            _check_status(url, response)
            size = 0
            for chunk in response.iter_content(chunk_size=CHUNK_SIZE):
                fh.write(chunk)
                size += len(chunk)
            return str(response.headers.get("Content-Type", "unknown")), size
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise _RetryableError(f"{type(exc).__name__}: {exc}") from exc
    except requests.exceptions.ChunkedEncodingError as exc:
        raise _RetryableError(f"connection broken mid-download: {exc}") from exc
    except requests.RequestException as exc:
        raise FetchError(f"could not download {url}: {type(exc).__name__}: {exc}") from exc


def _check_status(url: str, response: requests.Response) -> None:
    status = int(response.status_code)
    if 200 <= status < 300:
        return
    description = f"HTTP {status} {response.reason or ''}".rstrip()
    if status == 429 or status >= 500:
        raise _RetryableError(description, _retry_after(response))
    raise FetchError(f"could not download {url}: {description}")


def _retry_after(response: requests.Response) -> float | None:
    """The numeric Retry-After header in seconds, if any (HTTP dates are ignored)."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _workbook_suffix(path: Path, url: str, content_type: str, size: int) -> str:
    """``.xlsx`` or ``.xls`` for a workbook; `FetchError` describing anything else."""
    with path.open("rb") as fh:
        head = fh.read(PEEK_BYTES)
    if head.startswith(OLE2_MAGIC):
        return ".xls"
    if head.startswith(ZIP_MAGIC):
        problem = _zip_problem(path)
        if problem is None:
            return ".xlsx"
    else:
        problem = "neither an .xlsx nor an .xls"
    raise FetchError(
        f"{url} did not return a workbook: got {problem}, content-type {content_type!r}, "
        f"{size:,} bytes starting {head[:32]!r}"
    )


def _zip_problem(path: Path) -> str | None:
    """What is wrong with a zip that should be an `.xlsx`, or None when it is sound."""
    try:
        with zipfile.ZipFile(path) as archive:
            if "xl/workbook.xml" not in archive.namelist():
                return "a zip archive that is not an Excel workbook (no xl/workbook.xml)"
            bad = archive.testzip()
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
        return f"a damaged or truncated zip archive ({exc})"
    return None if bad is None else f"a damaged zip archive (bad CRC in {bad})"


def _human_size(size: int) -> str:
    if size >= 1_000_000:
        return f"{size / 1_000_000:.1f} MB"
    if size >= 1_000:
        return f"{size / 1_000:.1f} kB"
    return f"{size} bytes"
