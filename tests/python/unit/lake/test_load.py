"""``load_workbooks`` into a local lake: layout, typed values, lineage, idempotency, atomicity."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from dap import __version__
from dap.errors import LakeError, WorkbookError
from dap.lake.load import Clock, LoadSummary, Progress, load_workbooks, manifest_key
from dap.lake.storage import LocalLake, open_lake
from dap.samples.excel_writer import Cell
from dap.samples.synthetic import csv_rows_to_workbooks
from dap.schema import DATASET, NULL_PARTITION, RAW_SCHEMA
from testkit.workbooks import (
    HEADER,
    REQUIRED_HEADER,
    SHEET,
    assert_refused,
    audit_added,
    manifest,
    raw_table,
    row,
    sha256_of,
    simple_book,
    tree_state,
    xls,
    xlsx,
)

NOW = datetime(2024, 10, 1, 12, 0, 0, 123456, tzinfo=UTC)
NOW_MS = datetime(2024, 10, 1, 12, 0, 0, 123000)  # naive UTC, as stored (timestamp[ms])
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The measures, restated (not imported) so that a change to the raw contract shows up here.
ALL_MEASURES = [
    "callsoffered",
    "callshandled",
    "callsabandoned",
    "averagespeedofanswer",
    "servicelevel",
]


def _fixed_clock() -> datetime:
    return NOW


def _load(
    paths: list[Path],
    lake: Path,
    *,
    clock: Clock = _fixed_clock,
    progress: Progress = lambda _message: None,
) -> LoadSummary:
    return load_workbooks(paths, LocalLake(lake), clock=clock, progress=progress)


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    return tmp_path / "lake"


@pytest.fixture
def two_years(tmp_path: Path) -> Path:
    """Five rows: two in 2022, two in 2023 and one with an unreadable date."""
    rows: list[list[Cell]] = [
        ["3-1-1 Contact Centre Metrics"],
        HEADER,
        row(date(2022, 12, 30), 1),
        row(date(2022, 12, 31), 2),
        row("2023-01-01", 3),
        row("not a date", 4),
        row(44928, 5),  # 2023-01-02 as an Excel serial number
    ]
    return xlsx(tmp_path / "in" / "metrics 2022-2023.xlsx", {SHEET: rows, "About": [["x"]]})


def _books(tmp_path: Path, count: int) -> list[Path]:
    """``count`` different workbooks, one year each (2020, 2021, ...)."""
    return [
        simple_book(tmp_path / "in" / f"book{i}.xlsx", date(2020 + i, 6, 1), 3, start_n=10 * i)
        for i in range(count)
    ]


def _bad_books(tmp_path: Path) -> dict[str, Path]:
    d = tmp_path / "bad"
    d.mkdir(parents=True, exist_ok=True)
    not_a_workbook = d / "not-a-workbook.xlsx"
    not_a_workbook.write_bytes(b"PK\x03\x04 this is not really a zip")
    no_date = [h for h in HEADER if h != "Date"]
    bad_dates = [HEADER, row("x", 1), row("y", 2), row(date(2023, 1, 1), 3)]
    return {
        "not-a-workbook": not_a_workbook,
        "no-metrics-sheet": xlsx(d / "about.xlsx", {"About": [["nothing here"]]}),
        "missing-column": xlsx(d / "no-date.xlsx", {"Data": [no_date, [1000, 900, 50]]}),
        "no-data-rows": xlsx(d / "header-only.xlsx", {"Data": [HEADER]}),
        "unreadable-dates": xlsx(d / "bad-dates.xlsx", {"Data": bad_dates}),
        "duplicate-header": xlsx(d / "dup.xlsx", {"Data": [[*HEADER, "date"], row("x", 1)]}),
        "missing-file": d / "does-not-exist.xlsx",
    }


BAD_KINDS = [
    "not-a-workbook",
    "no-metrics-sheet",
    "missing-column",
    "no-data-rows",
    "unreadable-dates",
    "duplicate-header",
    "missing-file",
]
BAD_CODES = {
    "not-a-workbook": "damaged",
    "no-metrics-sheet": "no_metric_sheet",
    "missing-column": "missing_column",
    "no-data-rows": "no_data_rows",
    "unreadable-dates": "unreadable_dates",
    "duplicate-header": "duplicate_header",
}
"""The reason code each refusal is recorded with (dap.errors.REFUSAL_CODES, restated).
A missing file is not refused: it has no bytes to identify it, and leaves no trace."""
EVENTS = "_audit/events/"
PARQUET = "application/vnd.apache.parquet"


# --- layout and contents ---------------------------------------------------------------


def test_layout_of_keys(two_years, lake):
    sha = sha256_of(two_years)
    summary = _load([two_years], lake)

    assert sorted(tree_state(lake)) == sorted(
        [
            "_manifests/",
            f"_manifests/{DATASET}/",
            f"_manifests/{DATASET}/{sha}.json",
            "landing/",
            f"landing/{DATASET}/",
            f"landing/{DATASET}/{sha}.xlsx",
            "raw/",
            f"raw/{DATASET}/",
            f"raw/{DATASET}/year=2022/",
            f"raw/{DATASET}/year=2022/{sha}.parquet",
            f"raw/{DATASET}/year=2023/",
            f"raw/{DATASET}/year=2023/{sha}.parquet",
            f"raw/{DATASET}/year={NULL_PARTITION}/",
            f"raw/{DATASET}/year={NULL_PARTITION}/{sha}.parquet",
        ]
    )
    assert (lake / "landing" / DATASET / f"{sha}.xlsx").read_bytes() == two_years.read_bytes()
    assert [(f.name, f.sha256, f.status, f.rows) for f in summary.files] == [
        (two_years.name, sha, "landed", 5)
    ]
    assert summary.files[0].partitions == [
        f"raw/{DATASET}/year=2022/{sha}.parquet",
        f"raw/{DATASET}/year=2023/{sha}.parquet",
        f"raw/{DATASET}/year={NULL_PARTITION}/{sha}.parquet",
    ]
    assert summary.rows == 5
    assert summary.partitions_written == 3
    assert summary.describe() == (
        f"1 file(s): 1 landed, 0 skipped as unchanged; 5 rows; "
        f"3 partition file(s) written to {lake}"
    )


def test_xls_lands_with_its_own_suffix(tmp_path, lake):
    path = xls(tmp_path / "legacy.XLS", {"Sheet1": [HEADER, row(date(2020, 1, 1), 1)]})
    sha = sha256_of(path)
    _load([path], lake)
    assert (lake / "landing" / DATASET / f"{sha}.xls").read_bytes() == path.read_bytes()
    assert (lake / "raw" / DATASET / "year=2020" / f"{sha}.parquet").is_file()


def test_raw_parquet_schema_is_the_contract(two_years, lake):
    _load([two_years], lake)
    files = sorted((lake / "raw").rglob("*.parquet"))
    assert len(files) == 3
    for path in files:
        schema = pq.ParquetFile(path).schema_arrow
        assert schema.equals(RAW_SCHEMA, check_metadata=False), path
    table = raw_table(lake)
    assert table.schema.names == [*RAW_SCHEMA.names, "year"]
    assert table.schema.field("year").type == pa.int32()


def test_values_and_lineage_read_back(two_years, lake):
    sha = sha256_of(two_years)
    _load([two_years], lake)
    rows = raw_table(lake).to_pylist()
    lineage = {
        "source_file_name": "metrics 2022-2023.xlsx",
        "source_file_sha256": sha,
        "source_sheet": SHEET,
        "carried_columns": ",".join(ALL_MEASURES),
        "ingested_at": NOW_MS,
        "extract_rows": 5,  # every row of the workbook, across both years and the null one
    }
    assert rows == [
        {
            "date": date(2022, 12, 30),
            "callsoffered": 1001,
            "callshandled": 901,
            "callsabandoned": 51,
            "averagespeedofanswer": 20.25,
            "servicelevel": 0.5 + 1 / 64,
            "bi_id": 1,
            "load_issues": None,
            **lineage,
            "source_row_number": 3,
            "year": 2022,
        },
        {
            "date": date(2022, 12, 31),
            "callsoffered": 1002,
            "callshandled": 902,
            "callsabandoned": 52,
            "averagespeedofanswer": 20.5,
            "servicelevel": 0.5 + 2 / 64,
            "bi_id": 2,
            "load_issues": None,
            **lineage,
            "source_row_number": 4,
            "year": 2022,
        },
        {
            "date": date(2023, 1, 1),
            "callsoffered": 1003,
            "callshandled": 903,
            "callsabandoned": 53,
            "averagespeedofanswer": 20.75,
            "servicelevel": 0.5 + 3 / 64,
            "bi_id": 3,
            "load_issues": None,
            **lineage,
            "source_row_number": 5,
            "year": 2023,
        },
        {
            "date": None,
            "callsoffered": 1004,
            "callshandled": 904,
            "callsabandoned": 54,
            "averagespeedofanswer": 21.0,
            "servicelevel": 0.5 + 4 / 64,
            "bi_id": 4,
            "load_issues": (
                "Date (A6): 'not a date' is not a date (expected an Excel date or YYYY-MM-DD)"
            ),
            **lineage,
            "source_row_number": 6,
            "year": None,
        },
        {
            "date": date(2023, 1, 2),
            "callsoffered": 1005,
            "callshandled": 905,
            "callsabandoned": 55,
            "averagespeedofanswer": 21.25,
            "servicelevel": 0.5 + 5 / 64,
            "bi_id": 5,
            "load_issues": None,
            **lineage,
            "source_row_number": 7,
            "year": 2023,
        },
    ]


def test_duckdb_reads_the_raw_zone_with_hive_partitions(two_years, lake):
    _load([two_years], lake)
    pattern = (lake / "raw" / DATASET / "*" / "*.parquet").as_posix()
    result = duckdb.sql(
        f"select year, count(*), sum(callsoffered), min(date), max(date) "
        f"from read_parquet('{pattern}', hive_partitioning = true) "
        f"group by year order by year nulls last"
    ).fetchall()
    assert result == [
        (2022, 2, 2003, date(2022, 12, 30), date(2022, 12, 31)),
        (2023, 2, 2008, date(2023, 1, 1), date(2023, 1, 2)),
        (None, 1, 1004, None, None),
    ]


def test_row_level_problems_are_kept_in_raw(tmp_path, lake):
    rows: list[list[Cell]] = [
        HEADER,
        row(date(2023, 1, 1), 1),
        [date(2023, 1, 2), "abc", 902, 52, 20.5, 0.5, 2],
        [date(2023, 1, 3), 1003, 903, 53, 20.75, "n/a", 3],
    ]
    path = xlsx(tmp_path / "issues.xlsx", {"Data": rows})
    _load([path], lake)
    table = raw_table(lake)
    assert table.column("callsoffered").to_pylist() == [1001, None, 1003]
    assert table.column("servicelevel").to_pylist() == [0.5 + 1 / 64, 0.5, None]
    assert table.column("load_issues").to_pylist() == [
        None,
        "CallsOffered (B3): 'abc' is not a number",
        "ServiceLevel (F4): 'n/a' is not a number",
    ]
    sha = sha256_of(path)
    assert manifest(lake, sha)["sheets"] == [
        {
            "name": "Data",
            "header_row": 1,
            "rows": 3,
            "rows_with_issues": 2,
            "columns_carried": ALL_MEASURES,
        }
    ]


def test_count_too_large_for_int64_is_a_row_level_problem(tmp_path, lake):
    rows: list[list[Cell]] = [
        HEADER,
        row(date(2023, 1, 1), 1),
        [date(2023, 1, 2), 1e19, 902, 52, 20.5, 0.5, 2],
    ]
    first = simple_book(tmp_path / "first.xlsx", date(2022, 1, 1), 1)
    path = xlsx(tmp_path / "typo.xlsx", {"Data": rows})
    summary = _load([first, path], lake)
    assert [f.status for f in summary.files] == ["landed", "landed"]
    table = raw_table(lake).filter(pc.equal(pc.field("source_file_name"), "typo.xlsx"))
    assert table.column("callsoffered").to_pylist() == [1001, None]
    assert table.column("load_issues").to_pylist() == [
        None,
        "CallsOffered (B3): 1e+19 is too large for a count",
    ]


def test_manifest_contents(two_years, lake):
    sha = sha256_of(two_years)
    _load([two_years], lake)
    recorded = manifest(lake, sha)
    # The checksums of every object the load wrote (dap verify; tests/python/unit/lake/
    # test_integrity.py checks them against the files).
    assert recorded.pop("landing_object") == {
        "key": f"landing/{DATASET}/{sha}.xlsx",
        "sha256": sha,
        "size_bytes": two_years.stat().st_size,
    }
    raw_objects = recorded.pop("raw_objects")
    assert [(o["key"], o["rows"]) for o in raw_objects] == [
        (key, rows) for key, rows in zip(recorded["raw_keys"], [2, 2, 1], strict=True)
    ]
    assert recorded == {
        "dataset": DATASET,
        "file_name": "metrics 2022-2023.xlsx",
        "sha256": sha,
        "size_bytes": two_years.stat().st_size,
        "ingested_at": "2024-10-01T12:00:00.123Z",
        "loader_version": __version__,
        "landing_key": f"landing/{DATASET}/{sha}.xlsx",
        "sheets": [
            {
                "name": SHEET,
                "header_row": 2,
                "rows": 5,
                "rows_with_issues": 1,
                "columns_carried": ALL_MEASURES,
            }
        ],
        "columns_carried": ALL_MEASURES,
        "skipped_sheets": ["About"],
        "pii_masked": [],
        "unreadable_dates": {
            "count": 1,
            "examples": [{"sheet": SHEET, "row": 6, "value": "'not a date'"}],
        },
        "rows": 5,
        "first_date": "2022-12-30",  # the row with an unreadable date counts in neither
        "last_date": "2023-01-02",
        "rows_per_partition": {
            "year=2022": 2,
            "year=2023": 2,
            f"year={NULL_PARTITION}": 1,
        },
        "raw_keys": [
            f"raw/{DATASET}/year=2022/{sha}.parquet",
            f"raw/{DATASET}/year=2023/{sha}.parquet",
            f"raw/{DATASET}/year={NULL_PARTITION}/{sha}.parquet",
        ],
    }


def test_partial_extracts_record_the_measures_they_carry(tmp_path, lake):
    """callsGeneral and callsHandled each carry some measures; a workbook's two sheets may
    carry different ones. The raw rows and the manifest say which, so a measure an extract
    does not carry (null) is told apart from a blank cell (null, and a row-level problem)."""
    day = date(2023, 1, 1)
    general = xls(
        tmp_path / "callsGeneral.xls",
        {
            "Sheet1": [
                ["Date", "CallsOffered", "CallsAbandoned", "ServiceLevel", "AverageSpeedofAnswer"],
                [day, 100, 5, None, 20.0],  # a blank service level: carried, missing
            ]
        },
    )
    handled = xls(tmp_path / "callsHandled.xls", {"Sheet1": [["Date", "CallsHandled"], [day, 90]]})
    both = xlsx(
        tmp_path / "both.xlsx",
        {
            "Counts": [["Date", "CallsOffered", "CallsHandled"], [day, 100, 90]],
            "Service": [["ServiceLevel", "Date"], [0.9, day]],
        },
    )
    _load([general, handled, both], lake)

    carried = {
        (r["source_file_name"], r["source_sheet"]): (
            r["carried_columns"],
            r["callsoffered"],
            r["callshandled"],
            r["servicelevel"],
        )
        for r in raw_table(lake).to_pylist()
    }
    assert carried == {
        ("callsGeneral.xls", "Sheet1"): (
            "callsoffered,callsabandoned,averagespeedofanswer,servicelevel",
            100,
            None,
            None,
        ),
        ("callsHandled.xls", "Sheet1"): ("callshandled", None, 90, None),
        ("both.xlsx", "Counts"): ("callsoffered,callshandled", 100, 90, None),
        ("both.xlsx", "Service"): ("servicelevel", None, None, 0.9),
    }
    assert manifest(lake, sha256_of(general))["columns_carried"] == [
        "callsoffered",
        "callsabandoned",
        "averagespeedofanswer",
        "servicelevel",
    ]
    assert manifest(lake, sha256_of(handled))["columns_carried"] == ["callshandled"]
    both_manifest = manifest(lake, sha256_of(both))
    assert both_manifest["columns_carried"] == ["callsoffered", "callshandled", "servicelevel"]
    assert [(s["name"], s["columns_carried"]) for s in both_manifest["sheets"]] == [
        ("Counts", ["callsoffered", "callshandled"]),
        ("Service", ["servicelevel"]),
    ]


class _RecordingLake(LocalLake):
    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.writes: list[tuple[str, str]] = []

    def write_bytes(self, key: str, data: bytes, content_type: str) -> str | None:
        self.writes.append((key, content_type))
        return super().write_bytes(key, data, content_type)


def test_landing_first_manifest_last(two_years, lake):
    recording = _RecordingLake(lake)
    load_workbooks([two_years], recording, clock=_fixed_clock)
    sha = sha256_of(two_years)
    # The event log's and the raw-object register's empty files first (a new lake), then
    # the workbook: landing copy, its register entries before its raw files, manifest last.
    assert recording.writes[:-2] == [
        (f"{EVENTS}_empty.parquet", PARQUET),
        ("_audit/raw_objects/_empty.parquet", PARQUET),
        (f"landing/{DATASET}/{sha}.xlsx", XLSX_TYPE),
        (f"_audit/raw_objects/20241001T120000.123000Z-{sha}.parquet", PARQUET),
        (f"raw/{DATASET}/year=2022/{sha}.parquet", PARQUET),
        (f"raw/{DATASET}/year=2023/{sha}.parquet", PARQUET),
        (f"raw/{DATASET}/year={NULL_PARTITION}/{sha}.parquet", PARQUET),
        (manifest_key(sha), "application/json"),
    ]
    # After everything: the load's rows in the event log, then its audit record.
    (events_key, events_type), (audit_key, content_type) = recording.writes[-2:]
    load_id = audit_key.removesuffix(".json").rsplit("-", 1)[1]
    assert audit_key.startswith("_audit/loads/")
    assert content_type == "application/json"
    assert events_key == f"{EVENTS}20241001T120000.123456Z-{load_id}.parquet"
    assert events_type == PARQUET


def test_each_file_is_complete_before_the_next_starts(tmp_path, lake):
    books = _books(tmp_path, 2)
    recording = _RecordingLake(lake)
    load_workbooks(books, recording, clock=_fixed_clock)
    shas = [sha256_of(p) for p in books]
    keys = [k for k, _ in recording.writes]
    assert keys.index(manifest_key(shas[0])) < keys.index(f"landing/{DATASET}/{shas[1]}.xlsx")
    assert keys[-3] == manifest_key(shas[1])
    assert keys[-2].startswith(EVENTS)  # then the event log, then the audit record
    assert keys[-1].startswith("_audit/loads/")


from testkit.support import REAL_CSV  # noqa: E402


def test_real_export_loads_every_day(tmp_path, lake):
    """The City's real export, as one workbook: every row lands typed, none with issues."""
    if not REAL_CSV.is_file():
        pytest.skip(f"real dataset not found at {REAL_CSV} (see ../shared/data/README.md)")
    lines = REAL_CSV.read_text(encoding="utf-8-sig").splitlines()[1:]
    records = [line.split(";") for line in lines if line]
    (book,) = csv_rows_to_workbooks(REAL_CSV, tmp_path / "in", by_year=False)

    summary = _load([book], lake)
    assert summary.rows == len(records) == 5585
    table = raw_table(lake)
    assert table.column("load_issues").null_count == table.num_rows
    assert pc.min(table["date"]).as_py() == date(2009, 6, 15)
    assert pc.max(table["date"]).as_py() == date(2024, 9, 30)
    assert pc.sum(table["callsoffered"]).as_py() == sum(int(r[1]) for r in records)
    assert sorted(set(table.column("year").to_pylist())) == list(range(2009, 2025))
    assert manifest(lake, sha256_of(book))["rows_per_partition"]["year=2010"] == 364


