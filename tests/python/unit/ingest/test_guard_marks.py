"""The container check's vectorised look at a sheet's XML (dap.ingest.guard._tags.Marks)
answers exactly what the byte-at-a-time searches it replaced answer, whatever the text."""

from __future__ import annotations

import random
import re

import pytest

from dap.ingest.guard._sheet_xml import _UNUSUAL_CELL
from dap.ingest.guard._tags import Marks, usual_cells

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
