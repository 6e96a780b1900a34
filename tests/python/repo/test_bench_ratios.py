"""``make bench BENCH_ARGS=--check`` fails when the loader misses a ratio against its peers:
the acceptance arithmetic of ``bench/__main__.py`` on made-up measurements."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from testkit.support import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT))  # bench/ is a development tool at the repo root
from bench.__main__ import (
    MAX_PEAK_OVER_FASTEXCEL,
    MAX_WALL_OVER_FASTEXCEL,
    Contender,
    LoaderResult,
    loader_table,
)
from bench.measure import Measurement

ROWS = 1_000_000


def _result(ours_s: float, ours_mib: float, *, fastexcel_s: float = 4.0) -> LoaderResult:
    def contender(name: str, seconds: float, mib: float, parse: float | None) -> Contender:
        return Contender(
            name, ROWS, seconds, seconds, Measurement(seconds + 1, seconds, mib, 0), parse
        )

    return LoaderResult(
        ROWS,
        Path("metrics.xlsx"),
        {
            "ours": contender("ours", ours_s, ours_mib, None),
            "fastexcel": contender("fastexcel", fastexcel_s, 500.0, 3.0),
            "polars": contender("polars", 4.5, 520.0, 3.2),
            "bare": contender("bare", 9.0, 900.0, 9.0),
            "pandas": contender("pandas", 120.0, 2000.0, None),
        },
        {"container check alone": 1.0},
    )


def test_within_both_ratios_is_accepted() -> None:
    result = _result(4.0 * MAX_WALL_OVER_FASTEXCEL - 0.01, 500.0 * MAX_PEAK_OVER_FASTEXCEL - 1)
    assert result.accepted
    assert result.floor.name == "fastexcel"
    assert "NOT met" not in loader_table(result)


@pytest.mark.parametrize(
    ("seconds", "mib", "missed"),
    [
        (4.0 * MAX_WALL_OVER_FASTEXCEL + 0.01, 500.0, "the time"),
        (4.0, 500.0 * MAX_PEAK_OVER_FASTEXCEL + 1, "the peak memory"),
        (30.0, 500.0, "the rows per second"),  # under 5x the pandas loader's speed
    ],
)
def test_a_missed_ratio_is_not_accepted(seconds: float, mib: float, missed: str) -> None:
    result = _result(seconds, mib)
    assert not result.accepted
    table = loader_table(result)
    assert any(missed in line and line.endswith("NOT met") for line in table.splitlines())


def test_each_contender_is_its_median_run() -> None:
    from bench.__main__ import _median_run  # noqa: PLC0415

    def run(seconds: float, tree_mib: float | None) -> Contender:
        measured = Measurement(seconds, seconds, 500.0, 0, tree_mib)
        return Contender("ours", ROWS, seconds, seconds, measured)

    kept = _median_run([run(5.0, None), run(3.0, None), run(4.0, None)], run(4.5, 640.0))
    assert kept.seconds == 4.0
    assert kept.process.peak_memory_mib == 640.0  # from the run that sampled memory
