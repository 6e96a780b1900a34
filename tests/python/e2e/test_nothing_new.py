"""`make run` twice with nothing new: the second run starts no dbt process; after a model
changes, the next run does, and builds only what the change reaches.

The Makefile runs as a newcomer runs it, pointed at temporary folders (LAKE, SAMPLE_DIR,
REPORT_DIR, DBT_TARGET_PATH) and at a copy of the dbt project (DAP_DBT_PROJECT_DIR), so
that the test can edit a model without touching the repository's. dbt is DAP_DBT: a
wrapper that logs each call, then runs the real dbt.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from testkit.support import BIN, REPO_ROOT

pytestmark = pytest.mark.dbt

MODEL = Path("models") / "marts" / "fct_calls_handled_yearly.sql"


def _project_copy(root: Path) -> Path:
    """The files dbt reads: those `dap build` hashes (tests/python is pytest's)."""
    root.mkdir()
    for name in ("dbt_project.yml", "packages.yml", "dependencies.yml", ".dbtignore"):
        if (REPO_ROOT / name).is_file():
            shutil.copy(REPO_ROOT / name, root / name)
    skip = shutil.ignore_patterns("python", "__pycache__", ".*")
    for folder in ("models", "macros", "seeds", "snapshots", "analyses", "tests"):
        if (REPO_ROOT / folder).is_dir():
            shutil.copytree(REPO_ROOT / folder, root / folder, ignore=skip)
    return root


def test_a_second_make_run_with_nothing_new_starts_no_dbt(
    tmp_path: Path, dbt_profiles_dir: Path
) -> None:
    project = _project_copy(tmp_path / "project")
    target = tmp_path / "target"
    calls = tmp_path / "dbt-calls.log"
    calls.touch()
    dbt = tmp_path / "dbt"
    dbt.write_text(f'#!/bin/bash\necho "$*" >> {calls}\nexec {BIN / "dbt"} "$@"\n')
    dbt.chmod(0o755)
    env = {
        **os.environ,
        "DAP_DBT": str(dbt),
        "DAP_DBT_PROJECT_DIR": str(project),
        "DBT_PROFILES_DIR": str(dbt_profiles_dir),
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
    }
    env.pop("DBT_TARGET", None)
    lake = tmp_path / "lake"
    make = [
        "make",
        "--no-print-directory",
        # The venv this test runs in is the one to use: never reinstall it from here.
        "-o",
        ".venv/.installed-run",
        "run",
        f"LAKE={lake}",
        f"SAMPLE_DIR={tmp_path / 'sample'}",
        f"REPORT_DIR={tmp_path / 'report'}",
    ]

    def make_run() -> str:
        done = subprocess.run(
            make, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900, check=False
        )
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
        return done.stdout + done.stderr

    def dbt_calls() -> list[str]:
        return calls.read_text().splitlines()

    output = make_run()
    assert f"dbt build (first build of {lake})" in output
    assert dbt_calls() == ["source freshness", "build"]
    full = {
        r["unique_id"] for r in json.loads((target / "run_results.json").read_text())["results"]
    }
    samples = sorted((tmp_path / "sample").iterdir())
    first = {p.name: p.read_bytes() for p in samples}

    output = make_run()
    assert dbt_calls() == ["source freshness", "build"]  # the same two: no dbt process since
    assert f"nothing new in {lake}" in output
    assert "dbt not started" in output
    assert "Nothing to do" not in output
    assert "5 skipped as unchanged" in output  # `dap sample` wrote the same bytes again
    assert {p.name: p.read_bytes() for p in samples} == first
    assert "calls-handled.png" in output  # the summary and the report still follow

    model = project / MODEL
    model.write_text(model.read_text() + "-- changed by test_nothing_new\n")
    output = make_run()
    assert "the dbt project's files changed" in output
    assert dbt_calls()[2:] == [
        "source freshness",
        f"build --select source_status:fresher+ state:modified+ --state {lake}/.dbt-state",
    ]
    built = {
        r["unique_id"] for r in json.loads((target / "run_results.json").read_text())["results"]
    }
    assert "model.vancouver_311.fct_calls_handled_yearly" in built
    assert "model.vancouver_311.fct_contact_centre_daily" not in built  # upstream: untouched
    assert built < full

    output = make_run()
    assert len(dbt_calls()) == 4
    assert f"nothing new in {lake}" in output
