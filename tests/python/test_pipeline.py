"""End to end: workbooks -> dap load -> dbt build (local DuckDB target) -> trusted marts.

The expected figures are computed here, independently of the loader and the models:
from the real CSV with Python's csv module, or from the sample generator's own numbers.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest

from dap.excel_writer import write_xlsx
from dap.sample import (
    HEADER,
    MISSING_DAYS,
    PLANTED_HANDLED_EXCEEDS_OFFERED,
    csv_rows_to_workbooks,
    generate_day,
    write_sample,
)
from support import DbtResult, DbtRunner, run_dap

pytestmark = pytest.mark.dbt

MART_KEYS = {
    "trusted.fct_calls_handled_yearly": "year",
    "trusted.fct_calls_handled_monthly": "month_start_date",
    "trusted.fct_contact_centre_daily": "date",
}
LINEAGE = {"source_file_name", "source_file_sha256", "ingested_at", "extracts_reporting_date"}


@dataclass
class YearTotals:
    offered: int = 0
    handled: int = 0
    weighted_service_level: float = 0.0
    weighted_speed: float = 0.0
    days: int = 0

    def add(self, offered: int, handled: int, service_level: float, speed: float) -> None:
        self.offered += offered
        self.handled += handled
        self.weighted_service_level += service_level * offered
        self.weighted_speed += speed * handled
        self.days += 1

    @property
    def handled_pct(self) -> Decimal:
        exact = Decimal(100 * self.handled) / Decimal(self.offered)
        return exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def read_rows(lake: Path, relation: str) -> list[dict[str, object]]:
    with duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True) as con:
        cursor = con.execute(f"select * from {relation} order by all")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def marts(lake: Path, *, without_lineage: bool = False) -> dict[str, list[dict[str, object]]]:
    out = {}
    for relation in MART_KEYS:
        rows = read_rows(lake, relation)
        if without_lineage:
            rows = [{k: v for k, v in row.items() if k not in LINEAGE} for row in rows]
        out[relation] = rows
    return out


def load(lake: Path, *workbooks: Path) -> str:
    result = run_dap("load", *map(str, workbooks), "--lake", str(lake))
    assert result.returncode == 0, result.stderr
    return result.stdout


def dbt_test_failures(result: DbtResult, test_name: str) -> tuple[str, int]:
    for r in result.run_results["results"]:
        if r["unique_id"].split(".")[2] == test_name:
            return r["status"], r["failures"]
    raise AssertionError(f"test {test_name} not in run_results")


def check_yearly(yearly: list[dict[str, object]], expected: dict[int, YearTotals]) -> None:
    assert [row["year"] for row in yearly] == sorted(expected)
    for row in yearly:
        totals = expected[row["year"]]
        assert (row["calls_offered"], row["calls_handled"], row["days_reported"]) == (
            totals.offered,
            totals.handled,
            totals.days,
        ), row["year"]
        assert Decimal(str(row["calls_handled_pct"])) == totals.handled_pct, row["year"]
        assert row["service_level"] == pytest.approx(
            totals.weighted_service_level / totals.offered, abs=0.00005
        )
        assert row["avg_speed_of_answer_seconds"] == pytest.approx(
            totals.weighted_speed / totals.handled, abs=0.005
        )


def totals_from_csv(path: Path) -> dict[int, YearTotals]:
    totals: dict[int, YearTotals] = defaultdict(YearTotals)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle, delimiter=";"):
            year = int(row["Date"][:4])
            totals[year].add(
                int(row["CallsOffered"]),
                int(row["CallsHandled"]),
                float(row["ServiceLevel"]),
                float(row["AverageSpeedofAnswer"]),
            )
    return dict(totals)


def test_real_dataset_yearly_mart_matches_totals_from_the_csv(
    real_csv: Path, tmp_path: Path, run_dbt: DbtRunner
) -> None:
    workbooks = csv_rows_to_workbooks(real_csv, tmp_path / "workbooks")
    lake = tmp_path / "lake"
    load(lake, *workbooks)
    result = run_dbt("build", lake=lake)

    expected = totals_from_csv(real_csv)
    assert sum(t.days for t in expected.values()) == 5585
    check_yearly(read_rows(lake, "trusted.fct_calls_handled_yearly"), expected)

    # The real data's quirks, as the README describes them: 23 over-accounted days kept
    # in the totals and flagged, two missing days reported, nothing quarantined.
    assert dbt_test_failures(result, "daily_handled_plus_abandoned_within_offered") == ("warn", 23)
    assert dbt_test_failures(result, "no_missing_days_fct_contact_centre_daily_date") == ("warn", 2)
    assert read_rows(lake, "curated.quarantine_daily_metrics") == []
    daily = read_rows(lake, "trusted.fct_contact_centre_daily")
    assert sum(bool(row["is_over_accounted"]) for row in daily) == 23
    dates = {row["date"] for row in daily}
    assert date(2010, 3, 7) not in dates
    assert date(2013, 3, 8) not in dates


def test_full_export_plus_overlapping_yearly_workbooks_gives_identical_marts(
    real_csv: Path, tmp_path: Path, run_dbt: DbtRunner
) -> None:
    yearly_books = csv_rows_to_workbooks(real_csv, tmp_path / "yearly")
    (full_export,) = csv_rows_to_workbooks(real_csv, tmp_path / "full", by_year=False)

    lake_yearly = tmp_path / "lake-yearly"
    load(lake_yearly, *yearly_books)
    run_dbt("build", lake=lake_yearly)

    lake_mixed = tmp_path / "lake-mixed"
    load(lake_mixed, *yearly_books[-3:])
    load(lake_mixed, full_export)
    load(lake_mixed, *yearly_books[:5])
    run_dbt("build", lake=lake_mixed)

    assert marts(lake_mixed, without_lineage=True) == marts(lake_yearly, without_lineage=True)
    assert read_rows(lake_mixed, "curated.conflicts_daily_metrics") == []
    overlap = read_rows(lake_mixed, "trusted.fct_contact_centre_daily")
    assert {row["extracts_reporting_date"] for row in overlap} == {1, 2}


def sample_totals(start: date, end: date) -> dict[int, YearTotals]:
    totals: dict[int, YearTotals] = defaultdict(YearTotals)
    day = start
    while day <= end:
        if day not in MISSING_DAYS and day != PLANTED_HANDLED_EXCEEDS_OFFERED:
            m = generate_day(311, day)
            totals[day.year].add(m.offered, m.handled, m.service_level, m.asa)
        day += timedelta(days=1)
    return dict(totals)


@pytest.fixture(scope="module")
def sample_books(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("sample")
    return [f.path for f in write_sample(out)]


def test_sample_pipeline_routes_the_planted_error_to_quarantine(
    sample_books: list[Path], tmp_path: Path, run_dbt: DbtRunner
) -> None:
    lake = tmp_path / "lake"
    load(lake, *sample_books)
    result = run_dbt("build", lake=lake)

    check_yearly(
        read_rows(lake, "trusted.fct_calls_handled_yearly"),
        sample_totals(date(2020, 1, 1), date(2024, 9, 30)),
    )
    quarantine = read_rows(lake, "curated.quarantine_daily_metrics")
    assert [(r["date"], r["rule_code"]) for r in quarantine] == [
        (PLANTED_HANDLED_EXCEEDS_OFFERED, "handled_exceeds_offered")
    ]
    assert quarantine[0]["quarantine_reason"].startswith("More calls handled than offered")
    daily_dates = {r["date"] for r in read_rows(lake, "trusted.fct_contact_centre_daily")}
    assert PLANTED_HANDLED_EXCEEDS_OFFERED not in daily_dates
    assert not daily_dates & set(MISSING_DAYS)
    # Two missing days and the quarantined one are three gaps in the daily series.
    assert dbt_test_failures(result, "no_missing_days_fct_contact_centre_daily_date") == ("warn", 3)
    summary = run_dap("summary", "--lake", str(lake))
    assert summary.returncode == 0, summary.stderr
    assert "92.39" in summary.stdout  # 2023's percentage, as the mart has it
    assert "quarantined: 1 row(s) on 1 day(s)" in summary.stdout


def test_loading_the_same_workbooks_twice_gives_identical_marts(
    sample_books: list[Path], tmp_path: Path, run_dbt: DbtRunner
) -> None:
    lake = tmp_path / "lake"
    load(lake, *sample_books)
    run_dbt("build", lake=lake)
    first = marts(lake)

    second_load = load(lake, *sample_books)
    assert "0 landed, 5 skipped as unchanged" in second_load
    run_dbt("build", lake=lake)
    assert marts(lake) == first


def test_reissued_year_wins_and_conflicts_are_recorded(
    sample_books: list[Path], tmp_path: Path, run_dbt: DbtRunner
) -> None:
    """A re-issued 2022 workbook corrects one day: the newer figures win, the older
    ones are recorded as a conflict, and the year's totals change by exactly that."""
    lake = tmp_path / "lake"
    load(lake, *sample_books)
    run_dbt("build", lake=lake)
    before = {r["year"]: r for r in read_rows(lake, "trusted.fct_calls_handled_yearly")}

    corrected = date(2022, 5, 10)
    original = generate_day(311, corrected)
    rows: list[list[object]] = [list(HEADER)]
    day = date(2022, 12, 31)
    while day.year == 2022:
        m = generate_day(311, day)
        handled = m.handled - 100 if day == corrected else m.handled
        rows.append([day, m.offered, handled, m.abandoned, m.asa, m.service_level, len(rows)])
        day -= timedelta(days=1)
    reissued = tmp_path / "contact-centre-metrics-2022-reissued.xlsx"
    write_xlsx(reissued, {"Sheet1": rows})
    load(lake, reissued)
    run_dbt("build", lake=lake)

    after = {r["year"]: r for r in read_rows(lake, "trusted.fct_calls_handled_yearly")}
    assert after[2022]["calls_handled"] == before[2022]["calls_handled"] - 100
    assert after[2022]["calls_offered"] == before[2022]["calls_offered"]
    assert {y: r for y, r in after.items() if y != 2022} == {
        y: r for y, r in before.items() if y != 2022
    }
    conflicts = read_rows(lake, "curated.conflicts_daily_metrics")
    assert [(c["date"], c["differing_columns"]) for c in conflicts] == [
        (corrected, "calls_handled")
    ]
    assert conflicts[0]["calls_handled"] == original.handled - 100
    assert conflicts[0]["superseded_calls_handled"] == original.handled
    assert conflicts[0]["source_file_name"] == reissued.name
