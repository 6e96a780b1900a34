"""The container check's vectorised look at a sheet's XML (dap.ingest.guard._tags.Marks)
answers exactly what the byte-at-a-time searches it replaced answer, whatever the text."""

from __future__ import annotations

import random
import re

import pytest

from dap.ingest.guard._sheet_xml import _UNUSUAL_CELL, _QuickSheetScan
from dap.ingest.guard._tags import Marks, RowOrder, usual_cells

ALPHABET = [b"t", b"f", b"<", b">", b"/", b"=", b'"', b"'", b" ", b"\t", b"\n", b"e", b"n", b"s"]
ALPHABET += [b"c", b"v", b"1", b"A", b'r="', b't="e"', b't="n"', b't="s"', b"<f>", b"<f ", b"<c "]


def _formula(text: bytes) -> bool:
    return re.search(rb"<f[\s>/]", text) is not None


def _typed(text: bytes) -> int:
    attributes = re.findall(rb"(?<=\s)t(?=[=\s])", text)
    numbers = re.findall(rb'(?<=\s)t="n"', text)
    return len(attributes) - len(numbers)


@pytest.mark.parametrize(
    "text",
    [
        b"",
        b"t",
        b't="e"',
        b'<c r="A1" t="e"><v>#N/A</v></c>',
        b'<c r="A1" t="e',  # cut at the end of the piece
        b'<c r="A1" t="n"><v>1</v></c><c r="B1" t="s"><v>0</v></c>',
        b'<c r="A1" t = "s"><v>0</v></c>',  # spaces around "=": counted
        b"<c r='A1' t='b'><v>1</v></c>",  # single quotes: counted
        b'<pageMargins left="0.7" top="0.75"/>',  # "top" is not "t"
        b"<f>SUM(A1:A2)</f><f/><font/></f><f\t>",
        b"<f",  # cut after the tag's name
        b'<c r="A1"><is><t>a t= b</t></is></c>',  # text like an attribute: counted
    ],
)
def test_marks_answer_as_the_searches_do(text: bytes) -> None:
    marks = Marks(text)
    assert marks.error_type() == (b't="e"' in text)
    assert marks.formula() == _formula(text)
    assert marks.typed() == _typed(text)


def test_marks_answer_as_the_searches_do_on_random_text() -> None:
    chooser = random.Random(20261202)
    for _ in range(3_000):
        text = b"".join(chooser.choices(ALPHABET, k=chooser.randrange(0, 40)))
        marks = Marks(text)
        assert marks.error_type() == (b't="e"' in text), text
        assert marks.formula() == _formula(text), text
        assert marks.typed() == _typed(text), text


def test_every_typed_cell_is_counted() -> None:
    cells = [f'<c r="A{r}" t="{kind}"><v>1</v></c>' for r, kind in enumerate(["s", "b", "e", "d"])]
    text = ('<c r="B1" t="n"><v>2</v></c>' + "".join(cells)).encode()
    assert Marks(text).typed() == len(cells)


def _usual_by_pattern(text: bytes) -> int | None:
    """What the quick scan asked before: the exact pattern, then ``bytes.count``."""
    return None if _UNUSUAL_CELL.search(text) else text.count(b"</c>")


CELL_PARTS = [b"<c", b' r="', b"A", b"P", b"Q", b"AA", b"0", b"1", b"9", b"12", b"999999"]
CELL_PARTS += [b"1000000", b"1048577", b'"', b"'", b" ", b">", b"/", b"/>", b"<v>", b"</v>"]
CELL_PARTS += [b"</c>", b"</c", b"c>", b"<col", b" s=", b"\t", b"<", b"c", b"\xc3\xa9", b"x"]


