"""Listing, retracting and restoring extracts, and refusals, on ``s3://`` lakes with Glue,
against a moto server on 127.0.0.1: the zones in one bucket and in buckets of their own."""

from __future__ import annotations

import io
import itertools
import json
from datetime import date
from pathlib import Path
from typing import Any

import boto3
import pyarrow.parquet as pq
import pytest

from athena_local.serve import create_protected_bucket
from dap.lake.catalog import GlueCatalog
from dap.lake.extracts import EVENT_SCHEMA, EVENTS, EVENTS_PREFIX, list_extracts
from dap.lake.load import load_workbooks
from dap.lake.storage import S3Lake, open_lake
from dap.schema import DATASET
from testkit.workbooks import clean_env, run_dap, sha256_of, simple_book

pytestmark = pytest.mark.s3

_bucket_numbers = itertools.count(1)


@pytest.fixture
def s3(moto_env: dict[str, str]) -> Any:
    return boto3.Session().client("s3")


@pytest.fixture
def glue(moto_env: dict[str, str]) -> Any:
    return boto3.Session().client("glue")


def _bucket(s3: Any) -> str:
    name = f"dap-extracts-test-{next(_bucket_numbers)}"
    key_arn = boto3.Session().client("kms").create_key()["KeyMetadata"]["Arn"]
    create_protected_bucket(s3, name, "ca-central-1", key_arn)
    return name


@pytest.fixture
def bucket(s3: Any) -> str:
    return _bucket(s3)


def _keys(s3: Any, bucket: str) -> dict[str, str]:
    """key -> ETag of every object in the bucket."""
    found: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            found[obj["Key"]] = obj["ETag"]
    return found


def _books(folder: Path) -> list[Path]:
    return [
        simple_book(folder / "first.xlsx", date(2021, 3, 1), 4),
        simple_book(folder / "second.xlsx", date(2021, 12, 30), 4, start_n=10),
    ]


def test_load_registers_the_event_log_beside_the_raw_table(s3, glue, bucket, moto_env, tmp_path):
    database = moto_env["DAP_RAW_DATABASE"]
    lake = open_lake(f"s3://{bucket}/lake", boto3.Session())
    assert isinstance(lake, S3Lake)
    catalog = GlueCatalog(boto3.Session(), database=database, lake_root=lake.root)
    load_workbooks(_books(tmp_path / "in"), lake, catalog=catalog)

    table = glue.get_table(DatabaseName=database, Name=EVENTS)["Table"]
    raw = glue.get_table(DatabaseName=database, Name=DATASET)["Table"]
    assert table["PartitionKeys"] == []
    sd = table["StorageDescriptor"]
    assert sd["Location"] == f"s3://{bucket}/lake/{EVENTS_PREFIX}"
    assert [(c["Name"], c["Type"]) for c in sd["Columns"]] == [
        ("event_id", "string"),
        ("file_number", "bigint"),
        ("recorded_at", "timestamp"),
        ("actor", "string"),
        ("event_type", "string"),
        ("source_file_sha256", "string"),
        ("source_file_name", "string"),
        ("reason_code", "string"),
        ("reason", "string"),
        ("pii_kinds", "string"),
        ("pii_cells", "bigint"),
        ("rows_landed", "bigint"),
    ]
    assert {k: sd[k] for k in ("InputFormat", "OutputFormat", "SerdeInfo")} == {
        k: raw["StorageDescriptor"][k] for k in ("InputFormat", "OutputFormat", "SerdeInfo")
    }
    assert table["Parameters"] == raw["Parameters"]
    assert "event log" in table["Description"]
    assert glue.get_partitions(DatabaseName=database, TableName=EVENTS)["Partitions"] == []

    events = [k for k in _keys(s3, bucket) if k.startswith(f"lake/{EVENTS_PREFIX}")]
    assert len(events) == 2  # the zero-row file and the load's rows
    load_workbooks(_books(tmp_path / "in"), lake, catalog=catalog)  # again: table unchanged
    assert glue.get_table(DatabaseName=database, Name=EVENTS)["Table"]["StorageDescriptor"] == sd


