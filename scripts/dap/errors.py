"""Errors the CLI reports to people: one line, naming where the problem is."""

from __future__ import annotations

from dataclasses import dataclass


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
