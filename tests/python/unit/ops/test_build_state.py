"""dap.ops._build_state: what a build read, and when the next one is needed."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from dap.errors import DapError
from dap.lake.storage import LocalLake
from dap.ops._athena_marts import REPORT_TABLES
from dap.ops._build_state import (
    STATE_KEY,
    BuildInputs,
    BuildState,
    project_sha256,
    read_state,
    write_state,
)
from testkit.support import REPO_ROOT


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "models").mkdir(parents=True)
    (root / "tests" / "python").mkdir(parents=True)
    (root / "dbt_project.yml").write_text("name: p\n")
    (root / "models" / "m.sql").write_text("select 1 as x\n")
    (root / "tests" / "t.sql").write_text("select 1 where false\n")
    return root


def test_the_project_digest_follows_dbt_files_only(tmp_path: Path) -> None:
    root = _project(tmp_path)
    before = project_sha256(root)
    (root / "profiles.yml").write_text("anything: 1\n")
    (root / "tests" / "python" / "test_x.py").write_text("x = 1\n")
    (root / "tests" / "python" / "fixture.sql").write_text("select 3\n")  # pytest's, not dbt's
    (root / "README.md").write_text("words\n")
    assert project_sha256(root) == before
    (root / "tests" / "t.sql").write_text("select 2 where false\n")
    changed = project_sha256(root)
    assert changed != before
    shutil.copy(root / "models" / "m.sql", root / "models" / "n.sql")
    assert project_sha256(root) != changed


def test_a_folder_without_dbt_project_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DapError, match=r"no dbt_project\.yml here"):
        project_sha256(tmp_path)


def _inputs(**changes: object) -> BuildInputs:
    base: dict[str, object] = {
        "target": "local",
        "extracts": ("a" * 64,),
        "events": ("e1:1",),
        "project_sha256": "p",
    }
    return BuildInputs(**{**base, **changes})  # type: ignore[arg-type]


def test_what_calls_for_a_build() -> None:
    last = BuildState(_inputs(), "2026-12-01T00:00:00+00:00", "duckdb")
    assert _inputs().changes_since(last) == []
    assert _inputs().changes_since(None) == ["no build of this lake recorded yet"]
    assert _inputs(extracts=("a" * 64, "b" * 64), events=("e1:1", "e2:1")).changes_since(last) == [
        "1 new extract(s): bbbbbbbbbbbb"
    ]
    assert _inputs(events=("e1:1", "r1:1")).changes_since(last) == [
        "1 new event(s) (supersede, retract or restore)"
    ]
    assert _inputs(project_sha256="q").changes_since(last) == ["the dbt project's files changed"]
    assert _inputs(target="athena").changes_since(last) == [
        "the dbt target changed (local -> athena)"
    ]


def test_the_state_round_trips_and_a_damaged_one_says_what_to_do(tmp_path: Path) -> None:
    lake = LocalLake(tmp_path)
    assert read_state(lake) is None
    state = BuildState(_inputs(), "2026-12-01T00:00:00+00:00", "duckdb").published("build/site")
    write_state(lake, state)
    assert read_state(lake) == state
    assert state.published("build/site").published_to == ("build/site",)
    (tmp_path / STATE_KEY).write_text("{}")
    with pytest.raises(DapError, match="delete it and the next `dap pipeline` builds"):
        read_state(lake)


def test_the_athena_copy_holds_every_table_the_report_reads() -> None:
    """The report reads the marts through these tables only: a new one must be copied too."""
    read: set[str] = set()
    for path in (REPO_ROOT / "scripts" / "dap" / "publish").glob("*.py"):
        read |= set(re.findall(r"\b(?:trusted|curated)\.[a-z_0-9]+\b", path.read_text()))
    assert read
    assert read <= set(REPORT_TABLES)
