"""Lake integrity on ``s3://`` lakes with Glue, against a moto server on 127.0.0.1: uploads
carry S3's own SHA-256 checksum, `dap verify` compares it without downloading, names an
altered object and an unregistered partition folder, and `dap repair` puts the raw files
back byte for byte; with the zones in buckets of their own too."""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
from datetime import date
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from athena_local.serve import create_protected_bucket
from dap.lake.audit import Identity
from dap.lake.catalog import GlueCatalog
from dap.lake.integrity import (
    DAMAGED,
    REGISTER,
    REGISTER_PREFIX,
    object_state,
    repair_extract,
    verify_lake,
)
from dap.lake.load import load_workbooks
from dap.lake.storage import S3Lake, ZonedLake, open_lake
from dap.schema import DATASET
from testkit.workbooks import clean_env, run_dap, sha256_of, simple_book

pytestmark = pytest.mark.s3

_bucket_numbers = itertools.count(1)
WHO = Identity("aws", "arn:aws:iam::123456789012:user/tester")


def _bucket(s3: Any) -> str:
    name = f"dap-integrity-test-{next(_bucket_numbers)}"
    key_arn = boto3.Session().client("kms").create_key()["KeyMetadata"]["Arn"]
    create_protected_bucket(s3, name, "ca-central-1", key_arn)
    return name


def _books(folder: Path) -> list[Path]:
    return [
        simple_book(folder / "first.xlsx", date(2021, 12, 30), 4),
        simple_book(folder / "second.xlsx", date(2022, 12, 30), 5, start_n=20),
    ]


def _tampered(data: bytes) -> bytes:
    table = pq.read_table(io.BytesIO(data))
    values = table.column("callshandled").to_pylist()
    shifted = pa.array([str(v) for v in values[1:] + values[:1]])
    index = table.schema.get_field_index("callshandled")
    sink = io.BytesIO()
    pq.write_table(table.set_column(index, "callshandled", shifted), sink)
    return sink.getvalue()


def test_verify_uses_s3_checksums_and_repair_restores_byte_for_byte(moto_env, tmp_path):
    session = boto3.Session()
    s3 = session.client("s3")
    bucket = _bucket(s3)
    database = moto_env["DAP_RAW_DATABASE"]
    lake = open_lake(f"s3://{bucket}/lake", session)
    assert isinstance(lake, S3Lake)
    catalog = GlueCatalog(session, database=database, lake_root=lake.root)
    books = _books(tmp_path / "in")
    load_workbooks(books, lake, catalog=catalog)

    # Every upload carries S3's SHA-256 of the whole object (moto keeps it as S3 does).
    sha = sha256_of(books[0])
    raw_key = f"raw/{DATASET}/year=2022/{sha}.parquet"
    head = s3.head_object(Bucket=bucket, Key=f"lake/{raw_key}", ChecksumMode="ENABLED")
    original = lake.read_bytes(raw_key)
    assert base64.b64decode(head["ChecksumSHA256"]).hex() == hashlib.sha256(original).hexdigest()
    assert object_state(lake, raw_key).by == "s3-checksum"
    # The register has its Glue table beside the raw table, over _audit/raw_objects/.
    table = session.client("glue").get_table(DatabaseName=database, Name=REGISTER)["Table"]
    assert table["StorageDescriptor"]["Location"] == f"s3://{bucket}/lake/{REGISTER_PREFIX}"

    report = verify_lake(lake, catalog=catalog)
    assert report.whole, report.describe()
    assert report.findings == []
    assert report.checked_by_s3_checksum == report.objects_checked == 6

    s3.put_object(Bucket=bucket, Key=f"lake/{raw_key}", Body=_tampered(original))
    report = verify_lake(lake, catalog=catalog)
    assert [(f.kind, f.subject) for f in report.findings] == [(DAMAGED, raw_key)]
    assert "altered" in report.findings[0].problem
    done = run_dap("verify", "--lake", f"s3://{bucket}/lake", env=clean_env(**moto_env))
    assert done.returncode == 1
    assert f"damaged: {raw_key}: the raw file is altered" in done.stdout

    repair_extract(lake, sha[:12], who=WHO, catalog=catalog)
    assert lake.read_bytes(raw_key) == original  # byte for byte
    assert verify_lake(lake, catalog=catalog).findings == []

    # A partition folder Glue does not know: Athena would not read it.
    session.client("glue").batch_delete_partition(
        DatabaseName=database, TableName=DATASET, PartitionsToDelete=[{"Values": ["2023"]}]
    )
    report = verify_lake(lake, catalog=catalog)
    assert [(f.kind, f.subject) for f in report.findings] == [
        (DAMAGED, f"raw/{DATASET}/year=2023/")
    ]
    assert "not registered in Glue" in report.findings[0].problem
    done = run_dap(
        "verify",
        "--lake",
        f"s3://{bucket}/lake",
        "--glue-database",
        database,
        env=clean_env(**moto_env),
    )
    assert done.returncode == 1, done.stderr
    assert "the partition folder is not registered in Glue" in done.stdout


def test_verify_reads_zones_in_buckets_of_their_own(moto_env, tmp_path):
    session = boto3.Session()
    s3 = session.client("s3")
    landing_bucket, raw_bucket = _bucket(s3), _bucket(s3)
    landing = open_lake(f"s3://{landing_bucket}", session)
    raw = open_lake(f"s3://{raw_bucket}/zone", session)
    lake = ZonedLake(landing, raw)
    books = _books(tmp_path / "in")
    load_workbooks(books, lake)
    args = ["--landing", f"s3://{landing_bucket}", "--raw", f"s3://{raw_bucket}/zone"]
    done = run_dap("verify", *args, env=clean_env(**moto_env))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "6 object(s) checked (6 by S3's own SHA-256 checksum); the lake is whole" in done.stdout

    sha = sha256_of(books[1])
    s3.delete_object(Bucket=landing_bucket, Key=f"landing/{DATASET}/{sha}.xlsx")
    done = run_dap("verify", *args, env=clean_env(**moto_env))
    assert done.returncode == 1
    assert f"damaged: landing/{DATASET}/{sha}.xlsx: the landing copy is missing" in done.stdout
    done = run_dap("repair", "--landing-from", str(books[1]), *args, env=clean_env(**moto_env))
    assert done.returncode == 0, done.stderr
    assert "audit record: _audit/repairs/" in done.stdout
    assert run_dap("verify", *args, env=clean_env(**moto_env)).returncode == 0
