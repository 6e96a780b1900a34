"""Incremental builds: the daily mart recomputes only the years new extracts touch, and
ends up equal to a --full-refresh build after any sequence of loads, a re-issued year
included; `make build` with nothing new rebuilds nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from dap.samples.excel_writer import Cell
from testkit.support import DbtRunner, run_make_build
from testkit.workbooks import HEADER, SHEET, rows_for, run_dap, simple_book, xlsx

pytestmark = pytest.mark.dbt

MARTS = {
    "trusted.fct_contact_centre_daily": "date",
    "trusted.fct_calls_handled_monthly": "month_start_date",
    "trusted.fct_calls_handled_yearly": "year",
}
BUILD = ("dbt_invocation_id", "built_at", "extracts_ingested_through")
"""Which build wrote a row, when, and its watermark: differ by design between builds."""


def _rows(lake: Path, relation: str, *, build: bool = False) -> list[dict[str, object]]:
    with duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True) as con:
        cursor = con.execute(f"select * from {relation} order by {MARTS[relation]}")
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    return rows if build else [{k: v for k, v in r.items() if k not in BUILD} for r in rows]


def _marts(lake: Path) -> dict[str, list[dict[str, object]]]:
    return {relation: _rows(lake, relation) for relation in MARTS}


def _invocation_by_year(lake: Path) -> dict[int, set[object]]:
    found: dict[int, set[object]] = {}
    for r in _rows(lake, "trusted.fct_contact_centre_daily", build=True):
        found.setdefault(int(str(r["year"])), set()).add(r["dbt_invocation_id"])
    return found


def _load(lake: Path, *books: Path) -> None:
    result = run_dap("load", *books, "--lake", lake)
    assert result.returncode == 0, result.stderr


def test_incremental_runs_equal_a_full_refresh_after_a_sequence_of_loads(
    tmp_path, run_dbt: DbtRunner
):
    # Every row valid: service level 0.5 + n/64 stays within 0-1 for n <= 32 (workbooks.py).
    lake = tmp_path / "lake"
    books = tmp_path / "in"
    _load(lake, simple_book(books / "2020.xlsx", date(2020, 12, 1), 31))
    first = run_dbt("run", lake=lake).run_results["metadata"]["invocation_id"]

    # A new year: only 2021 is computed.
    _load(lake, simple_book(books / "2021.xlsx", date(2021, 1, 1), 30))
    second = run_dbt("run", lake=lake).run_results["metadata"]["invocation_id"]
    assert _invocation_by_year(lake) == {2020: {first}, 2021: {second}}

    # 2021 re-issued with other figures: 2021 is recomputed from every extract, 2020 kept.
    _load(lake, simple_book(books / "2021-reissued.xlsx", date(2021, 1, 1), 30, start_n=2))
    third = run_dbt("run", lake=lake).run_results["metadata"]["invocation_id"]
    assert _invocation_by_year(lake) == {2020: {first}, 2021: {third}}
    daily = _rows(lake, "trusted.fct_contact_centre_daily")
    assert {r["calls_offered"] for r in daily if r["year"] == 2021} == {1002 + n for n in range(30)}

    # A bad row for a 2020 day (quarantined: the older good row stays) and a new year.
    bad: list[list[Cell]] = [
        HEADER,
        [date(2020, 12, 5), 10, -20, 0, 1.0, 0.5, 1],  # a negative count
        *rows_for(date(2022, 3, 1), 10),
    ]
    _load(lake, xlsx(books / "fix-and-2022.xlsx", {SHEET: bad}))
    fourth = run_dbt("run", lake=lake).run_results["metadata"]["invocation_id"]
    assert _invocation_by_year(lake) == {2020: {fourth}, 2021: {third}, 2022: {fourth}}
    incremental = _marts(lake)
    assert (
        next(
            r
            for r in incremental["trusted.fct_contact_centre_daily"]
            if r["date"] == date(2020, 12, 5)
        )["calls_offered"]
        == 1005
    )

    run_dbt("run", "--full-refresh", lake=lake)
    assert _marts(lake) == incremental
    assert len({i for ids in _invocation_by_year(lake).values() for i in ids}) == 1


def test_make_build_with_nothing_new_rebuilds_nothing(tmp_path, dbt_profiles_dir):
    lake = tmp_path / "lake"
    target = tmp_path / "target"
    books = tmp_path / "in"
    _load(lake, simple_book(books / "2020.xlsx", date(2020, 6, 1), 20))
    output, results = run_make_build(lake, target, dbt_profiles_dir)
    assert f"dbt build (first build of {lake})" in output
    models = {r["unique_id"] for r in results["results"] if r["unique_id"].startswith("model.")}
    assert "model.vancouver_311.fct_contact_centre_daily" in models

    _load(lake, simple_book(books / "2020.xlsx", date(2020, 6, 1), 20))  # the same file again
    output, results = run_make_build(lake, target, dbt_profiles_dir)
    assert "nothing new" in output  # decided without dbt (dap build): no dbt process ran
    assert "dbt not started" in output

    _load(lake, simple_book(books / "2021.xlsx", date(2021, 6, 1), 20))
    output, results = run_make_build(lake, target, dbt_profiles_dir)
    built = {r["unique_id"] for r in results["results"] if r["unique_id"].startswith("model.")}
    assert "model.vancouver_311.fct_contact_centre_daily" in built
    statuses = {r["unique_id"]: r["status"] for r in results["results"]}
    assert set(statuses.values()) <= {"success", "pass", "warn", "no-op"}, statuses
    daily = _rows(lake, "trusted.fct_contact_centre_daily", build=True)
    assert {r["dbt_invocation_id"] for r in daily if r["year"] == 2021} == {
        results["metadata"]["invocation_id"]
    }
    assert results["metadata"]["invocation_id"] not in {
        r["dbt_invocation_id"] for r in daily if r["year"] == 2020
    }