def test_list_retract_and_restore_with_the_zones_in_one_bucket(
    s3, glue, bucket, moto_env, tmp_path
):
    env = clean_env(**moto_env)
    uri = f"s3://{bucket}/lake"
    books = _books(tmp_path / "in")
    assert run_dap("load", *books, "--lake", uri, env=env).returncode == 0

    listed = run_dap("extracts", "--lake", uri, "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [(r["file_name"], r["sha256"], r["rows"], r["status"]) for r in rows] == [
        ("first.xlsx", sha256_of(books[0]), 4, "active"),
        ("second.xlsx", sha256_of(books[1]), 4, "active"),
    ]
    assert (rows[1]["first_date"], rows[1]["last_date"]) == ("2021-12-30", "2022-01-02")

    before = _keys(s3, bucket)
    sha = sha256_of(books[1])
    retracted = run_dap("retract", sha[:8], "--lake", uri, "--reason", "wrong year", env=env)
    assert retracted.returncode == 0, retracted.stderr
    assert retracted.stdout.startswith(f"retracted: second.xlsx (sha256 {sha}")
    assert "warning: no other active extract has rows in 2022" in retracted.stderr
    after = _keys(s3, bucket)
    assert {k: v for k, v in after.items() if k in before} == before  # nothing rewritten
    added = sorted(set(after) - set(before))
    assert len(added) == 2  # both in the audit trail: `_audit/events/` sorts first
    event_key, audit_key = added
    assert audit_key.startswith("lake/_audit/extracts/")
    assert event_key.startswith(f"lake/{EVENTS_PREFIX}")
    event = pq.read_table(io.BytesIO(s3.get_object(Bucket=bucket, Key=event_key)["Body"].read()))
    assert event.schema == EVENT_SCHEMA
    (row,) = event.to_pylist()
    assert (row["event_type"], row["source_file_sha256"], row["reason"]) == (
        "retracted",
        sha,
        "wrong year",
    )
    assert row["actor"].startswith("arn:aws:")  # the caller, from STS
    record = json.loads(s3.get_object(Bucket=bucket, Key=audit_key)["Body"].read())
    assert record["who"]["kind"] == "aws"
    assert record["objects_written"][0]["version_id"]  # a versioned bucket

    lake = open_lake(uri, boto3.Session())
    statuses = [e.status for e in list_extracts(lake)]
    assert statuses == ["active", "retracted"]
    table = run_dap("extracts", "--lake", uri, env=env).stdout.splitlines()
    assert table[3].endswith("  retracted")

    restored = run_dap("restore", sha, "--lake", uri, env=env)
    assert restored.returncode == 0, restored.stderr
    assert [e.status for e in list_extracts(lake)] == ["active", "active"]
    assert glue.get_table(DatabaseName=moto_env["DAP_RAW_DATABASE"], Name=EVENTS)


def test_retract_with_zones_in_buckets_of_their_own(s3, glue, moto_env, tmp_path):
    """The event and the audit record both go to the audit trail, which lives with the
    landing zone (beside the load records); the raw zone is left as it was, and the Glue
    table of the event log is over the landing zone's ``_audit/events/``."""
    env = clean_env(**moto_env)
    landing, raw = _bucket(s3), _bucket(s3)
    zones = ["--landing", f"s3://{landing}/l", "--raw", f"s3://{raw}/r"]
    books = _books(tmp_path / "in")
    assert run_dap("load", *books, "--lake", "s3://unused", *zones, env=env).returncode == 0
    listed = run_dap("extracts", "--raw", f"s3://{raw}/r", env=env)
    assert listed.returncode == 0, listed.stderr
    assert len(listed.stdout.splitlines()) == 4

    glue.delete_table(DatabaseName=moto_env["DAP_RAW_DATABASE"], Name=EVENTS)  # re-created
    landing_before, raw_before = _keys(s3, landing), _keys(s3, raw)
    done = run_dap("retract", str(books[0]), "--lake", "s3://unused", *zones, env=env)
    assert done.returncode == 0, done.stderr
    landing_after = _keys(s3, landing)
    assert {k: v for k, v in landing_after.items() if k in landing_before} == landing_before
    event, audit = sorted(set(landing_after) - set(landing_before))
    assert audit.startswith("l/_audit/extracts/")
    assert event.startswith(f"l/{EVENTS_PREFIX}")
    assert _keys(s3, raw) == raw_before
    assert not [k for k in raw_before if "/_audit/" in f"/{k}"]  # no audit trail in raw
    table = glue.get_table(DatabaseName=moto_env["DAP_RAW_DATABASE"], Name=EVENTS)["Table"]
    assert table["StorageDescriptor"]["Location"] == f"s3://{landing}/l/{EVENTS_PREFIX}"