# --- idempotency -----------------------------------------------------------------------


def test_second_load_changes_nothing(two_years, lake):
    _load([two_years], lake)
    before = tree_state(lake)
    recording = _RecordingLake(lake)
    progress: list[str] = []
    # A different clock: any rewrite would change the Parquet files and the manifest.
    summary = load_workbooks(
        [two_years],
        recording,
        clock=lambda: NOW + timedelta(days=1),
        progress=progress.append,
    )
    # The event log's row ("unchanged") and the audit record, and nothing else.
    assert summary.audit_key is not None
    load_id = summary.audit_key.removesuffix(".json").rsplit("-", 1)[1]
    assert [k for k, _ in recording.writes] == [
        f"{EVENTS}20241002T120000.123456Z-{load_id}.parquet",
        summary.audit_key,
    ]
    assert tree_state(lake) == before
    sha = sha256_of(two_years)
    assert [(f.status, f.rows, f.partitions) for f in summary.files] == [("unchanged", 0, [])]
    assert summary.describe() == (
        f"1 file(s): 0 landed, 1 skipped as unchanged; 0 rows; "
        f"0 partition file(s) written to {lake}"
    )
    assert progress == [
        f"[1/1] {two_years.name}: unchanged (sha256 {sha[:12]}), skipped",
        f"audit record: {summary.audit_key}",
    ]


