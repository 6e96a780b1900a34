"""Partial extracts merged by date, measure by measure: the City's contact-centre data as two
workbooks, `callsGeneral.xls` (Date, CallsOffered, CallsAbandoned, ServiceLevel,
AverageSpeedofAnswer) and `callsHandled.xls` (Date, CallsHandled), give the trusted marts
one workbook with every column gives; a re-issued handled-only extract changes handled
calls only; a day with some measures but not all is held back until the rest lands; rules
that compare measures apply to the merged day. Synthetic workbooks, and the real dataset
(skipped when absent)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from dap.samples.excel_writer import Cell, write_xls
from testkit.support import REPO_ROOT, DbtResult, DbtRunner, run_dbt_cli
from testkit.workbooks import HEADER, SHEET, run_dap, xlsx

pytestmark = pytest.mark.dbt

MARTS = {
    "trusted.fct_contact_centre_daily": "date",
    "trusted.fct_calls_handled_monthly": "month_start_date",
    "trusted.fct_calls_handled_yearly": "year",
}
BUILD = {"dbt_invocation_id", "built_at", "extracts_ingested_through"}
"""Which build wrote a mart row, when, and its watermark: differ between builds by design."""
LINEAGE = {"source_file_name", "source_file_sha256", "ingested_at", "extracts_reporting_date"}
"""Where a day's figures came from: one workbook, or the newer of a split pair."""
GENERAL_HEADER: list[Cell] = [
    "Date",
    "CallsOffered",
    "CallsAbandoned",
    "ServiceLevel",
    "AverageSpeedofAnswer",
]
HANDLED_HEADER: list[Cell] = ["Date", "CallsHandled"]
HANDLED_AND_DERIVED = {
    "calls_handled",
    "calls_handled_pct",
    "calls_neither_handled_nor_abandoned",
    "is_over_accounted",
}
"""What a change to a day's handled calls may change in the daily and period marts."""
# dbt build without the project's unit tests, which do not depend on the lake.
BUILD_ARGS = ("build", "--exclude", "test_type:unit")


@dataclass(frozen=True)
class Day:
    day: date
    offered: int
    handled: int
    abandoned: int
    speed: float
    service_level: float
    bi_id: int

    def combined(self) -> list[Cell]:
        """The row in the export's column order (testkit.workbooks.HEADER)."""
        return [
            self.day,
            self.offered,
            self.handled,
            self.abandoned,
            self.speed,
            self.service_level,
            self.bi_id,
        ]

    def general(self) -> list[Cell]:
        return [self.day, self.offered, self.abandoned, self.service_level, self.speed]

    def handled_row(self) -> list[Cell]:
        return [self.day, self.handled]


def synthetic_days(first: date, count: int) -> list[Day]:
    """Valid days, distinct figures, exactly representable, across a year boundary when
    ``first`` is late in December."""
    return [
        Day(first + timedelta(n), 1000 + n, 900 + n, 50 + n, 20.0 + n / 4, 0.5 + n / 64, n)
        for n in range(count)
    ]


def real_days(path: Path) -> list[Day]:
    """The reference CSV's rows (`;`-delimited, BOM), read with pyarrow's CSV reader."""
    table = pacsv.read_csv(path, parse_options=pacsv.ParseOptions(delimiter=";"))
    columns = [
        "Date",
        "CallsOffered",
        "CallsHandled",
        "CallsAbandoned",
        "AverageSpeedofAnswer",
        "ServiceLevel",
        "BI_ID",
    ]
    rows = zip(*(table.column(c).to_pylist() for c in columns), strict=True)
    return [Day(d, o, h, a, float(s), float(sl), b) for d, o, h, a, s, sl, b in rows]


def write_combined(path: Path, days: Sequence[Day]) -> Path:
    write_xls(path, {SHEET: [HEADER, *(d.combined() for d in days)]})
    return path


def write_general(path: Path, days: Sequence[Day]) -> Path:
    write_xls(path, {"callsGeneral": [GENERAL_HEADER, *(d.general() for d in days)]})
    return path


def write_handled(path: Path, days: Sequence[Day]) -> Path:
    write_xls(path, {"callsHandled": [HANDLED_HEADER, *(d.handled_row() for d in days)]})
    return path


