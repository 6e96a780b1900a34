"""Where the lake lives: a local folder or ``s3://bucket/prefix``, behind one small interface.

Keys are relative, '/'-separated paths such as ``landing/contact_centre_metrics/<sha>.xlsx``.
Every write is atomic for readers: a local file appears under its name only when it is
complete (temporary name, fsync, rename); an S3 object is atomic by nature.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from dap.errors import LakeError

if TYPE_CHECKING:
    import boto3

LANDING = "landing"
RAW = "raw"
MANIFESTS = "_manifests"
"""One JSON record per landed workbook, written last: the workbook is loaded once it exists."""


class Lake(Protocol):
    uri: str

    def check_ready(self) -> None:
        """Raise LakeError if the lake cannot be reached, before any work is done."""

    def exists(self, key: str) -> bool: ...

    def read_bytes(self, key: str) -> bytes: ...

    def write_bytes(self, key: str, data: bytes, content_type: str) -> None: ...

    def delete(self, key: str) -> None:
        """Remove a key if it exists (used to undo a workbook's writes after a failure)."""

    def list_keys(self, prefix: str) -> list[str]: ...


def resolve_lake_uri(option: str | None) -> str:
    """``--lake`` if given, else ``DAP_LAKE``, else ``lake`` (relative to the working directory)."""
    return option or os.environ.get("DAP_LAKE") or "lake"


def open_lake(
    uri: str, session: boto3.Session | None = None, *, kms_key_id: str | None = None
) -> Lake:
    """The lake at ``uri``. ``kms_key_id`` (S3 only) encrypts every object written with
    SSE-KMS under that key; without it, S3 applies the bucket's default encryption."""
    if uri.startswith("s3://"):
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        if not bucket:
            raise LakeError(f"{uri}: an S3 lake needs a bucket name, as s3://bucket/prefix")
        if session is None:
            import boto3  # noqa: PLC0415 - only S3 lakes need boto3's import time

            session = boto3.Session()
        return S3Lake(uri, bucket, prefix.strip("/"), session, kms_key_id=kms_key_id)
    if "://" in uri:
        raise LakeError(f"{uri}: unsupported lake; use a local folder or s3://bucket/prefix")
    return LocalLake(Path(uri))


class LocalLake:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.uri = str(root)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*key.split("/"))

    def check_ready(self) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise LakeError(f"{self.root}: the lake must be a folder, and this is a file")

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def read_bytes(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def write_bytes(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
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


class S3Lake:
    def __init__(
        self,
        uri: str,
        bucket: str,
        prefix: str,
        session: boto3.Session,
        *,
        kms_key_id: str | None = None,
    ) -> None:
        self.uri = uri
        self.bucket = bucket
        self.prefix = prefix
        self.kms_key_id = kms_key_id or None
        """Key id, key ARN or alias (``alias/name``) for SSE-KMS; None: the bucket default."""
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

    def write_bytes(self, key: str, data: bytes, content_type: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        encryption: dict[str, str | bool] = {}
        if self.kms_key_id is not None:
            encryption = {
                "ServerSideEncryption": "aws:kms",
                "SSEKMSKeyId": self.kms_key_id,
                "BucketKeyEnabled": True,  # fewer KMS requests, same protection
            }
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=self._key(key),
                Body=data,
                ContentType=content_type,
                **encryption,
            )
        except (ClientError, BotoCoreError) as exc:
            raise self._error("write", key, exc) from exc

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
