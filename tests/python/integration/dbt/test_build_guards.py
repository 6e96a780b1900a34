"""Two ways a build could give a silently wrong or spuriously failing result, closed:
counts so large that the marts' 64-bit sums would overflow are quarantined with the row
named (rule count_implausibly_large), and a load that lands while a build runs changes
nothing that build compares (int_daily_metrics_validated is a snapshot table)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from testkit.support import DbtRunner
from testkit.workbooks import HEADER, SHEET, rows_for, run_dap, xlsx

pytestmark = pytest.mark.dbt

BUILD_ARGS = ("build", "--exclude", "test_type:unit")
HUGE = 2**62
"""A count an int64 holds (and a float represents exactly), two of which overflow a sum."""


def _load(lake: Path, *paths: Path) -> None:
    result = run_dap("load", "--lake", lake, *paths)
    assert result.returncode == 0, result.stderr


def _query(lake: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_counts_that_would_overflow_the_sums_are_quarantined_by_row(
    tmp_path: Path, run_dbt: DbtRunner
) -> None:
    lake = tmp_path / "lake"
    rows = rows_for(date(2023, 5, 1), 6)
    # Two days whose counts are valid int64 but whose sum (and 100 x handled) is not.
    rows[2] = [date(2023, 5, 3), HUGE, HUGE // 2, 3, 12.0, 0.8, 3]
    rows[3] = [date(2023, 5, 4), HUGE, 1000, HUGE // 4, 12.0, 0.8, 4]
    _load(lake, xlsx(tmp_path / "huge.xlsx", {SHEET: [HEADER, *rows]}))

    result = run_dbt(*BUILD_ARGS, lake=lake, check=False)
    assert "Overflow" not in result.output, result.output[-4000:]

    quarantined = _query(
        lake,
        "select source_sheet, source_row_number, rule_code from curated.quarantine_daily_metrics"
        " where rule_code = 'count_implausibly_large' order by source_row_number",
    )
    rule = "count_implausibly_large"
    assert quarantined == [(SHEET, 4, rule), (SHEET, 5, rule)]
    days = _query(lake, "select date from trusted.fct_contact_centre_daily order by date")
    assert [d for (d,) in days] == [date(2023, 5, n) for n in (1, 2, 5, 6)]
    totals = _query(
        lake, "select calls_offered, calls_handled from trusted.fct_calls_handled_yearly"
    )
    expected = sum(r[1] for i, r in enumerate(rows) if i not in (2, 3))
    assert totals[0][0] == expected


def test_a_load_landing_during_a_build_changes_nothing_the_build_compares(
    tmp_path: Path, run_dbt: DbtRunner
) -> None:
    lake = tmp_path / "lake"
    _load(lake, xlsx(tmp_path / "first.xlsx", {SHEET: [HEADER, *rows_for(date(2023, 1, 1), 5)]}))
    run_dbt("run", lake=lake)

    # A second extract lands after the models were built and before their tests run:
    # the tests compare the build's own snapshot, not the lake as it is now.
    later = rows_for(date(2023, 2, 1), 4, start_n=20)
    _load(lake, xlsx(tmp_path / "second.xlsx", {SHEET: [HEADER, *later]}))
    tested = run_dbt("test", "--exclude", "test_type:unit", lake=lake, check=False)
    failed = {k: v for k, v in tested.statuses().items() if v in ("fail", "error")}
    assert not failed, tested.output[-4000:]
    assert tested.returncode == 0, tested.output[-4000:]
    days = _query(lake, "select count(*) from trusted.fct_contact_centre_daily")
    assert days == [(5,)]

    # The next build takes the extract in.
    run_dbt(*BUILD_ARGS, lake=lake)
    assert _query(lake, "select count(*) from trusted.fct_contact_centre_daily") == [(9,)]