def test_a_refused_load_on_s3_leaves_its_trace_and_nothing_else(s3, bucket, moto_env, tmp_path):
    env = clean_env(**moto_env)
    uri = f"s3://{bucket}/lake"
    books = _books(tmp_path / "in")
    assert run_dap("load", books[0], "--lake", uri, env=env).returncode == 0
    before = _keys(s3, bucket)
    bad = tmp_path / "in" / "notes.xlsx"
    bad.write_text("not a workbook\n")
    done = run_dap("load", books[1], bad, "--lake", uri, env=env)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    after = _keys(s3, bucket)
    assert {k: v for k, v in after.items() if k in before} == before
    added = sorted(set(after) - set(before))
    assert len(added) == 2  # both in the audit trail: `_audit/events/` sorts first
    event_key, record_key = added
    assert record_key.startswith("lake/_audit/refusals/")
    assert event_key.startswith(f"lake/{EVENTS_PREFIX}")
    record = json.loads(s3.get_object(Bucket=bucket, Key=record_key)["Body"].read())
    assert (record["reason_code"], record["file"]["sha256"]) == ("not_a_workbook", sha256_of(bad))
    assert record["who"]["kind"] == "aws"
    body = s3.get_object(Bucket=bucket, Key=event_key)["Body"].read()
    (event,) = pq.read_table(io.BytesIO(body)).to_pylist()  # the refused file only
    assert (event["event_type"], event["source_file_sha256"], event["event_id"]) == (
        "refused",
        sha256_of(bad),
        record["load_id"],
    )


def test_retract_of_an_unknown_extract_on_s3_exits_1(s3, bucket, moto_env, tmp_path):
    env = clean_env(**moto_env)
    uri = f"s3://{bucket}/lake"
    assert run_dap("load", _books(tmp_path / "in")[0], "--lake", uri, env=env).returncode == 0
    before = _keys(s3, bucket)
    done = run_dap("retract", "deadbeef", "--lake", uri, env=env)
    assert done.returncode == 1
    assert "'deadbeef' is not a landed extract" in done.stderr.splitlines()[-1]
    assert _keys(s3, bucket) == before


def test_listing_reads_an_unprotected_bucket(s3, moto_env, tmp_path):
    """Reading needs no protected bucket (that check guards writes): `dap extracts` lists a
    lake that only `--allow-unprotected-bucket` could write."""
    env = clean_env(**moto_env)
    name = f"dap-extracts-plain-{next(_bucket_numbers)}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "ca-central-1"})
    uri = f"s3://{name}/lake"
    book = _books(tmp_path / "in")[0]
    loaded = run_dap("load", book, "--lake", uri, "--allow-unprotected-bucket", env=env)
    assert loaded.returncode == 0, loaded.stderr
    listed = run_dap("extracts", "--lake", uri, "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    assert [r["sha256"] for r in json.loads(listed.stdout)] == [sha256_of(book)]
    refused = run_dap("retract", sha256_of(book), "--lake", uri, env=env)
    assert refused.returncode == 1
    assert "refusing to write" in refused.stderr
