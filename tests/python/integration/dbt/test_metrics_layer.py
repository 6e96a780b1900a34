"""The semantic layer (models/marts/_marts__semantic_models.yml) gives the marts' figures.

MetricFlow's ``mf`` (the optional ``metrics`` extra) runs each metric on the local DuckDB
target, built from the sample workbooks; the metrics at the marts' precision must equal,
exactly, the columns of the same name in the yearly, monthly and daily marts, and the
counts their sums. ``mf validate-configs`` checks the semantic YAML against the built
warehouse (offline, a few seconds), and fails on a measure over a column that does not
exist, which ``dbt parse`` alone lets through.

``mf`` reads its artifacts from ``<project>/target`` whatever DBT_TARGET_PATH says, so the
project is copied to a temporary folder and built there, away from the repository's own
target/.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest

from testkit.support import BIN, REPO_ROOT, run_dbt_cli

pytestmark = pytest.mark.dbt

MF = BIN / "mf"
PROJECT_FILES = ("dbt_project.yml", ".dbtignore")
PROJECT_FOLDERS = ("models", "macros", "analyses", "tests")
PERIOD_METRICS = (
    "calls_offered",
    "calls_handled",
    "calls_abandoned",
    "calls_handled_pct",
    "service_level",
    "avg_speed_of_answer_seconds",
    "days_reported",
)
"""Metrics named as the period marts' columns (fct_calls_handled_yearly and _monthly)."""


@dataclass
class MetricsProject:
    root: Path
    lake: Path
    env: dict[str, str]


def _copy_project(root: Path) -> Path:
    root.mkdir()
    for name in PROJECT_FILES:
        shutil.copy(REPO_ROOT / name, root / name)
    skip = shutil.ignore_patterns("python", "__pycache__")
    for folder in PROJECT_FOLDERS:
        shutil.copytree(REPO_ROOT / folder, root / folder, ignore=skip)
    return root


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, dbt_profiles_dir: Path) -> MetricsProject:
    if not MF.is_file():
        pytest.skip(
            f"MetricFlow is not installed ({MF} missing): it is the optional `metrics` extra "
            "(`make setup-dev` installs it)"
        )
    tmp = tmp_path_factory.mktemp("metrics")
    root = _copy_project(tmp / "project")
    lake = tmp / "lake"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DAP_", "DBT_"))}
    env.update(
        DAP_LAKE=str(lake),
        DBT_PROFILES_DIR=str(dbt_profiles_dir),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    workbooks = tmp / "workbooks"
    subprocess.run([str(BIN / "dap"), "sample", "--out", str(workbooks)], check=True, env=env)
    subprocess.run(
        [str(BIN / "dap"), "load", "--lake", str(lake), *sorted(map(str, workbooks.iterdir()))],
        check=True,
        capture_output=True,
        env=env,
    )
    # `dbt run`: the models and the semantic manifest mf reads; their tests run elsewhere.
    result = run_dbt_cli(("run",), cwd=root, env=env)
    assert result.returncode == 0, result.output[-4000:]
    return MetricsProject(root, lake, env)


def _mf(project: MetricsProject, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MF), *args],
        cwd=project.root,
        env=project.env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _number(text: str) -> int | float | None:
    if text == "":
        return None
    # Counts are integers in mf's CSV, ratios Python floats written with repr (exact).
    return int(text) if text.lstrip("-").isdigit() else float(text)


def query_metrics(
    project: MetricsProject, metrics: tuple[str, ...], group_by: str, out: Path
) -> list[dict[str, object]]:
    """mf query's rows, in period order, each metric as the number mf computed."""
    found = _mf(
        project,
        "query",
        "--metrics",
        ",".join(metrics),
        "--group-by",
        group_by,
        "--order",
        group_by,
        "--csv",
        str(out),
    )
    assert found.returncode == 0, found.stdout[-3000:] + found.stderr[-3000:]
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [
        {
            group_by: datetime.fromisoformat(row[group_by]).date(),
            **{m: _number(row[m]) for m in metrics},
        }
        for row in rows
    ]


def mart_rows(project: MetricsProject, sql: str) -> list[dict[str, object]]:
    with duckdb.connect(str(project.lake / "warehouse.duckdb"), read_only=True) as con:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def half_up_pct(part: int, whole: int) -> float | None:
    """100 x part / whole rounded half up to 2 decimals, in exact decimal arithmetic."""
    if whole == 0:
        return None
    return float((Decimal(100 * part) / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_UP))


def test_yearly_metrics_equal_the_yearly_mart(project: MetricsProject, tmp_path: Path) -> None:
    metrics = (*PERIOD_METRICS, "calls_abandoned_pct")
    found = query_metrics(project, metrics, "metric_time__year", tmp_path / "yearly.csv")
    yearly = mart_rows(
        project,
        f"select make_date(year, 1, 1) as metric_time__year, {', '.join(PERIOD_METRICS)}"
        " from trusted.fct_calls_handled_yearly order by year",
    )
    assert len(yearly) == 5  # the sample: 2020 to 2024
    for row in yearly:
        # The yearly mart has no abandonment rate: the same rounding of its sums.
        abandoned, offered = row["calls_abandoned"], row["calls_offered"]
        assert isinstance(abandoned, int)
        assert isinstance(offered, int)
        row["calls_abandoned_pct"] = half_up_pct(abandoned, offered)
    assert found == yearly


def test_monthly_metrics_equal_the_monthly_mart(project: MetricsProject, tmp_path: Path) -> None:
    found = query_metrics(project, PERIOD_METRICS, "metric_time__month", tmp_path / "monthly.csv")
    monthly = mart_rows(
        project,
        f"select month_start_date as metric_time__month, {', '.join(PERIOD_METRICS)}"
        " from trusted.fct_calls_handled_monthly order by month_start_date",
    )
    assert len(monthly) == 57  # January 2020 to September 2024
    assert found == monthly


def test_daily_rates_equal_the_daily_mart(project: MetricsProject, tmp_path: Path) -> None:
    metrics = ("calls_offered", "calls_handled_pct", "calls_abandoned_pct")
    found = query_metrics(project, metrics, "metric_time__day", tmp_path / "daily.csv")
    daily = mart_rows(
        project,
        f"select date as metric_time__day, {', '.join(metrics)}"
        " from trusted.fct_contact_centre_daily order by date",
    )
    assert daily[0]["metric_time__day"] == date(2020, 1, 1)
    assert found == daily


def test_validate_configs_passes_and_catches_a_measure_on_a_missing_column(
    project: MetricsProject,
) -> None:
    checked = _mf(project, "validate-configs")
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-3000:]
    assert "Successfully validated metrics against data warehouse" in checked.stdout

    semantic = project.root / "models" / "marts" / "_marts__semantic_models.yml"
    good = semantic.read_text()
    broken = good.replace(
        "expr: service_level * calls_offered", "expr: service_levle * calls_offered"
    )
    assert broken != good
    # mf reads the semantic manifest dbt wrote (target/semantic_manifest.json): `dbt parse`
    # writes it, and it parses the broken measure happily (dbt does not know the columns).
    semantic.write_text(broken)
    try:
        parsed = run_dbt_cli(("parse",), cwd=project.root, env=project.env)
        assert parsed.returncode == 0, parsed.output[-3000:]
        failed = _mf(project, "validate-configs")
    finally:
        semantic.write_text(good)
        restored = run_dbt_cli(("parse",), cwd=project.root, env=project.env)
        assert restored.returncode == 0, restored.output[-3000:]
    assert failed.returncode != 0
    assert "service_levle" in failed.stdout + failed.stderr
