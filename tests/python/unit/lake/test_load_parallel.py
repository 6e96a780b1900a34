"""Several workbooks are checked in worker processes (``dap.lake.load``): the lake they
leave, and the error a bad one raises, are those of checking them one after another."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from dap.errors import DapError
from dap.lake import load
from dap.lake.load import load_workbooks
from dap.lake.storage import LocalLake
from testkit.workbooks import HEADER, row, simple_book, tree_state, xlsx

NOW = datetime(2024, 10, 1, 12, 0, 0, tzinfo=UTC)


def _load(paths: list[Path], lake: Path) -> None:
    load_workbooks(paths, LocalLake(lake), clock=lambda: NOW)


def _books(folder: Path) -> list[Path]:
    return [
        simple_book(folder / f"book{i}.xlsx", date(2020 + i, 6, 1), 30, start_n=40 * i)
        for i in range(4)
    ]


@pytest.fixture
def submitted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every workbook handed to a worker process (the threshold lowered to any size)."""
    names: list[str] = []

    class Counting(ProcessPoolExecutor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            names.append(args[0])
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(load, "ProcessPoolExecutor", Counting)
    monkeypatch.setattr(load, "PARALLEL_PARSE_MIN_BYTES", 0)
    return names


def test_workers_leave_the_lake_one_by_one_leaves(tmp_path, submitted, monkeypatch):
    books = _books(tmp_path / "in")
    _load(books, tmp_path / "parallel")
    assert submitted == [b.name for b in books]
    monkeypatch.setattr(load, "PARALLEL_PARSE_MIN_BYTES", 1 << 62)
    _load(books, tmp_path / "serial")
    assert submitted == [b.name for b in books]  # no worker the second time
    parallel, serial = tree_state(tmp_path / "parallel"), tree_state(tmp_path / "serial")
    assert parallel == serial
    assert any(key.startswith("raw/") for key in parallel)


@pytest.mark.parametrize(
    "bad_rows",
    [
        [HEADER, row("x", 1), row("y", 2), row(date(2023, 1, 1), 3)],  # unreadable dates
        [HEADER, row(date(2023, 1, 1), 1), ["call 604-871-7000"]],  # personal data
    ],
    ids=["unreadable-dates", "personal-data"],
)
def test_a_bad_workbook_among_them_fails_as_it_would_alone(
    tmp_path, submitted, monkeypatch, bad_rows
):
    books = _books(tmp_path / "in")
    bad = xlsx(tmp_path / "in" / "bad.xlsx", {"Data": bad_rows})
    order = [books[0], bad, *books[1:]]
    with pytest.raises(DapError) as parallel:
        _load(order, tmp_path / "parallel")
    assert bad.name in submitted
    monkeypatch.setattr(load, "PARALLEL_PARSE_MIN_BYTES", 1 << 62)
    with pytest.raises(DapError) as serial:
        _load(order, tmp_path / "serial")
    assert str(parallel.value) == str(serial.value)
    assert type(parallel.value) is type(serial.value)
    # Nothing landed either way: only the refusal's trace.
    for lake in ("parallel", "serial"):
        assert not [k for k in tree_state(tmp_path / lake) if k.startswith(("raw/", "landing/"))]