def test_same_bytes_under_another_name_later_is_unchanged(two_years, tmp_path, lake):
    _load([two_years], lake)
    before = tree_state(lake)
    renamed = tmp_path / "renamed.xlsx"
    shutil.copyfile(two_years, renamed)
    summary = _load([renamed], lake, clock=lambda: NOW + timedelta(hours=1))
    assert [f.status for f in summary.files] == ["unchanged"]
    assert tree_state(lake) == before


def test_same_bytes_under_two_names_in_one_call(tmp_path, lake):
    first = simple_book(tmp_path / "a.xlsx", date(2021, 1, 1), 2)
    second = tmp_path / "b.xlsx"
    shutil.copyfile(first, second)
    summary = _load([first, second], lake)
    sha = sha256_of(first)
    assert [(f.name, f.sha256, f.status) for f in summary.files] == [
        ("a.xlsx", sha, "landed"),
        ("b.xlsx", sha, "unchanged"),
    ]
    assert summary.rows == 2
    assert manifest(lake, sha)["file_name"] == "a.xlsx"
    assert len(list((lake / "_manifests").rglob("*.json"))) == 1
    assert raw_table(lake).num_rows == 2


def test_new_file_lands_next_to_an_unchanged_one(tmp_path, lake):
    old, new = _books(tmp_path, 2)
    _load([old], lake)
    old_state = tree_state(lake)
    summary = _load([old, new], lake)
    assert [(f.name, f.status) for f in summary.files] == [
        ("book0.xlsx", "unchanged"),
        ("book1.xlsx", "landed"),
    ]
    state = tree_state(lake)
    assert {k: v for k, v in state.items() if k in old_state} == old_state
    assert (
        raw_table(lake).column("source_file_name").to_pylist()
        == ["book0.xlsx"] * 3 + ["book1.xlsx"] * 3
    )


