"""A large sheet read in two halves at once (dap.ingest.workbook._split): the halves are
the sheet's XML cut at a row and nothing else, each a whole workbook; they are joined
back only where they make the sheet; otherwise the sheet is read whole.

That the joined read equals the cell-by-cell read on every kind of workbook is
``test_fast_read.py``'s (each of its cases is also read cut in two)."""

from __future__ import annotations

import dataclasses
import io
import os
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pytest

from dap.ingest.guard import _zip
from dap.ingest.workbook import _fast, _split, parse_workbook
from testkit.workbooks import HEADER, SHEET, rows_for

MEMBER = "xl/worksheets/sheet1.xml"


def _workbook(rows: int = 400) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = SHEET
    for row in [HEADER, *rows_for(date(2020, 1, 1), rows)]:
        sheet.append(row)
    book.create_sheet("About").append(["notes", "kept as they are"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def any_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cut sheets of any size, and have the container check read their rows' order."""
    monkeypatch.setattr(_split, "SPLIT_MIN_BYTES", 0)
    monkeypatch.setattr(_zip, "ROW_ORDER_MIN_BYTES", 0)
    monkeypatch.setattr(_fast, "FAST_READ_MIN_BYTES", 0)


def _cut(path: Path, tmp_path: Path) -> tuple[_split.Cut, bytes]:
    """Cut the workbook at ``path``; the second half's workbook, as its reader saw it."""
    seen = tmp_path / "second.xlsx"

    def keep(second: str, _row: int) -> None:
        seen.write_bytes(Path(second).read_bytes())
        (tmp_path / "second.ipc").write_bytes(b"done")

    cut = _split.cut_sheet(str(path), MEMBER, keep, tmp_path / "second.ipc")
    assert cut is not None
    assert cut.second_done()
    return cut, seen.read_bytes()


def test_the_halves_are_the_sheet_cut_at_a_row(any_size, tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(_workbook())
    original = zipfile.ZipFile(path)
    sheet = original.read(MEMBER)
    cut, second_bytes = _cut(path, tmp_path)
    first = zipfile.ZipFile(io.BytesIO(Path(cut.first).read_bytes()))
    second = zipfile.ZipFile(io.BytesIO(second_bytes))
    cut.close()
    for half in (first, second):
        assert half.testzip() is None  # every CRC right
        assert half.namelist() == original.namelist()
        for name in original.namelist():
            if name != MEMBER:
                assert half.read(name) == original.read(name)
    head, tail = first.read(MEMBER), second.read(MEMBER)
    assert head.endswith(b"</sheetData></worksheet>")
    opening = sheet[: sheet.index(b"<sheetData>") + len(b"<sheetData>")]
    assert tail.startswith(opening + b'<row r="%d"' % cut.row)
    # Nothing lost, nothing doubled: the rows above the cut, then the rest.
    assert head[: -len(b"</sheetData></worksheet>")] + tail[len(opening) :] == sheet
    assert len(sheet) // 2 <= sheet.index(b'<row r="%d"' % cut.row)


def test_no_cut_without_a_row_that_starts_in_column_a_with_a_value(
    any_size, tmp_path: Path
) -> None:
    book = openpyxl.Workbook()
    for row in rows_for(date(2020, 1, 1), 300):
        book.active.append([None, *row])  # column A empty throughout
    path = tmp_path / "book.xlsx"
    book.save(path)
    started = []
    cut = _split.cut_sheet(str(path), MEMBER, lambda *a: started.append(a), tmp_path / "x")
    assert cut is None
    assert not started


def test_a_small_sheet_is_not_cut(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(_workbook())
    assert _split.cut_sheet(str(path), MEMBER, lambda *a: None, tmp_path / "x") is None


def _batch(**columns: list[Any]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict(columns)


def test_halves_join_by_column_position_with_the_empty_rows_between() -> None:
    first = _batch(Date=[1.0, 2.0], Calls=[10.0, 20.0], Notes=["a", None])
    second = _batch(a=[5.0], b=[50.0])  # no Notes column below the cut
    # Header on row 1, data rows 2-3, rows 4-5 empty, the cut at row 6.
    joined = _split.join_halves(first, [0, 1, 2], 1, (second, [0, 1]), 6)
    assert joined is not None
    assert joined.column_names == ["Date", "Calls", "Notes"]
    assert joined.to_pydict() == {
        "Date": [1.0, 2.0, None, None, 5.0],
        "Calls": [10.0, 20.0, None, None, 50.0],
        "Notes": ["a", None, None, None, None],
    }


@pytest.mark.parametrize(
    ("second", "positions", "row", "why"),
    [
        (_batch(a=[5.0]), [0], 3, "the first half reaches the cut's row"),
        (_batch(a=["text"]), [0], 4, "a column of another type"),
        (_batch(a=[5.0], z=[1.0]), [0, 7], 4, "a column only the second half has"),
    ],
)
def test_halves_that_do_not_make_the_sheet_are_not_joined(second, positions, row, why) -> None:
    first = _batch(Date=[1.0, 2.0])
    assert _split.join_halves(first, [0], 1, (second, positions), row) is None, why


def test_an_empty_column_takes_the_other_halfs_type() -> None:
    first = pa.RecordBatch.from_arrays([pa.nulls(2)], names=["Notes"])
    joined = _split.join_halves(first, [0], 1, (_batch(a=["x"]), [0]), 4)
    assert joined is not None
    assert joined.column("Notes").type == pa.string()
    assert joined.to_pydict() == {"Notes": [None, None, "x"]}
    assert _split.join_halves(first, [0], 1, None, 4) is None  # no second half


def _parse(data: bytes) -> dict[str, Any]:
    parsed = parse_workbook("book.xlsx", data)
    return {
        "table": parsed.to_arrow("0" * 64).to_pydict(),
        "sheets": [vars(s) for s in parsed.sheets],
    }


def test_a_sheet_read_in_halves_is_the_sheet_read_cell_by_cell(any_size, monkeypatch, cuts) -> None:
    data = _workbook(600)
    halves = _parse(data)
    assert cuts
    assert cuts[0] is not None  # it was cut
    monkeypatch.setattr(_fast, "FAST_READ_MIN_BYTES", 1 << 62)
    assert halves == _parse(data)


def test_a_second_half_that_fails_leaves_the_sheet_read_whole(any_size, monkeypatch, cuts) -> None:
    def fail(*_args: object) -> None:
        raise OSError("the second half's reader broke")

    monkeypatch.setattr(_fast, "_read_second_half", fail)  # in the forked child too
    data = _workbook(600)
    whole = _parse(data)
    assert cuts == [None]  # read fast, whole
    monkeypatch.setattr(_fast, "FAST_READ_MIN_BYTES", 1 << 62)
    assert whole == _parse(data)


def _rows_out_of_order(data: bytes) -> bytes:
    """The workbook with its sheet's first data row written last (a writer Excel would
    not accept, but calamine reads each cell by its position): the second half then
    starts, to fastexcel, at that row, and only the container check's row order tells."""
    source = zipfile.ZipFile(io.BytesIO(data))
    xml = source.read(MEMBER)
    second_row = xml.index(b'<row r="2"')
    third_row = xml.index(b'<row r="3"')
    end = xml.index(b"</sheetData>")
    xml = xml[:second_row] + xml[third_row:end] + xml[second_row:third_row] + xml[end:]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info, xml if info.filename == MEMBER else source.read(info.filename))
    return out.getvalue()


def test_a_sheet_whose_rows_are_out_of_order_is_not_joined(any_size, monkeypatch, cuts) -> None:
    data = _rows_out_of_order(_workbook(600))
    read = _parse(data)
    assert cuts == []  # the child cut it, the loader would not join it: cell by cell
    monkeypatch.setattr(_fast, "FAST_READ_MIN_BYTES", 1 << 62)
    assert read == _parse(data)


def test_the_second_halfs_reader_ends_with_the_first(any_size, tmp_path: Path) -> None:
    """The probe's parent kills the first half's reader when it takes too long: the
    second half's reader, its child, ends with it rather than run on."""
    path = tmp_path / "book.xlsx"
    path.write_bytes(_workbook())
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the first half's reader, in a child
        try:
            os.close(read)

            def hang(*_args: object) -> None:
                os.write(write, str(os.getpid()).encode())
                os.close(write)
                import time  # noqa: PLC0415

                time.sleep(60)

            _split.cut_sheet(str(path), MEMBER, hang, tmp_path / "x")
            import time  # noqa: PLC0415

            time.sleep(60)
        finally:
            os._exit(0)
    os.close(write)
    second = int(os.read(read, 32))  # as soon as the second half's reader has started
    os.close(read)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    for _ in range(200):
        try:
            os.kill(second, 0)
        except ProcessLookupError:
            break
        import time  # noqa: PLC0415

        time.sleep(0.05)
    else:
        os.kill(second, 9)
        pytest.fail("the second half's reader outlived the first")


def test_raw_files_of_a_sheet_read_in_halves_are_the_bytes_of_a_whole_read(
    any_size, monkeypatch, cuts
) -> None:
    """``dap repair`` rebuilds a raw file and compares its sha256: how the sheet was read
    (in halves, whole, cell by cell) must not change a byte."""
    from dap.lake import load  # noqa: PLC0415 - the raw zone's writer, for this test only

    data = _workbook(900)  # three years, the cut inside one of them
    at = datetime(2024, 5, 6, 7, 8, 9)
    halves = load.build_raw_objects(parse_workbook("book.xlsx", data), "ab" * 32, at)
    assert cuts[0] is not None
    monkeypatch.setattr(_split, "SPLIT_MIN_BYTES", 1 << 62)
    whole = load.build_raw_objects(parse_workbook("book.xlsx", data), "ab" * 32, at)
    assert cuts[1] is None
    monkeypatch.setattr(_fast, "FAST_READ_MIN_BYTES", 1 << 62)
    by_cell = load.build_raw_objects(parse_workbook("book.xlsx", data), "ab" * 32, at)
    assert len(halves) == 3
    assert [o.data for o in halves] == [o.data for o in whole] == [o.data for o in by_cell]


def test_halves_that_disagree_on_the_cut_are_not_joined(any_size, monkeypatch, cuts) -> None:
    """Each half's reader finds the cut itself; should they ever disagree, the loader
    does not join them (it would shift every row of the second half)."""
    real = _split.cut_sheet

    def off_by_one(*args: Any, **kwargs: Any) -> _split.Cut | None:
        cut = real(*args, **kwargs)
        return None if cut is None else dataclasses.replace(cut, row=cut.row + 1)

    monkeypatch.setattr(_split, "cut_sheet", off_by_one)
    data = _workbook(600)
    read = _parse(data)
    assert cuts == []  # the second half said another row: read cell by cell
    monkeypatch.setattr(_fast, "FAST_READ_MIN_BYTES", 1 << 62)
    assert read == _parse(data)
