"""The audit trail: one JSON record per load, under ``_audit/loads/`` in the landing zone;
one per refused load under ``_audit/refusals/``, one per retract or restore under
``_audit/extracts/`` (:mod:`dap.lake.extracts` writes those two).

A record says who loaded (the AWS identity for S3 lakes, the local user and host for a
local folder), when it started and finished, every workbook with its sha256 and what
became of it, the rows per partition, any personal data masked (kinds and cells, never
values), and every object written with its size and, on a versioned bucket, its version
id. A load that finds nothing new writes a record too: it proves the check was made.

The record is written last, after the manifests. A load that stops before the end
leaves no load record, and the data zones as they were; a load that stops because a file
is refused leaves the refusal's record (who, when, the file's sha256 and name, the reason
code and message, for personal data the kinds and cells, never a value) and its row in
the extract event log, and nothing else.
"""

from __future__ import annotations

import getpass
import json
import socket
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dap import __version__
from dap.lake.storage import AUDIT, Lake

if TYPE_CHECKING:
    import boto3

AUDIT_PREFIX = f"{AUDIT}/loads/"
REFUSALS_PREFIX = f"{AUDIT}/refusals/"
EXTRACT_EVENTS_PREFIX = f"{AUDIT}/extracts/"


@dataclass(frozen=True)
class Identity:
    """Who is loading: ``kind`` is ``aws`` (with the caller's ARN) or ``local``."""

    kind: str
    name: str
    account: str | None = None
    host: str | None = None


def local_identity() -> Identity:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name for this uid (some containers)
        user = "unknown"
    return Identity("local", user, host=socket.gethostname())


def aws_identity(session: boto3.Session) -> Identity:
    """The caller as STS sees it (sts:GetCallerIdentity needs no permission)."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    from dap.errors import LakeError  # noqa: PLC0415

    try:
        caller = session.client("sts").get_caller_identity()
    except (ClientError, BotoCoreError) as exc:
        raise LakeError(f"cannot tell who is loading (sts:GetCallerIdentity: {exc})") from exc
    return Identity("aws", caller["Arn"], account=caller.get("Account"))


@dataclass
class WrittenObject:
    key: str
    size_bytes: int
    version_id: str | None = None

    def as_record(self) -> dict[str, Any]:
        return asdict(self)


def record_key(prefix: str, at: datetime, record_id: str) -> str:
    """Sortable by time, to the microsecond:
    ``<prefix>2026/11/23/20261123T101500.123456Z-<id>.json``."""
    stamp = at.astimezone(UTC)
    return f"{prefix}{stamp:%Y/%m/%d/%Y%m%dT%H%M%S.%fZ}-{record_id}.json"


def write_record(
    lake: Lake, prefix: str, record_id: str, body: dict[str, Any], at: datetime
) -> str:
    """Write one JSON record under ``prefix`` (in the landing zone); return its key."""
    key = record_key(prefix, at, record_id)
    lake.write_bytes(key, json.dumps(body, indent=2, sort_keys=True).encode(), "application/json")
    return key


@dataclass
class AuditRecord:
    who: Identity
    lake: str
    pii_policy: str
    started_at: datetime
    load_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    files: list[dict[str, Any]] = field(default_factory=list)
    objects_written: list[WrittenObject] = field(default_factory=list)

    def key(self, finished_at: datetime) -> str:
        """Sortable by time, to the microsecond:
        ``_audit/loads/2026/11/23/20261123T101500.123456Z-<load id>.json``."""
        return record_key(AUDIT_PREFIX, finished_at, self.load_id)

    def who_record(self) -> dict[str, Any]:
        return asdict(self.who)

    def to_json(self, finished_at: datetime) -> bytes:
        rows_per_partition: dict[str, int] = {}
        for entry in self.files:
            for partition, rows in entry.get("rows_per_partition", {}).items():
                rows_per_partition[partition] = rows_per_partition.get(partition, 0) + rows
        body = {
            "load_id": self.load_id,
            "who": asdict(self.who),
            "started_at": _iso(self.started_at),
            "finished_at": _iso(finished_at),
            "duration_seconds": round((finished_at - self.started_at).total_seconds(), 3),
            "loader_version": __version__,
            "lake": self.lake,
            "pii_policy": self.pii_policy,
            "files": self.files,
            "rows_landed": sum(int(f.get("rows", 0)) for f in self.files),
            "rows_per_partition": dict(sorted(rows_per_partition.items())),
            "objects_written": [asdict(o) for o in self.objects_written],
        }
        return json.dumps(body, indent=2, sort_keys=True).encode()

    def write(self, lake: Lake, finished_at: datetime) -> str:
        key = self.key(finished_at)
        lake.write_bytes(key, self.to_json(finished_at), "application/json")
        return key


def latest_record(lake: Lake) -> tuple[str, dict[str, Any]] | None:
    """The newest audit record in the lake (keys sort by time), or None."""
    keys = [k for k in lake.list_keys(AUDIT_PREFIX) if k.endswith(".json")]
    if not keys:
        return None
    key = max(keys)
    return key, read_record(lake, key)


def read_record(lake: Lake, key: str) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(lake.read_bytes(key))
    return record


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
