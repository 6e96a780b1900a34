"""Reading an object's checksum: the bytes hashed locally, S3's own SHA-256 on S3."""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from dap.errors import LakeError
from dap.lake.storage import ZONE_OF_PREFIX, Lake, LocalLake, S3Lake, ZonedLake


@dataclass(frozen=True)
class ObjectState:
    """What is at a key: nothing (``sha256`` None), or an object with its sha256 and size.
    ``by`` says how the sha256 was found: ``s3-checksum`` (S3's ChecksumSHA256, nothing
    downloaded) or ``read`` (the bytes read and hashed)."""

    sha256: str | None
    size_bytes: int | None = None
    by: str = "read"

    @property
    def exists(self) -> bool:
        return self.sha256 is not None


def store_of(lake: Lake, key: str) -> Lake:
    """The storage that holds ``key``: the zone's own lake when the zones live apart."""
    if isinstance(lake, ZonedLake):
        zone = ZONE_OF_PREFIX.get(key.split("/", 1)[0])
        if zone is None:
            raise LakeError(f"{key}: no zone holds the prefix {key.split('/', 1)[0]!r}")
        return lake.zones[zone]
    return lake


def object_state(lake: Lake, key: str) -> ObjectState:
    """The sha256 and size of ``key``, or that it is missing. On S3 the checksum S3 keeps
    (``head_object`` with ``ChecksumMode=ENABLED``: SHA-256 of the whole object, as
    ``dap load`` uploads with ``ChecksumAlgorithm=SHA256``) is used without downloading;
    objects uploaded without one are read and hashed."""
    store = store_of(lake, key)
    if isinstance(store, S3Lake):
        return _s3_state(store, key)
    if isinstance(store, LocalLake):
        path = store.root.joinpath(*key.split("/"))
        if not path.is_file():
            return ObjectState(None)
        digest = hashlib.sha256()
        size = 0
        try:
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
                    size += len(block)
        except OSError as exc:
            raise LakeError(f"cannot read {path}: {exc.strerror or exc}") from exc
        return ObjectState(digest.hexdigest(), size)
    if not store.exists(key):
        return ObjectState(None)
    data = store.read_bytes(key)
    return ObjectState(hashlib.sha256(data).hexdigest(), len(data))


def _s3_state(store: S3Lake, key: str) -> ObjectState:
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    full = f"{store.prefix}/{key}" if store.prefix else key
    try:
        head = store.client.head_object(Bucket=store.bucket, Key=full, ChecksumMode="ENABLED")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
            return ObjectState(None)
        raise LakeError(f"cannot read s3://{store.bucket}/{full}: {exc}") from exc
    except BotoCoreError as exc:
        raise LakeError(f"cannot read s3://{store.bucket}/{full}: {exc}") from exc
    size = int(head.get("ContentLength", 0))
    checksum = head.get("ChecksumSHA256")
    # A whole-object checksum is base64 of 32 bytes; a multipart one ends in "-<parts>".
    if checksum and "-" not in checksum:
        try:
            raw = base64.b64decode(checksum, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) == hashlib.sha256().digest_size:
            return ObjectState(raw.hex(), size, by="s3-checksum")
    data = store.read_bytes(key)
    return ObjectState(hashlib.sha256(data).hexdigest(), len(data))
