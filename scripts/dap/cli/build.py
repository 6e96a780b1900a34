"""``dap build``: ``dbt build`` of what changed since the lake's last successful build, and
no dbt process at all when nothing did."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from dap.cli._common import Subparsers, lake_uri, say
from dap.settings import Settings

if TYPE_CHECKING:
    from dap.ops._build_state import BuildInputs, BuildState

STATE_DIR = ".dbt-state"
"""In the lake folder: the manifest.json and sources.json of its last successful build,
which dbt's ``--state`` compares this build with."""
SELECT_CHANGED = ("--select", "source_status:fresher+", "state:modified+")
ARTIFACTS = ("manifest.json", "sources.json")

DESCRIPTION = f"""\
Build the warehouse of a local lake with dbt, only as far as something changed, as
`make build` (and so `make run`) does.

First, without starting dbt, compare the lake and the dbt project with what the last
successful build of this lake read: the extracts it holds (their manifests), the events
that change the marts (landed, masked, superseded, retracted, restored: a load that only
finds files unchanged changes nothing), a sha256 over the project's dbt files
(dbt_project.yml, .dbtignore, models/, macros/, seeds/, snapshots/, analyses/,
tests/*.sql; not profiles.yml) and the dbt target. When all are as they were and the warehouse
(LAKE/warehouse.duckdb) is there, it says "nothing new: ..." and exits 0: no dbt process
starts. This is the decision `dap pipeline` makes, from the same record,
LAKE/_audit/pipeline/last_build.json.

Otherwise it says why, then runs `dbt source freshness` (its output hidden: it only
records when each source last changed) and
  dbt build {" ".join(SELECT_CHANGED)} --state LAKE/{STATE_DIR}
(models whose code or configuration changed, and everything downstream of a source with
newer data or a retraction) when an earlier build left its artifacts in LAKE/{STATE_DIR}
for the same target and the warehouse is there; else (the first build of a lake, a
deleted warehouse, another target, sources dbt could not read, or --full) a full
`dbt build`. Only after dbt succeeds
are its manifest.json and sources.json kept in LAKE/{STATE_DIR} and the record updated, so
a failed build is tried again next time. The exit status is dbt's.

dbt is DAP_DBT, else `dbt` on PATH, else the one beside this Python; it runs in the
project's folder (DAP_DBT_PROJECT_DIR, default the current folder) with the lake as
DAP_LAKE, on the target dbt chooses (DBT_TARGET, else the profile's default), writing to
DBT_TARGET_PATH. An s3:// lake is built by `dap pipeline` (or dbt itself)."""


