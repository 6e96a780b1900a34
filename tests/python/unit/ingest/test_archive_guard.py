"""The archive guard's quick sheet scan and its inflating helper thread, in isolation.

The corpus (test_corpus.py) runs the guard end to end on hostile workbooks; these tests
pin down the parts that make it fast: the quick scan must either agree with the exact
scan or hand the sheet over to it, and the read-ahead thread must pass on every error
and stop when its reader stops.
"""

from __future__ import annotations

import io
import re
import threading
import zipfile
from collections.abc import Iterator

import pytest

from dap.errors import WorkbookError
from dap.ingest.guard import MAX_EXCEL_ROWS, MAX_SHEET_CELLS, check_archive
from dap.ingest.guard._read_ahead import _read_ahead
from dap.ingest.guard._sheet_xml import (
    _numbers_up_to,
    _QuickSheetScan,
    _SharedStrings,
    _SheetScan,
)
from testkit.realtools import prefix_tags

HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<dimension ref="A1:G3"/><cols><col min="1" max="7" width="12" customWidth="1"/></cols>'
    b"<sheetData>"
)
TAIL = (
    b'</sheetData><conditionalFormatting sqref="B2"><cfRule type="cellIs"/>'
    b"</conditionalFormatting></worksheet>"
)


def _row(number: int, cells: str) -> bytes:
    return f'<row r="{number}">{cells}</row>'.encode()


def _sheet(*rows: bytes) -> bytes:
    return HEAD + b"".join(rows) + TAIL


REGULAR = _sheet(
    _row(1, '<c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>Calls</t></is></c>'),
    _row(2, '<c r="A2" s="1"><v>45565</v></c><c r="B2"><v>1146</v></c><c r="Z2" s="3"/>'),
    _row(3, '<c r="A3" s="1"><v>45566</v></c><c r="B3" t="e"><v>#N/A</v></c>'),
    _row(4, '<c r="A4"><v>45567</v></c><c r="B4"><f>SUM(B2:B3)</f></c><c r="C4"><v>3</v></c>'),
    _row(MAX_EXCEL_ROWS, '<c r="P1048576"><v>1</v></c>'),
)
"""What Excel and the libraries write: every cell gives its position first; styled empty
cells (Z2) beyond the data; an error cell and a formula without a saved value; the last
cell of the largest grid the quick scan accepts (P1048576)."""

UNUSUAL = {
    "a cell beyond column P": _row(2, '<c r="Q2"><v>1</v></c>'),
    "a cell in two-letter columns": _row(2, '<c r="AA2"><v>1</v></c>'),
    "a cell below Excel's last row": _row(2, '<c r="A1048577"><v>1</v></c>'),
    "a row number with a leading zero": _row(2, '<c r="A02"><v>1</v></c>'),
    "a cell without a reference": _row(2, "<c><v>1</v></c>"),
    "a reference that is not first": _row(2, '<c s="1" r="B2"><v>1</v></c>'),
    "a lower-case reference": _row(2, '<c r="b2"><v>1</v></c>'),
    "an empty cell with an end tag beyond P": _row(2, '<c r="XFD2"></c>'),
}


def _scan(scan: _SheetScan, xml: bytes, piece: int = 97) -> _SheetScan:
    for start in range(0, len(xml), piece):  # odd pieces: rows and tags cut anywhere
        scan.feed(xml[start : start + piece])
    scan.finish()
    return scan


@pytest.mark.parametrize("piece", [13, 97, 1 << 20])
def test_quick_scan_agrees_with_the_exact_scan_on_a_usual_sheet(piece: int) -> None:
    quick = _scan(_QuickSheetScan("s"), REGULAR, piece)
    exact = _scan(_SheetScan("s"), REGULAR, piece)
    assert isinstance(quick, _QuickSheetScan)
    assert quick.usual
    assert quick.cells == exact.cells == 10
    assert (
        quick.notes
        == exact.notes
        == {
            (2, 1): "error cell #N/A",
            (3, 1): "formula with no saved value",
        }
    )
    # What the quick scan relies on: the exact grid is within the limit.
    assert exact.height * exact.width <= MAX_SHEET_CELLS
    assert (exact.height, exact.width) == (MAX_EXCEL_ROWS, 16)


@pytest.mark.parametrize("name", list(UNUSUAL))
def test_quick_scan_hands_unusual_sheets_to_the_exact_scan(name: str) -> None:
    xml = _sheet(_row(1, '<c r="A1" t="e"><v>#REF!</v></c>'), UNUSUAL[name], _row(3, ""))
    quick = _scan(_QuickSheetScan("s"), xml)
    assert isinstance(quick, _QuickSheetScan)
    assert not quick.usual
    assert quick.notes == {}  # the exact scan makes them again


