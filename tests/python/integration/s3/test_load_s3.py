"""Loading into ``s3://bucket/prefix``, against a moto server on 127.0.0.1 (no other network)."""

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
from botocore.exceptions import ClientError

from athena_local.serve import create_protected_bucket
from dap.errors import CatalogError, LakeError, WorkbookError
from dap.lake.catalog import GlueCatalog
from dap.lake.extracts import EMPTY_KEY, EVENTS_PREFIX
from dap.lake.load import load_workbooks
from dap.lake.storage import S3Lake, open_lake
from dap.samples.excel_writer import Cell
from dap.schema import DATASET, NULL_PARTITION, RAW_SCHEMA
from testkit.glue import TABLE, assert_raw_table, closed_port
from testkit.workbooks import HEADER, SHEET, clean_env, row, run_dap, sha256_of, simple_book, xlsx

pytestmark = pytest.mark.s3

PREFIX = "some/prefix"
_bucket_numbers = itertools.count(1)


@pytest.fixture
def s3(moto_env: dict[str, str]) -> Any:
    return boto3.Session().client("s3")


@pytest.fixture
def bucket(s3: Any) -> str:
    """A bucket as the platform's are: versioned, SSE-KMS by default (`dap load` refuses less)."""
    name = f"dap-lake-test-{next(_bucket_numbers)}"
    key_arn = boto3.Session().client("kms").create_key()["KeyMetadata"]["Arn"]
    create_protected_bucket(s3, name, "ca-central-1", key_arn)
    return name


@pytest.fixture
def plain_bucket(s3: Any) -> str:
    name = f"dap-plain-test-{next(_bucket_numbers)}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "ca-central-1"})
    return name


