"""``dap repair``: put back what ``dap verify`` found missing or altered.

- :func:`repair_extract` rebuilds an extract's raw zone from its landing copy: the same
  parser, the same ``ingested_at`` (from the manifest), so the raw files come back byte for
  byte as the load wrote them (Parquet writing is deterministic for one loader version;
  a rebuild that does not reproduce the recorded sha256 is refused, not written). An
  extract landed before the loader recorded checksums is rebuilt and its checksums are
  recorded in its manifest.
- :func:`restore_landing` puts back a missing or altered landing copy from a file the
  user gives, when the file's sha256 is the one a manifest records.

Each repair that writes anything writes an audit record
``_audit/repairs/YYYY/MM/DD/<time>-<repair id>.json`` last (who, when, what was wrong, every
object written), as ``dap retract`` and ``dap restore`` record theirs. Nothing is deleted.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dap import __version__
from dap.errors import DapError, ExtractNotFoundError, LakeError, printable
from dap.lake.audit import Identity, WrittenObject, write_record
from dap.lake.integrity._objects import object_state
from dap.lake.integrity._register import (
    REGISTER_EMPTY_KEY,
    ensure_register,
    read_register,
    register_bytes,
    register_key,
)
from dap.lake.integrity._verify import MANIFEST_PREFIX
from dap.lake.storage import AUDIT, Lake

if TYPE_CHECKING:
    from dap.lake.catalog import GlueCatalog
    from dap.lake.integrity._register import RawObject
    from dap.lake.load import _RecordingLake

Progress = Callable[[str], None]
REPAIRS_PREFIX = f"{AUDIT}/repairs/"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_PREFIX = re.compile(r"[0-9a-f]{8,63}")


class RepairError(DapError):
    code = "repair_refused"


@dataclass
class Repair:
    """What a repair did."""

    sha256: str
    file_name: str
    action: str
    """``raw`` or ``landing``."""
    fixed: list[str] = field(default_factory=list)
    """What was wrong and was put right, one line each."""
    written: list[WrittenObject] = field(default_factory=list)
    audit_key: str | None = None

    def describe(self) -> str:
        name = f"{printable(self.file_name)} (sha256 {self.sha256})"
        if not self.written:
            what = "landing copy" if self.action == "landing" else "landing copy and raw files"
            return f"repair: {name}: its {what} are intact; nothing written\n"
        lines = [f"repaired: {name}"]
        lines += [f"  {printable(line)}" for line in self.fixed]
        lines.append(f"  audit record: {self.audit_key}")
        lines.append("  next: dap verify; then dbt build")
        return "\n".join(lines) + "\n"


def _manifest(lake: Lake, sha: str) -> dict[str, Any]:
    key = f"{MANIFEST_PREFIX}{sha}.json"
    try:
        manifest: dict[str, Any] = json.loads(lake.read_bytes(key))
    except (ValueError, UnicodeDecodeError) as exc:
        raise RepairError(
            f"{key}: the manifest does not parse ({exc}); restore it from the bucket's "
            "previous version, or remove it and `dap load` the workbook again"
        ) from exc
    return manifest


def _landed(lake: Lake) -> list[str]:
    return [
        k.removeprefix(MANIFEST_PREFIX).removesuffix(".json")
        for k in lake.list_keys(MANIFEST_PREFIX)
        if k.endswith(".json")
    ]


def resolve_sha(lake: Lake, text: str) -> str:
    """The landed workbook ``text`` names: a sha256, a unique prefix of 8 or more hex
    digits, the file itself, or a landed file name."""
    landed = _landed(lake)
    wanted = text.strip()
    path = Path(wanted)
    if path.is_file():
        sha = _hash_file(path)
        if sha in landed:
            return sha
        raise ExtractNotFoundError(
            f"{wanted}: this file (sha256 {sha}) is not a landed workbook; `dap extracts` "
            "lists the landed ones"
        )
    lowered = wanted.lower()
    matches = [s for s in landed if s.startswith(lowered)] if _PREFIX.fullmatch(lowered) else []
    if _SHA256.fullmatch(lowered):
        matches = [lowered] if lowered in landed else []
    if not matches and not _PREFIX.fullmatch(lowered):
        for sha in landed:
            try:
                if _manifest(lake, sha).get("file_name") == wanted:
                    matches.append(sha)
            except RepairError:
                continue
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ExtractNotFoundError(
            f"{wanted!r} matches {len(matches)} landed workbooks ("
            + ", ".join(m[:12] for m in matches)
            + "); give more of the sha256"
        )
    raise ExtractNotFoundError(
        f"{wanted!r} is not a landed workbook's sha256, sha256 prefix (8 or more hex "
        "digits), file or file name; `dap extracts` lists the landed ones"
    )


def _hash_file(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise RepairError(f"{path}: cannot read the file ({exc.strerror})") from exc


def _ingested_at(manifest: dict[str, Any]) -> datetime:
    text = str(manifest["ingested_at"]).removesuffix("Z")
    return datetime.fromisoformat(text).replace(tzinfo=None)


def repair_extract(
    lake: Lake,
    text: str,
    *,
    who: Identity,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    catalog: GlueCatalog | None = None,
    progress: Progress = lambda _message: None,
) -> Repair:
    """Rebuild the raw files of the extract ``text`` names from its landing copy, writing
    those that are missing or differ, and its register entries where they are missing."""
    from dap.ingest.formats import parse_file  # noqa: PLC0415
    from dap.lake import load  # noqa: PLC0415 - load imports this package

    sha = resolve_sha(lake, text)
    manifest = _manifest(lake, sha)
    name = str(manifest.get("file_name", ""))
    landing_key = str(manifest["landing_key"])
    state = object_state(lake, landing_key)
    if state.sha256 != sha:
        problem = "is missing" if not state.exists else f"is altered (sha256 {state.sha256})"
        raise RepairError(
            f"{landing_key}: the landing copy of {printable(name)} {problem}, so its raw files "
            f"cannot be rebuilt; restore it first with `dap repair --landing-from FILE` "
            f"(FILE: the original, sha256 {sha})"
        )
    progress(f"rebuilding the raw files of {printable(name)} from {landing_key}")
    data = lake.read_bytes(landing_key)
    if hashlib.sha256(data).hexdigest() != sha:  # changed between the check and the read
        raise RepairError(f"{landing_key}: the landing copy changed while being read; retry")
    parsed = parse_file(name, data, pii="mask" if manifest.get("pii_masked") else "stop")
    objects = load.build_raw_objects(parsed, sha, _ingested_at(manifest))
    recorded = {str(e["key"]): e for e in manifest.get("raw_objects") or []}
    if "raw_objects" in manifest:
        rebuilt = {o.key: o.sha256 for o in objects}
        wanted = {k: str(e["sha256"]) for k, e in recorded.items()}
        if rebuilt != wanted:
            raise RepairError(
                f"rebuilding {printable(name)} (sha256 {sha}) from its landing copy does not "
                f"give the raw files its load wrote (landed by dap "
                f"{manifest.get('loader_version', '?')}, this is dap {__version__}); nothing "
                "written. Repair it with the loader version that landed it"
            )
    result = Repair(sha, name, "raw")
    at = clock()
    out = load._RecordingLake(lake)
    try:
        _rewrite(out, objects, manifest, data, at, catalog, result)
    except BaseException:
        out.undo()
        raise
    result.written = out.written
    if result.written:
        result.audit_key = _audit(lake, result, who, at, {"ingested_at": manifest["ingested_at"]})
    return result


def _rewrite(
    out: _RecordingLake,
    objects: Sequence[RawObject],
    manifest: dict[str, Any],
    data: bytes,
    at: datetime,
    catalog: GlueCatalog | None,
    result: Repair,
) -> None:
    """Write the rebuilt raw files that are missing or differ, the register entries that
    are missing and, for a manifest without checksums, the manifest with them."""
    lake, sha, name = out.lake, result.sha256, result.file_name
    if not lake.exists(REGISTER_EMPTY_KEY):
        ensure_register(lake, None)
    for obj in objects:
        current = object_state(lake, obj.key)
        if current.sha256 == obj.sha256:
            continue
        out.write_bytes(obj.key, obj.data, "application/vnd.apache.parquet")
        what = "missing" if not current.exists else f"altered (was sha256 {current.sha256})"
        result.fixed.append(f"{obj.key}: was {what}; rebuilt, sha256 {obj.sha256}")
    registered = {
        str(r["raw_key"]): str(r["object_sha256"])
        for r in sorted(read_register(lake), key=lambda r: str(r["registered_at"]))
    }
    if any(registered.get(o.key) != o.sha256 for o in objects):
        body = register_bytes(objects, source_sha256=sha, source_name=name, at=at)
        key = register_key(at, sha)
        out.write_bytes(key, body, "application/vnd.apache.parquet")
        result.fixed.append(f"{key}: raw-object register entries written")
    if catalog is not None:
        catalog.add_partitions(o.partition_value for o in objects)
    if "raw_objects" not in manifest:  # landed before the loader recorded checksums
        landing = {"key": manifest["landing_key"], "sha256": sha, "size_bytes": len(data)}
        manifest["raw_keys"] = [o.key for o in objects]
        manifest["rows_per_partition"] = {o.partition: o.rows for o in objects}
        manifest["landing_object"] = landing
        manifest["raw_objects"] = [o.manifest_entry() for o in objects]
        body = json.dumps(manifest, indent=2, sort_keys=True).encode()
        out.write_bytes(f"{MANIFEST_PREFIX}{sha}.json", body, "application/json")
        result.fixed.append(f"{MANIFEST_PREFIX}{sha}.json: checksums recorded")


def restore_landing(
    lake: Lake,
    path: Path,
    *,
    who: Identity,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Repair:
    """Put ``path`` back as a landing copy, when its sha256 is a landed workbook's and that
    workbook's landing copy is missing or altered."""
    sha = _hash_file(path)
    if sha not in set(_landed(lake)):
        raise RepairError(
            f"{path}: this file's sha256 is {sha}, which no manifest records: it is not the "
            "original of a landed workbook, so it cannot be its landing copy; nothing written. "
            "`dap verify` names the landing copies missing or altered and the sha256 each "
            "needs"
        )
    manifest = _manifest(lake, sha)
    name = str(manifest.get("file_name", ""))
    landing_key = str(manifest["landing_key"])
    result = Repair(sha, name, "landing")
    state = object_state(lake, landing_key)
    if state.sha256 == sha:
        return result
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha:
        raise RepairError(f"{path}: the file changed while being read; retry")
    from dap.lake.load import restore_missing_landing  # noqa: PLC0415

    at = clock()
    if state.exists:  # altered: written over (a versioned bucket keeps the altered one)
        version = lake.write_bytes(landing_key, data, "application/octet-stream")
        written = WrittenObject(landing_key, len(data), version)
    else:
        restored = restore_missing_landing(lake, sha, data, path.name)
        if restored is None:
            raise LakeError(f"{landing_key}: could not be restored; retry")
        written = restored
    was = "missing" if not state.exists else f"altered (was sha256 {state.sha256})"
    result.fixed.append(f"{landing_key}: was {was}; restored from {path}")
    result.written = [written]
    result.audit_key = _audit(lake, result, who, at, {"from_file": path.name})
    return result


def _audit(lake: Lake, result: Repair, who: Identity, at: datetime, extra: dict[str, Any]) -> str:
    repair_id = uuid.uuid4().hex
    body = {
        "record": "repair",
        "repair_id": repair_id,
        "action": result.action,
        "who": {"kind": who.kind, "name": who.name, "account": who.account, "host": who.host},
        "at": at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "loader_version": __version__,
        "lake": lake.uri,
        "sha256": result.sha256,
        "file_name": result.file_name,
        "fixed": result.fixed,
        "objects_written": [w.as_record() for w in result.written],
        **extra,
    }
    return write_record(lake, REPAIRS_PREFIX, repair_id, body, at)
