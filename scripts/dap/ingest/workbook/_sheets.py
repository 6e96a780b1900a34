"""Finding a sheet's header row: where the metric columns are, or that the sheet has none
(then it is skipped), or that its header is broken (a whole-file problem)."""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

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


HEADERS_SHOWN = 10
"""How many of a row's header texts a message shows."""
_NEAR_MATCH = 0.7
"""How alike (difflib's ratio, on the normalised forms) a header must be to a column's name
to be suggested as meant for it in a message."""
_MISNAMED = 0.8
"""How alike a header beside a qualifying header row must be to a measure the row lacks to
stop the load as probably misnamed (``Avg Speed of Answer`` for AverageSpeedofAnswer)."""


@dataclass(frozen=True)
class HeaderSeen:
    """A sheet's most header-like row among its first rows, for messages: the row with the
    most metric column names, then the most text cells."""

    sheet: str
    row: int
    texts: list[str]

    def describe(self) -> str:
        return f"sheet {self.sheet!r} row {self.row}: {shown_headers(self.texts)}"


def shown_headers(texts: Sequence[str]) -> str:
    """The first :data:`HEADERS_SHOWN` header texts, quoted, with invisible characters
    escaped (a tab as ``\\t``, a zero-width space as ``\\u200b``)."""
    shown = ", ".join(_shown(text) for text in texts[:HEADERS_SHOWN])
    more = len(texts) - HEADERS_SHOWN
    return shown + (f" and {more} more" if more > 0 else "") if texts else "no text"


def _shown(text: str) -> str:
    """``text`` in single quotes, every control, format, separator or non-ASCII space
    character written as an escape, so what a message shows is what the cell holds."""
    out = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch == " " or category[0] not in "CZ":
            out.append(ch)
        elif ch in "\t\n\r":
            out.append({"\t": "\\t", "\n": "\\n", "\r": "\\r"}[ch])
        else:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
    return "'" + "".join(out) + "'"


def _header_texts(cells: Sequence[object]) -> list[str]:
    return [cell.strip() for cell in cells if isinstance(cell, str) and cell.strip()]


def near_matches(texts: Sequence[str], columns: Sequence[MetricColumn], cutoff: float) -> list[str]:
    """For each of ``columns``, the header among ``texts`` (none of them a column's name)
    nearest to its name, as advice: ``'Avg Speed of Answer' may be meant as
    AverageSpeedofAnswer: rename the header``."""
    candidates: dict[str, str] = {}
    for text in texts:
        key = normalise_header(text)
        if key and key not in HEADER_INDEX:
            candidates.setdefault(key, text)
    hints = []
    for column in columns:
        found = difflib.get_close_matches(
            normalise_header(column.label), list(candidates), n=1, cutoff=cutoff
        )
        if found:
            hints.append(
                f"{_shown(candidates[found[0]])} may be meant as {column.label}: rename the header"
            )
    return hints


def _missing(positions: dict[MetricColumn, int]) -> list[MetricColumn]:
    return [c for c in METRIC_COLUMNS if (c.required or c.measure) and c not in positions]


class _PartialHeaderError(WorkbookError):
    """A header lacking the date or every measure, or naming only some measures, with no
    figures under it: perhaps a notes sheet. The sheet is skipped; the error is raised only
    if no sheet of the workbook qualifies."""


