"""Finding a sheet's header row: where the metric columns are, or that the sheet has none
(then it is skipped), or that its header is broken (a whole-file problem)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from dap.errors import Location, WorkbookError
from dap.ingest.cells import PARSERS
from dap.ingest.pii import column_letter
from dap.schema import HEADER_INDEX, METRIC_COLUMNS, MetricColumn, normalise_header

HEADER_SEARCH_ROWS = 20
"""How far down a sheet the header row may start (title rows above it are allowed)."""


class _PartialHeaderError(WorkbookError):
    """A header lacking required columns with no figures under it: perhaps a notes sheet.
    The sheet is skipped; the error is raised only if no sheet of the workbook qualifies."""


def _find_header(
    file_name: str, sheet: str, rows: Iterator[Sequence[object]]
) -> tuple[int, dict[MetricColumn, int]] | None:
    """Row number and column positions of the header, or None for a sheet without metrics.

    A row naming at least two of the metric columns is a header. If it lacks a required
    column, the sheet is an error when rows of figures follow it, and a sheet of notes
    (skipped) when none do.
    """
    for offset, cells in enumerate(rows):
        if offset >= HEADER_SEARCH_ROWS:
            return None
        found: dict[MetricColumn, list[int]] = {}
        for index, cell in enumerate(cells):
            column = HEADER_INDEX.get(normalise_header(cell)) if isinstance(cell, str) else None
            if column is not None:
                found.setdefault(column, []).append(index)
        if len(found) < 2:
            continue
        row_number = offset + 1
        positions = {column: indexes[0] for column, indexes in found.items()}
        missing = [c for c in METRIC_COLUMNS if c.required and c not in found]
        if missing:
            where = Location(file_name, sheet, row_number, missing[0].label)
            problem = "required column missing: " + ", ".join(repr(c.label) for c in missing)
            if not _figures_follow(rows, positions):
                raise _PartialHeaderError(where, problem)
        for column, indexes in found.items():
            if len(indexes) > 1:
                letters = " and ".join(column_letter(i) for i in indexes)
                raise WorkbookError(
                    Location(file_name, sheet, row_number, column.label),
                    f"the header appears more than once, in columns {letters}",
                )
        if missing:
            raise WorkbookError(where, problem)
        return row_number, positions
    return None


def _figures_follow(rows: Iterator[Sequence[object]], positions: dict[MetricColumn, int]) -> bool:
    """Whether any row under a header has a readable value in one of its metric columns.

    Consumes the sheet: only called when the sheet will not be read further.
    """
    for cells in rows:
        for column, index in positions.items():
            value, problem = PARSERS[column.kind](cells[index] if index < len(cells) else None)
            if value is not None and problem is None:
                return True
    return False
