"""The GitHub workflows pass their checks, and the checks catch what they are for."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from testkit.support import BIN, REPO_ROOT

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "ci.yml"


def _zizmor(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--min-severity", "medium", str(directory)],
        capture_output=True,
        text=True,
        check=False,
    )


def _schema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_workflows_pass_schema_and_zizmor() -> None:
    assert _schema(WORKFLOW).returncode == 0
    result = _zizmor(WORKFLOW.parent)
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_catches_a_template_injection(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    text = WORKFLOW.read_text()
    injected = text.replace(
        "        run: make test\n",
        "        run: echo ${{ github.event.pull_request.title }} && make test\n",
    )
    assert injected != text
    (workflows / "ci.yml").write_text(injected)
    result = _zizmor(workflows)
    assert result.returncode != 0
    assert "template-injection" in result.stdout + result.stderr


def test_the_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "ci.yml"
    shutil.copy(WORKFLOW, broken)
    broken.write_text(
        broken.read_text().replace("runs-on: ubuntu-24.04", "runs_on: ubuntu-24.04", 1)
    )
    assert _schema(broken).returncode != 0


def test_the_nightly_athena_job_runs_the_pipeline_and_keeps_the_slim_ci_state() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as True
    assert "schedule" in triggers
    athena = workflow["jobs"]["athena"]
    assert athena["permissions"]["id-token"] == "write"  # the OIDC role
    assert athena["env"]["DBT_TARGET"] == "athena"
    assert athena["env"]["DAP_PUBLISH"] == "${{ vars.DAP_SITE_URI }}"
    runs = [step.get("run", "") for step in athena["steps"]]
    assert any(".venv/bin/dap pipeline" in run for run in runs)
    assert not any("dbt build" in run for run in runs)  # dap pipeline decides when to build
    roles = [s for s in athena["steps"] if "configure-aws-credentials" in s.get("uses", "")]
    assert roles[0]["with"]["role-to-assume"] == "${{ vars.AWS_ATHENA_ROLE_ARN }}"
    kept = [
        step
        for step in workflow["jobs"]["test"]["steps"]
        if step.get("with", {}).get("name") == "nightly-state"
    ]
    assert kept
    assert "target/manifest.json" in kept[0]["with"]["path"]
    assert kept[0]["if"] == "github.event_name == 'schedule'"
