"""`pip install .` with no extras gives a working loader and nothing else.

The wheel is built from a copy of the sources, installed into a new venv with the runtime's
pins (constraints/run.txt), and used as a newcomer would: help, sample, load, summary. The
development tools and the dbt / endpoint extras must not come along.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from testkit.support import REPO_ROOT

# What belongs to tests, linting, the browser or the local endpoint, never to the runtime.
DEVELOPMENT_ONLY = {
    "pytest",
    "moto",
    "playwright",
    "ruff",
    "mypy",
    "sqlglot",
    "sqlfluff",
    "pandas",
    "dbt-core",
}


def _run(command: list[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The venv's bin folder, with only the wheel and its runtime dependencies."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO_ROOT / name, source / name)
    shutil.copytree(
        REPO_ROOT / "scripts",
        source / "scripts",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
    )
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(work), "."],
        source,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = work.glob("vancouver_311_dap-*.whl")
    venv = work / "venv"
    made = _run([sys.executable, "-m", "venv", str(venv)], work)
    assert made.returncode == 0, made.stderr
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    done = _run([*pip, "-c", str(REPO_ROOT / "constraints" / "run.txt"), str(wheel)], work)
    assert done.returncode == 0, done.stderr
    return venv / "bin"


def test_only_the_runtime_is_installed(installed):
    listed = _run([str(installed / "python"), "-m", "pip", "list", "--format=json"], Path.cwd())
    names = {p["name"].lower() for p in json.loads(listed.stdout)}
    assert names & DEVELOPMENT_ONLY == set()
    assert {"duckdb", "pyarrow", "python-calamine", "jinja2"} <= names


def test_help_sample_load_and_summary_work(installed, tmp_path):
    dap = str(installed / "dap")
    shown = _run([dap, "--help"], tmp_path)
    assert shown.returncode == 0
    assert "load" in shown.stdout
    assert "DAP_LAKE" in shown.stdout

    sampled = _run([dap, "sample", "--out", "x"], tmp_path)
    assert sampled.returncode == 0, sampled.stderr
    books = sorted(str(p) for p in (tmp_path / "x").glob("*.xls*"))
    assert len(books) >= 2

    loaded = _run([dap, "load", *books, "--lake", "l"], tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.startswith("loaded: ")
    assert any((tmp_path / "l" / "raw").rglob("*.parquet"))

    # No warehouse: dbt has not run. One line saying what to do, no traceback.
    summary = _run([dap, "summary", "--lake", "l"], tmp_path)
    assert summary.returncode == 1
    assert "Traceback" not in summary.stderr
    assert summary.stderr.startswith("dap summary: error: ")
    assert "dbt build" in summary.stderr

    # The price file ships in the wheel: an estimate from one query's run results.
    results = {
        "results": [{"unique_id": "model.p.m", "adapter_response": {"data_scanned_in_bytes": 2048}}]
    }
    (tmp_path / "run_results.json").write_text(json.dumps(results))
    cost = _run([dap, "cost", "--lake", "l", "--run-results", "run_results.json"], tmp_path)
    assert cost.returncode == 0, cost.stderr
    assert "Athena" in cost.stdout


def test_athena_local_without_its_extra_says_how_to_install(installed, tmp_path):
    result = _run([str(installed / "dap"), "athena-local", "--port", "0"], tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "pip install '.[athena-local]'" in result.stderr
    assert "make athena-local" in result.stderr
