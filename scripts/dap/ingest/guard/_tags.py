"""Bytes of a piece of worksheet XML found at once, with numpy, for the sheet scans.

The sheet scans (:mod:`._sheet_xml`) ask of every piece whether it has an error cell
(``t="e"``) or a formula (``<f``), and count the cells that carry a type other than a
number. Asked with ``bytes.find`` or a regular expression, each question is a pass over
the text in the interpreter's byte-at-a-time search (about 0.2 s per pass over the 245 MB
of a million-row sheet). In a sheet of figures the letters ``t`` and ``f`` are rare (tags
are ``<row r=``, ``<c r="B7" s="1">``, ``<v>``; column letters are capitals), so here
their offsets are found once, by comparing every byte at once, and each question is a
few lookups at those offsets. The answers are exact, whatever the text.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

_WHITESPACE = np.zeros(256, dtype=bool)
"""The bytes a bytes pattern's ``\\s`` matches."""
_WHITESPACE[[ord(c) for c in " \t\n\r\f\v"]] = True
_TAG_END = _WHITESPACE.copy()
"""What may follow a tag's name: whitespace, ``>`` or ``/``."""
_TAG_END[[ord(">"), ord("/")]] = True


class Marks:
    """The offsets of the letters ``t`` and ``f`` in ``text``, and what stands around them."""

    def __init__(self, text: bytes) -> None:
        self._bytes: npt.NDArray[np.uint8] = np.frombuffer(text, dtype=np.uint8)
        self._ts = np.flatnonzero(self._bytes == ord("t"))
        self._fs = np.flatnonzero(self._bytes == ord("f"))

    def _followed_by(self, offsets: npt.NDArray[np.intp], what: bytes) -> npt.NDArray[np.intp]:
        """The offsets in ``offsets`` whose next bytes are ``what``."""
        found = offsets[offsets + len(what) < len(self._bytes)]
        for shift, byte in enumerate(what, start=1):
            found = found[self._bytes[found + shift] == byte]
        return found

    def error_type(self) -> bool:
        """Whether ``t="e"`` occurs (``b't="e"' in text``)."""
        return bool(len(self._followed_by(self._ts, b'="e"')))

    def formula(self) -> bool:
        """Whether a tag ``<f`` occurs: ``<f`` followed by whitespace, ``>`` or ``/``."""
        fs = self._fs[(self._fs >= 1) & (self._fs + 1 < len(self._bytes))]
        opened = (self._bytes[fs - 1] == ord("<")) & _TAG_END[self._bytes[fs + 1]]
        return bool(opened.any())

    def typed(self) -> int:
        """An upper bound of the cells with a type attribute other than ``t="n"`` (text,
        shared string, boolean, error, ISO date): each such cell has an attribute ``t``
        (whitespace, ``t``, then ``=`` or whitespace), and every one is counted except
        ``t="n"`` written just so (openpyxl and LibreOffice mark every number so). Text
        that merely looks like one (``a t = b``) only makes the bound larger."""
        ts = self._ts[(self._ts >= 1) & (self._ts + 1 < len(self._bytes))]
        after = self._bytes[ts + 1]
        named_t = _WHITESPACE[self._bytes[ts - 1]] & ((after == ord("=")) | _WHITESPACE[after])
        attributes = ts[named_t]
        numbers = self._followed_by(attributes, b'="n"')
        return len(attributes) - len(numbers)


_ONES = np.uint64(0x0101010101010101)
_ZEROS = np.uint64(0x30) * _ONES
_HIGH = np.uint64(0x80) * _ONES
_UP_TO_NINE = np.uint64(0x76) * _ONES
_REF_START = np.frombuffer(b' r="', dtype="<u4")[0]
_PAD = b"\0" * 16


