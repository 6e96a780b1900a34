"""``dap build``: when it starts dbt, which build it asks for, and what it records.

dbt here is a stand-in (a small script) that logs its arguments and writes the artifacts
the real one would; the end-to-end proof with the real dbt is tests/python/e2e/
test_nothing_new.py.
"""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest

from dap.cli import main
from dap.cli.build import dbt_build_args
from dap.lake.storage import LocalLake
from dap.ops._build_state import (
    STATE_KEY,
    BuildInputs,
    BuildState,
    build_reasons,
    project_sha256,
    read_state,
)

FAKE_DBT = """\
import json, os, pathlib, sys
pathlib.Path(os.environ["FAKE_DBT_LOG"]).open("a").write(" ".join(sys.argv[1:]) + "\\n")
target = pathlib.Path(os.environ["DBT_TARGET_PATH"])
target.mkdir(parents=True, exist_ok=True)
if sys.argv[1:3] == ["source", "freshness"]:
    if os.environ.get("FAKE_FRESHNESS_FAILS"):
        sys.exit(1)
    (target / "sources.json").write_text("{}")
    sys.exit(0)
status = int(os.environ.get("FAKE_DBT_EXIT", "0"))
if status == 0:
    (target / "manifest.json").write_text(json.dumps({"metadata": {"adapter_type": "duckdb"}}))
    pathlib.Path(os.environ["DAP_LAKE"], "warehouse.duckdb").write_bytes(b"")
sys.exit(status)
"""


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: p\n")
    (project / "models" / "m.sql").write_text("select 1 as x\n")
    lake = tmp_path / "lake"
    manifests = lake / "_manifests" / "contact_centre_metrics"
    manifests.mkdir(parents=True)
    (manifests / f"{'a' * 64}.json").write_text("{}")
    dbt = tmp_path / "dbt"
    dbt.write_text(f"#!{sys.executable}\n{FAKE_DBT}")
    dbt.chmod(dbt.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "dbt-calls.log"
    log.touch()
    for name, value in {
        "DAP_DBT": dbt,
        "DAP_DBT_PROJECT_DIR": project,
        "DBT_TARGET_PATH": tmp_path / "target",
        "FAKE_DBT_LOG": log,
    }.items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.delenv("DBT_TARGET", raising=False)
    monkeypatch.delenv("FAKE_DBT_EXIT", raising=False)
    monkeypatch.delenv("FAKE_FRESHNESS_FAILS", raising=False)
    return {"project": project, "lake": lake, "log": log, "manifests": manifests}


def _calls(log: Path) -> list[str]:
    return log.read_text().splitlines()


def test_builds_once_then_starts_no_dbt_until_a_file_or_an_extract_changes(
    setup: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    lake, log = setup["lake"], setup["log"]
    assert main(["build", "--lake", str(lake)]) == 0
    assert _calls(log) == ["source freshness", "build"]
    assert f"dbt build (first build of {lake})" in capsys.readouterr().out
    state = read_state(LocalLake(lake))
    assert state is not None
    assert state.adapter == "duckdb"
    assert state.inputs.extracts == ("a" * 64,)
    assert sorted(p.name for p in (lake / ".dbt-state").iterdir()) == [
        "manifest.json",
        "sources.json",
    ]

    assert main(["build", "--lake", str(lake)]) == 0
    assert _calls(log) == ["source freshness", "build"]  # no new call: no dbt process
    out = capsys.readouterr().out
    assert f"nothing new in {lake}" in out
    assert f"since the build of {state.built_at}" in out
    assert "dbt not started" in out

    (setup["project"] / "models" / "m.sql").write_text("select 2 as x\n")
    assert main(["build", "--lake", str(lake)]) == 0
    selective = f"build --select source_status:fresher+ state:modified+ --state {lake}/.dbt-state"
    assert _calls(log)[2:] == ["source freshness", selective]
    assert "the dbt project's files changed" in capsys.readouterr().err

    (setup["manifests"] / f"{'b' * 64}.json").write_text("{}")
    assert main(["build", "--lake", str(lake)]) == 0
    assert _calls(log)[4:] == ["source freshness", selective]
    assert "1 new extract(s): bbbbbbbbbbbb" in capsys.readouterr().err
    assert main(["build", "--lake", str(lake)]) == 0
    assert len(_calls(log)) == 6


def test_a_failed_build_keeps_the_record_and_passes_dbt_s_status_on(
    setup: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lake, log = setup["lake"], setup["log"]
    assert main(["build", "--lake", str(lake)]) == 0
    before = (lake / STATE_KEY).read_bytes()
    (setup["project"] / "models" / "m.sql").write_text("select broken\n")
    monkeypatch.setenv("FAKE_DBT_EXIT", "3")
    assert main(["build", "--lake", str(lake)]) == 3
    assert (lake / STATE_KEY).read_bytes() == before
    assert "the record is unchanged" in capsys.readouterr().err
    monkeypatch.delenv("FAKE_DBT_EXIT")
    assert main(["build", "--lake", str(lake)]) == 0  # tried again, not "nothing new"
    assert len(_calls(log)) == 6


def test_a_missing_warehouse_or_full_builds_everything(
    setup: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    lake, log = setup["lake"], setup["log"]
    assert main(["build", "--lake", str(lake)]) == 0
    (lake / "warehouse.duckdb").unlink()
    assert main(["build", "--lake", str(lake)]) == 0
    assert _calls(log)[2:] == ["source freshness", "build"]
    assert "the local warehouse is missing" in capsys.readouterr().err
    assert main(["build", "--lake", str(lake), "--full"]) == 0
    assert _calls(log)[4:] == ["source freshness", "build"]
    assert f"dbt build (full build of {lake})" in capsys.readouterr().out


def test_without_this_run_s_freshness_it_builds_everything(
    setup: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The previous run's sources.json must not stand in for this one's: a retraction would
    look like nothing fresher."""
    lake, log = setup["lake"], setup["log"]
    assert main(["build", "--lake", str(lake)]) == 0
    (setup["project"] / "models" / "m.sql").write_text("select 2 as x\n")
    monkeypatch.setenv("FAKE_FRESHNESS_FAILS", "1")
    assert main(["build", "--lake", str(lake)]) == 0
    assert _calls(log)[2:] == ["source freshness", "build"]
    assert "reported stale or unreadable sources" in capsys.readouterr().err


def test_an_s3_lake_is_refused(setup: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "--lake", "s3://bucket/lake"]) == 2
    assert "a local lake folder only" in capsys.readouterr().err
    assert _calls(setup["log"]) == []


def test_the_project_digest_follows_dbtignore(setup: dict[str, Path]) -> None:
    """It changes which files dbt reads; other dot-files do not count."""
    project = setup["project"]
    before = project_sha256(project)
    (project / "models" / ".notes.sql").write_text("scratch\n")
    assert project_sha256(project) == before
    (project / ".dbtignore").write_text("models/m.sql\n")
    assert project_sha256(project) != before


def _state(target: str = "local") -> BuildState:
    inputs = BuildInputs(target, ("a" * 64,), ("e:1",), "p")
    return BuildState(inputs, "2026-12-01T00:00:00+00:00", "duckdb")


def test_the_reasons_include_a_missing_local_warehouse(tmp_path: Path) -> None:
    last = _state()
    assert build_reasons(last.inputs, last, str(tmp_path)) == ["the local warehouse is missing"]
    (tmp_path / "warehouse.duckdb").write_bytes(b"")
    assert build_reasons(last.inputs, last, str(tmp_path)) == []
    athena = BuildState(last.inputs, last.built_at, "athena")  # its tables are not local
    assert build_reasons(last.inputs, athena, "s3://b/lake") == []


def test_the_build_asked_of_dbt(tmp_path: Path) -> None:
    state_dir = tmp_path / ".dbt-state"
    assert dbt_build_args(state_dir, True, _state(), "local", full=False) == ["build"]
    state_dir.mkdir()
    (state_dir / "manifest.json").write_text(json.dumps({}))
    assert dbt_build_args(state_dir, True, _state(), "local", full=False) == ["build"]
    (state_dir / "sources.json").write_text(json.dumps({}))
    selective = ["build", "--select", "source_status:fresher+", "state:modified+"]
    assert dbt_build_args(state_dir, True, _state(), "local", full=False) == [
        *selective,
        "--state",
        str(state_dir),
    ]
    assert dbt_build_args(state_dir, True, None, "local", full=False)[:4] == selective
    assert dbt_build_args(state_dir, False, _state(), "local", full=False) == ["build"]
    assert dbt_build_args(state_dir, True, _state(), "local", full=True) == ["build"]
    assert dbt_build_args(state_dir, True, _state("athena"), "local", full=False) == ["build"]