def _workbook(sheet_xml: bytes) -> bytes:
    parts = {
        "[Content_Types].xml": b"<Types/>",
        "_rels/.rels": (
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            b'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            b'<sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            b'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in parts.items():
            archive.writestr(name, body)
    return out.getvalue()


def _big_sheet(extra: bytes = b"") -> bytes:
    """Over 8 MiB of XML, so that the helper thread inflates it."""
    rows = [
        _row(n, f'<c r="A{n}"><v>{45000 + n % 900}</v></c><c r="B{n}"><v>{n * 7919 % 1000}</v></c>')
        for n in range(1, 170_001)
    ]
    return _sheet(*rows, extra)


def test_a_large_usual_sheet_is_measured_quickly_and_its_notes_kept() -> None:
    error = _row(170_001, '<c r="C170001" t="e"><v>#DIV/0!</v></c>')
    report = check_archive("big.xlsx", _workbook(_big_sheet(error)))
    assert report.notes == {"Data": {(170_000, 2): "error cell #DIV/0!"}}


def test_a_large_sheet_past_the_limit_gets_the_exact_message() -> None:
    far = _row(170_001, '<c r="XFD1048576"><v>1</v></c>')
    with pytest.raises(WorkbookError) as caught:
        check_archive("big.xlsx", _workbook(_big_sheet(far)))
    assert "beyond Excel's last row" not in str(caught.value)
    assert "too large to read: its cells reach row 1,048,576 and column XFD" in str(caught.value)
    assert caught.value.location.sheet == "Data"


def test_a_damaged_large_member_is_reported_through_the_helper_thread() -> None:
    data = bytearray(_workbook(_big_sheet()))
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/worksheets/sheet1.xml")
    assert info.file_size > 8 << 20
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    middle = start + info.compress_size // 2
    data[middle : middle + 64] = bytes(64)  # zeros in the middle of the deflate stream
    before = threading.active_count()
    with pytest.raises(WorkbookError) as caught:
        check_archive("big.xlsx", bytes(data))
    assert "zip member xl/worksheets/sheet1.xml is damaged" in str(caught.value)
    assert threading.active_count() == before  # the helper has ended


def test_read_ahead_passes_on_errors_and_stops_with_its_reader() -> None:
    made: list[int] = []

    def pieces(fail_at: int | None) -> Iterator[bytes]:
        for n in range(1000):
            if n == fail_at:
                raise ValueError(f"piece {n}")
            made.append(n)
            yield bytes([n % 256])

    assert b"".join(_read_ahead(pieces(None))) == bytes(n % 256 for n in range(1000))
    with pytest.raises(ValueError, match="piece 7"):
        list(_read_ahead(pieces(7)))

    made.clear()
    reader = _read_ahead(pieces(None))
    assert next(reader) == b"\x00"
    reader.close()  # the reader stops after one piece
    assert len(made) <= 4  # the helper ran at most its queue's length ahead, then stopped
    assert not [t for t in threading.enumerate() if t.name == "dap-inflate"]


@pytest.mark.parametrize("n", [1, 9, 10, 11, 99, 100, 65_536, 999_999, MAX_EXCEL_ROWS])
def test_numbers_up_to_matches_exactly_one_to_n(n: int) -> None:
    pattern = re.compile(_numbers_up_to(n).decode())
    for m in {*range(max(n - 150, 0), n + 150), 1, 9, 10, 99, 100, n * 10}:
        assert bool(pattern.fullmatch(str(m))) == (1 <= m <= n), (n, m)
    assert not pattern.fullmatch("0" + str(n))  # leading zeros: left to the exact scan


# --- every namespace spelling ---------------------------------------------------------------
# The parser reads elements by their local name whatever their prefix or namespace, so the
# guard's limits must hold however a sheet spells its tags.

TRANSITIONAL_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"


def _prefixed(xml: bytes, prefix: str, namespace: str = TRANSITIONAL_MAIN) -> bytes:
    """``xml`` (in the transitional default namespace) with every element in ``prefix:``
    bound to ``namespace``."""
    moved = xml.replace(TRANSITIONAL_MAIN.encode(), namespace.encode()).decode()
    return prefix_tags(moved, prefix, namespace).encode()


_FAR = _row(MAX_EXCEL_ROWS, '<c r="XFD1048576"><v>1</v></c>')
_FAR_SHEET = _sheet(_row(1, '<c r="A1"><v>1</v></c>'), _FAR)
FAR_CELL_SPELLINGS = {
    "transitional, default namespace": _FAR_SHEET,
    "strict, default namespace": _FAR_SHEET.replace(
        TRANSITIONAL_MAIN.encode(), STRICT_MAIN.encode()
    ),
    "x: prefix (Open XML SDK)": _prefixed(_FAR_SHEET, "x"),
    "ns0: prefix, strict namespace (ElementTree)": _prefixed(_FAR_SHEET, "ns0", STRICT_MAIN),
    "a long prefix": _prefixed(_FAR_SHEET, "spreadsheetml_main.v1"),
    "a non-ASCII prefix": _prefixed(_FAR_SHEET, "ä"),
    "prefixed cells in unprefixed rows": _sheet(
        b'<row r="1048576"><s:c xmlns:s="' + TRANSITIONAL_MAIN.encode() + b'" r="XFD1048576">'
        b"<s:v>1</s:v></s:c></row>"
    ),
    "single-quoted positions": _sheet(b"<row r='1048576'><c r='XFD1048576'><v>1</v></c></row>"),
    "spaces around =": _sheet(b'<row r = "1048576"><c r = "XFD1048576"><v>1</v></c></row>'),
    "prefixed rows and cells without positions": _prefixed(
        _sheet(_row(1, ""), _row(MAX_EXCEL_ROWS, "<c><v>1</v></c>" * 17)), "x"
    ),
}


@pytest.mark.parametrize("spelling", list(FAR_CELL_SPELLINGS))
def test_a_cell_far_out_is_refused_in_every_namespace_spelling(spelling: str) -> None:
    with pytest.raises(WorkbookError) as caught:
        check_archive("far.xlsx", _workbook(FAR_CELL_SPELLINGS[spelling]))
    assert "the sheet is too large to read: its cells reach row 1,048,576" in str(caught.value)
    assert caught.value.location.sheet == "Data"


@pytest.mark.parametrize("piece", [13, 97, 1 << 20])
@pytest.mark.parametrize("prefix", ["x", "ns0"])
def test_quick_scan_measures_a_prefixed_sheet_as_the_unprefixed_one(
    piece: int, prefix: str
) -> None:
    """Tags cut anywhere between pieces, their prefixes too: the same cells and notes."""
    plain = _scan(_QuickSheetScan("s"), REGULAR, piece)
    quick = _scan(_QuickSheetScan("s"), _prefixed(REGULAR, prefix, STRICT_MAIN), piece)
    exact = _scan(_SheetScan("s"), _prefixed(REGULAR, prefix), piece)
    assert isinstance(quick, _QuickSheetScan)
    assert quick.usual
    assert quick.cells == exact.cells == plain.cells == 10
    assert quick.notes == exact.notes == plain.notes != {}
    assert (exact.height, exact.width) == (MAX_EXCEL_ROWS, 16)


def test_a_prefix_on_text_that_looks_like_a_tag_changes_nothing() -> None:
    """Cell text like ``note:c 2`` only makes the scan look for prefixes, and find none."""
    xml = _sheet(_row(1, '<c r="A1" t="inlineStr"><is><t>note:c 2 row:row/</t></is></c>'))
    quick = _scan(_QuickSheetScan("s"), xml, 1 << 20)
    assert isinstance(quick, _QuickSheetScan)
    assert quick.usual
    assert quick.cells == 1


@pytest.mark.parametrize("prefix", [None, "x", "ns0"])
def test_shared_strings_are_counted_in_every_namespace_spelling(prefix: str | None) -> None:
    table = (
        b'<sst xmlns="' + TRANSITIONAL_MAIN.encode() + b'" count="3" uniqueCount="12345678901">'
        b"<si><t>Date</t></si><si><r><t>Calls</t></r><r><t>Offered</t></r></si><si><t/></si>"
        b"</sst>"
    )
    if prefix is not None:
        table = _prefixed(table, prefix)
    strings = _SharedStrings()
    for start in range(0, len(table), 7):
        strings.feed(table[start : start + 7])
    assert (strings.count, strings.declared) == (3, 12_345_678_901)

    book = io.BytesIO(_workbook(REGULAR))
    with zipfile.ZipFile(book, "a") as archive:
        archive.writestr("xl/sharedStrings.xml", table)
    with pytest.raises(WorkbookError, match="declares 12,345,678,901 shared strings"):
        check_archive("strings.xlsx", book.getvalue())


def test_a_sheet_the_sheet_map_misses_is_measured_all_the_same() -> None:
    """A workbook part with a DTD is not read for the sheet map, but the parser still reads
    its sheets: every XML part is measured, and the message names the member."""
    book = zipfile.ZipFile(io.BytesIO(_workbook(_FAR_SHEET)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in book.infolist():
            body = book.read(info)
            if info.filename == "xl/workbook.xml":
                body = b"<!DOCTYPE workbook>" + body
            archive.writestr(info.filename, body)
    with pytest.raises(WorkbookError) as caught:
        check_archive("dtd.xlsx", out.getvalue())
    assert str(caught.value).startswith(
        "dtd.xlsx, row 1048576, column 'XFD': zip member xl/worksheets/sheet1.xml: the sheet "
        "is too large to read"
    )
