"""What the last successful ``dbt build`` of a lake read, so that ``dap pipeline`` and
``dap build`` can tell "nothing new" without starting dbt.

A build's inputs are the extracts the lake holds (the sha256 of every manifest under
``_manifests/``), the events that change what the marts show (landed, masked, superseded,
retracted and restored: ``unchanged`` and ``refused`` only add to the load log, which the
next real build catches up on) and the dbt project itself (a sha256 over
``dbt_project.yml``, ``packages.yml``, ``.dbtignore``, ``models/``, ``macros/``, ``seeds/``,
``snapshots/``, ``analyses/`` and the SQL tests under ``tests/``, never ``profiles.yml``).
They are kept, with the dbt target and the places the build's report was published to, in
one small JSON object, :data:`STATE_KEY`, written only after a build succeeded (and again
after each publication). It lives with the audit trail (the landing zone), which the loader
writes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dap.errors import DapError
from dap.lake.extracts import (
    LANDED,
    MASKED,
    RESTORED,
    RETRACTED,
    SUPERSEDED,
    read_events,
)
from dap.lake.storage import AUDIT, MANIFESTS
from dap.schema import DATASET

if TYPE_CHECKING:
    from dap.lake.storage import Lake

STATE_KEY = f"{AUDIT}/pipeline/last_build.json"
BUILD_EVENTS = (LANDED, MASKED, SUPERSEDED, RETRACTED, RESTORED)
"""The events that change what a build makes of the lake."""
PROJECT_FILES = ("dbt_project.yml", "packages.yml", "dependencies.yml", ".dbtignore")
"""``.dbtignore`` too: it changes which files dbt reads."""
PROJECT_FOLDERS = ("models", "macros", "seeds", "snapshots", "analyses")
SQL_TEST_FOLDER = "tests"
"""Only its ``.sql`` files: ``tests/python`` is pytest's, not dbt's."""


@dataclass(frozen=True)
class BuildInputs:
    """What a build reads: the lake's extracts and events, the project's files."""

    target: str
    extracts: tuple[str, ...]
    events: tuple[str, ...]
    project_sha256: str

    def changes_since(self, last: BuildState | None) -> list[str]:
        """Why a build is needed, in words; empty when nothing changed since ``last``."""
        if last is None:
            return ["no build of this lake recorded yet"]
        reasons = []
        if last.inputs.target != self.target:
            reasons.append(f"the dbt target changed ({last.inputs.target} -> {self.target})")
        new = set(self.extracts) - set(last.inputs.extracts)
        gone = set(last.inputs.extracts) - set(self.extracts)
        if new:
            reasons.append(f"{len(new)} new extract(s): {', '.join(sorted(s[:12] for s in new))}")
        if gone:
            reasons.append(f"{len(gone)} extract(s) no longer in the lake")
        events = set(self.events) - set(last.inputs.events)
        if events and not new:
            reasons.append(f"{len(events)} new event(s) (supersede, retract or restore)")
        if last.inputs.project_sha256 != self.project_sha256:
            reasons.append("the dbt project's files changed")
        return reasons


@dataclass(frozen=True)
class BuildState:
    inputs: BuildInputs
    built_at: str
    adapter: str
    """dbt's adapter for the build (duckdb, athena): where the report reads the marts."""
    published_to: tuple[str, ...] = field(default=())

    def published(self, uri: str) -> BuildState:
        return replace(self, published_to=tuple(dict.fromkeys((*self.published_to, uri))))

    def to_json(self) -> bytes:
        record = {
            "target": self.inputs.target,
            "extracts": list(self.inputs.extracts),
            "events": list(self.inputs.events),
            "project_sha256": self.inputs.project_sha256,
            "built_at": self.built_at,
            "adapter": self.adapter,
            "published_to": list(self.published_to),
        }
        return (json.dumps(record, indent=2) + "\n").encode()

    @classmethod
    def from_json(cls, data: bytes, where: str) -> BuildState:
        try:
            record: dict[str, Any] = json.loads(data)
            inputs = BuildInputs(
                str(record["target"]),
                tuple(record["extracts"]),
                tuple(record["events"]),
                str(record["project_sha256"]),
            )
            return cls(
                inputs,
                str(record["built_at"]),
                str(record["adapter"]),
                tuple(record.get("published_to", ())),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise DapError(
                f"{where}: not a build state record ({exc!r}); delete it and the next "
                "`dap pipeline` builds everything again"
            ) from exc


def project_sha256(root: Path) -> str:
    """One sha256 over the dbt project's files (path and content of each, in order)."""
    if not (root / "dbt_project.yml").is_file():
        raise DapError(
            f"{root.resolve()}: no dbt_project.yml here; run dap pipeline from the project's "
            "folder or set DAP_DBT_PROJECT_DIR"
        )
    digest = hashlib.sha256()
    for path in _project_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _project_files(root: Path) -> list[Path]:
    files = [p for folder in PROJECT_FOLDERS for p in (root / folder).rglob("*") if p.is_file()]
    tests = root / SQL_TEST_FOLDER
    files += [p for p in tests.rglob("*.sql") if "python" not in p.relative_to(tests).parts]
    files = [p for p in files if "__pycache__" not in p.parts and not p.name.startswith(".")]
    files += [root / name for name in PROJECT_FILES if (root / name).is_file()]
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def lake_inputs(lake: Lake, target: str, project: str) -> BuildInputs:
    """The lake's extracts and build-relevant events now."""
    prefix = f"{MANIFESTS}/{DATASET}/"
    extracts = sorted(
        key.removeprefix(prefix).removesuffix(".json")
        for key in lake.list_keys(prefix)
        if key.endswith(".json")
    )
    events = sorted(
        {f"{e.event_id}:{e.file_number}" for e in read_events(lake) if e.event_type in BUILD_EVENTS}
    )
    return BuildInputs(target, tuple(extracts), tuple(events), project)


def build_reasons(inputs: BuildInputs, last: BuildState | None, lake_uri: str) -> list[str]:
    """Why a build is needed now, in words; empty when the lake, the dbt project and the
    target are as the last successful build read them and its warehouse is still there."""
    reasons = inputs.changes_since(last)
    if not reasons and last is not None and warehouse_missing(lake_uri, last.adapter):
        reasons.append("the local warehouse is missing")
    return reasons


def warehouse_missing(lake_uri: str, adapter: str) -> bool:
    """A DuckDB build of a local lake wrote ``LAKE/warehouse.duckdb``: without it the marts
    are gone whatever the inputs say. Athena's tables cannot be seen from here."""
    from dap.publish._warehouse import WAREHOUSE_FILE  # noqa: PLC0415

    if adapter != "duckdb" or "://" in lake_uri:
        return False
    return not (Path(lake_uri) / WAREHOUSE_FILE).is_file()


def manifest_adapter(manifest: Path) -> str | None:
    """dbt's adapter (duckdb, athena) as a build's ``manifest.json`` names it."""
    try:
        metadata: dict[str, Any] = json.loads(manifest.read_text())["metadata"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    adapter = metadata.get("adapter_type")
    return str(adapter) if adapter else None


def read_state(lake: Lake) -> BuildState | None:
    if not lake.exists(STATE_KEY):
        return None
    return BuildState.from_json(lake.read_bytes(STATE_KEY), f"{lake.uri}/{STATE_KEY}")


def write_state(lake: Lake, state: BuildState) -> None:
    lake.write_bytes(STATE_KEY, state.to_json(), "application/json")