def load(lake: Path, *books: Path) -> None:
    result = run_dap("load", *books, "--lake", lake)
    assert result.returncode == 0, result.stderr


def rows(lake: Path, sql: str) -> list[dict[str, object]]:
    with duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True) as con:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def marts(lake: Path) -> dict[str, list[dict[str, object]]]:
    """The trusted marts without build-time and lineage columns."""
    return {
        relation: [
            {k: v for k, v in r.items() if k not in BUILD | LINEAGE}
            for r in rows(lake, f"select * from {relation} order by {key}")
        ]
        for relation, key in MARTS.items()
    }


def daily(lake: Path) -> dict[date, dict[str, object]]:
    found = rows(lake, "select * from trusted.fct_contact_centre_daily")
    return {r["date"]: r for r in found}  # type: ignore[misc]


def outcome(result: DbtResult, test_name: str) -> tuple[str, int]:
    for r in result.run_results["results"]:
        if r["unique_id"].split(".")[2] == test_name:
            return r["status"], r["failures"]
    raise AssertionError(f"test {test_name} not in run_results")


# --- synthetic ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def days() -> list[Day]:
    return synthetic_days(date(2022, 12, 20), 31)


@pytest.fixture(scope="module")
def combined_marts(
    days: list[Day], tmp_path_factory: pytest.TempPathFactory, dbt_profiles_dir: Path
) -> dict[str, list[dict[str, object]]]:
    """The marts of one workbook with every column, built once for the module (the
    ``run_dbt`` fixture is per test)."""
    folder = tmp_path_factory.mktemp("combined")
    lake = folder / "lake"
    load(lake, write_combined(folder / "combined.xls", days))
    env = {
        **os.environ,
        "DAP_LAKE": str(lake),
        "DBT_PROFILES_DIR": str(dbt_profiles_dir),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    env.pop("DBT_TARGET", None)
    result = run_dbt_cli(BUILD_ARGS, cwd=REPO_ROOT, env=env, target=folder / "target")
    assert result.returncode == 0, result.output[-4000:]
    built = marts(lake)
    assert len(built["trusted.fct_contact_centre_daily"]) == len(days)
    return built


def test_a_split_pair_gives_the_marts_of_one_combined_workbook(
    days: list[Day],
    combined_marts: dict[str, list[dict[str, object]]],
    tmp_path: Path,
    run_dbt: DbtRunner,
) -> None:
    lake = tmp_path / "lake"
    general = write_general(tmp_path / "callsGeneral.xls", days)
    handled = write_handled(tmp_path / "callsHandled.xls", days)
    load(lake, general, handled)
    result = run_dbt(*BUILD_ARGS, lake=lake)

    assert marts(lake) == combined_marts
    assert rows(lake, "select * from curated.quarantine_daily_metrics") == []
    assert rows(lake, "select * from curated.conflicts_daily_metrics") == []
    assert outcome(result, "assert_no_day_is_incomplete") == ("pass", 0)
    # Each measure's lineage: the extract, sheet and row it came from.
    merged = rows(
        lake,
        "select date, calls_offered_source_file_name, calls_offered_source_sheet,"
        " calls_offered_source_row_number, calls_handled_source_file_name,"
        " calls_handled_source_sheet, calls_handled_source_row_number,"
        " service_level_source_file_name from curated.int_daily_metrics_merged"
        " where date = date '2022-12-21'",
    )
    assert merged == [
        {
            "date": date(2022, 12, 21),
            "calls_offered_source_file_name": "callsGeneral.xls",
            "calls_offered_source_sheet": "callsGeneral",
            "calls_offered_source_row_number": 3,
            "calls_handled_source_file_name": "callsHandled.xls",
            "calls_handled_source_sheet": "callsHandled",
            "calls_handled_source_row_number": 3,
            "service_level_source_file_name": "callsGeneral.xls",
        }
    ]
    assert {r["source_file_name"] for r in daily(lake).values()} == {"callsHandled.xls"}
    assert {r["extracts_reporting_date"] for r in daily(lake).values()} == {2}


def test_two_sheets_of_one_workbook_carrying_different_measures_merge_by_date(
    days: list[Day],
    combined_marts: dict[str, list[dict[str, object]]],
    tmp_path: Path,
    run_dbt: DbtRunner,
) -> None:
    book = xlsx(
        tmp_path / "split-sheets.xlsx",
        {
            "Handled": [HANDLED_HEADER, *(d.handled_row() for d in reversed(days))],
            "General": [GENERAL_HEADER, *(d.general() for d in days)],
        },
    )
    lake = tmp_path / "lake"
    load(lake, book)
    run_dbt(*BUILD_ARGS, lake=lake)

    assert marts(lake) == combined_marts
    assert rows(lake, "select * from curated.quarantine_daily_metrics") == []


def test_general_alone_holds_every_day_back_until_handled_lands(
    days: list[Day],
    combined_marts: dict[str, list[dict[str, object]]],
    tmp_path: Path,
    run_dbt: DbtRunner,
) -> None:
    lake = tmp_path / "lake"
    load(lake, write_general(tmp_path / "callsGeneral.xls", days))
    result = run_dbt(*BUILD_ARGS, lake=lake)  # passes: incomplete days only warn

    assert daily(lake) == {}
    quarantine = rows(lake, "select * from curated.quarantine_daily_metrics order by date")
    assert [r["date"] for r in quarantine] == [d.day for d in days]
    assert {(r["rule_code"], r["severity"], r["rule_scope"]) for r in quarantine} == {
        ("day_incomplete", "hold", "day")
    }
    assert {r["is_date_in_marts"] for r in quarantine} == {False}
    assert "calls_handled from no extract" in str(quarantine[0]["day_parts"])
    assert outcome(result, "assert_no_day_is_incomplete") == ("warn", len(days))
    # Waiting for a part is not broken data: neither counted nor alarmed on.
    assert outcome(result, "assert_few_days_held_back_by_quarantine") == ("pass", 0)
    assert outcome(result, "assert_quarantine_is_empty") == ("pass", 0)

    load(lake, write_handled(tmp_path / "callsHandled.xls", days))
    result = run_dbt(*BUILD_ARGS, lake=lake)  # incremental: the years the new extract touches

    assert marts(lake) == combined_marts
    assert rows(lake, "select * from curated.quarantine_daily_metrics") == []
    assert outcome(result, "assert_no_day_is_incomplete") == ("pass", 0)


def test_a_reissued_handled_extract_changes_handled_calls_only(
    days: list[Day],
    combined_marts: dict[str, list[dict[str, object]]],
    tmp_path: Path,
    run_dbt: DbtRunner,
) -> None:
    lake = tmp_path / "lake"
    load(
        lake,
        write_general(tmp_path / "callsGeneral.xls", days),
        write_handled(tmp_path / "callsHandled.xls", days),
    )
    run_dbt(*BUILD_ARGS, lake=lake)
    before = daily(lake)

    changed = {days[3].day: 7, days[20].day: -11}  # one day in each year
    reissued = [replace(d, handled=d.handled + changed.get(d.day, 0)) for d in days]
    load(lake, write_handled(tmp_path / "callsHandled-reissued.xls", reissued))
    run_dbt(*BUILD_ARGS, lake=lake)
    after = daily(lake)

    assert set(after) == set(before)
    for day, row in after.items():
        old = {k: v for k, v in before[day].items() if k not in BUILD | LINEAGE}
        new = {k: v for k, v in row.items() if k not in BUILD | LINEAGE}
        if day not in changed:
            assert new == old, day
            continue
        differs = {k for k in new if new[k] != old[k]}
        assert {"calls_handled", "calls_handled_pct"} <= differs <= HANDLED_AND_DERIVED
        assert new["calls_handled"] == old["calls_handled"] + changed[day]  # type: ignore[operator]
        assert row["source_file_name"] == "callsHandled-reissued.xls"
    conflicts = rows(lake, "select * from curated.conflicts_daily_metrics order by date")
    assert [(c["date"], c["differing_columns"]) for c in conflicts] == [
        (day, "calls_handled") for day in sorted(changed)
    ]
    assert {c["superseded_source_file_name"] for c in conflicts} == {"callsHandled.xls"}

    run_dbt(*BUILD_ARGS, "--full-refresh", lake=lake)
    assert daily(lake).keys() == after.keys()
    assert marts(lake)["trusted.fct_contact_centre_daily"] == [
        {k: v for k, v in after[d].items() if k not in BUILD | LINEAGE} for d in sorted(after)
    ]
    assert marts(lake) != combined_marts


def test_handled_above_offered_on_the_merged_day_is_quarantined_naming_both_extracts(
    days: list[Day], tmp_path: Path, run_dbt: DbtRunner
) -> None:
    bad_day = days[5]
    handled = [replace(d, handled=d.offered + 1) if d is bad_day else d for d in days]
    lake = tmp_path / "lake"
    load(
        lake,
        write_general(tmp_path / "callsGeneral.xls", days),
        write_handled(tmp_path / "callsHandled.xls", handled),
    )
    result = run_dbt(*BUILD_ARGS, lake=lake)

    assert bad_day.day not in daily(lake)
    assert len(daily(lake)) == len(days) - 1
    quarantine = rows(
        lake, "select * from curated.quarantine_daily_metrics order by source_file_name"
    )
    assert [
        (r["date"], r["rule_code"], r["source_file_name"], r["measures_supplied"])
        for r in quarantine
    ] == [
        (bad_day.day, "handled_exceeds_offered", "callsGeneral.xls", "calls_offered"),
        (bad_day.day, "handled_exceeds_offered", "callsHandled.xls", "calls_handled"),
    ]
    parts = (
        "calls_offered from callsGeneral.xls (sheet callsGeneral, row 7); "
        "calls_handled from callsHandled.xls (sheet callsHandled, row 7)"
    )
    assert {r["day_parts"] for r in quarantine} == {parts}
    assert {(r["calls_offered"], r["calls_handled"]) for r in quarantine} == {
        (bad_day.offered, bad_day.offered + 1)
    }
    assert outcome(result, "assert_few_days_held_back_by_quarantine") == ("warn", 1)
    assert outcome(result, "assert_quarantine_is_empty") == ("warn", 2)


def test_a_blank_cell_is_not_a_measure_the_extract_does_not_carry(
    days: list[Day], tmp_path: Path, run_dbt: DbtRunner
) -> None:
    """callsHandled does not carry service level: not a problem. A blank service-level cell
    in callsGeneral, which carries it, quarantines that row, and its day then lacks offered
    and abandoned calls: held back, with the blank row named."""
    general: list[list[Cell]] = [GENERAL_HEADER, *(d.general() for d in days)]
    general[3][3] = None  # days[2]'s ServiceLevel
    lake = tmp_path / "lake"
    write_xls(tmp_path / "callsGeneral.xls", {"callsGeneral": general})
    load(lake, tmp_path / "callsGeneral.xls", write_handled(tmp_path / "callsHandled.xls", days))
    result = run_dbt(*BUILD_ARGS, lake=lake)

    assert days[2].day not in daily(lake)
    quarantine = rows(
        lake, "select * from curated.quarantine_daily_metrics order by rule_scope desc"
    )
    assert [
        (r["date"], r["rule_code"], r["source_file_name"], r["source_row_number"])
        for r in quarantine
    ] == [
        (days[2].day, "value_missing_or_unreadable", "callsGeneral.xls", 4),
        (days[2].day, "day_incomplete", "callsHandled.xls", 4),
    ]
    assert outcome(result, "assert_few_days_held_back_by_quarantine") == ("warn", 1)
    assert outcome(result, "assert_no_day_is_incomplete") == ("warn", 1)


def test_extracts_landed_before_carried_columns_carry_every_measure(
    days: list[Day],
    combined_marts: dict[str, list[dict[str, object]]],
    tmp_path: Path,
    run_dbt: DbtRunner,
) -> None:
    """Raw files written before the loader recorded carried_columns lack the column (null
    when read beside newer files): such an extract carried every measure, as extracts
    did then, so its days stay whole; a newer handled-only extract still replaces
    handled calls only."""
    lake = tmp_path / "lake"
    load(lake, write_combined(tmp_path / "combined.xls", days))
    for path in (lake / "raw" / "contact_centre_metrics").rglob("*.parquet"):
        table = pq.read_table(path, partitioning=None)
        pq.write_table(table.drop_columns(["carried_columns"]), path)  # as an older loader did
    changed = days[7]
    reissued = [replace(d, handled=d.handled - 9) if d is changed else d for d in days]
    load(lake, write_handled(tmp_path / "callsHandled.xls", reissued))
    run_dbt(*BUILD_ARGS, lake=lake)

    assert rows(lake, "select * from curated.quarantine_daily_metrics") == []
    expected = combined_marts["trusted.fct_contact_centre_daily"]
    got = marts(lake)["trusted.fct_contact_centre_daily"]
    assert len(got) == len(expected) == len(days)
    for old, new in zip(expected, got, strict=True):
        if new["date"] != changed.day:
            assert new == old
            continue
        assert new["calls_handled"] == changed.handled - 9
        assert {k for k in new if new[k] != old[k]} <= HANDLED_AND_DERIVED


# --- the real dataset --------------------------------------------------------------------


def test_the_real_data_as_callsgeneral_and_callshandled(
    real_csv: Path, tmp_path: Path, run_dbt: DbtRunner
) -> None:
    """The reference CSV as one workbook and as the split pair: loading callsGeneral alone
    holds every day back; callsHandled releases them, and the marts equal the combined
    workbook's; a re-issued callsHandled changes handled calls only for its days."""
    days = real_days(real_csv)
    assert len(days) == 5585

    combined = tmp_path / "combined"
    load(combined, write_combined(tmp_path / "contact-centre-metrics.xls", days))
    run_dbt(*BUILD_ARGS, lake=combined)
    expected = marts(combined)
    assert len(expected["trusted.fct_contact_centre_daily"]) == 5585

    lake = tmp_path / "split"
    load(lake, write_general(tmp_path / "callsGeneral.xls", days))
    result = run_dbt(*BUILD_ARGS, lake=lake)
    assert daily(lake) == {}
    assert outcome(result, "assert_no_day_is_incomplete") == ("warn", 5585)
    assert outcome(result, "assert_few_days_held_back_by_quarantine") == ("pass", 0)
    held = rows(
        lake,
        "select count(distinct date) as days, min(rule_code) as first_rule,"
        " max(rule_code) as last_rule from curated.quarantine_daily_metrics",
    )
    assert held == [{"days": 5585, "first_rule": "day_incomplete", "last_rule": "day_incomplete"}]

    load(lake, write_handled(tmp_path / "callsHandled.xls", days))
    result = run_dbt(*BUILD_ARGS, lake=lake)
    assert marts(lake) == expected
    assert rows(lake, "select * from curated.quarantine_daily_metrics") == []
    assert outcome(result, "daily_handled_plus_abandoned_within_offered") == ("warn", 23)

    before = daily(lake)
    before_yearly = {r["year"]: r for r in marts(lake)["trusted.fct_calls_handled_yearly"]}
    changed = {days[10].day: -3, days[2000].day: -5, days[5000].day: -1}
    reissued = [replace(d, handled=d.handled + changed.get(d.day, 0)) for d in days]
    load(lake, write_handled(tmp_path / "callsHandled-reissued.xls", reissued))
    run_dbt(*BUILD_ARGS, lake=lake)
    after = daily(lake)

    assert set(after) == set(before)
    differing = {
        day: {k for k in row if k not in BUILD | LINEAGE and row[k] != before[day][k]}
        for day, row in after.items()
    }
    assert {day for day, diff in differing.items() if diff} == set(changed)
    for day, delta in changed.items():
        assert {"calls_handled", "calls_handled_pct"} <= differing[day] <= HANDLED_AND_DERIVED
        assert after[day]["calls_handled"] == before[day]["calls_handled"] + delta  # type: ignore[operator]
    after_yearly = {r["year"]: r for r in marts(lake)["trusted.fct_calls_handled_yearly"]}
    for year, row in after_yearly.items():
        delta = sum(v for d, v in changed.items() if d.year == year)
        assert row["calls_handled"] == before_yearly[year]["calls_handled"] + delta  # type: ignore[operator]
        same = {k for k in row if k not in HANDLED_AND_DERIVED | {"avg_speed_of_answer_seconds"}}
        assert {k: row[k] for k in same} == {k: before_yearly[year][k] for k in same}