def test_a_landed_file_without_its_manifest_is_loaded_again(two_years, lake):
    """An interrupted load (no manifest yet) is finished by the next run."""
    _load([two_years], lake)
    sha = sha256_of(two_years)
    (lake / manifest_key(sha)).unlink()
    (lake / "raw" / DATASET / "year=2023" / f"{sha}.parquet").unlink()
    summary = _load([two_years], lake)
    assert [f.status for f in summary.files] == ["landed"]
    assert manifest(lake, sha)["rows"] == 5
    assert raw_table(lake).num_rows == 5


def test_ingested_at_strictly_increases_across_files(tmp_path, lake):
    books = _books(tmp_path, 3)
    _load(books, lake)  # the clock never moves: file order must still be visible
    shas = [sha256_of(p) for p in books]
    stamps = [manifest(lake, s)["ingested_at"] for s in shas]
    assert stamps == [
        "2024-10-01T12:00:00.123Z",
        "2024-10-01T12:00:00.124Z",
        "2024-10-01T12:00:00.125Z",
    ]
    table = raw_table(lake)
    by_file = {
        name: set(table.filter(pc.equal(table["source_file_name"], name))["ingested_at"])
        for name in ["book0.xlsx", "book1.xlsx", "book2.xlsx"]
    }
    assert [sorted(v.as_py() for v in s) for s in by_file.values()] == [
        [NOW_MS],
        [NOW_MS + timedelta(milliseconds=1)],
        [NOW_MS + timedelta(milliseconds=2)],
    ]


