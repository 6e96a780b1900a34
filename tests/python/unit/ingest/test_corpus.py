"""The bad-input corpus (corpus.py) through the real ``dap load``: every case either loads
what it should or stops with a message naming file, sheet, row and column, never with a
traceback, leaving the lake exactly as it was; memory stays bounded on the bombs and on a
million rows.

Each case is loaded into a copy of a lake that already holds a good workbook, in a
process of its own whose peak resident memory is measured (``ru_maxrss`` of a wrapper's
children: ``dap`` and the parser probe it starts). The corpus is written once per
session; the million-row case alone takes most of the time (about 3 s to write, about 9 s
to load on two cores).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from dap.errors import REFUSAL_CODES
from dap.ingest.guard._sheet_xml import _greater_columns, _greater_numbers
from dap.ingest.pii import column_letter
from testkit.corpus import CASES, INJECTIONS, MILLION, Case, Loads, Stops, write_corpus
from testkit.workbooks import (
    assert_refused,
    clean_env,
    dap_command,
    raw_table,
    sha256_of,
    simple_book,
    tree_state,
)

ISSUE_ITEMS: dict[str, list[str]] = {
    "a corrupt zip": ["corrupt-zip-truncated", "corrupt-zip-bad-crc"],
    "a decompression bomb": [
        "decompression-bomb",
        "decompression-bomb-lying-sizes",
        "sparse-cell-at-XFD1048576",
        "sparse-rows-without-references",
        "shared-strings-count-bomb",
    ],
    "a password-protected file": ["password-protected-xlsx", "password-protected-xls"],
    "a .xls renamed .xlsx": ["xls-renamed-xlsx"],
    "empty and hidden sheets": [
        "empty-workbook",
        "empty-sheet-beside-data",
        "hidden-sheets-with-bad-data",
        "only-hidden-sheets",
    ],
    "merged or duplicate header cells": [
        "merged-title-above-header",
        "merged-header-cell",
        "duplicate-header",
    ],
    "extra and missing columns": ["extra-columns", "missing-column", "no-measure-column"],
    "numbers stored as text": ["numbers-stored-as-text"],
    "formulas": ["formulas"],
    "error cells (#N/A)": ["error-cells"],
    "dates as text in other formats and as Excel serials": [
        "dates-as-text-day-first",
        "dates-as-text-some-other-formats",
        "dates-as-excel-serials",
    ],
    "future dates": ["future-dates"],
    "duplicate dates within one file": ["duplicate-dates"],
    "negative and non-integer counts": ["negative-and-fractional-counts"],
    "service level given in percent": ["service-level-in-percent"],
    "a million rows": ["million-rows"],
    "non-Latin text": ["non-latin-text"],
    "cells that begin with =, +, - or @": ["cells-starting-with-formula-characters"],
}
"""Each item of the issue's list (in its words) -> the cases that cover it."""
MORE_CASES = [
    "corrupt-xls-sheet-offset",
    "corrupt-xls-dimensions",
    "not-a-workbook-random-bytes",
    "not-a-workbook-empty-file",
    "not-a-workbook-html",
    "not-a-workbook-zip-of-csv",
    "too-many-zip-members",
]
"""Cases beyond the list."""
MEMORY_BOUNDED = [
    "decompression-bomb",
    "decompression-bomb-lying-sizes",
    "sparse-cell-at-XFD1048576",
    "sparse-rows-without-references",
    "shared-strings-count-bomb",
    "corrupt-xls-dimensions",
    "million-rows",
]
"""Cases whose peak memory is asserted (corpus.BOMB_MB, corpus.MILLION_ROWS_MB)."""

_BY_NAME = {case.name: case for case in CASES}
_MEASURE = """
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True, check=False)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
json.dump({"status": done.returncode, "stdout": done.stdout, "stderr": done.stderr,
           "peak_mb": peak * scale / 2**20}, sys.stdout)
"""


def run_measured(*args: str | Path) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run ``dap`` in a process of its own; its result and its peak resident memory (MB)."""
    wrapper = subprocess.run(
        [sys.executable, "-c", _MEASURE, *dap_command(), *map(str, args)],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=300,
        check=True,
    )
    report = json.loads(wrapper.stdout)
    done = subprocess.CompletedProcess(
        args, report["status"], stdout=report["stdout"], stderr=report["stderr"]
    )
    return done, float(report["peak_mb"])


@pytest.fixture(scope="session")
def corpus_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    started = time.monotonic()
    paths = write_corpus(tmp_path_factory.mktemp("corpus"))
    sys.stderr.write(
        f"\ncorpus of {len(paths)} workbooks written in {time.monotonic() - started:.1f} s\n"
    )
    return paths


@pytest.fixture(scope="session")
def base_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lake holding one good workbook, so "unchanged" is checked on a lake with data."""
    folder = tmp_path_factory.mktemp("base")
    good = simple_book(folder / "earlier-good.xlsx", date(2019, 1, 1), 5)
    lake = folder / "lake"
    done, _ = run_measured("load", good, "--lake", lake)
    assert done.returncode == 0, done.stderr
    return lake


# --- the corpus covers the issue ----------------------------------------------------------


