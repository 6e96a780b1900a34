"""``dap summary`` (and ``dap report``) read the warehouse through one yearly query, and
say what is missing and what to run, in one line, when they cannot."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import duckdb
import pytest

from dap.cli import main
from dap.publish.report import read_report_data
from dap.publish.summary import read_summary
from testkit.workbooks import clean_env, run_dap


def test_summary_prints_the_yearly_table(make_warehouse, capsys):
    assert main(["summary", "--lake", str(make_warehouse())]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line[:4].isdigit()}
    assert rows == {
        "2023": ["2023", "6,173", "5,521", "89.44", "80.00", "%", "31.00", "60"],
        "2024": ["2024", "6,074", "5,431", "89.41", "80.00", "%", "31.03", "59"],
    }
    assert "quarantined: 1 row(s) on 1 day(s)" in out
    assert "conflicting extract rows: 1" in out


def test_summary_and_report_read_the_same_yearly_figures(make_warehouse):
    lake = make_warehouse()
    assert read_summary(str(lake)).yearly == read_report_data(lake).years


def _args(command: str, lake: Path, site: Path) -> list[str]:
    """The command on ``lake``; the report written to ``site``."""
    return [command, "--lake", str(lake), *(["--out", str(site)] if command == "report" else [])]


def _one_line_error(command: str, err: str) -> str:
    assert err.startswith(f"dap {command}: error: "), err
    assert err.count("\n") == 1, err  # one line
    assert err.endswith("\n")
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize("command", ["summary", "report"])
def test_on_an_empty_lake_says_what_to_run(command, tmp_path):
    """As people run it, in a process of its own: exit 1, one line, no traceback."""
    site = tmp_path / "site"
    result = run_dap(*_args(command, tmp_path / "lake", site), env=clean_env())
    assert result.returncode == 1
    assert result.stdout == ""
    err = _one_line_error(command, result.stderr)
    assert f"{tmp_path / 'lake' / 'warehouse.duckdb'}: no warehouse yet" in err
    assert "`dap load`" in err
    assert "`dbt build`" in err
    assert not site.exists()


def _warehouse_without_marts(tmp_path: Path) -> Path:
    lake = tmp_path / "lake"
    lake.mkdir()
    duckdb.connect(str(lake / "warehouse.duckdb")).close()
    return lake


@pytest.mark.parametrize("command", ["summary", "report"])
@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("empty marts", r"warehouse\.duckdb: the trusted marts are empty; load extracts with "),
        ("no marts", r"warehouse\.duckdb: cannot read the marts \(Catalog Error: .*\); run `dbt"),
        ("no duckdb", r"duckdb is not installed.*`pip install duckdb`"),
    ],
)
def test_says_what_is_missing(
    command, case, message, make_warehouse, tmp_path, capsys, monkeypatch
):
    if case == "empty marts":
        lake = make_warehouse(empty=True)
    elif case == "no marts":  # dbt has not built them (yet)
        lake = _warehouse_without_marts(tmp_path)
    else:
        lake = make_warehouse()
        monkeypatch.setitem(sys.modules, "duckdb", None)  # import duckdb fails
    assert main(_args(command, lake, tmp_path / "site")) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert re.search(message, _one_line_error(command, err))
    assert not (tmp_path / "site").exists()


def test_summary_of_an_s3_lake_points_to_athena(capsys):
    assert main(["summary", "--lake", "s3://bucket/lake"]) == 1
    err = _one_line_error("summary", capsys.readouterr().err)
    assert "query the trusted marts through Athena" in err