def test_ingested_at_strictly_increases_with_the_real_clock(tmp_path, lake):
    books = _books(tmp_path, 3)
    load_workbooks(books, LocalLake(lake))
    stamps = [manifest(lake, sha256_of(p))["ingested_at"] for p in books]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == 3
    first = datetime.fromisoformat(stamps[0].removesuffix("Z")).replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - first) < timedelta(minutes=5)


# --- whole-file failures leave the lake as it was -------------------------------------


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_bad_workbook_alone_writes_nothing(tmp_path, lake, kind):
    bad = _bad_books(tmp_path)[kind]
    with pytest.raises(WorkbookError) as caught:
        _load([bad], lake)
    assert bad.name in str(caught.value)
    if kind == "missing-file":
        assert not lake.exists()
    else:  # its refusal record and its event-log row, and nothing else
        record = assert_refused(lake, {}, sha256=sha256_of(bad), code=BAD_CODES[kind])
        assert record["file"]["file_name"] == bad.name


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_bad_third_workbook_leaves_the_lake_byte_identical(tmp_path, lake, kind):
    earlier = simple_book(tmp_path / "earlier.xlsx", date(2019, 1, 1), 2, start_n=50)
    _load([earlier], lake)
    before = tree_state(lake, audit=True)
    first, second = _books(tmp_path, 2)
    bad = _bad_books(tmp_path)[kind]
    recording = _RecordingLake(lake)
    with pytest.raises(WorkbookError) as caught:
        load_workbooks([first, second, bad], recording, clock=_fixed_clock)
    assert caught.value.location.file.endswith(bad.name)
    if kind == "missing-file":
        assert recording.writes == []
        assert tree_state(lake, audit=True) == before
        return
    # The two good workbooks before it were checked, not written: only the refusal's trace.
    # The two good workbooks before it were checked, not written: only the refusal's trace,
    # its event-log row first, then its record.
    record = assert_refused(lake, before, sha256=sha256_of(bad), code=BAD_CODES[kind])
    added = audit_added(before, tree_state(lake, audit=True))
    assert recording.writes == [
        (added["events"][0], PARQUET),
        (added["refusals"][0], "application/json"),
    ]
    assert record["file"]["file_number"] == 3