def test_the_corpus_covers_every_item_of_the_issue():
    assert len(CASES) >= 30
    assert len(_BY_NAME) == len(CASES), "case names are unique"
    assert len({c.file_name for c in CASES}) == len(CASES), "file names are unique"
    listed = [name for names in ISSUE_ITEMS.values() for name in names]
    missing = sorted(set(listed + MORE_CASES + MEMORY_BOUNDED) - set(_BY_NAME))
    assert missing == [], f"cases named here but not in the corpus: {missing}"
    assert sorted(_BY_NAME) == sorted(set(listed + MORE_CASES)), "every case is accounted for"
    for name in MEMORY_BOUNDED:
        assert _BY_NAME[name].expect.max_rss_mb is not None, f"{name} has no memory bound"
    assert {text[0] for text in INJECTIONS} == {"=", "+", "-", "@"}
    for case in CASES:
        assert case.expect.why, f"{case.name} says why"
        if isinstance(case.expect, Stops):
            assert case.expect.code in REFUSAL_CODES, f"{case.name}: {case.expect.code!r}"


# --- every case ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(
    case: Case,
    corpus_files: dict[str, Path],
    base_lake: Path,
    tmp_path: Path,
    record_property: pytest.RecordProperty,
) -> None:
    path = corpus_files[case.name]
    lake = tmp_path / "lake"
    shutil.copytree(base_lake, lake)
    before = tree_state(lake, audit=True)

    started = time.monotonic()
    done, peak_mb = run_measured("load", path, "--lake", lake)
    seconds = time.monotonic() - started
    record_property("peak_rss_mb", round(peak_mb))
    record_property("seconds", round(seconds, 1))
    sys.stderr.write(f"\n{case.name}: exit {done.returncode}, {seconds:.1f} s, {peak_mb:.0f} MB\n")

    assert "Traceback" not in done.stderr, done.stderr
    expect = case.expect
    if isinstance(expect, Stops):
        _check_stop(case, expect, done, path)
        # The lake outside _audit/ as it was; _audit/ one refusal record and its event row.
        assert_refused(lake, before, sha256=sha256_of(path), code=expect.code)
    else:
        assert done.returncode == 0, done.stderr
        _check_load(case, expect, lake)
    if expect.max_rss_mb is not None:
        assert peak_mb < expect.max_rss_mb, f"peak memory {peak_mb:.0f} MB"


def _check_stop(
    case: Case, expect: Stops, done: subprocess.CompletedProcess[str], path: Path
) -> None:
    assert done.returncode == 1, (done.stdout, done.stderr)
    last = done.stderr.strip().splitlines()[-1]
    prefix = f"dap load: error: {expect.location(path.name)}: "
    assert last.startswith(prefix), f"{case.name}: {last!r} does not start with {prefix!r}"
    assert expect.message in last[len(prefix) :], last
    assert done.stdout == ""


def _check_load(case: Case, expect: Loads, lake: Path) -> None:
    table = raw_table(lake)
    mine = table.filter(pc.equal(table["source_file_name"], case.file_name))
    assert mine.num_rows == expect.rows
    if expect.sheets is not None:
        assert set(pc.unique(mine["source_sheet"]).to_pylist()) == expect.sheets
    issues = mine["load_issues"].drop_null()
    starts = pc.utf8_slice_codeunits(issues, 0, 1).to_pylist()
    assert not {"=", "+", "-", "@"} & set(starts), "a load_issues value could run as a formula"
    wanted = sorted(set(expect.values) | set(expect.issues))
    picked = mine.filter(pc.is_in(mine["source_row_number"], pa.array(wanted, pa.int64())))
    rows = {r["source_row_number"]: r for r in picked.to_pylist()}
    assert sorted(rows) == wanted, "every row the case names has landed"
    for number, values in expect.values.items():
        got = {name: rows[number][name] for name in values}
        assert got == dict(values), f"row {number}"
    for number, fragments in expect.issues.items():
        text = rows[number]["load_issues"]
        if not fragments:
            assert text is None, f"row {number}: {text}"
            continue
        assert text is not None, f"row {number} has no load_issues"
        for fragment in fragments:
            assert fragment in text, f"row {number}: {fragment!r} not in {text!r}"


# --- the guard's number and column patterns -----------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 7, 9, 10, 99, 100, 1009, 65_536, 999_999, 1_048_576])
def test_greater_numbers_matches_exactly_the_numbers_above(n: int) -> None:
    pattern = re.compile(_greater_numbers(n).decode())
    for m in {*range(max(n - 120, 1), n + 120), n * 10 + 1, n * 10 + 9, 10**9}:
        assert bool(pattern.fullmatch(str(m))) == (m > n), (n, m)
    for text in ["0", "00", "0" + str(n)]:  # leading zeros: left to int() to compare
        assert pattern.fullmatch(text)


@pytest.mark.parametrize("n", [0, 1, 7, 25, 26, 27, 52, 701, 702, 703, 16_383, 16_384])
def test_greater_columns_matches_exactly_the_columns_after(n: int) -> None:
    pattern = re.compile(_greater_columns(n).decode())
    for m in {*range(max(n - 60, 1), min(n + 60, 18_278) + 1), 1, 26, 702, 18_278}:
        assert bool(pattern.fullmatch(column_letter(m - 1))) == (m > n), (n, m)


def test_million_rows_is_what_the_issue_asks() -> None:
    expect = _BY_NAME["million-rows"].expect
    assert isinstance(expect, Loads)
    assert expect.rows == MILLION == 1_000_000
