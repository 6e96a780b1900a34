"""Errors the CLI reports to people: one line, naming where the problem is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dap.ingest.pii import PiiFinding


class DapError(Exception):
    """An error with a message fit for the terminal; the CLI prints it without a traceback."""


@dataclass(frozen=True)
class Location:
    """Where in a workbook a problem was found. Rows are 1-based, as Excel shows them."""

    file: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        parts = [self.file]
        if self.sheet is not None:
            parts.append(f"sheet {self.sheet!r}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts)


class WorkbookError(DapError):
    """A whole-file problem: the workbook cannot be loaded and nothing is written."""

    def __init__(self, location: Location, problem: str) -> None:
        self.location = location
        self.problem = problem
        super().__init__(f"{location}: {problem}")


class FetchError(DapError):
    """The export could not be downloaded, or what came back is not a workbook."""


class LakeError(DapError):
    """The lake could not be read or written (permissions, missing bucket, ...)."""


class CatalogError(DapError):
    """The raw zone could not be registered in the Glue Data Catalog."""


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