@pytest.mark.parametrize(
    "text",
    [
        b"",
        b'<c r="A1"><v>1</v></c><c r="P999999" s="1"><v>2</v></c>',
        b'<c r="Q1"><v>1</v></c>',  # beyond column P
        b'<c r="A01"><v>1</v></c>',  # a leading zero
        b'<c r="A1048576"><v>1</v></c>',  # Excel's last row: the pattern decides
        b'<c r="A1048577"><v>1</v></c>',  # beyond it
        b'<c s="1" r="A1"><v>1</v></c>',  # the position not first
        b'<c s="1"/><c r="B1"><v>1</v></c>',  # an empty cell without a position
        b"<c r='A1'><v>1</v></c>",  # single quotes
        b'<cols><col min="1"/></cols><c r="A1"><v>1</v></c>',
        b'<c r="A1"',  # cut at the end of the piece
        b'</c></c><c r="A123456789"><v>1</v></c>',
    ],
)
def test_usual_cells_answers_as_the_pattern_does(text: bytes) -> None:
    counted = usual_cells(text)
    assert counted is None or counted == _usual_by_pattern(text)
    if text.count(b"<c") == 0 or text.startswith(b'<c r="A1"><v>1</v></c><c r="P'):
        assert counted is not None  # the usual form is answered, not handed back


def test_usual_cells_answers_as_the_pattern_does_on_random_text() -> None:
    chooser = random.Random(20261202)
    answered = 0
    for _ in range(5_000):
        text = b"".join(chooser.choices(CELL_PARTS, k=chooser.randrange(0, 30)))
        counted = usual_cells(text)
        if counted is not None:
            answered += 1
            assert counted == _usual_by_pattern(text), text
    assert answered > 500  # the comparison was made often enough to mean something


def _rows_by_pattern(text: bytes) -> list[int]:
    return [int(row) for row in re.findall(rb'<c r="[A-Z]{1,3}(\d+)"', text)]


def _in_order(rows: list[int], last: int = 0) -> bool:
    return all(a <= b for a, b in zip([last, *rows], rows, strict=False))


@pytest.mark.parametrize(
    ("pieces", "ordered"),
    [
        ([b'<c r="A1"><v>1</v></c><c r="B1"><v>1</v></c><c r="A2"><v>1</v></c>'], True),
        ([b'<c r="A2"><v>1</v></c><c r="A1"><v>1</v></c>'], False),  # a row above, later
        ([b'<c r="A10"><v>1</v></c>', b'<c r="A9"><v>1</v></c>'], False),  # across pieces
        ([b'<c r="A9"><v>1</v></c>', b'<c r="A10"><v>1</v></c>'], True),  # 9 < 10, not "9" > "1"
        ([b'<c r="A999999"><v>1</v></c><c r="B99999"><v>1</v></c>'], False),
        ([b'<c r="P123456"><v>1</v></c><c r="A123457"><v>1</v></c>'], True),
        ([b'<c r="A5"/><c r="A4"><v>1</v></c>'], False),  # an empty cell counts too
        ([b"", b'<c r="A3"><v>1</v></c>'], True),
    ],
)
def test_the_row_order_is_read_from_each_cells_position(pieces, ordered) -> None:
    order = RowOrder()
    for piece in pieces:
        assert usual_cells(piece, order) is not None
    assert order.ordered is ordered


def test_the_row_order_agrees_with_the_positions_read_one_by_one() -> None:
    chooser = random.Random(20261203)
    for _ in range(2_000):
        last = chooser.randrange(0, 50)
        rows = [chooser.randrange(1, 60) for _ in range(chooser.randrange(0, 12))]
        if chooser.random() < 0.5:
            rows.sort()
        cells = [f'<c r="{chooser.choice("ABP")}{row}"><v>1</v></c>'.encode() for row in rows]
        text = b"<row>".join(cells)
        order = RowOrder()
        order.last = last
        assert usual_cells(text, order) is not None
        assert order.ordered == _in_order(_rows_by_pattern(text), last), (last, text)
        if rows:
            assert order.last == (rows[-1] if order.ordered else order.last)


def test_a_sheet_with_rows_from_a_million_on_keeps_its_order_known() -> None:
    """Rows 1,000,000 to 1,048,576 are not the quick scan's usual cells: they are read
    with a pattern, and the order stays known."""
    scan = _QuickSheetScan("s", row_order=True)
    rows = [999_998, 999_999, 1_000_000, 1_000_001]
    scan.feed(b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (r, r) for r in rows))
    scan.finish()
    assert scan.usual
    assert scan.in_row_order
    backwards = _QuickSheetScan("s", row_order=True)
    backwards.feed(b'<row r="1000001"><c r="A1000001"><v>1</v></c></row>')
    backwards.feed(b'<row r="1000000"><c r="A1000000"><v>1</v></c></row>')
    backwards.finish()
    assert backwards.usual
    assert not backwards.in_row_order
