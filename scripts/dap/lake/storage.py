"""Where the lake lives: a local folder or ``s3://bucket/prefix``, behind one small interface.

Keys are relative, '/'-separated paths such as ``landing/contact_centre_metrics/<sha>.xlsx``.
Every write is atomic for readers: a local file appears under its name only when it is
complete (temporary name, fsync, rename); an S3 object is atomic by nature.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypedDict

from dap.errors import LakeError

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_s3 import S3Client

LANDING = "landing"
RAW = "raw"
MANIFESTS = "_manifests"
"""One JSON record per landed workbook, written last: the workbook is loaded once it exists."""
AUDIT = "_audit"
"""One JSON record per load: who loaded what, when, and every object written."""

ZONE_OF_PREFIX = {LANDING: LANDING, AUDIT: LANDING, RAW: RAW, MANIFESTS: RAW}
"""Which zone's storage holds each top-level prefix when the zones live apart: the
original files and the audit trail with landing, the Parquet and its manifests with raw."""


class Lake(Protocol):
    uri: str

    def check_ready(self) -> None:
        """Raise LakeError if the lake cannot be reached, before any work is done."""

    def exists(self, key: str) -> bool: ...

    def read_bytes(self, key: str) -> bytes: ...

    def write_bytes(self, key: str, data: bytes, content_type: str) -> str | None:
        """Write ``data`` at ``key``; return the object's version id where there is one."""

    def delete(self, key: str) -> None:
        """Remove a key if it exists (used to undo a workbook's writes after a failure)."""

    def list_keys(self, prefix: str) -> list[str]: ...


def open_lake(
    uri: str,
    session: boto3.Session | None = None,
    *,
    kms_key_id: str | None = None,
    allow_unprotected: bool = False,
) -> Lake:
    """The lake at ``uri``. ``kms_key_id`` (S3 only) encrypts every object written with
    SSE-KMS under that key; without it, S3 applies the bucket's default encryption.
    An S3 lake refuses to write to a bucket without default encryption or without
    versioning (:func:`require_protected_bucket`) unless ``allow_unprotected``."""
    if uri.startswith("s3://"):
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        if not bucket:
            raise LakeError(f"{uri}: an S3 lake needs a bucket name, as s3://bucket/prefix")
        if session is None:
            import boto3  # noqa: PLC0415 - only S3 lakes need boto3's import time

            session = boto3.Session()
        return S3Lake(
            uri,
            bucket,
            prefix.strip("/"),
            session,
            kms_key_id=kms_key_id,
            allow_unprotected=allow_unprotected,
        )
    if "://" in uri:
        raise LakeError(f"{uri}: unsupported lake; use a local folder or s3://bucket/prefix")
    return LocalLake(Path(uri))


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


