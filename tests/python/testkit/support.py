"""Helpers shared by the test modules (fixtures are in conftest.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
PROJECT_PARTS = ("dbt_project.yml", ".dbtignore", "models", "macros", "tests", "analyses")
"""What a copy of the dbt project needs (copy_project)."""


def copy_project(target: Path) -> Path:
    """A copy of the dbt project's own files in ``target`` (made here), for a test that
    changes a model or adds one without touching the repository."""
    target.mkdir(parents=True, exist_ok=True)
    for part in PROJECT_PARTS:
        source = REPO_ROOT / part
        if source.is_dir():
            shutil.copytree(source, target / part)
        else:
            shutil.copy(source, target / part)
    return target


REAL_CSV = REPO_ROOT.parent / "shared" / "data" / "3-1-1-contact-centre-metrics.csv"
BIN = Path(sys.executable).parent


@dataclass
class DbtResult:
    returncode: int
    output: str
    run_results: dict

    def statuses(self) -> dict[str, str]:
        return {r["unique_id"]: r["status"] for r in self.run_results.get("results", [])}


DbtRunner = Callable[..., DbtResult]


def run_dbt_cli(
    args: Sequence[str], *, cwd: Path, env: dict[str, str], target: Path | None = None
) -> DbtResult:
    """Run the dbt CLI in cwd; with target, artifacts and logs go there (else as env says).

    run_results.json is read and removed, so the next run's results are its own.
    """
    env = dict(env)
    if target is not None:
        env.update(DBT_TARGET_PATH=str(target), DBT_LOG_PATH=str(target / "logs"))
    proc = subprocess.run(
        [str(BIN / "dbt"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    results_file = Path(env.get("DBT_TARGET_PATH", str(cwd / "target"))) / "run_results.json"
    run_results = json.loads(results_file.read_text()) if results_file.exists() else {}
    results_file.unlink(missing_ok=True)
    return DbtResult(proc.returncode, proc.stdout + proc.stderr, run_results)


def run_make_build(lake: Path, target: Path, profiles: Path) -> tuple[str, dict]:
    """`make build LAKE=lake` (what `make run` builds: `dap build`, then dbt only for what
    is new) with the test's profile and dbt target: its output and the last dbt run's
    results (the previous ones where it started no dbt)."""
    env = {
        **os.environ,
        "DAP_LAKE": str(lake),
        "DBT_PROFILES_DIR": str(profiles),
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(target / "logs"),
    }
    env.pop("DBT_TARGET", None)
    done = subprocess.run(
        ["make", "--no-print-directory", "-s", "build", f"LAKE={lake}"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return done.stdout, json.loads((target / "run_results.json").read_text())


def run_dap(*args: str, lake: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if lake is not None:
        env["DAP_LAKE"] = str(lake)
    return subprocess.run(
        [str(BIN / "dap"), *args], capture_output=True, text=True, env=env, check=False
    )


ATHENA_REGION = "ca-central-1"


def aws_env(endpoint_url: str) -> dict[str, str]:
    """Environment that points boto3, dbt-athena and `dap` at a local endpoint."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": ATHENA_REGION,
        "AWS_DEFAULT_REGION": ATHENA_REGION,
    }


CHROMIUM = Path("/usr/bin/chromium")
# Flags for Debian's Chromium on a machine with a closed network (no first-run, no
# background fetches that would fail and slow every start).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_or_skip() -> Path:
    """Debian's Chromium, or skip the browser test saying why and what to do."""
    import pytest  # noqa: PLC0415

    if not CHROMIUM.is_file():
        if os.environ.get("DAP_REQUIRE_BROWSER") == "1":  # CI: a skip would hide a failure
            pytest.fail(f"DAP_REQUIRE_BROWSER=1 but Debian's Chromium is not at {CHROMIUM}")
        pytest.skip(
            f"browser test skipped: Debian's Chromium is not installed ({CHROMIUM} missing). "
            "`make test` installs it when run as root (apt-get install chromium); otherwise "
            "run `sudo apt-get install chromium`, then `make test`."
        )
    return CHROMIUM


def is_blank(png: bytes) -> bool:
    """True when a screenshot is (nearly) one colour."""
    import io  # noqa: PLC0415

    from PIL import Image  # noqa: PLC0415

    image = Image.open(io.BytesIO(png)).convert("RGB")
    colours = image.getcolors(maxcolors=1_000_000) or []
    return len(colours) < 10
