"""Fixtures shared by the test modules: the real dataset and running dbt."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from dap.athena_local import AthenaLocal
from support import REAL_CSV, REPO_ROOT, DbtResult, DbtRunner, run_dbt_cli


@pytest.fixture
def real_csv() -> Path:
    if not REAL_CSV.is_file():
        pytest.skip(f"real dataset not found at {REAL_CSV} (see ../shared/data/README.md)")
    return REAL_CSV


@pytest.fixture(scope="session")
def dbt_profiles_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The documented profile, used as shipped (profiles.yml.example)."""
    directory = tmp_path_factory.mktemp("profiles")
    shutil.copy(REPO_ROOT / "profiles.yml.example", directory / "profiles.yml")
    return directory


@pytest.fixture
def run_dbt(tmp_path: Path, dbt_profiles_dir: Path) -> DbtRunner:
    """Run the dbt CLI from the repo root against a given lake, artifacts kept in tmp_path."""

    def run(*args: str, lake: Path, check: bool = True) -> DbtResult:
        target = tmp_path / "dbt-target"
        env = {
            **os.environ,
            "DAP_LAKE": str(lake),
            "DBT_PROFILES_DIR": str(dbt_profiles_dir),
            "DBT_TARGET_PATH": str(target),
            "DBT_LOG_PATH": str(tmp_path / "dbt-logs"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
        env.pop("DBT_TARGET", None)
        result = run_dbt_cli(args, cwd=REPO_ROOT, env=env)
        if check and result.returncode != 0:
            pytest.fail(f"dbt {' '.join(args)} failed:\n{result.output[-6000:]}")
        return result

    return run


@pytest.fixture
def athena_local() -> Iterator[AthenaLocal]:
    """The local Athena endpoint on 127.0.0.1, its moto state reset (moto's state is global)."""
    with AthenaLocal() as endpoint:
        requests.post(f"{endpoint.url}/moto-api/reset", timeout=30).raise_for_status()
        yield endpoint