class LocalLake:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.uri = str(root)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*key.split("/"))

    def check_ready(self) -> None:
        """Also removes the temporary files of writers that died (killed mid-write): a
        temporary name carries its writer's process id, so one whose process is gone can
        never be completed, while a running load's are left alone."""
        if self.root.exists() and not self.root.is_dir():
            raise LakeError(f"{self.root}: the lake must be a folder, and this is a file")
        if self.root.is_dir():
            for path in self.root.rglob(".*.tmp"):
                pid = path.name[1:].split("-", 1)[0]
                if pid.isdigit() and not _process_alive(int(pid)):
                    path.unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def read_bytes(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def write_bytes(self, key: str, data: bytes, content_type: str) -> str | None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{os.getpid()}-", suffix=".tmp", dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise LakeError(f"cannot write {path}: {exc.strerror or exc}") from exc
        return None

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise LakeError(f"cannot remove {path}: {exc.strerror or exc}") from exc
        for parent in path.parents:  # folders the write created, now empty
            if parent == self.root or self.root not in parent.parents:
                break
            try:
                parent.rmdir()
            except OSError:
                break

    def list_keys(self, prefix: str) -> list[str]:
        base = self._path(prefix)
        if not base.exists():
            return []
        return sorted(
            p.relative_to(self.root).as_posix()
            for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        )


class _Headers(TypedDict, total=False):
    CacheControl: str


class S3Lake:
    def __init__(
        self,
        uri: str,
        bucket: str,
        prefix: str,
        session: boto3.Session,
        *,
        kms_key_id: str | None = None,
        allow_unprotected: bool = False,
    ) -> None:
        self.uri = uri
        self.bucket = bucket
        self.prefix = prefix
        self.kms_key_id = kms_key_id or None
        """Key id, key ARN or alias (``alias/name``) for SSE-KMS; None: the bucket default."""
        self.allow_unprotected = allow_unprotected
        """Write even to a bucket without default encryption or versioning."""
        self.client = session.client("s3")

    @property
    def root(self) -> str:
        """The lake as ``s3://bucket/prefix`` (or ``s3://bucket``), without a trailing slash."""
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def check_ready(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            reason = "does not exist" if code in {"404", "NoSuchBucket"} else f"refused ({code})"
            raise LakeError(f"s3://{self.bucket}: bucket {reason}") from exc
        except BotoCoreError as exc:
            raise LakeError(f"s3://{self.bucket}: cannot reach the bucket ({exc})") from exc
        if not self.allow_unprotected:
            require_protected_bucket(self.client, self.bucket)

    def exists(self, key: str) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise self._error("read", key, exc) from exc
        except BotoCoreError as exc:  # no credentials, endpoint unreachable, ...
            raise self._error("read", key, exc) from exc
        return True

    def read_bytes(self, key: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
            data: bytes = body.read()
        except (ClientError, BotoCoreError) as exc:
            raise self._error("read", key, exc) from exc
        return data

    def write_bytes(
        self, key: str, data: bytes, content_type: str, *, cache_control: str | None = None
    ) -> str | None:
        """``cache_control``: the object's Cache-Control header (a published site's files)."""
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        headers: _Headers = {} if cache_control is None else {"CacheControl": cache_control}
        try:
            if self.kms_key_id is None:  # the bucket's default encryption applies
                response = self.client.put_object(
                    Bucket=self.bucket,
                    Key=self._key(key),
                    Body=data,
                    ContentType=content_type,
                    ChecksumAlgorithm="SHA256",  # S3 keeps it: dap verify reads it back
                    **headers,
                )
            else:
                response = self.client.put_object(
                    Bucket=self.bucket,
                    Key=self._key(key),
                    Body=data,
                    ContentType=content_type,
                    **headers,
                    ChecksumAlgorithm="SHA256",
                    ServerSideEncryption="aws:kms",
                    SSEKMSKeyId=self.kms_key_id,
                    BucketKeyEnabled=True,  # fewer KMS requests, same protection
                )
        except (ClientError, BotoCoreError) as exc:
            raise self._error("write", key, exc) from exc
        version: str | None = response.get("VersionId")
        return version

    def delete(self, key: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except (ClientError, BotoCoreError) as exc:
            raise self._error("remove", key, exc) from exc

    def list_keys(self, prefix: str) -> list[str]:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        full = self._key(prefix)
        strip = len(self.prefix) + 1 if self.prefix else 0
        keys: list[str] = []
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=full
            ):
                keys.extend(obj["Key"][strip:] for obj in page.get("Contents", []))
        except (ClientError, BotoCoreError) as exc:
            raise self._error("list", prefix, exc) from exc
        return sorted(keys)

    def _error(self, verb: str, key: str, exc: Exception) -> LakeError:
        return LakeError(f"cannot {verb} s3://{self.bucket}/{self._key(key)}: {exc}")


ALLOW_UNPROTECTED_HINT = (
    "turn on default encryption (SSE-KMS) and versioning for the bucket, as infra/platform.yaml "
    "does, or pass --allow-unprotected-bucket to write anyway"
)


def bucket_protection_problems(client: S3Client, bucket: str) -> list[str]:
    """What the bucket lacks of the platform's storage policy: default encryption and
    versioning. Empty when it has both. Raises LakeError when it cannot be told (for
    example, the caller may not read the bucket's settings)."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    problems: list[str] = []
    try:
        status = client.get_bucket_versioning(Bucket=bucket).get("Status")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchBucket"}:
            raise LakeError(f"s3://{bucket}: bucket does not exist") from exc
        raise LakeError(
            f"s3://{bucket}: cannot read the bucket's versioning setting ({exc}); the "
            f"loader needs s3:GetBucketVersioning to check it, or {ALLOW_UNPROTECTED_HINT}"
        ) from exc
    except BotoCoreError as exc:
        raise LakeError(
            f"s3://{bucket}: cannot read the bucket's versioning setting ({exc}); the "
            f"loader needs s3:GetBucketVersioning to check it, or {ALLOW_UNPROTECTED_HINT}"
        ) from exc
    if status != "Enabled":
        problems.append(f"versioning is {(status or 'not enabled').lower()}")
    try:
        rules = client.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
            "Rules"
        ]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code != "ServerSideEncryptionConfigurationNotFoundError":
            raise LakeError(
                f"s3://{bucket}: cannot read the bucket's default encryption ({code}); the "
                "loader needs s3:GetEncryptionConfiguration to check it, or "
                f"{ALLOW_UNPROTECTED_HINT}"
            ) from exc
        rules = []
    except BotoCoreError as exc:
        raise LakeError(f"s3://{bucket}: cannot read the bucket's encryption ({exc})") from exc
    algorithms = {
        rule.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm") for rule in rules
    } - {None}
    if not algorithms:
        problems.append("it has no default encryption")
    return problems


def require_protected_bucket(client: S3Client, bucket: str) -> None:
    """Raise LakeError, before anything is written, if the bucket lacks default encryption
    or versioning: data written there could be read in the clear or overwritten for good."""
    problems = bucket_protection_problems(client, bucket)
    if problems:
        raise LakeError(
            f"s3://{bucket}: refusing to write: {' and '.join(problems)}; "
            f"nothing was written. To fix: {ALLOW_UNPROTECTED_HINT}"
        )


class ZonedLake:
    """Zones kept in separate places (in production, a bucket per zone): keys are routed
    by their first segment (:data:`ZONE_OF_PREFIX`) to the landing or the raw lake."""

    def __init__(self, landing: Lake, raw: Lake) -> None:
        self.zones = {LANDING: landing, RAW: raw}
        self.uri = f"landing {landing.uri}, raw {raw.uri}"

    @property
    def raw(self) -> Lake:
        return self.zones[RAW]

    def _zone(self, key: str) -> Lake:
        top = key.split("/", 1)[0]
        zone = ZONE_OF_PREFIX.get(top)
        if zone is None:
            raise LakeError(f"{key}: no zone holds the prefix {top!r}")
        return self.zones[zone]

    def check_ready(self) -> None:
        for lake in self.zones.values():
            lake.check_ready()

    def exists(self, key: str) -> bool:
        return self._zone(key).exists(key)

    def read_bytes(self, key: str) -> bytes:
        return self._zone(key).read_bytes(key)

    def write_bytes(self, key: str, data: bytes, content_type: str) -> str | None:
        return self._zone(key).write_bytes(key, data, content_type)

    def delete(self, key: str) -> None:
        self._zone(key).delete(key)

    def list_keys(self, prefix: str) -> list[str]:
        return self._zone(prefix).list_keys(prefix)