def register(sub: Subparsers[argparse.ArgumentParser], settings: Settings) -> None:
    parser = sub.add_parser(
        "build",
        help="dbt build of what changed since the lake's last build; no dbt when nothing did",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--lake", help="the lake, a local folder (default: $DAP_LAKE, else ./lake)")
    parser.add_argument(
        "--full",
        action="store_true",
        help="a full dbt build, even when nothing is new (e.g. after editing the warehouse)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from dap.lake.storage import open_lake  # noqa: PLC0415
    from dap.ops._build_state import (  # noqa: PLC0415
        build_reasons,
        lake_inputs,
        project_sha256,
        read_state,
    )

    uri = lake_uri(args, settings)
    if "://" in uri:
        say(
            f"dap build: error: {uri}: a local lake folder only; build an s3:// lake with dap "
            "pipeline, or with dbt build and DBT_TARGET=athena"
        )
        return 2
    lake = open_lake(uri)
    inputs = lake_inputs(lake, settings.dbt_target, project_sha256(settings.dbt_project_dir))
    last = read_state(lake)
    reasons = build_reasons(inputs, last, uri)
    if not reasons and not args.full:
        assert last is not None  # no record is a reason to build
        sys.stdout.write(nothing_new(uri, last) + "\n")
        return 0
    say("building because " + ("--full was given" if args.full else "; ".join(reasons)))
    return _build(uri, settings, inputs, last, full=args.full)


def nothing_new(uri: str, last: BuildState) -> str:
    return (
        f"nothing new in {uri}: no extract landed, superseded, retracted or restored and no "
        f"dbt project file changed since the build of {last.built_at} "
        f"(target {last.inputs.target}); dbt not started"
    )


def dbt_build_args(
    state_dir: Path, comparable: bool, last: BuildState | None, target: str, *, full: bool
) -> list[str]:
    """What changed, when an earlier build of this target left its artifacts and
    ``comparable`` (its warehouse is there and this run's freshness was read); else
    everything. A lake built before the record existed has artifacts and no record."""
    same_target = last is None or last.inputs.target == target
    if (
        not full
        and same_target
        and comparable
        and all((state_dir / name).is_file() for name in ARTIFACTS)
    ):
        return ["build", *SELECT_CHANGED, "--state", str(state_dir)]
    return ["build"]


def _build(
    uri: str, settings: Settings, inputs: BuildInputs, last: BuildState | None, *, full: bool
) -> int:
    from dap.lake.storage import open_lake  # noqa: PLC0415
    from dap.ops._build_state import (  # noqa: PLC0415
        BuildState,
        manifest_adapter,
        warehouse_missing,
        write_state,
    )
    from dap.ops.pipeline import find_dbt  # noqa: PLC0415
    from dap.settings import child_environment  # noqa: PLC0415

    dbt = find_dbt(settings.dbt_executable)
    project = settings.dbt_project_dir
    env = child_environment({"DAP_LAKE": uri})
    target_path = settings.dbt_target_path
    target = target_path if target_path.is_absolute() else project / target_path
    state_dir = Path(uri).resolve() / STATE_DIR  # dbt runs in the project's folder
    # sources.json, which the selection below and the next build's compare, is written by
    # `dbt source freshness`; a stale or unreadable source is dbt's to report, not a stop.
    # An older one left in the target would hide a retraction: without a new one, build all.
    (target / "sources.json").unlink(missing_ok=True)
    if _dbt([*dbt, "source", "freshness"], project, env, quiet=True) != 0:
        say("dbt source freshness reported stale or unreadable sources (see dbt source freshness)")
    comparable = (target / "sources.json").is_file() and not warehouse_missing(uri, "duckdb")
    args = dbt_build_args(state_dir, comparable, last, inputs.target, full=full)
    if len(args) == 1:
        first = "first build of" if last is None and not full else "full build of"
        sys.stdout.write(f"dbt build ({first} {uri})\n")
    else:
        sys.stdout.write(f"dbt {' '.join(args)}\n")
    sys.stdout.flush()  # before dbt's own output
    status = _dbt([*dbt, *args], project, env, quiet=False)
    if status != 0:
        say(
            f"dbt build failed (exit status {status}): the record is unchanged, so the next "
            "dap build builds again"
        )
        return status
    state_dir.mkdir(parents=True, exist_ok=True)
    for name in ARTIFACTS:
        if (target / name).is_file():
            shutil.copyfile(target / name, state_dir / name)
    adapter = manifest_adapter(target / "manifest.json") or inputs.target
    built_at = datetime.now(UTC).isoformat(timespec="seconds")
    write_state(open_lake(uri), BuildState(inputs, built_at, adapter))
    return 0


def _dbt(args: Sequence[str], cwd: Path, env: dict[str, str], *, quiet: bool) -> int:
    from dap.errors import DapError  # noqa: PLC0415

    out = subprocess.DEVNULL if quiet else None
    try:
        done = subprocess.run(list(args), cwd=cwd, env=env, stdout=out, stderr=out, check=False)
    except OSError as exc:
        raise DapError(
            f"cannot start {args[0]}: {exc.strerror or exc}; set DAP_DBT to the dbt executable"
        ) from exc
    return done.returncode