def test_error_names_file_sheet_row_and_column(tmp_path, lake):
    good = simple_book(tmp_path / "good.xlsx", date(2023, 1, 1), 2)
    no_date = [h for h in REQUIRED_HEADER if h != "Date"]
    bad = xlsx(tmp_path / "bad.xlsx", {"Calls": [["Title"], no_date, [1000, 900]]})
    with pytest.raises(WorkbookError) as caught:
        _load([good, bad], lake)
    assert str(caught.value) == (
        "bad.xlsx, sheet 'Calls', row 2, column 'Date': required column missing: 'Date'; "
        "the header row has 'CallsOffered', 'CallsHandled', 'CallsAbandoned', "
        "'AverageSpeedofAnswer', 'ServiceLevel'"
    )
    record = assert_refused(lake, {}, sha256=sha256_of(bad), code="missing_column")
    assert record["where"] == {"sheet": "Calls", "row": 2, "column": "Date"}


def test_missing_file_is_named(tmp_path, lake):
    missing = tmp_path / "nowhere" / "gone.xlsx"
    with pytest.raises(WorkbookError) as caught:
        _load([missing], lake)
    assert str(caught.value) == f"{missing}: cannot read the file (No such file or directory)"


def test_progress_messages(tmp_path, lake):
    books = _books(tmp_path, 2)
    _load(books[:1], lake)
    progress: list[str] = []
    summary = _load(books, lake, progress=progress.append)
    sha0 = sha256_of(books[0])
    assert progress == [
        f"[1/2] book0.xlsx: unchanged (sha256 {sha0[:12]}), skipped",
        f"[2/2] book1.xlsx: checked ({SHEET!r} 3 rows)",
        "[2/2] book1.xlsx: landed 3 rows in 1 partition(s)",
        f"audit record: {summary.audit_key}",
    ]