def _objects(s3: Any, bucket: str, *, audit: bool = False) -> dict[str, tuple[str, int, object]]:
    """The zones' objects in the bucket: key -> (ETag, size, last modified); with
    ``audit``, the audit records too (every successful load adds one)."""
    found: dict[str, tuple[str, int, object]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            if audit or "_audit/" not in obj["Key"]:
                found[obj["Key"]] = (obj["ETag"], obj["Size"], obj["LastModified"])
    return found


def _event_files(s3: Any, bucket: str) -> list[str]:
    """Keys of the event log's files (one per run), oldest first; not its zero-row file."""
    return sorted(
        k
        for k in _objects(s3, bucket, audit=True)
        if f"/{EVENTS_PREFIX}" in f"/{k}" and not k.endswith(f"/{EMPTY_KEY}")
    )


def _audit_records(s3: Any, bucket: str) -> list[dict[str, Any]]:
    keys = sorted(k for k in _objects(s3, bucket, audit=True) if "/_audit/loads/" in f"/{k}")
    return [json.loads(_get(s3, bucket, key)) for key in keys]


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
        "provide-client-params.s3.PutObject", lambda params, **_: puts.append(params["Key"])
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
    # Only the audit trail grows: the run's row in the event log, then its audit record.
    assert puts == [_event_files(s3, bucket)[-1], f"{PREFIX}/{summary.audit_key}"]
    assert puts[0].startswith(f"{PREFIX}/{EVENTS_PREFIX}")
    (event,) = pq.read_table(io.BytesIO(_get(s3, bucket, puts[0]))).to_pylist()
    assert (event["event_type"], event["rows_landed"]) == ("unchanged", 0)
    assert _objects(s3, bucket) == before
    assert [f.status for f in summary.files] == ["unchanged"]


def test_bad_workbook_leaves_the_bucket_unchanged(s3, bucket, two_years, tmp_path):
    load_workbooks([two_years], _open(bucket))
    before = _objects(s3, bucket, audit=True)

    good = [simple_book(tmp_path / f"good{i}.xlsx", date(2019 + i, 1, 1), 2) for i in range(2)]
    bad = xlsx(tmp_path / "bad.xlsx", {"Data": [[h for h in HEADER if h != "Date"]]})
    lake = _open(bucket)
    puts = _count_puts(lake)
    with pytest.raises(WorkbookError, match=r"bad\.xlsx, sheet 'Data'.*'Date'"):
        load_workbooks([*good, bad], lake)
    # Unchanged outside the audit trail; there, the refusal's event file and record only.
    after = _objects(s3, bucket, audit=True)
    assert {k: v for k, v in after.items() if "/_audit/" not in f"/{k}"} == {
        k: v for k, v in before.items() if "/_audit/" not in f"/{k}"
    }
    assert {k: v for k, v in after.items() if k in before} == before
    event_key, record_key = sorted(set(after) - set(before))
    assert puts == [event_key, record_key]
    assert event_key.startswith(f"{PREFIX}/{EVENTS_PREFIX}")
    assert record_key.startswith(f"{PREFIX}/_audit/refusals/")
    record = json.loads(_get(s3, bucket, record_key))
    assert (record["file"]["file_number"], record["file"]["sha256"]) == (3, sha256_of(bad))
    assert [o["key"] for o in record["objects_written"]] == [event_key.removeprefix(f"{PREFIX}/")]
    (event,) = pq.read_table(io.BytesIO(_get(s3, bucket, event_key))).to_pylist()
    assert (event["event_type"], event["source_file_sha256"], event["reason_code"]) == (
        "refused",
        sha256_of(bad),
        record["reason_code"],
    )


def test_cli_load_to_s3(s3, bucket, moto_env, tmp_path):
    books = [simple_book(tmp_path / f"book{i}.xlsx", date(2020 + i, 3, 1), 4) for i in range(2)]
    uri = f"s3://{bucket}/{PREFIX}"
    env = clean_env(**moto_env)

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


def test_cli_takes_the_lake_from_dap_lake(s3, bucket, moto_env, tmp_path):
    book = simple_book(tmp_path / "book.xlsx", date(2022, 5, 1), 2)
    env = clean_env(**moto_env, DAP_LAKE=f"s3://{bucket}/from-env")
    result = run_dap("load", book, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert all(key.startswith("from-env/") for key in _objects(s3, bucket))
    assert len(_objects(s3, bucket)) == 3
    assert not (tmp_path / "lake").exists()


def test_cli_missing_bucket(s3, moto_env, tmp_path):
    book = simple_book(tmp_path / "book.xlsx", date(2022, 5, 1), 2)
    result = run_dap("load", book, "--lake", "s3://no-such-dap-bucket/p", env=clean_env(**moto_env))
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1
    assert errors == ["dap load: error: s3://no-such-dap-bucket: bucket does not exist"]
    assert "no-such-dap-bucket" not in {b["Name"] for b in s3.list_buckets()["Buckets"]}


def test_unreachable_endpoint_is_a_lake_error(moto_env, monkeypatch, two_years):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(
        LakeError, match=r"s3://some-bucket: cannot reach the bucket \(Could not connect"
    ):
        load_workbooks([two_years], _open("some-bucket", "p"))


def test_missing_credentials_is_a_lake_error(moto_env, monkeypatch, two_years):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(LakeError, match="Unable to locate credentials"):
        load_workbooks([two_years], _open("some-bucket", "p"))


def test_cli_unreachable_endpoint_has_no_traceback(moto_env, tmp_path):
    book = simple_book(tmp_path / "book.xlsx", date(2022, 5, 1), 2)
    env = clean_env(**{**moto_env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{closed_port()}"})
    result = run_dap("load", book, "--lake", "s3://some-bucket/p", env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith(
        "dap load: error: s3://some-bucket: cannot reach the bucket (Could not connect"
    )


# -- the Glue catalog ------------------------------------------------------------------


@pytest.fixture
def glue(moto_env: dict[str, str]) -> Any:
    return boto3.Session().client("glue")


@pytest.fixture
def database(moto_env: dict[str, str]) -> str:
    return moto_env["DAP_RAW_DATABASE"]


def _catalog(lake: S3Lake, database: str) -> GlueCatalog:
    return GlueCatalog(boto3.Session(), database=database, lake_root=lake.root)


def _partitions(glue: Any, database: str) -> dict[str, dict[str, Any]]:
    """Registered partitions: value -> the partition as Glue returns it."""
    found: dict[str, dict[str, Any]] = {}
    for page in glue.get_paginator("get_partitions").paginate(
        DatabaseName=database, TableName=TABLE
    ):
        for partition in page["Partitions"]:
            assert len(partition["Values"]) == 1
            assert partition["Values"][0] not in found
            found[partition["Values"][0]] = partition
    return found


def _partition_locations(glue: Any, database: str) -> dict[str, str]:
    return {
        value: partition["StorageDescriptor"]["Location"]
        for value, partition in _partitions(glue, database).items()
    }


def _database_names(glue: Any) -> set[str]:
    return {d["Name"] for d in glue.get_databases()["DatabaseList"]}


def test_load_registers_the_raw_zone_in_glue(s3, glue, bucket, database, two_years):
    lake = _open(bucket)
    load_workbooks([two_years], lake, catalog=_catalog(lake, database))

    assert "raw zone" in glue.get_database(Name=database)["Database"]["Description"].lower()
    location = f"s3://{bucket}/{PREFIX}/raw/{DATASET}/"
    table = assert_raw_table(glue, database, location)
    partitions = _partitions(glue, database)
    assert {v: p["StorageDescriptor"]["Location"] for v, p in partitions.items()} == {
        "2022": f"{location}year=2022/",
        "2023": f"{location}year=2023/",
        NULL_PARTITION: f"{location}year={NULL_PARTITION}/",
    }
    for value, partition in partitions.items():  # each partition: the table's layout, its folder
        assert partition["StorageDescriptor"] == {
            **table["StorageDescriptor"],
            "Location": f"{location}year={value}/",
        }
    # every registered folder holds the workbook's Parquet file for that year
    assert {
        f"{PREFIX}/raw/{DATASET}/year={v}/{sha256_of(two_years)}.parquet" for v in partitions
    } == {key for key in _objects(s3, bucket) if "/raw/" in key}


def test_bucket_root_lake_location(glue, bucket, database, two_years):
    lake = _open(bucket, prefix="")
    load_workbooks([two_years], lake, catalog=_catalog(lake, database))
    assert_raw_table(glue, database, f"s3://{bucket}/raw/{DATASET}/")
    assert _partition_locations(glue, database)["2022"] == (
        f"s3://{bucket}/raw/{DATASET}/year=2022/"
    )


def test_the_sample_registers_one_partition_per_year(glue, bucket, database, tmp_path):
    assert run_dap("sample", "--out", tmp_path / "sample").returncode == 0
    books = sorted((tmp_path / "sample").iterdir())
    lake = _open(bucket)
    load_workbooks(books, lake, catalog=_catalog(lake, database))
    # The sample's dates are all readable, so there is no default partition.
    assert sorted(_partition_locations(glue, database)) == ["2020", "2021", "2022", "2023", "2024"]


def test_loading_again_leaves_the_catalog_as_it_was(glue, bucket, database, two_years, tmp_path):
    lake = _open(bucket)
    load_workbooks([two_years], lake, catalog=_catalog(lake, database))
    table = glue.get_table(DatabaseName=database, Name=TABLE)["Table"]
    partitions = _partitions(glue, database)

    writes: list[str] = []
    catalog = _catalog(lake, database)
    for operation in ("CreateTable", "UpdateTable", "CreateDatabase", "BatchUpdatePartition"):
        catalog.client.meta.events.register(
            f"before-call.glue.{operation}", lambda model, **_: writes.append(model.name)
        )
    summary = load_workbooks([two_years], lake, catalog=catalog)  # skipped as unchanged
    assert [f.status for f in summary.files] == ["unchanged"]
    assert writes == []
    assert glue.get_table(DatabaseName=database, Name=TABLE)["Table"] == table
    assert _partitions(glue, database) == partitions


def test_a_second_workbook_for_a_registered_year_adds_no_partition(
    glue, bucket, database, tmp_path
):
    first = simple_book(tmp_path / "first.xlsx", date(2021, 6, 1), 3)
    second = simple_book(tmp_path / "second.xlsx", date(2021, 12, 30), 4)  # 2021 and 2022
    lake = _open(bucket)
    load_workbooks([first], lake, catalog=_catalog(lake, database))
    created = _partitions(glue, database)["2021"]["CreationTime"]

    summary = load_workbooks([second], lake, catalog=_catalog(lake, database))
    assert [f.status for f in summary.files] == ["landed"]
    partitions = _partitions(glue, database)
    assert sorted(partitions) == ["2021", "2022"]
    assert partitions["2021"]["CreationTime"] == created


def test_a_skipped_load_registers_what_the_lake_already_holds(glue, bucket, database, two_years):
    lake = _open(bucket)
    load_workbooks([two_years], lake)  # landed before the lake had a catalog
    assert database not in _database_names(glue)

    summary = load_workbooks([two_years], lake, catalog=_catalog(lake, database))
    assert [f.status for f in summary.files] == ["unchanged"]
    assert_raw_table(glue, database, f"s3://{bucket}/{PREFIX}/raw/{DATASET}/")
    assert sorted(_partition_locations(glue, database)) == ["2022", "2023", NULL_PARTITION]

    glue.delete_table(DatabaseName=database, Name=TABLE)  # dropped by hand
    load_workbooks([two_years], lake, catalog=_catalog(lake, database))
    assert sorted(_partition_locations(glue, database)) == ["2022", "2023", NULL_PARTITION]


def test_a_failed_registration_leaves_no_manifest(s3, glue, bucket, database, two_years):
    lake = _open(bucket)
    catalog = _catalog(lake, database)
    catalog.ensure_table()
    sha = sha256_of(two_years)
    in_bucket_at_registration: list[set[str]] = []

    def drop_table(**_: Any) -> None:  # the table disappears just before the partitions go in
        in_bucket_at_registration.append(set(_objects(s3, bucket)))
        glue.delete_table(DatabaseName=database, Name=TABLE)

    catalog.client.meta.events.register("before-call.glue.BatchCreatePartition", drop_table)
    with pytest.raises(
        CatalogError,
        match=rf"cannot add partitions to {database}\.{TABLE} \(EntityNotFoundException",
    ):
        load_workbooks([two_years], lake, catalog=catalog)
    # registered after the landing copy and the raw files, before the manifest
    assert in_bucket_at_registration == [_expected_keys(sha) - {_manifest_path(sha)}]
    assert _objects(s3, bucket) == {}  # no manifest, and the workbook's files removed again
    # The zero-row files of the event log and the raw-object register (written once,
    # before anything lands) are all there is: the workbook's register entries went too.
    assert set(_objects(s3, bucket, audit=True)) == {
        f"{PREFIX}/{EMPTY_KEY}",
        f"{PREFIX}/_audit/raw_objects/_empty.parquet",
    }

    summary = load_workbooks([two_years], lake, catalog=_catalog(lake, database))
    assert [f.status for f in summary.files] == ["landed"]
    assert set(_objects(s3, bucket)) == _expected_keys(sha)
    assert sorted(_partition_locations(glue, database)) == ["2022", "2023", NULL_PARTITION]


def _manifest_path(sha: str) -> str:
    return f"{PREFIX}/_manifests/{DATASET}/{sha}.json"


def test_cli_registers_in_the_database_from_the_environment(glue, bucket, moto_env, tmp_path):
    book = simple_book(tmp_path / "book.xlsx", date(2021, 3, 1), 2)
    uri = f"s3://{bucket}/{PREFIX}"
    result = run_dap("load", book, "--lake", uri, env=clean_env(**moto_env))
    assert result.returncode == 0, result.stderr
    database = moto_env["DAP_RAW_DATABASE"]
    assert f"Glue table {database}.{TABLE}" in result.stderr
    assert_raw_table(glue, database, f"{uri}/raw/{DATASET}/")
    assert _partition_locations(glue, database) == {"2021": f"{uri}/raw/{DATASET}/year=2021/"}


def test_cli_glue_database_option_wins(glue, bucket, moto_env, tmp_path):
    book = simple_book(tmp_path / "book.xlsx", date(2021, 3, 1), 2)
    option = f"{moto_env['DAP_RAW_DATABASE']}_option"
    result = run_dap(
        "load",
        book,
        "--lake",
        f"s3://{bucket}",
        "--glue-database",
        option,
        env=clean_env(**moto_env),
    )
    assert result.returncode == 0, result.stderr
    assert sorted(_partition_locations(glue, option)) == ["2021"]
    assert moto_env["DAP_RAW_DATABASE"] not in _database_names(glue)


def test_cli_default_database_is_raw(glue, bucket, moto_env, tmp_path):
    book = simple_book(tmp_path / "book.xlsx", date(2021, 3, 1), 2)
    env = {k: v for k, v in clean_env(**moto_env).items() if k != "DAP_RAW_DATABASE"}
    result = run_dap("load", book, "--lake", f"s3://{bucket}", env=env)
    assert result.returncode == 0, result.stderr
    assert "Glue table raw.contact_centre_metrics" in result.stderr
    table = glue.get_table(DatabaseName="raw", Name=TABLE)["Table"]
    assert table["StorageDescriptor"]["Location"] == f"s3://{bucket}/raw/{DATASET}/"


def test_cli_no_glue_registers_nothing(s3, glue, bucket, moto_env, tmp_path):
    book = simple_book(tmp_path / "book.xlsx", date(2021, 3, 1), 2)
    env = clean_env(**{**moto_env, "AWS_ENDPOINT_URL_GLUE": f"http://127.0.0.1:{closed_port()}"})
    result = run_dap("load", book, "--lake", f"s3://{bucket}", "--no-glue", env=env)
    assert result.returncode == 0, result.stderr
    assert "Glue" not in result.stderr
    assert len(_objects(s3, bucket)) == 3
    assert moto_env["DAP_RAW_DATABASE"] not in _database_names(glue)


def test_cli_glue_database_and_no_glue_exclude_each_other(moto_env, tmp_path):
    book = simple_book(tmp_path / "book.xlsx", date(2021, 3, 1), 2)
    result = run_dap(
        "load", book, "--lake", "s3://b/p", "--no-glue", "--glue-database", "x", env=clean_env()
    )
    assert result.returncode == 2
    assert "not allowed with argument" in result.stderr


def test_cli_local_lake_never_uses_glue_or_kms(glue, moto_env, tmp_path):
    book = simple_book(tmp_path / "book.xlsx", date(2021, 3, 1), 2)
    env = clean_env(
        **{**moto_env, "AWS_ENDPOINT_URL_GLUE": f"http://127.0.0.1:{closed_port()}"},
        DAP_KMS_KEY_ID="alias/not-a-key",
    )
    result = run_dap("load", book, "--lake", tmp_path / "lake", env=env)
    assert result.returncode == 0, result.stderr
    assert "Glue" not in result.stderr
    assert "KMS" not in result.stderr
    assert (tmp_path / "lake" / "raw" / DATASET / "year=2021").is_dir()
    assert moto_env["DAP_RAW_DATABASE"] not in _database_names(glue)


def test_cli_unreachable_glue_fails_cleanly_before_writing(s3, bucket, moto_env, tmp_path):
    book = simple_book(tmp_path / "book.xlsx", date(2021, 3, 1), 2)
    env = clean_env(**{**moto_env, "AWS_ENDPOINT_URL_GLUE": f"http://127.0.0.1:{closed_port()}"})
    result = run_dap("load", book, "--lake", f"s3://{bucket}/{PREFIX}", env=env)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    database = moto_env["DAP_RAW_DATABASE"]
    assert result.stderr.splitlines()[-1].startswith(
        f"dap load: error: Glue catalog: cannot read database {database} (Could not connect"
    )
    assert _objects(s3, bucket, audit=True) == {}

    again = run_dap("load", book, "--lake", f"s3://{bucket}/{PREFIX}", env=clean_env(**moto_env))
    assert again.returncode == 0, again.stderr
    assert "1 landed" in again.stdout


def test_cli_invalid_database_name(s3, glue, bucket, moto_env, tmp_path):
    book = simple_book(tmp_path / "book.xlsx", date(2021, 3, 1), 2)
    result = run_dap(
        "load",
        book,
        "--lake",
        f"s3://{bucket}",
        "--glue-database",
        "Raw-Zone",
        env=clean_env(**moto_env),
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        "dap load: error: Glue database name 'Raw-Zone': use 1 to 255 lowercase letters, "
        "digits and underscores (the names Athena can read)"
    )
    assert _objects(s3, bucket, audit=True) == {}
    assert not {"Raw-Zone", "raw-zone"} & _database_names(glue)


# -- SSE-KMS ---------------------------------------------------------------------------


@pytest.fixture
def kms_key(moto_env: dict[str, str]) -> dict[str, str]:
    metadata = boto3.Session().client("kms").create_key(Description="dap lake test")["KeyMetadata"]
    return {"id": metadata["KeyId"], "arn": metadata["Arn"]}


def _record_puts(lake: S3Lake) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Every PutObject from now on: (its parameters, the HTTP headers sent)."""
    sent_params: list[dict[str, Any]] = []
    sent_headers: list[dict[str, str]] = []

    def on_params(params: dict[str, Any], **_: Any) -> None:
        sent_params.append(dict(params))

    def on_send(request: Any, **_: Any) -> None:
        sent_headers.append(
            {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        )

    lake.client.meta.events.register("provide-client-params.s3.PutObject", on_params)
    lake.client.meta.events.register("before-send.s3.PutObject", on_send)
    return sent_params, sent_headers


def _encryption(s3: Any, bucket: str) -> dict[str, tuple[object, object, object]]:
    """Every object -> (ServerSideEncryption, SSEKMSKeyId, BucketKeyEnabled) as S3 reports it."""
    found = {}
    for key in _objects(s3, bucket, audit=True):
        head = s3.head_object(Bucket=bucket, Key=key)
        found[key] = (
            head.get("ServerSideEncryption"),
            head.get("SSEKMSKeyId"),
            head.get("BucketKeyEnabled"),
        )
    return found


def test_kms_key_encrypts_every_object(s3, bucket, kms_key, two_years):
    lake = open_lake(f"s3://{bucket}/{PREFIX}", boto3.Session(), kms_key_id=kms_key["id"])
    assert isinstance(lake, S3Lake)
    params, headers = _record_puts(lake)
    load_workbooks([two_years], lake)

    encryption = _encryption(s3, bucket)
    audit = {k for k in encryption if "/_audit/loads/" in k}
    assert len(audit) == 1
    events = {k for k in encryption if f"/{EVENTS_PREFIX}" in k}  # the event log, too
    assert events == {f"{PREFIX}/{EMPTY_KEY}", *_event_files(s3, bucket)}
    assert len(events) == 2
    register = {k for k in encryption if "/_audit/raw_objects/" in k}  # dap.lake.integrity
    assert len(register) == 2  # its zero-row file and the workbook's entries
    assert set(encryption) - audit - events - register == _expected_keys(sha256_of(two_years))
    assert set(encryption.values()) == {("aws:kms", kms_key["id"], True)}
    assert len(params) == len(headers) == len(encryption) == 10
    assert {sent["Key"] for sent in params} == set(encryption)  # every object written
    for sent in params:
        assert sent["ServerSideEncryption"] == "aws:kms"
        assert sent["SSEKMSKeyId"] == kms_key["id"]
        assert sent["BucketKeyEnabled"] is True
    for sent in headers:
        assert sent["x-amz-server-side-encryption"] == "aws:kms"
        assert sent["x-amz-server-side-encryption-aws-kms-key-id"] == kms_key["id"]


def test_without_a_kms_key_uploads_carry_no_encryption_header(s3, bucket, two_years):
    lake = _open(bucket)
    params, headers = _record_puts(lake)
    load_workbooks([two_years], lake)

    # landing, 3 raw, manifest; the event log's zero-row file and the load's events; the
    # raw-object register's zero-row file and the workbook's entries; the audit record
    assert len(params) == len(headers) == 10
    assert {sent["Key"] for sent in params} == set(_objects(s3, bucket, audit=True))
    for sent in params:
        assert not {"ServerSideEncryption", "SSEKMSKeyId", "BucketKeyEnabled"} & set(sent)
    for sent in headers:
        assert not any(h.lower().startswith("x-amz-server-side") for h in sent)
        assert "x-amz-content-sha256" in {h.lower() for h in sent}  # the headers are real
    # The bucket's default encryption applies instead.
    assert {sse for sse, _, _ in _encryption(s3, bucket).values()} == {"aws:kms"}


def test_cli_kms_key_from_option_and_environment(s3, bucket, moto_env, kms_key, tmp_path):
    books = [simple_book(tmp_path / f"b{i}.xlsx", date(2020 + i, 3, 1), 2) for i in range(2)]
    uri = f"s3://{bucket}/{PREFIX}"
    by_option = run_dap(
        "load", books[0], "--lake", uri, "--kms-key-id", kms_key["arn"], env=clean_env(**moto_env)
    )
    assert by_option.returncode == 0, by_option.stderr
    assert f"SSE-KMS key {kms_key['arn']}" in by_option.stderr
    by_env = run_dap(
        "load", books[1], "--lake", uri, env=clean_env(**moto_env, DAP_KMS_KEY_ID=kms_key["id"])
    )
    assert by_env.returncode == 0, by_env.stderr

    encryption = _encryption(s3, bucket)
    # 3 per book, two audit records, the event log's zero-row file and one file per load,
    # the raw-object register's zero-row file and one file per book
    assert len(encryption) == 6 + 2 + 1 + 2 + 1 + 2
    for key, (sse, key_id, bucket_key) in encryption.items():
        assert sse == "aws:kms", key
        assert key_id in {kms_key["id"], kms_key["arn"]}, key
        assert bucket_key is True, key
    first = sha256_of(books[0])
    by_arn = {k for k, v in encryption.items() if v[1] == kms_key["arn"]}
    assert {k for k in by_arn if "/_audit/" not in k} == {
        k for k in encryption if first in k and "/_audit/" not in k
    }
    first_record = min(k for k in encryption if "/_audit/loads/" in k)
    first_events = _event_files(s3, bucket)[0]
    # The first load's audit trail: its record, its events and the zero-row files it
    # created (its raw-object register entries have the workbook's sha256 in their name).
    assert by_arn - {k for k in encryption if first in k} == {
        first_record,
        first_events,
        f"{PREFIX}/{EMPTY_KEY}",
        f"{PREFIX}/_audit/raw_objects/_empty.parquet",
    }


# -- bucket protection: default encryption and versioning --------------------------------


def _unprotect(s3: Any, bucket: str, what: str) -> None:
    if what in {"versioning", "both"}:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    if what in {"encryption", "both"}:
        s3.delete_bucket_encryption(Bucket=bucket)


@pytest.mark.parametrize(
    ("what", "problem"),
    [
        ("versioning", "versioning is suspended"),
        ("encryption", "it has no default encryption"),
        ("both", "versioning is suspended and it has no default encryption"),
    ],
)
def test_an_unprotected_bucket_is_refused_before_anything_is_written(
    s3, bucket, moto_env, tmp_path, what, problem
):
    _unprotect(s3, bucket, what)
    book = simple_book(tmp_path / "book.xlsx", date(2022, 5, 1), 2)
    result = run_dap("load", book, "--lake", f"s3://{bucket}/{PREFIX}", env=clean_env(**moto_env))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"dap load: error: s3://{bucket}: refusing to write: {problem}; nothing was written. "
        "To fix: turn on default encryption (SSE-KMS) and versioning for the bucket, as "
        "infra/platform.yaml does, or pass --allow-unprotected-bucket to write anyway"
    )
    assert _objects(s3, bucket, audit=True) == {}
    assert _database_names(boto3.Session().client("glue")).isdisjoint(
        {moto_env["DAP_RAW_DATABASE"]}
    )


def test_a_plain_bucket_is_refused_and_the_override_is_explicit(
    s3, plain_bucket, moto_env, tmp_path
):
    book = simple_book(tmp_path / "book.xlsx", date(2022, 5, 1), 2)
    uri = f"s3://{plain_bucket}"
    refused = run_dap("load", book, "--lake", uri, env=clean_env(**moto_env))
    assert refused.returncode == 1
    assert "versioning is not enabled and it has no default encryption" in refused.stderr
    assert _objects(s3, plain_bucket, audit=True) == {}

    allowed = run_dap(
        "load", book, "--lake", uri, "--allow-unprotected-bucket", env=clean_env(**moto_env)
    )
    assert allowed.returncode == 0, allowed.stderr
    assert "not checking encryption and versioning" in allowed.stderr
    assert len(_objects(s3, plain_bucket)) == 3


def test_bucket_settings_that_cannot_be_read_are_an_error_not_a_pass(bucket, moto_env, two_years):
    lake = _open(bucket)

    def deny(**_: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetBucketVersioning"
        )

    lake.client.meta.events.register("before-call.s3.GetBucketVersioning", deny)
    with pytest.raises(LakeError, match=r"needs s3:GetBucketVersioning to check it"):
        load_workbooks([two_years], lake)


# -- the audit trail -----------------------------------------------------------------------


def test_every_load_writes_an_audit_record_naming_the_aws_identity(s3, bucket, moto_env, tmp_path):
    books = [simple_book(tmp_path / f"b{i}.xlsx", date(2020 + i, 12, 30), 4) for i in range(2)]
    uri = f"s3://{bucket}/{PREFIX}"
    first = run_dap("load", *books, "--lake", uri, env=clean_env(**moto_env))
    assert first.returncode == 0, first.stderr
    again = run_dap("load", books[0], "--lake", uri, env=clean_env(**moto_env))
    assert again.returncode == 0, again.stderr

    records = _audit_records(s3, bucket)
    assert len(records) == 2
    record, repeat = records if records[0]["rows_landed"] else records[::-1]
    caller = boto3.Session().client("sts").get_caller_identity()
    assert record["who"] == {
        "kind": "aws",
        "name": caller["Arn"],
        "account": caller["Account"],
        "host": None,
    }
    assert f"as {caller['Arn']}" in first.stderr
    shas = [sha256_of(b) for b in books]
    assert [(f["file_name"], f["sha256"], f["status"], f["rows"]) for f in record["files"]] == [
        ("b0.xlsx", shas[0], "landed", 4),
        ("b1.xlsx", shas[1], "landed", 4),
    ]
    assert record["files"][0]["rows_per_partition"] == {"year=2020": 2, "year=2021": 2}
    assert record["rows_per_partition"] == {"year=2020": 2, "year=2021": 4, "year=2022": 2}
    assert record["rows_landed"] == 8
    assert record["lake"] == uri
    assert record["pii_policy"] == "stop"
    # Every object the load wrote, with the version S3 gave it: the zones' objects, and in
    # the audit trail the event log's zero-row file and the load's events (not its record).
    written = {o["key"]: o for o in record["objects_written"]}
    first_events, repeat_events = _event_files(s3, bucket)
    assert first_events.endswith(f"-{record['load_id']}.parquet")
    assert repeat_events.endswith(f"-{repeat['load_id']}.parquet")
    register = {k for k in _objects(s3, bucket, audit=True) if "/_audit/raw_objects/" in k}
    assert {f"{PREFIX}/{k}" for k in written} == set(_objects(s3, bucket)) | {
        f"{PREFIX}/{EMPTY_KEY}",
        first_events,
    } | register
    for key, obj in written.items():
        head = s3.head_object(Bucket=bucket, Key=f"{PREFIX}/{key}")
        assert obj["version_id"] == head["VersionId"], key
        assert obj["size_bytes"] == head["ContentLength"], key
    assert record["started_at"] <= record["finished_at"]
    # The second load landed nothing and says so.
    assert [(f["sha256"], f["status"]) for f in repeat["files"]] == [(shas[0], "unchanged")]
    assert [o["key"] for o in repeat["objects_written"]] == [  # its events only
        repeat_events.removeprefix(f"{PREFIX}/")
    ]
    assert repeat["rows_landed"] == 0


def test_zones_in_buckets_of_their_own(s3, moto_env, tmp_path):
    key_arn = boto3.Session().client("kms").create_key()["KeyMetadata"]["Arn"]
    landing, raw = (f"dap-{zone}-zone-{next(_bucket_numbers)}" for zone in ("landing", "raw"))
    for name in (landing, raw):
        create_protected_bucket(s3, name, "ca-central-1", key_arn)
    book = simple_book(tmp_path / "book.xlsx", date(2023, 1, 1), 3)
    sha = sha256_of(book)

    zones = ["--landing", f"s3://{landing}", "--raw", f"s3://{raw}/zone"]
    result = run_dap("load", book, *zones, env=clean_env(**moto_env))
    assert result.returncode == 0, result.stderr
    landing_keys = set(_objects(s3, landing, audit=True))
    assert f"landing/{DATASET}/{sha}.xlsx" in landing_keys
    assert [k for k in landing_keys if k.startswith("_audit/loads/")] != []
    assert set(_objects(s3, raw, audit=True)) == {
        f"zone/raw/{DATASET}/year=2023/{sha}.parquet",
        f"zone/_manifests/{DATASET}/{sha}.json",
    }
    table = (
        boto3.Session()
        .client("glue")
        .get_table(DatabaseName=moto_env["DAP_RAW_DATABASE"], Name="contact_centre_metrics")[
            "Table"
        ]
    )
    assert table["StorageDescriptor"]["Location"] == f"s3://{raw}/zone/raw/{DATASET}/"

    # Loading again finds the manifest in the raw bucket: nothing lands twice.
    again = run_dap("load", book, *zones, env=clean_env(**moto_env))
    assert "1 skipped as unchanged" in again.stdout

    local = run_dap("load", book, "--raw", f"s3://{raw}", "--lake", str(tmp_path / "lake"))
    assert local.returncode == 2
    assert "must both be s3:// or both local" in local.stderr
