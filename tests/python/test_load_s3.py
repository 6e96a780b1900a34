"""Loading into ``s3://bucket/prefix``, against a moto server on 127.0.0.1 (no other network)."""

from __future__ import annotations

import io
import itertools
import json
import os
import socket
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import boto3
import pyarrow.parquet as pq
import pytest
from moto.server import ThreadedMotoServer

from dap.errors import LakeError, WorkbookError
from dap.excel_writer import Cell
from dap.lake import S3Lake, open_lake
from dap.load import load_workbooks
from dap.schema import DATASET, NULL_PARTITION, RAW_SCHEMA
from workbooks import HEADER, SHEET, clean_env, row, run_dap, sha256_of, simple_book, xlsx

pytestmark = pytest.mark.s3

PREFIX = "some/prefix"
_bucket_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    assert port != 0
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """Credentials and endpoint for moto only: no profile, config file or instance metadata."""
    for name in list(os.environ):
        if name.startswith("AWS_") or name in {"DAP_LAKE", "BOTO_CONFIG"}:
            monkeypatch.delenv(name)
    env = {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "ca-central-1",
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "1",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def s3(aws_env: dict[str, str]) -> Any:
    return boto3.Session().client("s3")


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"dap-lake-test-{next(_bucket_numbers)}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "ca-central-1"})
    return name


def _objects(s3: Any, bucket: str) -> dict[str, tuple[str, int, object]]:
    """Every object in the bucket: key -> (ETag, size, last modified)."""
    found: dict[str, tuple[str, int, object]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            found[obj["Key"]] = (obj["ETag"], obj["Size"], obj["LastModified"])
    return found


def _get(s3: Any, bucket: str, key: str) -> bytes:
    data: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return data


def _open(bucket: str, prefix: str = PREFIX) -> S3Lake:
    lake = open_lake(f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}", boto3.Session())
    assert isinstance(lake, S3Lake)
    return lake


def _count_puts(lake: S3Lake) -> list[str]:
    """Keys of every PutObject the lake's client sends from now on."""
    puts: list[str] = []
    lake.client.meta.events.register(
        "before-call.s3.PutObject", lambda params, **_: puts.append(params["Key"])
    )
    return puts


@pytest.fixture
def two_years(tmp_path: Path) -> Path:
    rows: list[list[Cell]] = [
        HEADER,
        row(date(2022, 12, 31), 1),
        row(date(2023, 1, 1), 2),
        row("2023-01-02", 3),
        row("??", 4),
    ]
    return xlsx(tmp_path / "in" / "two-years.xlsx", {SHEET: rows})


def _expected_keys(sha: str, prefix: str = PREFIX) -> set[str]:
    base = f"{prefix}/" if prefix else ""
    return {
        f"{base}landing/{DATASET}/{sha}.xlsx",
        f"{base}raw/{DATASET}/year=2022/{sha}.parquet",
        f"{base}raw/{DATASET}/year=2023/{sha}.parquet",
        f"{base}raw/{DATASET}/year={NULL_PARTITION}/{sha}.parquet",
        f"{base}_manifests/{DATASET}/{sha}.json",
    }


def test_load_into_s3_prefix(s3, bucket, two_years):
    lake = _open(bucket)
    summary = load_workbooks([two_years], lake)
    sha = sha256_of(two_years)

    assert set(_objects(s3, bucket)) == _expected_keys(sha)
    assert _get(s3, bucket, f"{PREFIX}/landing/{DATASET}/{sha}.xlsx") == two_years.read_bytes()
    assert [(f.status, f.rows) for f in summary.files] == [("landed", 4)]
    assert summary.lake == f"s3://{bucket}/{PREFIX}"

    by_year = {}
    for year in ["2022", "2023", NULL_PARTITION]:
        body = _get(s3, bucket, f"{PREFIX}/raw/{DATASET}/year={year}/{sha}.parquet")
        table = pq.read_table(io.BytesIO(body))
        assert table.schema.equals(RAW_SCHEMA, check_metadata=False)
        by_year[year] = table.select(["date", "callsoffered", "source_row_number"]).to_pylist()
    assert by_year == {
        "2022": [{"date": date(2022, 12, 31), "callsoffered": 1001, "source_row_number": 2}],
        "2023": [
            {"date": date(2023, 1, 1), "callsoffered": 1002, "source_row_number": 3},
            {"date": date(2023, 1, 2), "callsoffered": 1003, "source_row_number": 4},
        ],
        NULL_PARTITION: [{"date": None, "callsoffered": 1004, "source_row_number": 5}],
    }
    manifest = json.loads(_get(s3, bucket, f"{PREFIX}/_manifests/{DATASET}/{sha}.json"))
    assert manifest["rows_per_partition"] == {
        "year=2022": 1,
        "year=2023": 2,
        f"year={NULL_PARTITION}": 1,
    }
    assert manifest["landing_key"] == f"landing/{DATASET}/{sha}.xlsx"

    head = s3.head_object(Bucket=bucket, Key=f"{PREFIX}/landing/{DATASET}/{sha}.xlsx")
    assert head["ContentType"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert lake.list_keys("landing") == [f"landing/{DATASET}/{sha}.xlsx"]


def test_load_into_bucket_root(s3, bucket, two_years):
    load_workbooks([two_years], _open(bucket, prefix=""))
    assert set(_objects(s3, bucket)) == _expected_keys(sha256_of(two_years), prefix="")


def test_second_load_writes_nothing(s3, bucket, two_years):
    load_workbooks([two_years], _open(bucket))
    before = _objects(s3, bucket)

    lake = _open(bucket)
    puts = _count_puts(lake)
    summary = load_workbooks([two_years], lake)
    assert puts == []
    assert _objects(s3, bucket) == before
    assert [f.status for f in summary.files] == ["unchanged"]


def test_bad_workbook_leaves_the_bucket_unchanged(s3, bucket, two_years, tmp_path):
    load_workbooks([two_years], _open(bucket))
    before = _objects(s3, bucket)

    good = [simple_book(tmp_path / f"good{i}.xlsx", date(2019 + i, 1, 1), 2) for i in range(2)]
    bad = xlsx(tmp_path / "bad.xlsx", {"Data": [[h for h in HEADER if h != "CallsHandled"]]})
    lake = _open(bucket)
    puts = _count_puts(lake)
    with pytest.raises(WorkbookError, match=r"bad\.xlsx, sheet 'Data'.*'CallsHandled'"):
        load_workbooks([*good, bad], lake)
    assert puts == []
    assert _objects(s3, bucket) == before


def test_cli_load_to_s3(s3, bucket, aws_env, tmp_path):
    books = [simple_book(tmp_path / f"book{i}.xlsx", date(2020 + i, 3, 1), 4) for i in range(2)]
    uri = f"s3://{bucket}/{PREFIX}"
    env = clean_env(**aws_env)

    first = run_dap("load", *books, "--lake", uri, env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout == (
        f"loaded: 2 file(s): 2 landed, 0 skipped as unchanged; 8 rows; "
        f"2 partition file(s) written to {uri}\n"
    )
    shas = [sha256_of(p) for p in books]
    assert set(_objects(s3, bucket)) == {
        key
        for year, sha in zip((2020, 2021), shas, strict=True)
        for key in (
            f"{PREFIX}/landing/{DATASET}/{sha}.xlsx",
            f"{PREFIX}/raw/{DATASET}/year={year}/{sha}.parquet",
            f"{PREFIX}/_manifests/{DATASET}/{sha}.json",
        )
    }
    table = pq.read_table(
        io.BytesIO(_get(s3, bucket, f"{PREFIX}/raw/{DATASET}/year=2021/{shas[1]}.parquet"))
    )
    assert table.column("date").to_pylist() == [date(2021, 3, d) for d in (1, 2, 3, 4)]
    assert table.column("source_file_name").to_pylist() == ["book1.xlsx"] * 4
    before = _objects(s3, bucket)

    again = run_dap("load", *books, "--lake", uri, env=env)
    assert again.returncode == 0, again.stderr
    assert "2 skipped as unchanged; 0 rows; 0 partition file(s)" in again.stdout
    assert _objects(s3, bucket) == before


def test_cli_takes_the_lake_from_dap_lake(s3, bucket, aws_env, tmp_path):
    book = simple_book(tmp_path / "book.xlsx", date(2022, 5, 1), 2)
    env = clean_env(**aws_env, DAP_LAKE=f"s3://{bucket}/from-env")
    result = run_dap("load", book, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert all(key.startswith("from-env/") for key in _objects(s3, bucket))
    assert len(_objects(s3, bucket)) == 3
    assert not (tmp_path / "lake").exists()


def test_cli_missing_bucket(s3, aws_env, tmp_path):
    book = simple_book(tmp_path / "book.xlsx", date(2022, 5, 1), 2)
    result = run_dap("load", book, "--lake", "s3://no-such-dap-bucket/p", env=clean_env(**aws_env))
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1
    assert errors == ["dap load: error: s3://no-such-dap-bucket: bucket does not exist"]
    assert "no-such-dap-bucket" not in {b["Name"] for b in s3.list_buckets()["Buckets"]}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_unreachable_endpoint_is_a_lake_error(aws_env, monkeypatch, two_years):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{_closed_port()}")
    with pytest.raises(
        LakeError, match=r"s3://some-bucket: cannot reach the bucket \(Could not connect"
    ):
        load_workbooks([two_years], _open("some-bucket", "p"))


def test_missing_credentials_is_a_lake_error(aws_env, monkeypatch, two_years):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(LakeError, match="Unable to locate credentials"):
        load_workbooks([two_years], _open("some-bucket", "p"))


def test_cli_unreachable_endpoint_has_no_traceback(aws_env, tmp_path):
    book = simple_book(tmp_path / "book.xlsx", date(2022, 5, 1), 2)
    env = clean_env(**{**aws_env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{_closed_port()}"})
    result = run_dap("load", book, "--lake", "s3://some-bucket/p", env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith(
        "dap load: error: s3://some-bucket: cannot reach the bucket (Could not connect"
    )