# --- where the lake is -----------------------------------------------------------------


def test_open_lake_local_and_errors(tmp_path):
    local = open_lake(str(tmp_path / "x"))
    assert isinstance(local, LocalLake)
    assert local.uri == str(tmp_path / "x")
    with pytest.raises(LakeError, match="unsupported lake"):
        open_lake("gs://bucket/prefix")
    with pytest.raises(LakeError, match="needs a bucket name"):
        open_lake("s3:///prefix")


def test_unwritable_lake_is_a_lake_error(two_years, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(LakeError, match="cannot write"):
        _load([two_years], blocker / "lake")


def test_local_lake_lists_keys_without_temporary_files(tmp_path):
    lake = LocalLake(tmp_path)
    lake.write_bytes("raw/a/x.parquet", b"1", "application/octet-stream")
    lake.write_bytes("raw/b.json", b"2", "application/json")
    (tmp_path / "raw" / ".partial.tmp").write_bytes(b"")
    assert lake.list_keys("raw") == ["raw/a/x.parquet", "raw/b.json"]
    assert lake.list_keys("nothing") == []
    assert lake.exists("raw/b.json")
    assert not lake.exists("raw/a")
    assert lake.read_bytes("raw/a/x.parquet") == b"1"


def test_a_failed_write_removes_what_the_workbook_wrote(two_years, tmp_path, lake):
    """two_years spans 2022 and 2023; 2023 cannot be written (a file stands where
    its folder must go), so the landing copy and the first partition are removed again
    and no manifest is written: the lake is as it was, and a later load can succeed."""
    earlier = simple_book(tmp_path / "earlier.xlsx", date(2020, 5, 1), 3)
    _load([earlier], lake)
    blocker = lake / "raw" / DATASET / "year=2023"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("not a folder")
    before = tree_state(lake, audit=True)

    with pytest.raises(LakeError, match="year=2023"):
        _load([two_years], lake)
    assert tree_state(lake, audit=True) == before

    blocker.unlink()
    summary = _load([two_years], lake)
    assert [f.status for f in summary.files] == ["landed"]
