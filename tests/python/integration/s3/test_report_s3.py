"""``dap report`` to ``s3://bucket/prefix``, against a moto server on 127.0.0.1: through the
lake interface, so with the bucket check, the KMS key and each file's content type."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from typing import Any

import boto3
import pytest

from athena_local.serve import create_protected_bucket
from dap.cli import main
from dap.publish.report import Month, ReportData, Year

pytestmark = pytest.mark.s3

CONTENT_TYPES = {
    "index.html": "text/html; charset=utf-8",
    "calls-handled.png": "image/png",
    "calls-handled-daily.csv": "text/csv; charset=utf-8",
}
_bucket_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def figures(monkeypatch: pytest.MonkeyPatch) -> ReportData:
    """What the warehouse would hold (these tests are about the upload, not the marts)."""
    data = ReportData(
        years=[
            Year(2023, 1000, 900, 90.0, 0.8, 30.0, 365, date(2023, 1, 1), date(2023, 12, 31)),
            Year(2024, 1000, 950, 95.0, 0.7, 25.0, 60, date(2024, 1, 1), date(2024, 2, 29)),
        ],
        months=[Month(date(2024, 1, 1), 94.0), Month(date(2024, 2, 1), 96.0)],
        quarantined=[],
        missing_days=[],
        first_day=date(2023, 1, 1),
        last_day=date(2024, 2, 29),
        built_at=datetime(2024, 3, 1),
        daily=[(date(2024, 2, 29), 10, 9, 1, 90.0, 0.8, 30.0, "2024.xlsx")],
    )
    monkeypatch.setattr("dap.publish.report.read_report_data", lambda _lake: data)
    return data


@pytest.fixture
def s3(moto_env: dict[str, str]) -> Any:
    return boto3.Session().client("s3")


def _kms_key() -> str:
    arn: str = boto3.Session().client("kms").create_key()["KeyMetadata"]["Arn"]
    return arn


@pytest.fixture
def bucket(s3: Any) -> str:
    """Versioned, SSE-KMS by default under a key of its own (not the one the report gets)."""
    name = f"dap-report-test-{next(_bucket_numbers)}"
    create_protected_bucket(s3, name, "ca-central-1", _kms_key())
    return name


def _report(*args: str) -> int:
    return main(["report", "--lake", "unused-lake", *args])


def _heads(s3: Any, bucket: str, prefix: str) -> dict[str, dict[str, Any]]:
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return {o["Key"]: s3.head_object(Bucket=bucket, Key=o["Key"]) for o in listed}


@pytest.mark.parametrize("given_by", ["option", "environment"])
def test_report_uploads_encrypted_with_the_kms_key(s3, bucket, given_by, capsys, monkeypatch):
    key = _kms_key()
    if given_by == "environment":
        monkeypatch.setenv("DAP_KMS_KEY_ID", key)
        assert _report("--out", f"s3://{bucket}/site/") == 0
    else:
        assert _report("--out", f"s3://{bucket}/site/", "--kms-key-id", key) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [f"wrote s3://{bucket}/site/{name}" for name in CONTENT_TYPES]
    assert f"SSE-KMS key {key}" in err
    heads = _heads(s3, bucket, "site/")
    assert set(heads) == {f"site/{name}" for name in CONTENT_TYPES}
    for name, content_type in CONTENT_TYPES.items():
        head = heads[f"site/{name}"]
        assert head["ServerSideEncryption"] == "aws:kms", name
        assert head["SSEKMSKeyId"] == key, name
        assert head["ContentType"] == content_type, name
    page = s3.get_object(Bucket=bucket, Key="site/index.html")["Body"].read()
    assert b'<table id="yearly">' in page


def test_without_a_key_the_bucket_default_encrypts(s3, bucket, capsys):
    assert _report("--out", f"s3://{bucket}") == 0
    assert capsys.readouterr().out.splitlines() == [
        f"wrote s3://{bucket}/{name}" for name in CONTENT_TYPES
    ]
    for name, head in _heads(s3, bucket, "").items():
        assert head["ServerSideEncryption"] == "aws:kms", name  # the bucket's default
        assert head["ContentType"] == CONTENT_TYPES[name], name


def test_an_unprotected_bucket_is_refused_before_anything_is_written(s3, capsys):
    s3.create_bucket(
        Bucket="plain-report", CreateBucketConfiguration={"LocationConstraint": "ca-central-1"}
    )
    assert _report("--out", "s3://plain-report/site") == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("dap report: error: s3://plain-report: refusing to write: ")
    assert err.count("\n") == 1
    assert s3.list_objects_v2(Bucket="plain-report").get("KeyCount") == 0
    # Allowed on purpose: uploaded, encrypted with the key given.
    key = _kms_key()
    assert (
        _report(
            "--out", "s3://plain-report/site", "--allow-unprotected-bucket", "--kms-key-id", key
        )
        == 0
    )
    heads = _heads(s3, "plain-report", "site/")
    assert len(heads) == 3
    assert {(h["ServerSideEncryption"], h["SSEKMSKeyId"]) for h in heads.values()} == {
        ("aws:kms", key)
    }


def test_a_missing_bucket_is_one_line_not_a_traceback(moto_env, capsys):
    assert _report("--out", "s3://no-such-report-bucket/site") == 1
    err = capsys.readouterr().err
    assert err == "dap report: error: s3://no-such-report-bucket: bucket does not exist\n"
