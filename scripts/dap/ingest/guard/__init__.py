"""Checks on a workbook's container before any parser reads it.

The parser (calamine, in Rust) trusts the file: it inflates every zip member in full and
allocates a cell for every position between a sheet's first and last cell. A small file
can therefore make it use any amount of memory (a 1 MB zip that inflates to gigabytes,
or one cell at ``XFD1048576`` that asks for 17 billion cells), and an allocation that
fails aborts the process. So before a workbook is parsed, :func:`check_archive` refuses
an encrypted, damaged or hostile container with a message, and returns notes on the cells
the parser reads as empty that are not (error cells, formulas saved without a value) so
that the loader can say why the value is missing. At the same time :class:`ParserProbe`
has the parser open the workbook in a child process under a memory limit, so that a
damaged record that makes it panic or ask for terabytes ends in a message, not in the
loader dying.

One module a concern:

- :mod:`._archive`: :func:`check_archive`, which tells the container by its first bytes
  and hands it to the check for its kind, and :class:`ArchiveReport`, what it returns.
- :mod:`._ole`: OLE compound files (a legacy `.xls`, an encrypted `.xlsx`): encryption.
- :mod:`._zip`: zip archives (`.xlsx`, `.xlsm`, `.xlsb`, `.ods`): members, declared sizes
  and ratios, every member inflated with its size and CRC-32 checked, the worksheets found
  through the package's relationships.
- :mod:`._sheet_xml`: a worksheet's XML and the shared string table, measured in pieces
  without building a tree (quickly for the usual sheet); of a large sheet, whether its
  cells come in the order of their rows (which the loader's two-halves read needs).
- :mod:`._tags`: the quick scan's look at a piece of XML with numpy (error cells,
  formulas, typed cells; the usual cells, their count and their rows' order).
- :mod:`._read_ahead`: the helper thread that inflates a large member while the pieces
  before it are scanned.
- :mod:`._probe`: the parser probe in a memory-limited child process (forked on Linux).
"""

from dap.ingest.guard._archive import ArchiveReport, check_archive
from dap.ingest.guard._ole import ENCRYPTED_WORKBOOK
from dap.ingest.guard._probe import PROBE_MEMORY, PROBE_SECONDS, ParserProbe
from dap.ingest.guard._sheet_xml import (
    MAX_EXCEL_COLUMNS,
    MAX_EXCEL_ROWS,
    MAX_SHARED_STRINGS,
    MAX_SHEET_CELLS,
    ROW_ORDER_MIN_BYTES,
    SheetCells,
)
from dap.ingest.guard._zip import MAX_MEMBERS, MAX_RATIO, MAX_UNCOMPRESSED, RATIO_FLOOR

__all__ = [
    "ENCRYPTED_WORKBOOK",
    "MAX_EXCEL_COLUMNS",
    "MAX_EXCEL_ROWS",
    "MAX_MEMBERS",
    "MAX_RATIO",
    "MAX_SHARED_STRINGS",
    "MAX_SHEET_CELLS",
    "MAX_UNCOMPRESSED",
    "PROBE_MEMORY",
    "PROBE_SECONDS",
    "RATIO_FLOOR",
    "ROW_ORDER_MIN_BYTES",
    "ArchiveReport",
    "ParserProbe",
    "SheetCells",
    "check_archive",
]
