"""Retracting and restoring extracts through dbt: a retracted extract's days drop out of
the marts or fall back to another extract's rows, restoring it gives the marts back as
they were, incremental builds (and `make build`, which selects by source freshness) pick
both up; a refused load shows in the sensitive-data detection log. With synthetic
workbooks always, and with the real dataset when it is present."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from dap.samples.synthetic import csv_rows_to_workbooks
from testkit.support import DbtRunner, run_make_build
from testkit.workbooks import HEADER, SHEET, row, run_dap, sha256_of, simple_book, xlsx

pytestmark = pytest.mark.dbt

MARTS = {
    "trusted.fct_contact_centre_daily": "date",
    "trusted.fct_calls_handled_monthly": "month_start_date",
    "trusted.fct_calls_handled_yearly": "year",
}
BUILD = ("dbt_invocation_id", "built_at", "extracts_ingested_through")
"""Which build wrote a row, when, and its watermark: differ by design between builds (the
watermark moves with every retraction and restoration, as it does with every load)."""


def _rows(lake: Path, sql: str) -> list[dict[str, object]]:
    with duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True) as con:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def _marts(lake: Path) -> dict[str, list[dict[str, object]]]:
    return {
        relation: [
            {k: v for k, v in r.items() if k not in BUILD}
            for r in _rows(lake, f"select * from {relation} order by {key}")
        ]
        for relation, key in MARTS.items()
    }


def _daily(lake: Path) -> dict[date, dict[str, object]]:
    rows = _rows(lake, "select * from trusted.fct_contact_centre_daily")
    return {r["date"]: r for r in rows}  # type: ignore[misc]


def _dap(*args: str | Path) -> str:
    done = run_dap(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def _make_build(lake: Path, target: Path, profiles: Path) -> tuple[str, set[str]]:
    """`make build` (source freshness, then what is fresher or modified): its output and
    the models it built."""
    output, results = run_make_build(lake, target, profiles)
    built = {
        r["unique_id"].rsplit(".", 1)[-1]
        for r in results["results"]
        if r["unique_id"].startswith("model.")
    }
    return output, built


def test_retract_and_restore_through_make_build(tmp_path, dbt_profiles_dir):
    """`older` reports 2020-12-25 to 2021-01-13, `newer` (ingested later, other figures)
    2021-01-05 to 2021-01-31. Retracting `newer`: its days after 01-13 drop out, 01-05 to
    01-13 fall back to `older`, 2020 is untouched. Restoring it gives the marts back."""
    lake = tmp_path / "lake"
    target = tmp_path / "target"
    older = simple_book(tmp_path / "in" / "older.xlsx", date(2020, 12, 25), 20)
    newer = simple_book(tmp_path / "in" / "newer.xlsx", date(2021, 1, 5), 27, start_n=2)
    _dap("load", older, newer, "--lake", lake)
    output, built = _make_build(lake, target, dbt_profiles_dir)
    assert "first build" in output
    original = _marts(lake)
    before = _daily(lake)
    assert before[date(2021, 1, 10)]["source_file_sha256"] == sha256_of(newer)

    said = _dap("retract", newer, "--lake", lake, "--reason", "test")
    assert "warning" not in said  # every year it has is reported by `older` too
    output, built = _make_build(lake, target, dbt_profiles_dir)
    assert "source_status:fresher+" in output
    assert {"int_extracts_landed", "fct_contact_centre_daily", "fct_calls_handled_yearly"} <= built
    after = _daily(lake)
    assert sorted(after) == [date(2020, 12, 25) + timedelta(days=n) for n in range(20)]
    for day in (date(2021, 1, 5), date(2021, 1, 13)):
        assert after[day]["source_file_sha256"] == sha256_of(older)
        assert after[day]["calls_offered"] == 1000 + 1 + (day - date(2020, 12, 25)).days
        assert after[day]["extracts_reporting_date"] == 1
    for day in (date(2020, 12, 25), date(2020, 12, 31)):  # 2020 was not recomputed
        assert after[day]["dbt_invocation_id"] == before[day]["dbt_invocation_id"]
    assert {
        r["year"]: r["days_reported"] for r in _marts(lake)["trusted.fct_calls_handled_yearly"]
    } == {2020: 7, 2021: 13}

    output, built = _make_build(lake, target, dbt_profiles_dir)  # nothing new since
    assert "dbt not started" in output

    _dap("restore", sha256_of(newer)[:10], "--lake", lake)
    output, built = _make_build(lake, target, dbt_profiles_dir)
    assert "fct_contact_centre_daily" in built
    assert _marts(lake) == original


def test_incremental_retractions_equal_a_full_refresh(tmp_path, run_dbt: DbtRunner):
    """Retract, restore and retract again with incremental runs in between; the marts equal
    a --full-refresh build of the same lake at every step that can be compared."""
    lake = tmp_path / "lake"
    books = [
        simple_book(tmp_path / "in" / "a.xlsx", date(2019, 12, 20), 30),
        # Each reaching further than the one before, so each wins where it reports.
        simple_book(tmp_path / "in" / "b.xlsx", date(2020, 1, 1), 20, start_n=5),
        simple_book(tmp_path / "in" / "c.xlsx", date(2020, 1, 8), 15, start_n=9),
    ]
    _dap("load", *books, "--lake", lake)
    run_dbt("run", lake=lake)
    _dap("retract", books[2], "--lake", lake)
    run_dbt("run", lake=lake)
    _dap("retract", books[1], "--lake", lake)
    _dap("restore", books[2], "--lake", lake)
    run_dbt("run", lake=lake)
    incremental = _marts(lake)
    daily = {r["date"]: r for r in incremental["trusted.fct_contact_centre_daily"]}
    assert daily[date(2020, 1, 3)]["source_file_sha256"] == sha256_of(books[0])  # b retracted
    assert daily[date(2020, 1, 9)]["source_file_sha256"] == sha256_of(books[2])  # c restored
    run_dbt("run", "--full-refresh", lake=lake)
    assert _marts(lake) == incremental


def test_a_year_only_the_retracted_extract_reports_needs_a_full_refresh(
    tmp_path, run_dbt: DbtRunner
):
    """An incremental build cannot empty a year (it replaces the years it recomputes with
    their new rows, and a year without rows has none): `dap retract` warns, the build's
    accounting test fails naming the days, and a full refresh leaves them out."""
    lake = tmp_path / "lake"
    only_2020 = simple_book(tmp_path / "in" / "2020.xlsx", date(2020, 6, 1), 3)
    year_2021 = simple_book(tmp_path / "in" / "2021.xlsx", date(2021, 6, 1), 3, start_n=5)
    _dap("load", only_2020, year_2021, "--lake", lake)
    run_dbt("build", lake=lake)
    said = _dap("retract", only_2020, "--lake", lake)
    assert "warning: no other active extract has rows in 2020" in said
    assert "--full-refresh --select fct_contact_centre_daily+" in said
    failed = run_dbt("build", lake=lake, check=False)
    assert failed.returncode != 0
    assert (
        failed.statuses()["test.vancouver_311.assert_every_staged_row_is_accounted_for"] == "fail"
    )
    run_dbt("build", "--full-refresh", "--select", "fct_contact_centre_daily+", lake=lake)
    assert sorted(_daily(lake)) == [date(2021, 6, 1) + timedelta(days=n) for n in range(3)]


def test_a_refused_load_shows_in_the_detection_log(tmp_path, run_dbt: DbtRunner):
    lake = tmp_path / "lake"
    good = simple_book(tmp_path / "in" / "good.xlsx", date(2022, 3, 1), 3)
    masked = xlsx(
        tmp_path / "in" / "notes.xlsx",
        {SHEET: [HEADER, row(date(2022, 4, 1), 1)], "Notes": [["ring 604-871-7000"]]},
    )
    pii = xlsx(
        tmp_path / "in" / "pii.xlsx",
        {SHEET: [HEADER, row(date(2022, 5, 1), 1), ["x", "jo@example.org"]]},
    )
    _dap("load", good, "--lake", lake)
    _dap("load", good, masked, "--lake", lake, "--pii=mask")
    refused = run_dap("load", pii, "--lake", lake)
    assert refused.returncode == 1
    run_dbt("build", lake=lake)
    log = _rows(
        lake,
        "select * from curated.sensitive_data_detection_log order by loaded_at, file_number",
    )
    assert [
        (r["file_number"], r["source_file_name"], r["outcome"], r["reason_code"], r["pii_kinds"])
        for r in log
    ] == [
        (1, "good.xlsx", "landed", None, None),
        (1, "good.xlsx", "unchanged", None, None),
        (2, "notes.xlsx", "masked", None, "phone"),
        (1, "pii.xlsx", "refused", "personal_data", "email"),
    ]
    refusal = log[-1]
    assert refusal["source_file_sha256"] == sha256_of(pii)
    assert refusal["pii_cells"] == 1
    assert refusal["has_personal_data"] is True
    assert refusal["rows_landed"] == 0
    assert "jo@example.org" not in str(refusal["reason"])
    assert str(refusal["reason"]).startswith("pii.xlsx, sheet ")
    assert len({r["load_id"] for r in log}) == 3


def test_real_data_retracting_the_full_export_falls_back_to_the_yearly_files(
    real_csv: Path, tmp_path: Path, run_dbt: DbtRunner
):
    """The real dataset as yearly workbooks, then as one full export (ingested last, so it
    wins every day). Retracting the export: every day falls back to its yearly workbook,
    with the same figures. Restoring it: the marts are exactly as they were."""
    lake = tmp_path / "lake"
    yearly = csv_rows_to_workbooks(real_csv, tmp_path / "yearly")
    (export,) = csv_rows_to_workbooks(real_csv, tmp_path / "full", by_year=False)
    _dap("load", *yearly, export, "--lake", lake)
    run_dbt("build", lake=lake)
    original = _marts(lake)
    daily = original["trusted.fct_contact_centre_daily"]
    assert len(daily) == 5585
    assert {r["source_file_sha256"] for r in daily} == {sha256_of(export)}

    _dap("retract", export, "--lake", lake, "--reason", "test")
    run_dbt("build", lake=lake)
    retracted = _marts(lake)
    fallback = retracted["trusted.fct_contact_centre_daily"]
    assert len(fallback) == 5585
    assert sha256_of(export) not in {r["source_file_sha256"] for r in fallback}
    assert {r["source_file_sha256"] for r in fallback} == {sha256_of(p) for p in yearly}
    lineage = ("source_file_name", "source_file_sha256", "ingested_at", "extracts_reporting_date")

    def figures(rows: list[dict[str, object]]) -> list[dict[str, object]]:
        return [{k: v for k, v in r.items() if k not in lineage} for r in rows]

    assert figures(fallback) == figures(daily)
    assert {r["extracts_reporting_date"] for r in fallback} == {1}
    for relation in ("trusted.fct_calls_handled_monthly", "trusted.fct_calls_handled_yearly"):
        assert retracted[relation] == original[relation]

    _dap("restore", export, "--lake", lake)
    run_dbt("build", lake=lake)
    assert _marts(lake) == original
