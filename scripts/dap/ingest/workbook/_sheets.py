"""Finding a sheet's header row: where the metric columns are, or that the sheet has none
(then it is skipped), or that its header is broken (a whole-file problem)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from dap.errors import Location, WorkbookError
from dap.ingest.cells import PARSERS
from dap.ingest.pii import column_letter
from dap.ingest.workbook._parsed import _Columns
from dap.schema import (
    HEADER_INDEX,
    MEASURE_COLUMNS,
    METRIC_COLUMNS,
    MetricColumn,
    normalise_header,
)

HEADER_SEARCH_ROWS = 20
"""How far down a sheet the header row may start (title rows above it are allowed)."""

WANTED_COLUMNS = (
    " and ".join(c.label for c in METRIC_COLUMNS if c.required)
    + " and at least one of "
    + ", ".join(c.label for c in MEASURE_COLUMNS)
)
"""What a metrics sheet's header must name, for messages: the date and one measure or more
(an extract may carry some of the day's figures only; dbt merges extracts by date)."""


class _PartialHeaderError(WorkbookError):
    """A header lacking the date or every measure, or naming only some measures, with no
    figures under it: perhaps a notes sheet. The sheet is skipped; the error is raised only
    if no sheet of the workbook qualifies."""


def _find_header(
    file_name: str, sheet: str, rows: Iterator[Sequence[object]]
) -> tuple[int, dict[MetricColumn, int]] | None:
    """Row number and column positions of the header, or None for a sheet without metrics.

    A row naming at least two of the metric columns is a header. It must name the date
    and at least one measure; the measures it names are those the sheet carries (a sheet
    may carry some only). A header without the date or without any measure is an error
    when rows of figures follow it, and a sheet of notes (skipped) when none do.
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
        problem = _header_problem(file_name, sheet, row_number, positions)
        if problem is not None and not _figures_follow(rows, positions):
            raise _PartialHeaderError(problem.location, problem.problem)
        for column, indexes in found.items():
            if len(indexes) > 1:
                letters = " and ".join(column_letter(i) for i in indexes)
                raise WorkbookError(
                    Location(file_name, sheet, row_number, column.label),
                    f"the header appears more than once, in columns {letters}",
                )
        if problem is not None:
            raise problem
        return row_number, positions
    return None


def _header_problem(
    file_name: str, sheet: str, row_number: int, positions: dict[MetricColumn, int]
) -> WorkbookError | None:
    """Why a header row cannot be a metrics sheet's header, or None if it can."""
    missing = [c for c in METRIC_COLUMNS if c.required and c not in positions]
    if missing:
        return WorkbookError(
            Location(file_name, sheet, row_number, missing[0].label),
            "required column missing: " + ", ".join(repr(c.label) for c in missing),
        )
    if not any(c in positions for c in MEASURE_COLUMNS):
        return WorkbookError(
            Location(file_name, sheet, row_number),
            "no measure column in the header: a metrics sheet needs "
            + WANTED_COLUMNS
            + "; name the figures' columns in the header row",
        )
    return None


def _carries_some_measures_only(positions: dict[MetricColumn, int]) -> bool:
    return any(c not in positions for c in MEASURE_COLUMNS)


def _has_figures(data: _Columns, positions: dict[MetricColumn, int]) -> bool:
    """Whether any typed row of a sheet has a readable value in one of its header's columns."""
    if data.rows == 0:
        return False
    return any(data.column(c.raw_name).null_count < data.rows for c in positions)


def _notes_sheet(
    file_name: str, sheet: str, header_row: int, positions: dict[MetricColumn, int]
) -> _PartialHeaderError:
    """A sheet whose header names the date and some measures (not all) but has no readable
    date or figure under it: notes about the columns rather than an extract, skipped."""
    named = ", ".join(c.label for c in METRIC_COLUMNS if c in positions)
    return _PartialHeaderError(
        Location(file_name, sheet, header_row),
        f"the header names {named} but no row under it has a readable date or figure; "
        f"a metrics sheet needs {WANTED_COLUMNS} with figures under them",
    )


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