def _find_header(
    file_name: str,
    sheet: str,
    rows: Iterator[Sequence[object]],
    seen: list[HeaderSeen] | None = None,
) -> tuple[int, dict[MetricColumn, int]] | None:
    """Row number and column positions of the header, or None for a sheet without metrics.

    A row naming at least two of the metric columns is a header. It must name the date
    and at least one measure; the measures it names are those the sheet carries (a sheet
    may carry some only). A header without the date or without any measure is an error
    when rows of figures follow it, and a sheet of notes (skipped) when none do; so is a
    header beside it that looks like a measure the row lacks (``Service Level %``).

    When no row qualifies, the most header-like row is added to ``seen`` for messages.
    """
    best: tuple[int, int, int, list[str]] | None = None  # (names, texts, -row, texts)
    for offset, cells in enumerate(rows):
        if offset >= HEADER_SEARCH_ROWS:
            break
        found: dict[MetricColumn, list[int]] = {}
        for index, cell in enumerate(cells):
            column = HEADER_INDEX.get(normalise_header(cell)) if isinstance(cell, str) else None
            if column is not None:
                found.setdefault(column, []).append(index)
        if seen is not None:
            texts = _header_texts(cells)
            score = (len(found), len(texts), -offset, texts)
            if texts and (best is None or score[:3] > best[:3]):
                best = score
        if len(found) < 2:
            continue
        row_number = offset + 1
        positions = {column: indexes[0] for column, indexes in found.items()}
        problem = _header_problem(file_name, sheet, row_number, positions, cells)
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
        _check_misnamed(file_name, sheet, row_number, positions, cells)
        return row_number, positions
    if seen is not None and best is not None:
        seen.append(HeaderSeen(sheet, -best[2] + 1, best[3]))
    return None


def _check_misnamed(
    file_name: str,
    sheet: str,
    row_number: int,
    positions: dict[MetricColumn, int],
    cells: Sequence[object],
) -> None:
    """A qualifying header with a text very like a measure it lacks: most likely that
    measure under another wording, which would otherwise land as not carried."""
    lacking = [c for c in MEASURE_COLUMNS if c not in positions]
    hints = near_matches(_header_texts(cells), lacking, _MISNAMED) if lacking else []
    if hints:
        raise WorkbookError(
            Location(file_name, sheet, row_number),
            f"the header row has no {' or '.join(c.label for c in lacking)} column, and "
            + "; ".join(hints)
            + f" (the header row has {shown_headers(_header_texts(cells))}). If that column "
            "is another figure, give it a header unlike the measures' names",
            code="missing_column",
        )


def _header_problem(
    file_name: str,
    sheet: str,
    row_number: int,
    positions: dict[MetricColumn, int],
    cells: Sequence[object] = (),
) -> WorkbookError | None:
    """Why a header row cannot be a metrics sheet's header, or None if it can. The message
    shows the row's headers and, for each column it lacks, the nearest of them."""
    texts = _header_texts(cells)
    advice = "".join(f"; {hint}" for hint in near_matches(texts, _missing(positions), _NEAR_MATCH))
    has = f"; the header row has {shown_headers(texts)}" if texts else ""
    missing = [c for c in METRIC_COLUMNS if c.required and c not in positions]
    if missing:
        return WorkbookError(
            Location(file_name, sheet, row_number, missing[0].label),
            "required column missing: " + ", ".join(repr(c.label) for c in missing) + has + advice,
        )
    if not any(c in positions for c in MEASURE_COLUMNS):
        return WorkbookError(
            Location(file_name, sheet, row_number),
            "no measure column in the header: a metrics sheet needs "
            + WANTED_COLUMNS
            + "; name the figures' columns in the header row"
            + has
            + advice,
        )
    return None


def headers_seen_note(seen: Sequence[HeaderSeen]) -> str:
    """For a message saying no sheet qualifies: the most header-like row of each sheet read
    and, for the columns it lacks, the nearest of its headers."""
    if not seen:
        return ""
    parts = []
    for header in seen:
        found = {
            HEADER_INDEX[key] for t in header.texts if (key := normalise_header(t)) in HEADER_INDEX
        }
        lacking = [c for c in METRIC_COLUMNS if (c.required or c.measure) and c not in found]
        hints = near_matches(header.texts, lacking, _NEAR_MATCH)
        parts.append(header.describe() + "".join(f"; {hint}" for hint in hints))
    return ". Headers seen: " + " | ".join(parts)


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
