"""Fixtures shared by the test modules: the real dataset, running dbt, moto and the local
Athena endpoint."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from moto.server import ThreadedMotoServer

from athena_local import AthenaLocal
from testkit.support import REAL_CSV, REPO_ROOT, DbtResult, DbtRunner, run_dbt_cli

_database_numbers = itertools.count(1)
_LONGEST_MODULE = "tests/python/integration/athena/test_athena_pipeline.py"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest module first, then the modules that run dbt on the local Athena
    endpoint, then the other dbt modules, then the rest, each module's tests in their
    order. `make test` runs with `--dist loadfile --no-loadscope-reorder`: each module goes
    whole to one of the two workers, in this order. Ordered by xdist's default (most tests
    first), the Athena pipeline module (two builds, about five minutes, mostly waiting on
    the endpoint) started late and ran alone at the end while the other worker sat idle;
    first, the quick modules fill in around it."""

    def weight(item: pytest.Item) -> int:
        if item.nodeid.startswith(_LONGEST_MODULE):
            return -1
        marks = {mark.name for mark in item.iter_markers()}
        return 0 if {"dbt", "s3"} <= marks else 1 if "dbt" in marks else 2

    by_module: dict[str, int] = {}
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        by_module[module] = min(by_module.get(module, 2), weight(item))
    order = {id(item): index for index, item in enumerate(items)}
    items.sort(key=lambda item: (by_module[item.nodeid.split("::", 1)[0]], order[id(item)]))


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    assert port != 0
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def moto_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """Credentials and endpoint for moto only: no profile, config file or instance metadata.

    Each test gets a Glue database of its own (``DAP_RAW_DATABASE``) on the shared server.
    """
    for name in list(os.environ):
        if name.startswith(("AWS_", "DAP_")) or name == "BOTO_CONFIG":
            monkeypatch.delenv(name)
    env = {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "ca-central-1",
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "1",
        "DAP_RAW_DATABASE": f"raw_test_{next(_database_numbers)}",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


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
