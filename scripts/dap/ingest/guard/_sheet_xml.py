"""Measuring a worksheet's XML, and the shared string table, in pieces without a tree.

Each worksheet's XML is read as it is inflated: the cells with content and the grid their
positions span (the highest row and column a cell with content takes, counting rows and
cells written without a reference the way the parser numbers them) must stay within
:data:`MAX_SHEET_CELLS`. The shared string table may hold, and declare in its
``uniqueCount`` (the parser reserves that much room up front), at most
:data:`MAX_SHARED_STRINGS` strings. (The zip check, :mod:`._zip`, raises when they do not.)

Quickly, for the usual sheet: when every cell with content starts with its own position
within columns A to P and Excel's rows (as Excel and every library write them), the grid
fits whatever the numbers are, so a quick scan only counts the cells; any other sheet is
measured exactly, in a second pass (:class:`_QuickSheetScan`).

The same pass notes the cells calamine reads as empty that are not: error cells (``#N/A``,
``#DIV/0!``, ...) and formulas saved without a value.

Every namespace spelling is measured alike. The parser reads elements by their local name,
whatever their prefix (``<x:c>``, ``<ns0:row>``, as the Open XML SDK and ElementTree write)
and whatever namespace it stands for (Strict OOXML's ``purl.oclc.org`` one included), so a
piece of XML with a prefixed tag of an element read here has its tags' prefixes removed
before it is scanned (:func:`_without_prefixes`); positions are read with either quote and
spaces around ``=`` (``r='XFD1'``, ``r = "XFD1"``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from dap.ingest.guard._tags import Marks, RowOrder, usual_cells
from dap.ingest.pii import column_letter

MAX_SHEET_CELLS = 1 << 24
"""Cells (rows x columns) a sheet's grid may span, and cells with content it may hold:
16,777,216, Excel's full height of 1,048,576 rows by 16 columns (and exactly the largest
`.xls` sheet). The parser allocates 32 bytes per cell of the grid: about 540 MB at most."""
MAX_SHARED_STRINGS = 1 << 22
"""Entries of the shared string table (4,194,304)."""
MAX_EXCEL_ROWS = 1_048_576
MAX_EXCEL_COLUMNS = 16_384
ROW_ORDER_MIN_BYTES = 64 << 20
"""Worksheet XML from this size on (about 250,000 rows of a few figures) has the order of
its cells' rows checked (:attr:`SheetCells.in_row_order`): the size from which the loader
reads a sheet in two halves at once (:mod:`dap.ingest.workbook._split`)."""
_CARRY_LIMIT = 8 << 20
_NOTES_PER_SHEET = 100_000

_ROW_NUMBER = re.compile(rb'<row r="(\d{1,12})"')
_ROW_START = re.compile(rb"<row(?=[\s>/])([^>]*)>")
_ROW_REF = re.compile(rb"""\br\s*=\s*["'](\d{1,20})["']""")
_CELL_START = re.compile(rb"<c(?=[\s>/])([^>]*)>")
_CELL_REF = re.compile(rb"""\br\s*=\s*["']([A-Z]{1,3})(\d{1,20})["']""")
_FORMULA_TAG = re.compile(rb"<f[\s>/]")
_CELL_TYPE = re.compile(rb'\bt="([a-zA-Z]+)"')
_CELL_VALUE = re.compile(rb"<v>([^<]*)</v>")
_ERROR_CODE = re.compile(r"#[A-Z0-9/!?_]{1,16}")
_SHARED_STRING = re.compile(rb"<si[\s>/]")
_SST_START = re.compile(rb"<sst\b([^>]*)>")
_SST_COUNT = re.compile(rb'\buniqueCount="(\d{1,20})"')
_PREFIX_HINT = re.compile(rb":(?:c|row|v|f|sst|si)[\s>/]")
"""Where a prefixed tag of an element the scans read may be (``<x:c ``, ``</x:row>``,
``<x:si>``). Searched only where a colon is (most writers put none in a sheet's rows; Excel
puts ``x14ac:dyDescent`` in each, and then the search costs about 0.15 s per million rows);
text that merely looks like a prefixed tag (``note:c 2``) only costs a pass of
:data:`_TAG_PREFIX`."""
_TAG_PREFIX = re.compile(rb"""<(/?)[^\s<>/:!?="']+:""")
"""A start or end tag's namespace prefix, any characters a name may have (not comments,
CDATA or processing instructions)."""


def _without_prefixes(text: bytes) -> bytes:
    """``text`` with its tags' namespace prefixes removed (``<x:c r="A1">`` -> ``<c r="A1">``)
    if it may have any of an element read here; as it was otherwise. A tag cut at the end
    of ``text`` keeps its prefix: the caller scans up to the last whole row or tag and
    carries the rest over, prefix and all, to the next piece."""
    if b":" not in text or _PREFIX_HINT.search(text) is None:  # memchr first: no colon
        return text
    return _TAG_PREFIX.sub(rb"<\1", text)


@dataclass(frozen=True)
class SheetCells:
    """What the scan counted of one worksheet's cells."""

    with_content: int
    """Cells written with content (``</c>``): each holds a value, or is an error cell or a
    formula the parser reads as empty (noted), or is empty all the same."""
    typed: int
    """At least the cells carrying a type other than a number (``t="s"``, ``"str"``,
    ``"inlineStr"``, ``"b"``, ``"e"``, ``"d"``): :meth:`._tags.Marks.typed`."""
    in_row_order: bool = False
    """Every cell tag comes after the cells of the rows above it (each cell's row at
    least the row of the cell before it): known of the usual sheet of at least
    :data:`ROW_ORDER_MIN_BYTES` (:class:`._tags.RowOrder`), False otherwise."""


class _SharedStrings:
    """The shared string table, fed in pieces: how many entries it has, and how many its
    ``<sst uniqueCount="...">`` declares (the parser reserves room for that many strings
    before reading one: a false count of billions aborts it)."""

    def __init__(self) -> None:
        self.count = 0
        self.declared = 0
        self.head_read = False
        self.tail = b""

    def feed(self, piece: bytes) -> None:
        text = _without_prefixes(self.tail + piece)
        if not self.head_read:
            head = _SST_START.search(text)
            if head is not None:
                counts = [int(n) for n in _SST_COUNT.findall(head.group(1))]
                self.declared = max(counts, default=0)
                self.head_read = True
        cut = text.rfind(b">") + 1
        if cut == 0 and len(text) > _CARRY_LIMIT:
            cut = len(text)  # no tag end in 8 MiB: nothing worth counting in
        self.count += len(_SHARED_STRING.findall(text, 0, cut))
        self.tail = text[cut:]


def _greater_numbers(n: int) -> bytes:
    """A regex alternation matching decimal numbers (no leading zeros) greater than ``n``."""
    digits = str(n)
    options = [rb"[1-9]\d{%d,}" % len(digits), rb"0\d*"]  # leading zeros: let int() decide
    for i, ch in enumerate(digits):
        if ch != "9":
            low = str(int(ch) + 1).encode()
            rest = len(digits) - i - 1
            options.append(digits[:i].encode() + b"[" + low + b"-9]" + rb"\d" * rest)
    return b"(?:" + b"|".join(options) + b")"


def _greater_columns(n: int) -> bytes:
    """A regex alternation matching column letters (1-3 letters) after column ``n``
    (1-based; 0 matches every column)."""
    if n <= 0:
        return b"[A-Z]{1,3}"
    letters = column_letter(n - 1).encode()
    options = [b"[A-Z]{%d,3}" % (len(letters) + 1)] if len(letters) < 3 else []
    for i in range(len(letters)):
        ch = letters[i]
        if ch != ord("Z"):
            rest = len(letters) - i - 1
            options.append(letters[:i] + b"[" + bytes([ch + 1]) + b"-Z]" + b"[A-Z]" * rest)
    return b"(?:" + b"|".join(options) + b")" if options else b"(?!)"


def _column_number(letters: bytes) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ch - 64
    return number


class _SheetScan:
    """One worksheet's XML, fed in pieces: its extent, its cells with content, and notes
    on error cells and formulas without a saved value."""

    def __init__(self, sheet: str) -> None:
        self.sheet = sheet
        self.carry = b""
        self.cells = 0
        self.max_row = 0  # highest row number a row or a cell with content takes (1-based)
        self.max_column = 0  # highest column number a cell with content takes (1-based)
        self.row = 0  # the number of the last row tag read
        self.notes: dict[tuple[int, int], str] = {}
        self.typed = 0  # at least the cells with a type other than a number (Marks.typed)

    @property
    def in_row_order(self) -> bool:
        return False  # not read by the exact scan

    @property
    def height(self) -> int:
        return max(self.max_row, 1)

    @property
    def width(self) -> int:
        return max(self.max_column, 1)

    def feed(self, piece: bytes) -> None:
        text = _without_prefixes(self.carry + piece)
        cut = text.rfind(b"</row>")
        cut = cut + len(b"</row>") if cut >= 0 else -1
        if cut < 0 and len(text) > _CARRY_LIMIT:
            cut = text.rfind(b">") + 1 or len(text)
        if cut < 0:
            self.carry = text
            return
        self.carry = text[cut:]
        self._scan(text[:cut])

    def finish(self) -> None:
        if self.carry:
            self._scan(_without_prefixes(self.carry))
            self.carry = b""

    def _scan(self, text: bytes) -> None:
        self.cells += text.count(b"</c>")
        numbers = _ROW_NUMBER.findall(text)
        if text.count(b"<row") != len(numbers):  # rows without a leading r="", or <rowBreaks>
            self._irregular_rows(text)
        elif numbers:
            self.max_row = max(self.max_row, *map(int, numbers))
            self.row = int(numbers[-1])
        self._raise_maxima(text)
        if text.count(b"<c") != text.count(b'<c r="'):  # cells without a leading r="", or <col>
            self._irregular_cells(text)
        self._mark(text)

    def _mark(self, text: bytes) -> None:
        """Note the error cells and formulas without a value in ``text``, and count its
        typed cells."""
        marks = Marks(text)
        self.typed += marks.typed()
        if marks.error_type():
            self._note_errors(text)
        if marks.formula():
            self._note_formulas(text)

    def _raise_maxima(self, text: bytes) -> None:
        """Raise max_row and max_column to the highest cell reference in ``text``. Only
        references beyond the current maxima are looked at: in a well-formed sheet the row
        numbers come from the row tags and none are."""
        while True:
            columns = _greater_columns(self.max_column)
            rows = _greater_numbers(self.max_row)
            # A reference beyond either maximum, in a cell that is not an empty <c .../>
            # (the parser skips those).
            pattern = re.compile(
                rb'<c r="(?:(' + columns + rb")\d{1,20}|[A-Z]{1,3}(" + rows + rb'))"[^>]*(?<!/)>'
            )
            before = (self.max_row, self.max_column)
            for letters, number in pattern.findall(text):
                if letters:
                    self.max_column = max(self.max_column, _column_number(letters))
                if number:
                    self.max_row = max(self.max_row, int(number))
            if (self.max_row, self.max_column) == before:
                return

    def _irregular_rows(self, text: bytes) -> None:
        """Row tags whose ``r`` is missing or not the first attribute (slow path): the
        parser numbers a row without one just below the row before."""
        for attributes in _ROW_START.findall(text):
            number = _ROW_REF.search(attributes)
            self.row = int(number.group(1)) if number is not None else self.row + 1
            self.max_row = max(self.max_row, self.row)

    def _irregular_cells(self, text: bytes) -> None:
        """Cells whose ``r`` is missing or not the first attribute (slow path): the
        parser puts a cell without one right of the cell before it in its row."""
        for part in text.split(b"</row>"):
            column = 0
            for attributes in _CELL_START.findall(part):
                ref = _CELL_REF.search(attributes)
                if ref is None:
                    column += 1
                else:
                    column = _column_number(ref.group(1))
                    if attributes.endswith(b"/"):  # an empty <c .../> is not read
                        continue
                    self.max_row = max(self.max_row, int(ref.group(2)))
                self.max_column = max(self.max_column, column)

    def _cells_around(self, text: bytes, marks: list[int]) -> list[bytes]:
        cells: list[bytes] = []
        last_end = -1
        for mark in marks:
            if mark < last_end:
                continue
            start = max(text.rfind(b"<c ", 0, mark), text.rfind(b"<c>", 0, mark))
            end = text.find(b"</c>", mark)
            if start < 0 or end < 0:
                continue
            last_end = end + 4
            cells.append(text[start:last_end])
        return cells

    def _note(self, cell: bytes, problem: str) -> None:
        if len(self.notes) >= _NOTES_PER_SHEET:
            return
        head = cell[: cell.find(b">") + 1]
        ref = _CELL_REF.search(head)
        if ref is None:
            return  # no position to attach the note to
        row = int(ref.group(2)) - 1
        column = _column_number(ref.group(1)) - 1
        self.notes[(row, column)] = problem

    def _note_errors(self, text: bytes) -> None:
        marks = [m.start() for m in re.finditer(rb'\bt="e"', text)]
        for cell in self._cells_around(text, marks):
            kind = _CELL_TYPE.search(cell[: cell.find(b">") + 1])
            if kind is None or kind.group(1) != b"e":
                continue  # 't="e"' was text inside the cell, not its type
            value = _CELL_VALUE.search(cell)
            code = value.group(1).decode("ascii", "replace").strip() if value else ""
            shown = code if _ERROR_CODE.fullmatch(code) else "(unknown code)"
            self._note(cell, f"error cell {shown}")

    def _note_formulas(self, text: bytes) -> None:
        marks = [m.start() for m in _FORMULA_TAG.finditer(text)]
        for cell in self._cells_around(text, marks):
            head = cell[: cell.find(b">") + 1]
            kind = _CELL_TYPE.search(head)
            if kind is not None and kind.group(1) in (b"e", b"str"):
                continue  # an error (noted above) or a formula whose result is empty text
            value = _CELL_VALUE.search(cell)
            if value is None or not value.group(1).strip():
                self._note(cell, "formula with no saved value")


def _numbers_up_to(n: int) -> bytes:
    """A regex alternation matching the decimal numbers 1 to ``n`` (no leading zeros)."""
    digits = str(n)
    options = [rb"[1-9]\d{0,%d}" % (len(digits) - 2)] if len(digits) > 1 else []
    for i, ch in enumerate(digits):
        low = b"1" if i == 0 else b"0"
        high = int(ch) - 1
        if high >= int(low):
            rest = len(digits) - i - 1
            options.append(digits[:i].encode() + b"[%s-%d]" % (low, high) + rb"\d" * rest)
    options.append(digits.encode())
    return b"(?:" + b"|".join(options) + b")"


_QUICK_LAST_COLUMN = column_letter(MAX_SHEET_CELLS // MAX_EXCEL_ROWS - 1).encode()
_UNUSUAL_CELL = re.compile(
    rb'<c(?! r="[A-' + _QUICK_LAST_COLUMN + rb"]" + _numbers_up_to(MAX_EXCEL_ROWS) + rb'")'
    rb"(?=[\s>/])"  # a cell tag (not <col>, <cfRule>, ...)
    rb"(?![^>]*/>)"  # that is not empty (the parser skips those)
)
"""A cell with content whose ``r`` is not its first attribute, or is missing, or points
beyond column P or row 1,048,576."""


_CELL_TAG = re.compile(rb"<c[\s>/]")
_CELL_ROW = re.compile(rb'<c r="[A-Z]{1,3}(\d{1,7})"')


def _see_rows(text: bytes, order: RowOrder) -> None:
    """Give ``order`` the rows of ``text``'s cells, read with a pattern (a piece
    :func:`._tags.usual_cells` does not take): unknown unless every cell tag starts with
    its position."""
    rows = _CELL_ROW.findall(text)
    if len(rows) != len(_CELL_TAG.findall(text)):
        order.unknown()
    else:
        order.see(np.array([int(row) for row in rows], dtype=np.uint64))


class _QuickSheetScan(_SheetScan):
    """The usual sheet, in fewer passes: when every cell with content gives its position
    first (``<c r="B7"``, as Excel and every library write) within columns A to P and
    Excel's rows, the grid the parser builds spans at most 1,048,576 x 16 cells
    (:data:`MAX_SHEET_CELLS`) whatever the numbers are, so they need not be read. The
    cells are counted, and error cells and formulas noted, as :class:`_SheetScan` does.

    A sheet where any cell is otherwise is ``usual = False``: scanning stops there, and
    the caller measures it with :class:`_SheetScan`."""

    def __init__(self, sheet: str, *, row_order: bool = False) -> None:
        super().__init__(sheet)
        self.usual = True
        self.order = RowOrder() if row_order else None

    @property
    def in_row_order(self) -> bool:
        return self.order is not None and self.order.ordered

    def feed(self, piece: bytes) -> None:
        if self.usual:
            super().feed(piece)

    def _scan(self, text: bytes) -> None:
        if not self.usual:
            return
        counted = usual_cells(text, self.order)  # the usual piece, answered at once (._tags)
        if counted is None:
            if _UNUSUAL_CELL.search(text):
                self.usual = False
                self.notes = {}
                return
            counted = text.count(b"</c>")
            if self.order is not None:  # rows from 1,000,000 on, say: read them here
                _see_rows(text, self.order)
        self.cells += counted
        self._mark(text)
