"""``dap verify``: is every object the manifests record there, and unchanged?

Checked, for every manifest ``_manifests/<dataset>/<sha256>.json``:

- it parses, and names the workbook its key names;
- the landing copy is there and its sha256 is the workbook's (the landing zone is
  content-addressed: the sha256 is the name);
- every raw Parquet file it lists is there with the sha256 and size the load recorded
  (``raw_objects``), and the raw-object register (:mod:`._register`), which dbt checks the
  build against, has an entry for it with that sha256. A manifest written before the
  loader recorded checksums lists its raw files only: they are checked for presence and
  reported as carrying no recorded checksum (``dap repair SHA`` records them), not as
  damage.

Then what no manifest lists: raw files and landing copies of a load that stopped before
its manifest (named, with their workbook where the register knows it; the next ``dap
load`` of that workbook completes it: this is not damage), and files no load wrote. With a
Glue catalog, the partitions registered against the partition folders of the raw zone.

On S3 the sha256 comes from S3's own checksum (``ChecksumSHA256``), nothing downloaded.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from dap.errors import printable
from dap.lake.integrity._objects import object_state
from dap.lake.integrity._register import REGISTER_EMPTY_KEY, REGISTER_PREFIX
from dap.lake.storage import LANDING, MANIFESTS, RAW, Lake
from dap.schema import DATASET, PARTITION_COLUMN

if TYPE_CHECKING:
    from dap.lake.catalog import GlueCatalog

Progress = Callable[[str], None]

MANIFEST_PREFIX = f"{MANIFESTS}/{DATASET}/"
RAW_PREFIX = f"{RAW}/{DATASET}/"
LANDING_PREFIX = f"{LANDING}/{DATASET}/"
_SHA256 = re.compile(r"[0-9a-f]{64}")

DAMAGED = "damaged"
"""Missing or altered: what a build reads is not what was loaded. Exit status 1."""
UNFINISHED = "unfinished"
"""Written by a load that stopped before its manifest; the next load completes it."""
UNRECORDED = "unrecorded"
"""Landed before the loader recorded checksums: present, but nothing to check it against."""
NOTE = "note"


@dataclass(frozen=True)
class Finding:
    kind: str
    subject: str
    """The object (key) or extract concerned."""
    problem: str
    action: str

    def line(self) -> str:
        return f"{self.kind}: {printable(self.subject)}: {self.problem}\n  to do: {self.action}"


@dataclass
class Verification:
    """What ``dap verify`` found."""

    lake: str
    extracts: int = 0
    objects_checked: int = 0
    checked_by_s3_checksum: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def damaged(self) -> list[Finding]:
        return [f for f in self.findings if f.kind == DAMAGED]

    @property
    def whole(self) -> bool:
        return not self.damaged

    def add(self, kind: str, subject: str, problem: str, action: str) -> None:
        self.findings.append(Finding(kind, subject, problem, action))

    def describe(self) -> str:
        lines = [f.line() for f in self.findings]
        by_s3 = (
            f" ({self.checked_by_s3_checksum} by S3's own SHA-256 checksum)"
            if self.checked_by_s3_checksum
            else ""
        )
        counts = {k: sum(f.kind == k for f in self.findings) for k in (UNFINISHED, UNRECORDED)}
        extra = [
            f"{counts[UNFINISHED]} object(s) of unfinished loads" if counts[UNFINISHED] else "",
            f"{counts[UNRECORDED]} extract(s) without recorded checksums"
            if counts[UNRECORDED]
            else "",
        ]
        detail = "; ".join(e for e in extra if e)
        verdict = (
            f"the lake is whole{' (' + detail + ')' if detail else ''}"
            if self.whole
            else f"the lake is NOT whole: {len(self.damaged)} problem(s) above"
            + (f"; also {detail}" if detail else "")
        )
        lines.append(
            f"verified {self.lake}: {self.extracts} extract(s), {self.objects_checked} "
            f"object(s) checked{by_s3}; {verdict}"
        )
        return "\n".join(lines) + "\n"


def _sha_of_key(key: str) -> str:
    """``raw/<dataset>/year=2021/<sha>.parquet`` -> ``<sha>`` (the file's stem)."""
    return key.rsplit("/", 1)[-1].split(".", 1)[0]


def _register_entries(lake: Lake, report: Verification) -> dict[str, dict[str, Any]]:
    """raw key -> its latest register entry; a register file that does not read is damage."""
    latest: dict[str, dict[str, Any]] = {}
    for key in lake.list_keys(REGISTER_PREFIX):
        if not key.endswith(".parquet") or key == REGISTER_EMPTY_KEY:
            continue
        try:
            table = pq.read_table(io.BytesIO(lake.read_bytes(key)), use_threads=False)
            rows = table.to_pylist()
        except (pa.ArrowException, OSError) as exc:
            report.add(
                DAMAGED,
                key,
                f"the raw-object register file does not read ({exc})",
                "remove it; `dap repair SHA` writes the register entries of the extract "
                "named in its file name again",
            )
            continue
        for row in rows:
            previous = latest.get(str(row["raw_key"]))
            if previous is None or row["registered_at"] >= previous["registered_at"]:
                latest[str(row["raw_key"])] = row
    return latest


def verify_lake(
    lake: Lake,
    *,
    catalog: GlueCatalog | None = None,
    progress: Progress = lambda _message: None,
) -> Verification:
    """Check landing, raw and manifests (and, with ``catalog``, the Glue partitions)."""
    report = Verification(lake.uri)
    manifest_keys = [k for k in lake.list_keys(MANIFEST_PREFIX) if k.endswith(".json")]
    raw_keys = set(lake.list_keys(RAW_PREFIX))
    landing_keys = set(lake.list_keys(LANDING_PREFIX))
    register = _register_entries(lake, report)
    accounted: set[str] = set()
    total = len(manifest_keys)
    progress(f"checking {total} manifest(s), {len(raw_keys)} raw file(s) in {lake.uri}")
    for number, key in enumerate(manifest_keys, start=1):
        manifest = _read_manifest(lake, key, report)
        report.extracts += 1
        if manifest is None:
            accounted |= {k for k in raw_keys | landing_keys if _sha_of_key(k) == _sha_of_key(key)}
            continue
        name = printable(str(manifest.get("file_name", "")))
        progress(f"[{number}/{total}] {name} (sha256 {_sha_of_key(key)[:12]})")
        accounted |= _check_extract(lake, manifest, register, report)
    _unlisted(raw_keys - accounted, landing_keys - accounted, register, report)
    if catalog is not None:
        _check_partitions(catalog, raw_keys & accounted, report)
    return report


def _read_manifest(lake: Lake, key: str, report: Verification) -> dict[str, Any] | None:
    sha = _sha_of_key(key)
    try:
        manifest = json.loads(lake.read_bytes(key))
        if not isinstance(manifest, dict) or not isinstance(manifest.get("raw_keys"), list):
            raise ValueError("not a manifest: no raw_keys list")
    except (ValueError, UnicodeDecodeError) as exc:
        report.add(
            DAMAGED,
            key,
            f"the manifest does not parse ({exc})",
            "restore it from the bucket's previous version of the object; or remove it and "
            f"`dap load` the workbook again (its landing copy is {LANDING_PREFIX}{sha}.*), "
            "which lands it afresh",
        )
        return None
    if manifest.get("sha256") != sha:
        report.add(
            DAMAGED,
            key,
            f"the manifest is for sha256 {manifest.get('sha256')!r}, not the {sha} its name says",
            "restore it from the bucket's previous version of the object; or remove it and "
            "`dap load` the workbook again",
        )
        return None
    return manifest


def _check_extract(
    lake: Lake,
    manifest: dict[str, Any],
    register: dict[str, dict[str, Any]],
    report: Verification,
) -> set[str]:
    """Check one extract's objects; return the keys its manifest accounts for."""
    sha = str(manifest["sha256"])
    name = printable(str(manifest.get("file_name", "")))
    landing_key = str(manifest.get("landing_key", ""))
    accounted = {landing_key}
    state = object_state(lake, landing_key)
    _count(report, state.by, state.exists)
    landing_ok = state.exists and state.sha256 == sha
    if not landing_ok:
        problem = (
            "the landing copy is missing"
            if not state.exists
            else f"the landing copy is altered (its sha256 is {state.sha256}, not {sha})"
        )
        report.add(
            DAMAGED,
            landing_key,
            f"{problem} (extract {name})",
            f"put the original file back: `dap repair --landing-from FILE` (or `dap load "
            f"FILE`, which restores a missing copy); FILE must have sha256 {sha}",
        )
    recorded: list[dict[str, Any]] | None = manifest.get("raw_objects")
    if recorded is None:  # landed before the loader recorded checksums
        listed = [str(k) for k in manifest.get("raw_keys", [])]
        accounted |= set(listed)
        missing = [k for k in listed if not lake.exists(k)]
        report.objects_checked += len(listed)
        for key in missing:
            report.add(
                DAMAGED,
                key,
                f"the raw file is missing (extract {name})",
                _repair_action(sha, landing_ok),
            )
        if not missing:
            report.add(
                UNRECORDED,
                f"{MANIFEST_PREFIX}{sha}.json",
                f"extract {name} was landed by dap {manifest.get('loader_version', '?')}, "
                "before the loader recorded checksums: its raw files are present but "
                "cannot be checked",
                f"`dap repair {sha[:12]}` rebuilds them from the landing copy and records "
                "their checksums",
            )
        return accounted
    for entry in recorded:
        key, want = str(entry["key"]), str(entry["sha256"])
        accounted.add(key)
        state = object_state(lake, key)
        _count(report, state.by, state.exists)
        if not state.exists:
            problem = "the raw file is missing"
        elif state.sha256 != want or state.size_bytes != entry.get("size_bytes"):
            problem = (
                f"the raw file is altered (sha256 {state.sha256}, {state.size_bytes} bytes; "
                f"the load wrote sha256 {want}, {entry.get('size_bytes')} bytes)"
            )
        else:
            entered = register.get(key)
            if entered is None or entered.get("object_sha256") != want:
                report.add(
                    DAMAGED,
                    key,
                    f"the raw-object register has no entry for this file as loaded "
                    f"(extract {name}): the build cannot check it",
                    _repair_action(sha, landing_ok),
                )
            continue
        report.add(DAMAGED, key, f"{problem} (extract {name})", _repair_action(sha, landing_ok))
    return accounted


def _repair_action(sha: str, landing_ok: bool) -> str:
    action = f"`dap repair {sha[:12]}` rebuilds the extract's raw files from its landing copy"
    if not landing_ok:
        action = "first restore the landing copy (above), then " + action
    return action


def _count(report: Verification, by: str, exists: bool) -> None:
    report.objects_checked += 1
    if exists and by == "s3-checksum":
        report.checked_by_s3_checksum += 1


def _unlisted(
    raw: Iterable[str],
    landing: Iterable[str],
    register: dict[str, dict[str, Any]],
    report: Verification,
) -> None:
    """Objects no manifest lists: an interrupted load's, or no load's at all."""
    names = {str(r["source_file_sha256"]): str(r["source_file_name"]) for r in register.values()}
    for key in sorted(landing):
        sha = _sha_of_key(key)
        if _SHA256.fullmatch(sha):
            _unfinished(report, key, sha, names.get(sha), "landing copy")
        else:
            report.add(
                DAMAGED,
                key,
                "a file in the landing zone that no load wrote",
                "move it out of the landing zone",
            )
    for key in sorted(raw):
        sha = _sha_of_key(key)
        if key in register or (_SHA256.fullmatch(sha) and sha in names):
            _unfinished(report, key, sha, names.get(sha), "raw file")
        else:
            report.add(
                DAMAGED,
                key,
                "a raw file that neither a manifest nor the raw-object register lists: no "
                "load of this loader wrote it, and dbt reads every Parquet file here",
                "move it out of the raw zone; if it is from an interrupted load by an older "
                "loader, `dap load` that workbook again",
            )


def _unfinished(report: Verification, key: str, sha: str, name: str | None, what: str) -> None:
    workbook = f"workbook {printable(name)} (sha256 {sha})" if name else f"sha256 {sha}"
    report.add(
        UNFINISHED,
        key,
        f"{what} of an unfinished load of {workbook}: the load stopped before its manifest "
        "(not damage; builds leave the extract out until it is whole)",
        "the next `dap load` of that workbook completes it",
    )


def _check_partitions(catalog: GlueCatalog, raw_keys: set[str], report: Verification) -> None:
    """Every partition folder holding a landed extract's file is registered. (A folder
    with only an unfinished load's files may not be yet: that load registers it.)"""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    folders: set[str] = set()
    for key in raw_keys:
        name, sep, value = key.removeprefix(RAW_PREFIX).split("/", 1)[0].partition("=")
        if sep and name == PARTITION_COLUMN and value:
            folders.add(value)
    registered: set[str] = set()
    try:
        pages = catalog.client.get_paginator("get_partitions").paginate(
            DatabaseName=catalog.database, TableName=catalog.table
        )
        for page in pages:
            for partition in page.get("Partitions", []):
                registered.update(partition.get("Values", [])[:1])
    except (ClientError, BotoCoreError) as exc:
        report.add(
            DAMAGED,
            f"glue:{catalog.qualified_name}",
            f"cannot read the table's partitions ({exc})",
            "`dap load` any landed workbook (it is skipped as unchanged) to create the "
            "table and register every partition folder",
        )
        return
    for value in sorted(folders - registered):
        report.add(
            DAMAGED,
            f"{RAW_PREFIX}{PARTITION_COLUMN}={value}/",
            f"the partition folder is not registered in Glue table {catalog.qualified_name}: "
            "Athena does not read it",
            "`dap load` any landed workbook (it is skipped as unchanged): every load "
            "registers the partition folders of the raw zone",
        )
    for value in sorted(registered - folders):
        report.add(
            NOTE,
            f"glue:{catalog.qualified_name}/{PARTITION_COLUMN}={value}",
            "a partition is registered with no folder in the raw zone (it reads as empty)",
            "nothing needed",
        )
