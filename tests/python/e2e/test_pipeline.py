"""End to end: workbooks -> dap load -> dbt build (local DuckDB target) -> trusted marts.

The expected figures are computed here, independently of the loader and the models:
from the real CSV with Python's csv module, or from the sample generator's own numbers.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest

from dap.samples.excel_writer import write_xlsx
from dap.samples.synthetic import (
    HEADER,
    MISSING_DAYS,
    PLANTED_HANDLED_EXCEEDS_OFFERED,
    DayMetrics,
    csv_rows_to_workbooks,
    generate_day,
    write_sample,
)
from testkit.support import DbtResult, DbtRunner, run_dap

pytestmark = pytest.mark.dbt

MART_KEYS = {
    "trusted.fct_calls_handled_yearly": "year",
    "trusted.fct_calls_handled_monthly": "month_start_date",
    "trusted.fct_contact_centre_daily": "date",
}
LINEAGE = {"source_file_name", "source_file_sha256", "ingested_at", "extracts_reporting_date"}
BUILD = {"dbt_invocation_id", "built_at", "extracts_ingested_through"}
"""Which build wrote a mart row (macros/marts/build_metadata.sql): differs on every build."""


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
        rows = [{k: v for k, v in r.items() if k not in BUILD} for r in read_rows(lake, relation)]
        if without_lineage:
            rows = [{k: v for k, v in row.items() if k not in LINEAGE} for row in rows]
        out[relation] = rows
    return out


def check_build_metadata(lake: Path, result: DbtResult) -> None:
    """Every mart row names the invocation that built it and when that invocation started."""
    metadata = result.run_results["metadata"]
    started = datetime.fromisoformat(metadata["invocation_started_at"].replace("Z", "+00:00"))
    generated = datetime.fromisoformat(metadata["generated_at"].replace("Z", "+00:00"))
    for relation in MART_KEYS:
        stamps = {(r["dbt_invocation_id"], r["built_at"]) for r in read_rows(lake, relation)}
        assert len(stamps) == 1, relation  # one build, one instant, for every row
        ((invocation, built_at),) = stamps
        assert invocation == metadata["invocation_id"], relation
        built = built_at.replace(tzinfo=UTC)
        assert started - timedelta(seconds=1) <= built <= generated, (relation, built, started)
        assert built.microsecond % 1000 == 0  # milliseconds, as Athena's timestamp keeps


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


def write_year(path: Path, year: int, figures: Callable[[DayMetrics], list[object]]) -> Path:
    """A workbook of the sample's days of one year, newest first. ``figures`` gives the
    leading figures of each row (calls offered, handled, ...); the rest are the sample's."""
    rows: list[list[object]] = [list(HEADER)]
    day = date(year, 12, 31)
    while day.year == year:
        m = generate_day(311, day)
        full = [m.offered, m.handled, m.abandoned, m.asa, m.service_level]
        given = figures(m)
        rows.append([day, *given, *full[len(given) :], len(rows)])
        day -= timedelta(days=1)
    write_xlsx(path, {"Sheet1": rows})
    return path


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
    # Two missing days and the quarantined one are three gaps in the daily series; the
    # quarantined day is held back (no other extract has it), which warns.
    assert dbt_test_failures(result, "no_missing_days_fct_contact_centre_daily_date") == ("warn", 3)
    assert dbt_test_failures(result, "assert_few_days_held_back_by_quarantine") == ("warn", 1)
    assert dbt_test_failures(result, "assert_quarantine_is_empty") == ("warn", 1)
    check_build_metadata(lake, result)
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
    before = {r["year"]: r for r in marts(lake)["trusted.fct_calls_handled_yearly"]}

    corrected = date(2022, 5, 10)
    original = generate_day(311, corrected)
    reissued = write_year(
        tmp_path / "contact-centre-metrics-2022-reissued.xlsx",
        2022,
        lambda m: [m.offered, m.handled - 100 if m.day == corrected else m.handled],
    )
    load(lake, reissued)
    run_dbt("build", lake=lake)

    after = {r["year"]: r for r in marts(lake)["trusted.fct_calls_handled_yearly"]}
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


def service_level_in_percent(m: DayMetrics) -> list[object]:
    return [m.offered, m.handled, m.abandoned, m.asa, round(m.service_level * 100, 2)]


def test_a_broken_reissue_is_quarantined_and_the_older_figures_stay(
    sample_books: list[Path], tmp_path: Path, run_dbt: DbtRunner
) -> None:
    """A re-issued 2023 with service level in percent (85 for 0.85) breaks a hard rule on
    every row: its rows are quarantined, the marts keep the valid 2022-issued figures,
    and the build passes with nothing held back beyond the planted error."""
    lake = tmp_path / "lake"
    load(lake, *sample_books)
    run_dbt("build", lake=lake)
    before = marts(lake, without_lineage=True)

    broken = write_year(tmp_path / "2023-in-percent.xlsx", 2023, service_level_in_percent)
    load(lake, broken)
    result = run_dbt("build", lake=lake)

    assert marts(lake, without_lineage=True) == before
    quarantine = read_rows(lake, "curated.quarantine_daily_metrics")
    from_broken = [r for r in quarantine if r["source_file_name"] == broken.name]
    assert len({r["source_row_number"] for r in from_broken}) == 365
    # Every row of it breaks a rule of its own, the planted day's too; that day's merged
    # figures come from the sample's 2023 workbook, which the quarantine names for it.
    assert sorted({r["rule_code"] for r in from_broken}) == ["service_level_out_of_range"]
    planted = [r for r in quarantine if r["date"] == PLANTED_HANDLED_EXCEEDS_OFFERED]
    assert {(r["rule_code"], r["source_file_name"] == broken.name) for r in planted} == {
        ("service_level_out_of_range", True),
        ("handled_exceeds_offered", False),
    }
    # Days the sample's own 2023 workbook lacks are not rescued by anything.
    held_back = {r["date"] for r in from_broken if not r["is_date_in_marts"]}
    assert held_back == {date(2023, 3, 8), PLANTED_HANDLED_EXCEEDS_OFFERED}
    assert dbt_test_failures(result, "assert_few_days_held_back_by_quarantine") == ("warn", 2)


def test_a_broken_extract_with_nothing_to_fall_back_on_fails_the_build(
    tmp_path: Path, run_dbt: DbtRunner
) -> None:
    lake = tmp_path / "lake"
    load(lake, write_year(tmp_path / "2023-in-percent.xlsx", 2023, service_level_in_percent))
    result = run_dbt("build", lake=lake, check=False)

    assert result.returncode != 0
    assert dbt_test_failures(result, "assert_few_days_held_back_by_quarantine") == ("fail", 365)
    assert read_rows(lake, "trusted.fct_calls_handled_yearly") == []
