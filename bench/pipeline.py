"""``make run``'s steps as separate, measured processes against a lake of the benchmark's own.

The steps are those of ``make run`` after setup: the workbooks (``dap sample`` there; here
the real CSV made into workbooks, or the synthetic extracts), ``dap load``, the dbt build
(``make build`` where the Makefile has it, as ``make run`` does: ``dap build``, which
starts no dbt when nothing is new and otherwise runs ``dbt source freshness`` and a build of
what changed; else ``dbt build``), ``dap summary`` and ``dap report``.
Each runs with the venv's binaries from the repo root, with the documented profile
(``profiles.yml.example``) and dbt's target and log folders under ``build/bench/``, so
nothing of the developer's ``lake/``, ``target/`` or ``profiles.yml`` is used or touched.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.measure import Measurement, run_measured

REPO_ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
REAL_CSV = REPO_ROOT.parent / "shared" / "data" / "3-1-1-contact-centre-metrics.csv"

Say = Callable[[str], None]


@dataclass(frozen=True)
class Step:
    name: str
    measurement: Measurement


@dataclass
class Workspace:
    """A lake, dbt's target and logs, and the logs of each step, under one folder."""

    root: Path

    @property
    def lake(self) -> Path:
        return self.root / "lake"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def reset(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True)

    def env(self) -> dict[str, str]:
        profiles = self.root / "profiles"
        if not (profiles / "profiles.yml").is_file():
            profiles.mkdir(parents=True, exist_ok=True)
            shutil.copy(REPO_ROOT / "profiles.yml.example", profiles / "profiles.yml")
        env = {
            **os.environ,
            "DAP_LAKE": str(self.lake),
            "DBT_PROFILES_DIR": str(profiles),
            "DBT_TARGET_PATH": str(self.root / "dbt-target"),
            "DBT_LOG_PATH": str(self.root / "dbt-logs"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
        env.pop("DBT_TARGET", None)  # the local DuckDB target, as make run
        return env


def python_step(code: str) -> list[str]:
    """A step that runs ``code`` in the venv's Python."""
    return [str(BIN / "python"), "-c", code]


def real_workbooks_step(out: Path) -> list[str]:
    """The real CSV as the tests make it: one workbook per year, then the full export."""
    return python_step(
        "from pathlib import Path; from dap.samples.synthetic import csv_rows_to_workbooks as w; "
        f"w(Path({str(REAL_CSV)!r}), Path({str(out / 'yearly')!r})); "
        f"w(Path({str(REAL_CSV)!r}), Path({str(out / 'full')!r}), by_year=False)"
    )


def real_workbooks(folder: Path) -> list[Path]:
    """The workbooks :func:`real_workbooks_step` wrote, in load order: the yearly ones
    oldest first, then the full export (newest, so it wins where they overlap)."""
    return sorted((folder / "yearly").glob("*.xlsx")) + sorted((folder / "full").glob("*.xlsx"))


def load_step(workbooks: Sequence[Path], lake: Path) -> list[str]:
    return [str(BIN / "dap"), "load", *map(str, workbooks), "--lake", str(lake)]


def make_build_available() -> bool:
    """Whether ``make run`` builds through ``make build`` (``dap build``: nothing when
    nothing is new, else dbt source freshness and a dbt build of what changed since the
    lake's last build) rather than a plain dbt build."""
    makefile = REPO_ROOT / "Makefile"
    text = makefile.read_text() if makefile.is_file() else ""
    return shutil.which("make") is not None and re.search(r"^build:", text, re.M) is not None


def ensure_setup() -> None:
    """``make setup`` before anything is timed: ``make build`` depends on it, and a venv
    out of date with constraints/run.txt would be reinstalled inside the measured step."""
    make = shutil.which("make")
    if make_build_available() and make is not None:
        subprocess.run(  # an argument list, no shell
            [make, "--no-print-directory", "-C", str(REPO_ROOT), "setup"],
            check=True,
            stdout=subprocess.DEVNULL,
        )


def dbt_build_step(lake: Path) -> list[str]:
    """The dbt step as ``make run`` takes it."""
    if make_build_available():
        make = shutil.which("make") or "make"
        return [make, "--no-print-directory", "-C", str(REPO_ROOT), "build", f"LAKE={lake}"]
    return [str(BIN / "dbt"), "build"]


def run_steps(
    steps: Sequence[tuple[str, Callable[[], Sequence[str]]]],
    workspace: Workspace,
    label: str,
    say: Say,
) -> list[Step]:
    """Run each step (name, argv builder: called when its turn comes), measured, in order."""
    results: list[Step] = []
    env = workspace.env()
    for index, (name, argv) in enumerate(steps, start=1):
        log = workspace.logs / f"{label}-{index}-{name.split()[0]}.log"
        say(f"  {label}: {name} ...")
        measurement = run_measured(argv(), log=log, env=env, cwd=REPO_ROOT)
        say(
            f"  {label}: {name}: {measurement.wall_s:.1f} s, "
            f"peak {measurement.peak_rss_mib:.0f} MiB"
        )
        results.append(Step(name, measurement))
    return results


def make_run_steps(
    workbooks_step: Sequence[str] | None,
    workbooks: Callable[[], Sequence[Path]],
    workspace: Workspace,
) -> list[tuple[str, Callable[[], Sequence[str]]]]:
    """``make run`` after setup: workbooks (if a step makes them), load, dbt build, summary,
    report."""
    lake = workspace.lake
    steps: list[tuple[str, Callable[[], Sequence[str]]]] = []
    if workbooks_step is not None:
        made = list(workbooks_step)
        steps.append(("workbooks", lambda: made))
    steps += [
        ("dap load", lambda: load_step(workbooks(), lake)),
        ("dbt build", lambda: dbt_build_step(lake)),
        ("dap summary", lambda: [str(BIN / "dap"), "summary", "--lake", str(lake)]),
        (
            "dap report",
            lambda: [
                *(str(BIN / "dap"), "report", "--lake", str(lake)),
                *("--out", str(workspace.root / "report")),
            ],
        ),
    ]
    return steps
