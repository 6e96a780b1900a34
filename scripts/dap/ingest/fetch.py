"""Download the City's 3-1-1 contact centre export from the open-data portal.

The portal exports the dataset as ``xlsx`` (the default here), ``csv`` (``;``-delimited,
with a byte-order mark) or ``parquet``, at ``…/exports/{format}`` (:func:`export_url`).
The body is streamed to a temporary file in the output directory, checked to be the format
asked for (an `.xlsx` zip holding ``xl/workbook.xml`` or a legacy OLE2 `.xls`; CSV text
that ``dap load`` reads; a Parquet file with ``PAR1`` at both ends: told from the content by
:func:`dap.ingest.formats.detect_format`, so an HTML or JSON error page never passes) and
only then renamed to ``3-1-1-contact-centre-metrics.<format>`` (``.xls`` for a legacy
workbook). Connection errors, timeouts, HTTP 429 and 5xx are retried with exponential
backoff (by :mod:`tenacity`); other failures raise `FetchError` at once. Nothing is left
behind in the output directory when the download fails.
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
import tenacity

from dap.errors import FetchError, WorkbookError
from dap.ingest.exports import EXPORT_STEM, ExportFormat, export_url

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
    url: str | None = None,
    *,
    export_format: ExportFormat = "xlsx",
    timeout: float = 60.0,
    retries: int = 4,
    backoff: float = 1.0,
    progress: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Path:
    """Download the export into ``out_dir`` and return the file's path.

    ``export_format`` is what the body must be (and the file's extension); ``url``
    defaults to the portal's export in that format (:func:`export_url`).
    ``timeout`` applies to connecting and to each read; ``retries`` is how many more attempts
    follow a failed one (so ``retries + 1`` in all), waiting ``backoff * 2**n`` seconds
    (or the server's numeric ``Retry-After``), never more than 60 s. ``sleep`` does the
    waiting (tests pass one that only records how long it was asked to wait).
    """
    if retries < 0:
        raise ValueError("retries must be >= 0")
    url = url or export_url(export_format)
    report = progress or (lambda _message: None)
    out_dir.mkdir(parents=True, exist_ok=True)
    attempts = retries + 1

    def before_attempt(state: tenacity.RetryCallState) -> None:
        report(f"downloading {url} (attempt {state.attempt_number} of {attempts})")

    def before_sleep(state: tenacity.RetryCallState) -> None:
        delay = state.next_action.sleep if state.next_action else 0.0
        report(f"{_failure(state)}; retrying in {delay:g} s")

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(attempts),
        wait=_wait(backoff),
        retry=tenacity.retry_if_exception_type(_RetryableError),
        before=before_attempt,
        before_sleep=before_sleep,
        sleep=lambda seconds: sleep(float(seconds)),
        reraise=True,  # the last _RetryableError itself, not tenacity's RetryError
    )
    try:
        return retrying(_download_once, out_dir, url, timeout, report, export_format)
    except _RetryableError as exc:
        raise FetchError(
            f"could not download {url} after {attempts} attempt{'s' * (attempts > 1)}: {exc}"
        ) from exc


def _wait(backoff: float) -> Callable[[tenacity.RetryCallState], float]:
    """The wait before each retry: ``backoff * 2**n`` before retry n + 1, or the server's
    Retry-After if that is longer; never more than `MAX_DELAY`."""
    exponential = tenacity.wait_exponential(multiplier=backoff)

    def wait(state: tenacity.RetryCallState) -> float:
        outcome = state.outcome
        error = outcome.exception() if outcome is not None and outcome.failed else None
        retry_after = error.retry_after if isinstance(error, _RetryableError) else None
        return min(MAX_DELAY, max(exponential(state), retry_after or 0.0))

    return wait


def _failure(state: tenacity.RetryCallState) -> str:
    """The failed attempt's description (its exception's message)."""
    outcome = state.outcome
    return str(outcome.exception()) if outcome is not None and outcome.failed else "failed"


def _download_once(
    out_dir: Path,
    url: str,
    timeout: float,
    report: Callable[[str], None],
    export_format: ExportFormat,
) -> Path:
    """One attempt: request, stream to a temp file, validate, rename into place."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{EXPORT_STEM}.", suffix=".part", dir=out_dir)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            content_type, size = _stream(url, timeout, fh)
        report(f"downloaded {_human_size(size)}")
        if export_format == "xlsx":
            suffix = _workbook_suffix(tmp, url, content_type, size)
        else:
            suffix = _export_suffix(tmp, url, content_type, size, export_format)
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


_DESCRIBED = {"csv": "CSV", "parquet": "a Parquet file"}


def _export_suffix(
    path: Path, url: str, content_type: str, size: int, export_format: ExportFormat
) -> str:
    """``.csv`` or ``.parquet`` when the body is that format, told from its content as
    ``dap load`` tells it; `FetchError` saying what it is otherwise."""
    from dap.ingest.formats import NOT_READABLE, detect_format  # noqa: PLC0415 - loader's import

    data = path.read_bytes()
    try:
        found = detect_format(path.name, data).format
    except WorkbookError as exc:  # what it is, without what to do with it
        what = exc.problem.removeprefix(f"{NOT_READABLE}: ").split(";")[0]
    else:
        if found.value == export_format:
            return found.extension
        what = f"it is {_DESCRIBED.get(found.value, f'a workbook (.{found.value})')}"
    raise FetchError(
        f"{url} did not return {_DESCRIBED[export_format]}: {what}; content-type {content_type!r}, "
        f"{size:,} bytes starting {data[:32]!r}"
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