class RowOrder:
    """Whether the cells of a sheet, fed piece by piece to :func:`usual_cells`, come in
    order of their row (each cell's row at least the row of the cell before it), as Excel
    and every library write them. The loader reads a large sheet in two halves at once
    only where they do (:mod:`dap.ingest.workbook._split`): then no cell of the second
    half can belong above a cell of the first."""

    def __init__(self) -> None:
        self.last = 0
        self.ordered = True

    def see(self, rows: npt.NDArray[np.uint64]) -> None:
        """Take the row numbers of a piece's cells, in document order."""
        if not self.ordered or not len(rows):
            return
        if int(rows[0]) < self.last or bool((rows[1:] < rows[:-1]).any()):
            self.ordered = False
        self.last = int(rows[-1])

    def unknown(self) -> None:
        """A piece whose cells' rows were not read: the order is not known."""
        self.ordered = False


def _row_numbers(
    digits: npt.NDArray[np.uint64], length: npt.NDArray[np.int64]
) -> npt.NDArray[np.uint64]:
    """The numbers whose decimal digits (each byte a digit 0-9, the first in the lowest
    byte, ``length`` of them, bytes past them anything) are in ``digits``: the digits are
    moved to the top bytes (zeros before them), then combined two, four and eight at once
    (the usual multiply-and-shift parse of eight digits in a 64-bit word)."""
    bits = (length * 8).astype(np.uint64)
    value = (digits & ((np.uint64(1) << bits) - np.uint64(1))) << (np.uint64(64) - bits)
    value = ((value & np.uint64(0x0F0F0F0F0F0F0F0F)) * np.uint64(2561)) >> np.uint64(8)
    value = ((value & np.uint64(0x00FF00FF00FF00FF)) * np.uint64(6553601)) >> np.uint64(16)
    numbers: npt.NDArray[np.uint64] = (
        (value & np.uint64(0x0000FFFF0000FFFF)) * np.uint64(42949672960001)
    ) >> np.uint64(32)
    return numbers


def usual_cells(text: bytes, order: RowOrder | None = None) -> int | None:
    """How many times ``</c>`` occurs in ``text`` if every cell tag in it (``<c`` then
    whitespace, ``>`` or ``/``) starts ``<c r="XN"`` with X from A to P and N from 1 to
    999,999 (no leading zero) and the quote closing right after N; else None, and the
    caller asks the exact pattern (which also allows rows to 1,048,576 and an empty
    ``<c .../>`` written otherwise). With ``order``, the cells' row numbers are given to
    it (when the count is returned).

    Every ``c`` is found at once; the cell tags and ``</c>`` are told by the bytes around
    it, and each cell's reference is read eight bytes at a time: the row number's digits
    are found without a loop over them (each byte minus ``0`` is a digit if below 10)."""
    padded = np.frombuffer(text + _PAD, dtype=np.uint8)
    size = len(text)
    cs = np.flatnonzero(padded[:size] == ord("c"))
    cs = cs[cs >= 1]
    before = padded[cs - 1]
    slashes = cs[before == ord("/")]
    slashes = slashes[slashes >= 2]
    closing = int(
        np.count_nonzero((padded[slashes - 2] == ord("<")) & (padded[slashes + 1] == ord(">")))
    )
    opened = cs[before == ord("<")]
    cells = opened[_TAG_END[padded[opened + 1]]]
    if not len(cells):
        return closing  # no cell: the order is as it was
    words = np.ndarray((len(padded) - 7,), dtype="<u4", buffer=padded, strides=(1,))
    if not bool((words[cells + 1] == _REF_START).all()):
        return None
    column = padded[cells + 5]
    if not bool(((column >= ord("A")) & (column <= ord("P"))).all()):
        return None
    eights = np.ndarray((len(padded) - 7,), dtype="<u8", buffer=padded, strides=(1,))
    row = eights[cells + 6] - _ZEROS  # byte by byte; a borrow only disturbs bytes after it
    not_digit = ((row + _UP_TO_NINE) | row) & _HIGH  # the high bit of each byte not 0-9
    if not bool(not_digit.all()):
        return None  # eight digits or more
    lowest = not_digit & (~not_digit + np.uint64(1))
    length = (np.log2(lowest.astype(np.float64)).astype(np.int64) - 7) // 8
    ends = padded[cells + 6 + length]
    first = padded[cells + 6]
    usual = (ends == ord('"')) & (length >= 1) & (length <= 6) & (first != ord("0"))
    if not bool(usual.all()):
        return None
    if order is not None:
        order.see(_row_numbers(row, length))
    return closing
