"""Precedence between overlapping extracts: an archived extract loaded after the full
export never replaces the export's figures (the export's data reaches a later date); every
disagreement is a warning of `dbt build` naming the days and both files, and a section of
the report; `dap load --supersede` makes a deliberate correction win, audited, whether the
file is new or landed before, and retract/restore leave the supersede in place."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from integration.dbt.test_split_extracts import (
    BUILD_ARGS,
    Day,
    daily,
    load,
    outcome,
    rows,
    synthetic_days,
    write_combined,
)
from testkit.support import DbtResult, DbtRunner
from testkit.workbooks import run_dap, sha256_of

pytestmark = pytest.mark.dbt

WARN_TEST = "assert_no_day_has_disagreeing_extracts"
CHANGED = {date(2019, 12, 24): -5, date(2019, 12, 30): 7}
"""The archived extract's handled calls differ from the export's on these days."""


@pytest.fixture
def books(tmp_path: Path) -> tuple[list[Day], Path, Path]:
    """The full export (2019-12-20 to 2020-01-18) and an archived 2019 extract whose
    handled calls differ on two days."""
    days = synthetic_days(date(2019, 12, 20), 30)
    archived = [
        replace(d, handled=d.handled + CHANGED.get(d.day, 0)) for d in days if d.day.year == 2019
    ]
    export = write_combined(tmp_path / "3-1-1-contact-centre-metrics.xls", days)
    archive = write_combined(tmp_path / "archive-2019.xls", archived)
    return days, export, archive


def handled(lake: Path) -> dict[date, object]:
    return {day: row["calls_handled"] for day, row in daily(lake).items()}


def conflicts(lake: Path) -> list[tuple[object, ...]]:
    found = rows(
        lake,
        "select date, differing_columns, source_file_name, superseded_source_file_name,"
        " decided_by, description from curated.conflicts_daily_metrics order by date",
    )
    return [tuple(r.values()) for r in found]


def events(lake: Path) -> list[dict[str, object]]:
    folder = lake / "_audit" / "events"
    found: list[dict[str, object]] = []
    for path in sorted(folder.glob("*.parquet")):
        found.extend(pq.read_table(path).to_pylist())
    return found


def warned_lines(result: DbtResult) -> list[str]:
    return [
        line.split("Extracts disagree: ", 1)[1]
        for line in result.output.splitlines()
        if "Extracts disagree: " in line
    ]


def test_an_archived_extract_loaded_after_the_export_leaves_its_figures_and_warns(
    books: tuple[list[Day], Path, Path], tmp_path: Path, run_dbt: DbtRunner
) -> None:
    days, export, archive = books
    lake = tmp_path / "lake"
    load(lake, export)
    load(lake, archive)  # ingested later, but its data ends on 2019-12-31
    result = run_dbt(*BUILD_ARGS, lake=lake)

    assert handled(lake) == {d.day: d.handled for d in days}
    assert {r["source_file_name"] for r in daily(lake).values()} == {export.name}
    reach = "its data reaches a later date (2020-01-18 against 2019-12-31)"
    expected = [
        (
            day,
            "calls_handled",
            export.name,
            archive.name,
            "reaches_later",
            f"{day}: {archive.name} (sheet 3-1-1 Contact Centre Metrics, row {row}) disagrees"
            f" on calls_handled; the figures of {export.name} are used: {reach}",
        )
        for day, row in ((date(2019, 12, 24), 6), (date(2019, 12, 30), 12))
    ]
    assert conflicts(lake) == expected
    # The build warns, with a count, and names the days and both files above the count.
    assert outcome(result, WARN_TEST) == ("warn", 2)
    assert warned_lines(result) == [c[-1] for c in expected]

    report = tmp_path / "report"
    published = run_dap("report", "--lake", lake, "--out", report)
    assert published.returncode == 0, published.stderr
    page = (report / "index.html").read_text()
    start = page.index('<table id="conflicts">')
    table = page[start : page.index("</table>", start)]
    for day in CHANGED:
        assert f'<tr data-day="{day}" data-decided-by="reaches_later">' in table
    assert table.count(f'<td data-field="used">{export.name}</td>') == 2
    assert table.count(f'<td data-field="not_used">{archive.name}</td>') == 2
    assert table.count(f'<td data-field="why">{reach}</td>') == 2


def test_no_disagreement_passes_and_the_report_says_so(
    books: tuple[list[Day], Path, Path], tmp_path: Path, run_dbt: DbtRunner
) -> None:
    days, export, _ = books
    same = write_combined(
        tmp_path / "archive-2019-same.xls", [d for d in days if d.day.year == 2019]
    )
    lake = tmp_path / "lake"
    load(lake, export, same)
    result = run_dbt(*BUILD_ARGS, lake=lake)

    assert outcome(result, WARN_TEST) == ("pass", 0)
    assert warned_lines(result) == []
    report = tmp_path / "report"
    assert run_dap("report", "--lake", lake, "--out", report).returncode == 0
    page = (report / "index.html").read_text()
    assert '<p id="conflicts">None: no two extracts give different figures for any day.</p>' in page


def test_supersede_of_a_landed_extract_makes_its_figures_win_audited_through_retract_and_restore(
    books: tuple[list[Day], Path, Path], tmp_path: Path, run_dbt: DbtRunner
) -> None:
    days, export, archive = books
    lake = tmp_path / "lake"
    load(lake, export)
    load(lake, archive)
    run_dbt(*BUILD_ARGS, lake=lake)
    archive_sha = sha256_of(archive)

    reason = "the archive holds the audited figures"
    superseded = run_dap("load", "--supersede", "--reason", reason, archive, "--lake", lake)
    assert superseded.returncode == 0, superseded.stderr
    assert "1 skipped as unchanged" in superseded.stdout  # not landed again
    assert "1 recorded as deliberate corrections (--supersede)" in superseded.stdout
    assert f"{archive.name}: recorded as a deliberate correction" in superseded.stderr
    # Audited: an event in the log and the load's audit record.
    (event,) = [e for e in events(lake) if e["event_type"] == "superseded"]
    assert (event["source_file_sha256"], event["source_file_name"], event["reason"]) == (
        archive_sha,
        archive.name,
        reason,
    )
    audit_key = superseded.stderr.split("audit record: ")[1].split()[0]
    record = json.loads((lake / audit_key).read_text())
    assert record["files"][0]["status"] == "unchanged"
    assert record["files"][0]["supersede"] == {"event_id": event["event_id"], "reason": reason}

    result = run_dbt(*BUILD_ARGS, lake=lake)  # incremental: the supersede changes 2019
    expected = {d.day: d.handled + CHANGED.get(d.day, 0) for d in days}
    assert handled(lake) == expected
    assert {c[:5] for c in conflicts(lake)} == {
        (day, "calls_handled", archive.name, export.name, "superseding") for day in CHANGED
    }
    assert all(f"(dap load --supersede, reason: {reason})" in c[-1] for c in conflicts(lake))
    assert outcome(result, WARN_TEST) == ("warn", 2)
    run_dbt(*BUILD_ARGS, "--full-refresh", lake=lake)
    assert handled(lake) == expected

    # Retracted, it is out; restored, it is back and still superseding.
    assert run_dap("retract", archive_sha[:12], "--lake", lake).returncode == 0
    run_dbt(*BUILD_ARGS, lake=lake)
    assert handled(lake) == {d.day: d.handled for d in days}
    assert conflicts(lake) == []
    assert run_dap("restore", archive_sha[:12], "--lake", lake).returncode == 0
    run_dbt(*BUILD_ARGS, lake=lake)
    assert handled(lake) == expected


def test_a_new_file_loaded_with_supersede_lands_and_wins(
    books: tuple[list[Day], Path, Path], tmp_path: Path, run_dbt: DbtRunner
) -> None:
    days, export, archive = books
    lake = tmp_path / "lake"
    load(lake, export)
    landed = run_dap("load", "--supersede", archive, "--lake", lake)
    assert landed.returncode == 0, landed.stderr
    assert "1 landed" in landed.stdout
    types = [(e["event_type"], e["source_file_name"], e["reason"]) for e in events(lake)]
    assert types[-2:] == [("landed", archive.name, None), ("superseded", archive.name, None)]

    run_dbt(*BUILD_ARGS, lake=lake)
    assert handled(lake) == {d.day: d.handled + CHANGED.get(d.day, 0) for d in days}


def test_reason_goes_with_supersede(books: tuple[list[Day], Path, Path], tmp_path: Path) -> None:
    _, export, _ = books
    lake = tmp_path / "lake"
    refused = run_dap("load", "--reason", "why", export, "--lake", lake)
    assert refused.returncode == 2
    assert "--reason goes with --supersede" in refused.stderr
    assert not lake.exists()
    helped = run_dap("load", "--help")
    assert "--supersede" in helped.stdout
    assert "deliberate correction" in helped.stdout


def test_supersede_of_a_retracted_extract_is_recorded_and_says_it_stays_retracted(
    books: tuple[list[Day], Path, Path], tmp_path: Path
) -> None:
    _, export, archive = books
    lake = tmp_path / "lake"
    load(lake, export, archive)
    assert run_dap("retract", archive, "--lake", lake).returncode == 0
    superseded = run_dap("load", "--supersede", archive, "--lake", lake)
    assert superseded.returncode == 0, superseded.stderr
    sha = sha256_of(archive)[:12]
    assert f"warning: {archive.name} (sha256 {sha}) is retracted" in superseded.stderr
    assert f"`dap restore {sha}`" in superseded.stderr
    assert [e["event_type"] for e in events(lake)][-2:] == ["unchanged", "superseded"]
