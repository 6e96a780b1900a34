"""Errors the CLI reports to people: one line, naming where the problem is.

Every error also has a ``code``: a short, stable name of its class of problem, for
machines (the refusal records and the extract event log, :mod:`dap.lake.extracts`), where
the message is for people and may change. :data:`REFUSAL_CODES` lists the codes a refused
file can get.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dap.ingest.pii import PiiFinding


class DapError(Exception):
    """An error with a message fit for the terminal; the CLI prints it without a traceback."""

    code: str = "error"
    """A short, stable name of the kind of problem (see :data:`REFUSAL_CODES`)."""


def printable(text: str) -> str:
    """``text`` with every character a terminal would act on or hide written as an escape
    (``\\n``, ``\\x1b``, ``\\u202e``): controls, line and paragraph separators, format
    characters such as bidirectional overrides, and unassigned code points. A name taken
    from a file, a sheet or a zip member is printed through this, so it cannot start a new
    line of the loader's output, forge one, colour the terminal or reorder what follows.
    Letters of every script, accents and ordinary spaces are kept as they are."""
    if text.isprintable():  # the common case, fast: nothing to escape
        return text
    return "".join(ch if ch.isprintable() or ch == " " else _escape(ch) for ch in text)


def _escape(ch: str) -> str:
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


@dataclass(frozen=True)
class Location:
    """Where in a workbook a problem was found. Rows are 1-based, as Excel shows them."""

    file: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        parts = [printable(self.file)]
        if self.sheet is not None:
            parts.append(f"sheet {self.sheet!r}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts)


REFUSAL_CODES: dict[str, str] = {
    "personal_data": "personal data in a cell, a sheet name or the file name (--pii=stop)",
    "encrypted": "password-protected: the file is encrypted and cannot be read",
    "too_large": "more than the loader reads: members, sizes, cells, rows or shared strings "
    "past their limits (a decompression bomb, a stray cell far away, ...)",
    "damaged": "a damaged file: a zip member fails its checksum, is cut short or inflates "
    "to another size than declared",
    "unsupported_format": "a file of another kind (PDF, gzip, a Word document, XML, TSV, a "
    "zip of other files, column types the loader does not read, ...)",
    "not_a_workbook": "not a readable workbook, CSV or Parquet file (empty, blank, or the "
    "reader fails on it)",
    "no_metric_sheet": "no sheet has a header row with the metric columns",
    "missing_column": "a metrics sheet lacks a required column",
    "duplicate_header": "a metric column's header appears more than once",
    "no_data_rows": "no data rows under the header",
    "unreadable_dates": "most values of the date column are not dates",
    "unreadable": "the file or one of its sheets cannot be read",
    "unclassified": "a whole-file problem without a code of its own yet",
}
"""Why a file was refused, by code: each code is a class of problem; the message says
where and what to do. Stable: the codes are stored in the extract event log."""

_PROBLEM_CODES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (code, re.compile(pattern))
    for code, pattern in (
        ("encrypted", r"password-protected|\bis encrypted\b"),
        (
            "too_large",
            r"refusing to read it|too large to read|more than a sheet holds|more than the [\d,]+ ",
        ),
        ("damaged", r"\bis damaged\b|damaged zip archive|CRC-32"),
        (
            "unsupported_format",
            r"\bit is an? |not one the loader reads|OpenDocument file of type|compression method"
            r"|the loader reads columns of",
        ),
        ("not_a_workbook", r"not a readable|the file is empty|nothing but blank space"),
        (
            "no_metric_sheet",
            r"no sheet has the required columns|no header row with the required columns"
            r"|but no row under it has a readable",
        ),
        ("missing_column", r"required column missing|no measure column"),
        ("duplicate_header", r"appears more than once"),
        ("no_data_rows", r"no data rows"),
        ("unreadable_dates", r"the date column \(\w+\) cannot be read"),
        ("unreadable", r"cannot read the file|cannot be read|the text is not"),
    )
)


def problem_code(problem: str) -> str:
    """The :data:`REFUSAL_CODES` code of a whole-file problem raised without one, told
    from its wording (the first matching class, most specific first); ``unclassified``
    when none matches. A raise site that passes ``code=`` is not guessed at."""
    for code, pattern in _PROBLEM_CODES:
        if pattern.search(problem):
            return code
    return "unclassified"


class WorkbookError(DapError):
    """A whole-file problem: the workbook cannot be loaded and nothing is written.

    ``code`` (one of :data:`REFUSAL_CODES`) is given by the raise site, or told from the
    problem's wording (:func:`problem_code`)."""

    def __init__(self, location: Location, problem: str, *, code: str | None = None) -> None:
        self.location = location
        self.problem = problem
        self.code = code or problem_code(problem)
        super().__init__(f"{location}: {problem}")


class FetchError(DapError):
    """The export could not be downloaded, or what came back is not a workbook."""

    code = "fetch_failed"


class LakeError(DapError):
    """The lake could not be read or written (permissions, missing bucket, ...)."""

    code = "lake_error"


class CatalogError(DapError):
    """The raw zone could not be registered in the Glue Data Catalog."""

    code = "catalog_error"


class ExtractNotFoundError(DapError):
    """``dap retract``/``restore``: no landed extract, or more than one, matches what was
    given; the message lists the candidates."""

    code = "extract_not_found"


class PiiError(WorkbookError):
    """Personal data in a workbook (``stop`` policy): it is not loaded. The message names
    where and which kind, never the value; ``findings`` lists every cell found."""

    SHOWN = 10
    """How many further findings the message lists."""

    def __init__(self, findings: Sequence[PiiFinding]) -> None:
        if not findings:
            raise ValueError("PiiError needs at least one finding")
        self.findings = list(findings)
        first, rest = self.findings[0], self.findings[1:]
        more = ""
        if rest:
            shown: list[str] = []
            sheet = first.location.sheet
            for finding in rest[: self.SHOWN]:
                shown.append(f"{self._brief(finding.location, sheet)} ({finding.kind.label})")
                sheet = finding.location.sheet
            if len(rest) > self.SHOWN:
                shown.append(f"and {len(rest) - self.SHOWN} more")
            more = f"; {len(rest)} more: " + ", ".join(shown)
        loc = first.location
        part = " in the file name" if loc.sheet is None else ""
        part = " in the sheet name" if loc.sheet is not None and loc.row is None else part
        super().__init__(
            loc,
            f"personal data found ({first.kind.label}{part}; the value is not shown){more}. "
            "Nothing was loaded. Remove it from the workbook, or re-run with --pii=mask to "
            "land the workbook with personal data masked",
            code="personal_data",
        )

    @staticmethod
    def _brief(location: Location, previous_sheet: str | None) -> str:
        """A finding's place, short: ``H12`` within the sheet listed just before."""
        if location.sheet is None:
            return "the file name"
        if location.row is None or location.column is None:
            return f"the name of sheet {location.sheet!r}"
        cell = f"{location.column}{location.row}"
        return cell if location.sheet == previous_sheet else f"sheet {location.sheet!r} {cell}"
