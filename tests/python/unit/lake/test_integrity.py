"""Lake integrity on a local lake: the checksums a load records, `dap verify` naming what is
missing or altered, `dap repair` putting it back byte for byte, and `dap load` restoring a
deleted landing copy."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dap.cli import main
from dap.errors import DapError
from dap.ingest.formats import parse_file
from dap.lake.audit import Identity
from dap.lake.integrity import (
    DAMAGED,
    REGISTER_PREFIX,
    REPAIRS_PREFIX,
    UNFINISHED,
    UNRECORDED,
    RepairError,
    fingerprint,
    read_register,
    repair_extract,
    restore_landing,
    verify_lake,
)
from dap.lake.load import build_raw_objects, load_workbooks, manifest_key
from dap.lake.storage import LocalLake
from dap.schema import DATASET
from testkit.workbooks import sha256_of, simple_book

NOW = datetime(2024, 10, 1, 12, 0, 0, 123456, tzinfo=UTC)
WHO = Identity("local", "tester", host="here")


def _clock() -> datetime:
    return NOW


@pytest.fixture
def landed(tmp_path: Path) -> tuple[LocalLake, list[Path]]:
    """Two workbooks, each over two years, landed in a fresh local lake."""
    books = [
        simple_book(tmp_path / "in" / "first.xlsx", date(2021, 12, 30), 4),
        simple_book(tmp_path / "in" / "second.xlsx", date(2022, 12, 30), 5, start_n=20),
    ]
    lake = LocalLake(tmp_path / "lake")
    load_workbooks(books, lake, clock=_clock)
    return lake, books


def _manifest(lake: LocalLake, sha: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((lake.root / manifest_key(sha)).read_text())
    return loaded


def _raw_path(lake: LocalLake, book: Path, year: int) -> Path:
    return lake.root / f"raw/{DATASET}/year={year}/{sha256_of(book)}.parquet"


def _tamper(path: Path) -> None:
    """What someone might do by hand: callsoffered retyped to text and shifted one row."""
    table = pq.read_table(path)
    values = table.column("callsoffered").to_pylist()
    shifted = pa.array([str(v) for v in values[1:] + values[:1]])
    index = table.schema.get_field_index("callsoffered")
    pq.write_table(table.set_column(index, "callsoffered", shifted), path)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_manifest_records_the_checksum_of_every_object_written(landed):
    lake, books = landed
    for book in books:
        sha = sha256_of(book)
        manifest = _manifest(lake, sha)
        landing = manifest["landing_object"]
        assert landing == {
            "key": manifest["landing_key"],
            "sha256": sha,
            "size_bytes": book.stat().st_size,
        }
        raw_objects = manifest["raw_objects"]
        assert isinstance(raw_objects, list)
        assert [o["key"] for o in raw_objects] == manifest["raw_keys"]
        for entry in raw_objects:
            path = lake.root / entry["key"]
            assert entry["sha256"] == _sha(path)
            assert entry["size_bytes"] == path.stat().st_size
            assert entry["rows"] == pq.read_metadata(path).num_rows
    # The register lists every raw file with the same sha256, and the same fingerprint
    # dbt recomputes from the rows.
    register = {r["raw_key"]: r for r in read_register(lake)}
    raw_files = sorted(p for p in (lake.root / "raw").rglob("*.parquet"))
    assert sorted(register) == [p.relative_to(lake.root).as_posix() for p in raw_files]
    for path in raw_files:
        entry = register[path.relative_to(lake.root).as_posix()]
        assert entry["object_sha256"] == _sha(path)
        recomputed = fingerprint(pq.read_table(path))
        assert {k: entry[k] for k in recomputed} == recomputed


def test_raw_parquet_is_written_deterministically(landed):
    """What a byte-for-byte repair relies on: the same workbook and ingested_at give the
    same bytes, and those are the bytes the load wrote."""
    lake, books = landed
    book = books[0]
    sha = sha256_of(book)
    ingested_at = datetime(2024, 10, 1, 12, 0, 0, 123000)
    first = build_raw_objects(parse_file(book.name, book.read_bytes()), sha, ingested_at)
    second = build_raw_objects(parse_file(book.name, book.read_bytes()), sha, ingested_at)
    assert [o.data for o in first] == [o.data for o in second]
    assert [o.data for o in first] == [(lake.root / o.key).read_bytes() for o in first]


def test_a_tampered_raw_file_is_named_and_repaired_byte_for_byte(landed, capsys):
    lake, books = landed
    path = _raw_path(lake, books[0], 2022)
    original = path.read_bytes()
    _tamper(path)

    report = verify_lake(lake)
    assert not report.whole
    (finding,) = report.findings
    assert finding.kind == DAMAGED
    assert finding.subject == path.relative_to(lake.root).as_posix()
    assert "the raw file is altered" in finding.problem
    assert "first.xlsx" in finding.problem
    assert f"dap repair {sha256_of(books[0])[:12]}" in finding.action
    assert main(["verify", "--lake", str(lake.root)]) == 1
    assert "damaged: raw/contact_centre_metrics/year=2022/" in capsys.readouterr().out

    repair = repair_extract(lake, sha256_of(books[0])[:8], who=WHO, clock=_clock)
    assert path.read_bytes() == original  # byte for byte
    assert [w.key for w in repair.written] == [path.relative_to(lake.root).as_posix()]
    record = json.loads((lake.root / str(repair.audit_key)).read_text())
    assert str(repair.audit_key).startswith(REPAIRS_PREFIX)
    assert record["record"] == "repair"
    assert record["who"]["name"] == "tester"
    assert record["sha256"] == sha256_of(books[0])
    assert record["objects_written"][0]["key"] == path.relative_to(lake.root).as_posix()
    assert "was altered" in record["fixed"][0]

    assert verify_lake(lake).whole
    assert main(["verify", "--lake", str(lake.root)]) == 0
    assert "the lake is whole" in capsys.readouterr().out
    # Nothing left to do: nothing written, no audit record.
    again = repair_extract(lake, str(books[0]), who=WHO, clock=_clock)
    assert again.written == []
    assert "intact; nothing written" in again.describe()


def test_a_missing_raw_file_is_named_and_rebuilt_through_the_cli(landed, capsys):
    lake, books = landed
    path = _raw_path(lake, books[1], 2023)
    original = path.read_bytes()
    path.unlink()
    report = verify_lake(lake)
    assert [(f.kind, f.subject) for f in report.findings] == [
        (DAMAGED, path.relative_to(lake.root).as_posix())
    ]
    assert "the raw file is missing (extract second.xlsx)" in report.findings[0].problem
    assert main(["repair", "second.xlsx", "--lake", str(lake.root)]) == 0
    out = capsys.readouterr().out
    assert "repaired: second.xlsx" in out
    assert "audit record: _audit/repairs/" in out
    assert path.read_bytes() == original


def test_a_deleted_landing_copy_is_restored_by_loading_the_file_again(landed):
    lake, books = landed
    sha = sha256_of(books[1])
    landing = lake.root / f"landing/{DATASET}/{sha}.xlsx"
    landing.unlink()
    report = verify_lake(lake)
    assert [(f.kind, f.subject) for f in report.findings] == [
        (DAMAGED, landing.relative_to(lake.root).as_posix())
    ]
    assert "the landing copy is missing" in report.findings[0].problem
    assert "dap repair --landing-from FILE" in report.findings[0].action
    with pytest.raises(RepairError, match="restore it first with `dap repair --landing-from"):
        repair_extract(lake, sha, who=WHO)

    said: list[str] = []
    summary = load_workbooks(books, lake, clock=_clock, progress=said.append)
    assert [f.status for f in summary.files] == ["unchanged", "unchanged"]
    assert landing.read_bytes() == books[1].read_bytes()
    assert any("second.xlsx: its landing copy was missing; restored" in s for s in said), said
    record = json.loads((lake.root / str(summary.audit_key)).read_text())
    assert landing.relative_to(lake.root).as_posix() in [
        o["key"] for o in record["objects_written"]
    ]
    assert verify_lake(lake).whole


def test_a_landing_copy_is_restored_only_from_the_original(landed, tmp_path, capsys):
    lake, books = landed
    sha = sha256_of(books[0])
    landing = lake.root / f"landing/{DATASET}/{sha}.xlsx"
    landing.write_bytes(b"not the original")
    report = verify_lake(lake)
    assert "the landing copy is altered" in report.findings[0].problem

    impostor = tmp_path / "first.xlsx"
    impostor.write_bytes(books[0].read_bytes() + b"\0")
    with pytest.raises(RepairError, match="which no manifest records"):
        restore_landing(lake, impostor, who=WHO)
    assert main(["repair", "--landing-from", str(impostor), "--lake", str(lake.root)]) == 1
    assert "it is not the original of a landed workbook" in capsys.readouterr().err
    assert landing.read_bytes() == b"not the original"

    repair = restore_landing(lake, books[0], who=WHO, clock=_clock)
    assert landing.read_bytes() == books[0].read_bytes()
    record = json.loads((lake.root / str(repair.audit_key)).read_text())
    assert (record["action"], record["from_file"]) == ("landing", "first.xlsx")
    assert verify_lake(lake).whole
    assert restore_landing(lake, books[0], who=WHO).written == []  # intact now


def test_an_unfinished_load_is_reported_but_the_lake_is_whole(landed):
    """A load that stopped before its manifest: its files are named as unfinished, with
    the workbook they belong to, and the lake is whole."""
    lake, books = landed
    sha = sha256_of(books[1])
    (lake.root / manifest_key(sha)).unlink()
    report = verify_lake(lake)
    assert report.whole
    kinds = {(f.kind, f.subject.split("/")[0]) for f in report.findings}
    assert kinds == {(UNFINISHED, "landing"), (UNFINISHED, "raw")}
    assert all("second.xlsx" in f.problem for f in report.findings)
    assert all("the next `dap load` of that workbook" in f.action for f in report.findings)


def test_a_file_no_load_wrote_and_a_broken_manifest_are_damage(landed):
    lake, books = landed
    stray = lake.root / f"raw/{DATASET}/year=2022/extra.parquet"
    shutil.copy(_raw_path(lake, books[0], 2022), stray)
    broken = lake.root / manifest_key(sha256_of(books[0]))
    broken.write_text("{ not json")
    report = verify_lake(lake)
    damaged = {f.subject: f.problem for f in report.findings if f.kind == DAMAGED}
    assert set(damaged) == {
        stray.relative_to(lake.root).as_posix(),
        broken.relative_to(lake.root).as_posix(),
    }
    assert "the manifest does not parse" in damaged[broken.relative_to(lake.root).as_posix()]


def test_an_extract_landed_before_checksums_is_reported_and_repair_records_them(landed):
    lake, books = landed
    sha = sha256_of(books[0])
    path = lake.root / manifest_key(sha)
    old = _manifest(lake, sha)
    for key in ("landing_object", "raw_objects"):
        old.pop(key)
    path.write_text(json.dumps(old))
    for entry in (lake.root / REGISTER_PREFIX).glob(f"*-{sha}.parquet"):  # no register then
        entry.unlink()
    raw_before = {p: p.read_bytes() for p in (lake.root / "raw").rglob(f"{sha}.parquet")}

    report = verify_lake(lake)
    assert report.whole
    unrecorded = [f for f in report.findings if f.kind == UNRECORDED]
    assert [f.subject for f in unrecorded] == [manifest_key(sha)]
    assert f"`dap repair {sha[:12]}`" in unrecorded[0].action

    repair_extract(lake, sha, who=WHO, clock=_clock)
    assert {p: p.read_bytes() for p in raw_before} == raw_before  # the same bytes again
    assert "raw_objects" in _manifest(lake, sha)
    assert verify_lake(lake).findings == []  # checksums and register entries recorded


def test_a_repair_that_would_not_reproduce_the_load_is_refused(landed):
    lake, books = landed
    sha = sha256_of(books[0])
    path = lake.root / manifest_key(sha)
    manifest = _manifest(lake, sha)
    manifest["ingested_at"] = "2020-01-01T00:00:00.000Z"  # not when it was loaded
    path.write_text(json.dumps(manifest))
    _tamper(_raw_path(lake, books[0], 2021))
    tampered = _raw_path(lake, books[0], 2021).read_bytes()
    with pytest.raises(DapError, match="does not give the raw files its load wrote"):
        repair_extract(lake, sha, who=WHO)
    assert _raw_path(lake, books[0], 2021).read_bytes() == tampered  # nothing written


def test_verify_of_a_folder_that_is_not_there_says_so(tmp_path, capsys):
    assert main(["verify", "--lake", str(tmp_path / "nowhere")]) == 1
    assert "no lake here" in capsys.readouterr().err
