"""The container check's entry point: tell the container by its first bytes and hand it
to the check for its kind (:mod:`._ole` or :mod:`._zip`); anything else is left to the
parser."""

from __future__ import annotations

from dataclasses import dataclass, field

from dap.errors import Location
from dap.ingest.guard._ole import _CFB_MAGIC, _check_compound_file
from dap.ingest.guard._sheet_xml import SheetCells
from dap.ingest.guard._zip import _ZIP_MAGIC, _ZipCheck


@dataclass
class ArchiveReport:
    """What the container check learnt that the parser will not tell."""

    notes: dict[str, dict[tuple[int, int], str]] = field(default_factory=dict)
    """Sheet name (as the workbook names it) -> (row, column), 0-based -> why the cell,
    which the parser reads as empty, has no value: ``error cell #N/A`` or ``formula with
    no saved value``."""
    cells: dict[str, SheetCells] = field(default_factory=dict)
    """Sheet name -> its cells counted in the XML (an `.xlsx` only): what the fast read
    (:mod:`dap.ingest.workbook._fast`) checks that it read every cell as it was."""


def check_archive(file_name: str, data: bytes) -> ArchiveReport:
    """Raise :class:`WorkbookError` for an encrypted, damaged or hostile container;
    otherwise return the notes on cells the parser will read as empty.

    ``file_name`` is used in messages as given (the caller masks it)."""
    where = Location(file_name)
    if data.startswith(_CFB_MAGIC):
        _check_compound_file(where, data)
        return ArchiveReport()
    if not data.startswith(_ZIP_MAGIC):
        return ArchiveReport()  # not a zip: the parser says whether it can read it
    check = _ZipCheck(file_name, data)
    return ArchiveReport(check.run(), check.cells)
