"""Landed extracts (``dap extracts``), naming one (SHA_OR_FILE), retracting and restoring
(``dap retract``, ``dap restore``), the extract event log, and the trace a refused load
leaves: on a local lake."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from dap.errors import REFUSAL_CODES, DapError, ExtractNotFoundError, Location, WorkbookError
from dap.ingest.formats import parse_file
from dap.lake.audit import Identity
from dap.lake.extracts import (
    EMPTY_KEY,
    EVENT_SCHEMA,
    EVENTS_PREFIX,
    RESTORED,
    RETRACTED,
    LandedExtract,
    Refused,
    change_retraction,
    list_extracts,
    read_events,
    resolve,
)
from dap.lake.load import LoadSummary, load_workbooks
from dap.lake.storage import LocalLake
from dap.samples.excel_writer import Cell
from dap.schema import DATASET
from testkit import corpus
from testkit.workbooks import (
    HEADER,
    SHEET,
    audit_added,
    manifest,
    row,
    rows_for,
    run_dap,
    sha256_of,
    simple_book,
    tree_state,
    xlsx,
)

NOW = datetime(2024, 10, 1, 12, 0, 0, 123456, tzinfo=UTC)
WHO = Identity("local", "tester", host="box")
MEASURES = [
    "callsoffered",
    "callshandled",
    "callsabandoned",
    "averagespeedofanswer",
    "servicelevel",
]


def _clock(start: datetime = NOW) -> Callable[[], datetime]:
    """A clock that moves one second a call."""
    ticks = iter(range(1_000_000))
    return lambda: start + timedelta(seconds=next(ticks))


def _load(paths: list[Path], lake: Path, **options: Any) -> LoadSummary:
    return load_workbooks(paths, LocalLake(lake), clock=_clock(), **options)


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    return tmp_path / "lake"


@pytest.fixture
def books(tmp_path: Path) -> list[Path]:
    """Three workbooks: 2020 (5 days), 2021 (3 days), and one spanning 2021-2022."""
    folder = tmp_path / "in"
    return [
        simple_book(folder / "a-2020.xlsx", date(2020, 3, 1), 5),
        simple_book(folder / "b-2021.xlsx", date(2021, 7, 1), 3, start_n=10),
        simple_book(folder / "c-2021-2022.xlsx", date(2021, 12, 30), 4, start_n=20),
    ]


@pytest.fixture
def landed(books: list[Path], lake: Path) -> list[Path]:
    _load(books, lake)
    return books


def _changes(before: dict[str, str], after: dict[str, str]) -> tuple[set[str], set[str]]:
    """Keys added, and keys removed or rewritten."""
    added = set(after) - set(before)
    altered = {k for k in before if after.get(k) != before[k]}
    return added, altered


def _files(keys: set[str]) -> set[str]:
    return {k for k in keys if not k.endswith("/")}


# --- listing ---------------------------------------------------------------------------


def test_lists_every_landed_extract_in_ingestion_order(landed, lake):
    extracts = list_extracts(LocalLake(lake))
    assert [
        (e.file_name, e.sha256, e.rows, e.rows_in_raw, e.first_date, e.last_date, e.status)
        for e in extracts
    ] == [
        ("a-2020.xlsx", sha256_of(landed[0]), 5, 5, date(2020, 3, 1), date(2020, 3, 5), "active"),
        ("b-2021.xlsx", sha256_of(landed[1]), 3, 3, date(2021, 7, 1), date(2021, 7, 3), "active"),
        (
            "c-2021-2022.xlsx",
            sha256_of(landed[2]),
            4,
            4,
            date(2021, 12, 30),
            date(2022, 1, 2),
            "active",
        ),
    ]
    assert [e.years for e in extracts] == [["2020"], ["2021"], ["2021", "2022"]]
    assert all(e.columns_carried == MEASURES for e in extracts)
    ingested = [e.ingested_at for e in extracts]
    assert ingested == sorted(ingested)
    assert ingested[0] == manifest(lake, sha256_of(landed[0]))["ingested_at"]


def test_manifest_records_first_and_last_date(landed, lake):
    record = manifest(lake, sha256_of(landed[2]))
    assert (record["first_date"], record["last_date"]) == ("2021-12-30", "2022-01-02")


def test_dates_and_columns_from_raw_when_the_manifest_predates_them(landed, lake):
    """A manifest written before the loader recorded first/last date and the columns
    carried: the dates come from the raw Parquet, the columns are all of them."""
    sha = sha256_of(landed[2])
    path = lake / "_manifests" / DATASET / f"{sha}.json"
    old = json.loads(path.read_text())
    for key in ("first_date", "last_date", "columns_carried"):
        old.pop(key, None)
    path.write_text(json.dumps(old))
    (extract,) = [e for e in list_extracts(LocalLake(lake)) if e.sha256 == sha]
    assert (extract.first_date, extract.last_date) == (date(2021, 12, 30), date(2022, 1, 2))
    assert extract.columns_carried == MEASURES


def test_columns_carried_come_from_the_manifest(landed, lake):
    sha = sha256_of(landed[0])
    path = lake / "_manifests" / DATASET / f"{sha}.json"
    record = json.loads(path.read_text())
    record["columns_carried"] = ["callshandled"]
    path.write_text(json.dumps(record))
    (extract,) = [e for e in list_extracts(LocalLake(lake)) if e.sha256 == sha]
    assert extract.columns_carried == ["callshandled"]


def test_an_extract_missing_raw_rows_is_incomplete(landed, lake):
    sha = sha256_of(landed[2])
    (lake / "raw" / DATASET / "year=2022" / f"{sha}.parquet").unlink()
    (extract,) = [e for e in list_extracts(LocalLake(lake)) if e.sha256 == sha]
    assert (extract.rows, extract.rows_in_raw, extract.status) == (4, 2, "incomplete")


def test_dap_extracts_prints_a_table_and_json(landed, lake):
    done = run_dap("extracts", "--lake", lake)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == [
        "file",
        "sha256",
        "rows",
        "first",
        "date",
        "last",
        "date",
        "columns",
        "carried",
        "ingested",
        "at",
        "(UTC)",
        "status",
    ]
    assert lines[1].replace(" ", "").strip("-") == ""
    first = lines[2].split()
    assert first[:6] == [
        "a-2020.xlsx",
        sha256_of(landed[0])[:12],
        "5",
        "2020-03-01",
        "2020-03-05",
        "all",
    ]
    assert first[-1] == "active"
    assert len(lines) == 5

    as_json = run_dap("extracts", "--lake", lake, "--json")
    assert as_json.returncode == 0, as_json.stderr
    rows = json.loads(as_json.stdout)
    assert [r["sha256"] for r in rows] == [sha256_of(p) for p in landed]
    assert rows[2] | {"ingested_at": None} == {
        "file_name": "c-2021-2022.xlsx",
        "sha256": sha256_of(landed[2]),
        "rows": 4,
        "rows_in_raw": 4,
        "first_date": "2021-12-30",
        "last_date": "2022-01-02",
        "columns_carried": MEASURES,
        "ingested_at": None,
        "status": "active",
        "last_retract_or_restore": None,
    }


def test_dap_extracts_on_an_empty_lake(tmp_path):
    done = run_dap("extracts", "--lake", tmp_path / "nothing")
    assert (done.returncode, done.stdout) == (0, f"no extracts landed in {tmp_path / 'nothing'}\n")


# --- naming an extract ------------------------------------------------------------------


def test_resolve_by_sha_prefix_file_and_name(landed, lake, tmp_path):
    local = LocalLake(lake)
    sha = sha256_of(landed[1])
    assert resolve(local, sha).sha256 == sha
    assert resolve(local, sha.upper()).sha256 == sha
    assert resolve(local, sha[:8]).sha256 == sha
    assert resolve(local, str(landed[1])).sha256 == sha  # the file: its sha256 is computed
    copy = tmp_path / "elsewhere" / "renamed.xlsx"
    copy.parent.mkdir()
    shutil.copyfile(landed[1], copy)
    assert resolve(local, str(copy)).sha256 == sha
    assert resolve(local, "b-2021.xlsx").sha256 == sha  # a landed name, not a path here


def test_resolve_refuses_unknown_short_and_other_files(landed, lake, tmp_path):
    local = LocalLake(lake)
    with pytest.raises(ExtractNotFoundError, match="at least 8 hex digits") as short:
        resolve(local, sha256_of(landed[0])[:7])
    assert "a-2020.xlsx" in str(short.value)  # the candidates
    with pytest.raises(ExtractNotFoundError, match=r"no landed extract has sha256 0{64}"):
        resolve(local, "0" * 64)
    other = simple_book(tmp_path / "other.xlsx", date(2019, 1, 1), 2)
    with pytest.raises(ExtractNotFoundError, match=f"sha256 {sha256_of(other)}.* not a landed"):
        resolve(local, str(other))
    with pytest.raises(ExtractNotFoundError, match=r"'nope\.xlsx' is not a landed extract"):
        resolve(local, "nope.xlsx")


def _fake(sha: str, name: str) -> LandedExtract:
    return LandedExtract(sha, name, 1, 1, None, None, MEASURES, "2024-01-01T00:00:00.000Z", [])


def test_resolve_refuses_an_ambiguous_prefix_or_name(tmp_path):
    extracts = [
        _fake("abcdef01" + "1" * 56, "same.xlsx"),
        _fake("abcdef01" + "2" * 56, "same.xlsx"),
        _fake("abcdef02" + "3" * 56, "other.xlsx"),
    ]
    local = LocalLake(tmp_path)
    with pytest.raises(ExtractNotFoundError, match="matches 2 landed extracts") as ambiguous:
        resolve(local, "abcdef01", extracts)
    assert "abcdef011111" in str(ambiguous.value)
    assert "abcdef012222" in str(ambiguous.value)
    assert "abcdef023333" not in str(ambiguous.value)
    with pytest.raises(ExtractNotFoundError, match=r"'same\.xlsx' matches 2 landed extracts"):
        resolve(local, "same.xlsx", extracts)
    assert resolve(local, "abcdef011", extracts).file_name == "same.xlsx"
    assert resolve(local, "other.xlsx", extracts).sha256.startswith("abcdef02")


def test_dap_retract_unknown_or_ambiguous_exits_1_with_the_candidates(landed, lake):
    for text in ("zzz", "0" * 8):
        done = run_dap("retract", text, "--lake", lake)
        assert done.returncode == 1
        assert "Traceback" not in done.stderr
        last = done.stderr.splitlines()[-1]
        assert last.startswith(f"dap retract: error: {text!r} is not a landed extract")
        assert all(sha256_of(p)[:12] in last for p in landed)


# --- retract and restore ------------------------------------------------------------------


def test_retract_appends_an_event_and_an_audit_record_and_nothing_else(landed, lake):
    before = tree_state(lake, audit=True)
    sha = sha256_of(landed[1])
    change = change_retraction(
        LocalLake(lake), sha[:10], RETRACTED, who=WHO, reason="figures re-issued", clock=_clock()
    )
    assert change.changed
    added, altered = _changes(before, tree_state(lake, audit=True))
    assert altered == set()
    assert _files(added) == {change.event_key, change.audit_key}
    assert change.event_key is not None
    assert change.event_key.startswith(EVENTS_PREFIX)
    assert change.audit_key is not None
    assert change.audit_key.startswith("_audit/extracts/2024/10/01/")

    table = pq.read_table(lake / change.event_key)
    assert table.schema == EVENT_SCHEMA
    (event,) = table.to_pylist()
    assert event | {"event_id": None} == {
        "event_id": None,
        "file_number": 1,
        "recorded_at": datetime(2024, 10, 1, 12, 0, 0, 123000),
        "actor": "tester@box",
        "event_type": "retracted",
        "source_file_sha256": sha,
        "source_file_name": "b-2021.xlsx",
        "reason_code": None,
        "reason": "figures re-issued",
        "pii_kinds": None,
        "pii_cells": 0,
        "rows_landed": None,
    }
    record = json.loads((lake / change.audit_key).read_text())
    assert record["record"] == "retracted"
    assert record["event_id"] == event["event_id"]
    assert (record["sha256"], record["file_name"], record["reason"]) == (
        sha,
        "b-2021.xlsx",
        "figures re-issued",
    )
    assert record["who"] == {"kind": "local", "name": "tester", "account": None, "host": "box"}
    assert record["objects_written"][0]["key"] == change.event_key

    statuses = {e.sha256: e.status for e in list_extracts(LocalLake(lake))}
    assert statuses[sha] == "retracted"
    assert sorted(statuses.values()) == ["active", "active", "retracted"]


def test_retract_twice_writes_nothing_the_second_time(landed, lake):
    local = LocalLake(lake)
    sha = sha256_of(landed[0])
    change_retraction(local, sha, RETRACTED, who=WHO, clock=_clock())
    before = tree_state(lake, audit=True)
    again = change_retraction(local, sha, RETRACTED, who=WHO, clock=_clock())
    assert not again.changed
    assert tree_state(lake, audit=True) == before
    not_retracted = change_retraction(local, sha256_of(landed[1]), RESTORED, who=WHO)
    assert not not_retracted.changed
    assert tree_state(lake, audit=True) == before


def test_the_latest_event_decides_even_within_one_millisecond(landed, lake):
    """A restore at the very time of the retraction is recorded a millisecond later, so
    the order of events is never a tie."""
    local = LocalLake(lake)
    sha = sha256_of(landed[2])
    frozen = lambda: NOW  # noqa: E731
    first = change_retraction(local, sha, RETRACTED, who=WHO, clock=frozen)
    second = change_retraction(local, sha, RESTORED, who=WHO, clock=frozen)
    third = change_retraction(local, sha, RETRACTED, who=WHO, clock=frozen)
    times = [c.event.recorded_at for c in (first, second, third) if c.event is not None]
    assert times == [times[0] + timedelta(milliseconds=n) for n in range(3)]
    ((extract,),) = [[e for e in list_extracts(local) if e.sha256 == sha]]
    assert extract.status == "retracted"
    change_retraction(local, sha, RESTORED, who=WHO, clock=frozen)
    events = [e for e in read_events(local) if e.source_file_sha256 == sha]
    assert [e.event_type for e in events if e.event_type != "landed"] == [
        "retracted",
        "restored",
        "retracted",
        "restored",
    ]
    assert {e.sha256: e.status for e in list_extracts(local)}[sha] == "active"


def test_a_reason_with_personal_data_is_masked(landed, lake):
    change = change_retraction(
        LocalLake(lake),
        sha256_of(landed[0]),
        RETRACTED,
        who=WHO,
        reason="asked by jane.doe@example.com, 604-871-7000",
    )
    assert change.event is not None
    assert change.event.reason == "asked by [email address removed], [phone number removed]"
    assert change.audit_key is not None
    text = (lake / change.audit_key).read_text()
    assert "jane.doe" not in text
    assert "873" not in text


def test_retract_warns_of_years_no_other_extract_reports(landed, lake):
    local = LocalLake(lake)
    only_2022 = change_retraction(local, sha256_of(landed[2]), RETRACTED, who=WHO)
    assert only_2022.orphan_years == ["2022"]  # 2021 is also in b-2021.xlsx
    only_2021_now = change_retraction(local, sha256_of(landed[1]), RETRACTED, who=WHO)
    assert only_2021_now.orphan_years == ["2021"]  # c-2021-2022.xlsx is retracted


def record_who(lake: Path) -> str:
    """user@host of the newest retract/restore audit record."""
    newest = max((lake / "_audit" / "extracts").rglob("*.json"))
    who = json.loads(newest.read_text())["who"]
    return f"{who['name']}@{who['host']}"


def test_dap_retract_and_restore_say_what_they_did(landed, lake):
    sha = sha256_of(landed[0])
    before = tree_state(lake, audit=True)
    done = run_dap("retract", landed[0], "--lake", lake, "--reason", "test")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == (
        f"retracted: a-2020.xlsx (sha256 {sha}, ingested {manifest(lake, sha)['ingested_at']})"
    )
    assert "nothing was deleted (undo: dap restore " + sha[:12] + ")" in done.stdout
    assert f"  event: {EVENTS_PREFIX}" in done.stdout
    assert "  audit record: _audit/extracts/" in done.stdout
    assert "warning: no other active extract has rows in 2020" in done.stderr
    after = tree_state(lake, audit=True)
    added, altered = _changes(before, after)
    assert altered == set()
    assert {k for k in added if not k.startswith("_audit/")} == set()  # the zones untouched
    trail = audit_added(before, after)
    assert sorted(trail) == ["events", "extracts"]
    assert [len(trail["events"]), len(trail["extracts"])] == [1, 1]  # the event, its record
    assert trail["events"][0].startswith(EVENTS_PREFIX)

    listed = json.loads(run_dap("extracts", "--lake", lake, "--json").stdout)
    assert [r["status"] for r in listed] == ["retracted", "active", "active"]
    assert listed[0]["last_retract_or_restore"] | {"at": None} == {
        "event_type": "retracted",
        "at": None,
        "by": f"{record_who(lake)}",
        "reason": "test",
    }
    assert run_dap("extracts", "--lake", lake).stdout.splitlines()[2].endswith("  retracted")

    again = run_dap("retract", sha[:8], "--lake", lake)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("retract: a-2020.xlsx (sha256 ")
    assert again.stdout.endswith(" UTC; nothing written\n")
    assert " is already retracted since " in again.stdout

    restored = run_dap("restore", "a-2020.xlsx", "--lake", lake)
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.startswith(f"restored: a-2020.xlsx (sha256 {sha}")
    assert "every later dbt build reads its rows again" in restored.stdout
    status = json.loads(run_dap("extracts", "--lake", lake, "--json").stdout)
    assert [r["status"] for r in status] == ["active"] * 3
    assert status[0]["last_retract_or_restore"]["event_type"] == "restored"


def test_help_explains_the_tombstone():
    for command in ("retract", "restore"):
        done = run_dap(command, "--help")
        assert done.returncode == 0
        text = " ".join(done.stdout.split())
        assert "SHA_OR_FILE" in text
        assert "at least 8 hex digits" in text
    retract = " ".join(run_dap("retract", "--help").stdout.split())
    assert "Nothing is deleted" in retract
    assert "tombstone" in retract
    assert "dap restore" in retract


# --- the event log of loads ----------------------------------------------------------------


def test_a_load_appends_one_row_per_file_to_the_event_log(books, lake, tmp_path):
    first = _load(books[:1], lake)
    assert (lake / EMPTY_KEY).is_file()
    assert pq.read_table(lake / EMPTY_KEY).num_rows == 0
    masked_book = xlsx(
        tmp_path / "in" / "notes.xlsx",
        {SHEET: [HEADER, *rows_for(date(2023, 1, 1), 2)], "Notes": [["call jo@example.org"]]},
    )
    second = _load([books[0], masked_book, books[1]], lake, pii="mask")
    record = json.loads((lake / str(second.audit_key)).read_text())
    events = [e for e in read_events(LocalLake(lake)) if e.event_id == record["load_id"]]
    assert [
        (e.file_number, e.event_type, e.source_file_name, e.pii_kinds, e.pii_cells, e.rows_landed)
        for e in events
    ] == [
        (1, "unchanged", "a-2020.xlsx", None, 0, 0),
        (2, "masked", "notes.xlsx", "email", 1, 2),
        (3, "landed", "b-2021.xlsx", None, 0, 3),
    ]
    who = record["who"]
    assert {e.actor for e in events} == {f"{who['name']}@{who['host']}"}
    written = [o["key"] for o in record["objects_written"]]
    assert written[-1].startswith(EVENTS_PREFIX)
    first_record = json.loads((lake / str(first.audit_key)).read_text())
    assert EMPTY_KEY in [o["key"] for o in first_record["objects_written"]]
    assert EMPTY_KEY not in written  # written once per lake


# --- refusals -----------------------------------------------------------------------------


def _refusal_books(folder: Path) -> dict[str, Path]:
    """One file per refusal class, each with the code it must get."""
    folder.mkdir(parents=True, exist_ok=True)
    text = folder / "notes.xlsx"
    text.write_text("just some words\nand more words\n")
    pdf = folder / "report.xlsx"
    pdf.write_bytes(b"%PDF-1.4\n%...\n")
    encrypted = folder / "protected.xlsx"
    corpus.build_encrypted_xlsx(encrypted)
    damaged = folder / "bad-crc.xlsx"
    corpus.build_bad_crc(damaged)
    many = folder / "many-members.xlsx"
    corpus.build_many_members(many)
    dup = [[*HEADER, "date"], row(date(2023, 1, 1), 1)]
    bad_dates = [HEADER, row("x", 1), row("y", 2), row(date(2023, 1, 1), 3)]
    no_measure = [["Date", "BI_ID"], [date(2023, 1, 1), 1]]
    return {
        "not_a_workbook": text,
        "unsupported_format": pdf,
        "encrypted": encrypted,
        "damaged": damaged,
        "too_large": many,
        "no_metric_sheet": xlsx(folder / "about.xlsx", {"About": [["nothing here"]]}),
        "missing_column": xlsx(
            folder / "no-measure.xlsx", {"Data": [*no_measure, *no_measure[1:]]}
        ),
        "duplicate_header": xlsx(folder / "dup.xlsx", {"Data": dup}),
        "no_data_rows": xlsx(folder / "header-only.xlsx", {"Data": [HEADER]}),
        "unreadable_dates": xlsx(folder / "bad-dates.xlsx", {"Data": bad_dates}),
        "personal_data": xlsx(
            folder / "pii.xlsx", {SHEET: [HEADER, row(date(2023, 1, 1), 1), ["x", "a@b.example"]]}
        ),
    }


REFUSAL_CASES = [
    "not_a_workbook",
    "unsupported_format",
    "encrypted",
    "damaged",
    "too_large",
    "no_metric_sheet",
    "duplicate_header",
    "no_data_rows",
    "unreadable_dates",
    "personal_data",
]


@pytest.mark.parametrize("code", REFUSAL_CASES)
def test_a_refused_load_leaves_its_trace_and_nothing_else(tmp_path, lake, books, code):
    _load(books[:1], lake)
    before = tree_state(lake, audit=True)
    bad = _refusal_books(tmp_path / "bad")[code]
    with pytest.raises(DapError) as caught:
        _load([books[1], bad], lake)
    assert caught.value.code == code
    added, altered = _changes(before, tree_state(lake, audit=True))
    assert altered == set()
    (record_key,) = [k for k in _files(added) if k.startswith("_audit/refusals/2024/10/01/")]
    (event_key,) = [k for k in _files(added) if k.startswith(EVENTS_PREFIX)]
    assert _files(added) == {record_key, event_key}
    assert {k for k in added if k.endswith("/")} <= {
        "_audit/refusals/",
        "_audit/refusals/2024/",
        "_audit/refusals/2024/10/",
        "_audit/refusals/2024/10/01/",
    }

    record = json.loads((lake / record_key).read_text())
    assert record["record"] == "refusal"
    assert record["reason_code"] == code
    assert code in REFUSAL_CODES
    assert record["file"] == {
        "file_number": 2,
        "file_name": bad.name,
        "sha256": sha256_of(bad),
        "size_bytes": bad.stat().st_size,
    }
    assert record["message"] == str(caught.value)
    assert record["who"]["kind"] == "local"
    assert record["objects_written"] == [
        {"key": event_key, "size_bytes": (lake / event_key).stat().st_size, "version_id": None}
    ]
    (event,) = pq.read_table(lake / event_key).to_pylist()
    assert (event["event_type"], event["reason_code"], event["source_file_sha256"]) == (
        "refused",
        code,
        sha256_of(bad),
    )
    assert event["event_id"] == record["load_id"]
    assert event["file_number"] == 2


def test_a_refusal_for_personal_data_lists_kinds_and_cells_never_values(tmp_path, lake):
    email, phone = "jane.doe@example.com", "604-871-7000"
    rows: list[list[Cell]] = [HEADER, *rows_for(date(2023, 1, 1), 2), [None] * 7 + [email]]
    bad = xlsx(
        tmp_path / f"from {email}.xlsx",
        {SHEET: rows, "Contacts": [["name", "phone"], ["Jane", phone]]},
    )
    with pytest.raises(WorkbookError):
        _load([bad], lake)
    (record_path,) = (lake / "_audit" / "refusals").rglob("*.json")
    text = record_path.read_text()
    (event_path,) = (lake / EVENTS_PREFIX).glob("2*.parquet")
    event_bytes = event_path.read_bytes()
    for value in (email, phone, "jane.doe", "871-7000"):
        assert value not in text
        assert value.encode() not in event_bytes
    record = json.loads(text)
    assert record["reason_code"] == "personal_data"
    assert record["file"]["file_name"] == "from [email address removed].xlsx"
    assert record["personal_data"] == [
        {"sheet": None, "row": None, "column": None, "kind": "email"},
        {"sheet": SHEET, "row": 4, "column": "H", "kind": "email"},
        {"sheet": "Contacts", "row": 2, "column": "B", "kind": "phone"},
    ]
    (event,) = pq.read_table(event_path).to_pylist()
    assert (event["pii_kinds"], event["pii_cells"]) == ("email,phone", 3)
    assert event["source_file_name"] == "from [email address removed].xlsx"


def test_a_missing_file_is_not_recorded(tmp_path, lake):
    with pytest.raises(WorkbookError, match="cannot read the file"):
        _load([tmp_path / "gone.xlsx"], lake)
    assert not lake.exists()


def test_dap_load_says_where_the_refusal_is_recorded(tmp_path, lake):
    bad = tmp_path / "notes.xlsx"
    bad.write_text("hello\n")
    done = run_dap("load", bad, "--lake", lake)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert lines[-1].startswith("dap load: error: notes.xlsx: ")
    assert lines[-2].startswith(
        "notes.xlsx: refused (not_a_workbook); refusal recorded: _audit/refusals/"
    )


def test_every_refusal_of_the_corpus_has_a_code(tmp_path):
    """The hostile and malformed workbooks of testkit.corpus that stop a load each get a
    code of their own class, not the fallback."""
    files = corpus.write_corpus(tmp_path, slow=False)
    codes: dict[str, str] = {}
    for case in corpus.cases(slow=False):
        path = files[case.name]
        try:
            parse_file(path.name, path.read_bytes())
        except DapError as exc:
            codes[case.name] = exc.code
    assert len(codes) >= 15
    assert {n: c for n, c in codes.items() if c not in REFUSAL_CODES or c == "unclassified"} == {}
    assert codes["password-protected-xlsx"] == "encrypted"
    assert codes["decompression-bomb"] == "too_large"
    assert codes["duplicate-header"] == "duplicate_header"


def test_events_read_back_as_written(landed, lake):
    local = LocalLake(lake)
    events = read_events(local)
    assert [(e.event_type, e.file_number, e.rows_landed) for e in events] == [
        ("landed", 1, 5),
        ("landed", 2, 3),
        ("landed", 3, 4),
    ]
    (key,) = [k for k in local.list_keys(EVENTS_PREFIX) if k != EMPTY_KEY]
    assert pq.read_table(io.BytesIO(local.read_bytes(key))).schema == EVENT_SCHEMA


def test_a_refusal_masks_personal_data_wherever_the_error_shows_it():
    """Defence in depth: the loader's messages already avoid values, but a refusal record
    masks whatever personal data an error's name, sheet or message might still show."""
    error = WorkbookError(
        Location("jo@example.org.xlsx", "Sheet of 604-871-7000", 3, "B"),
        "the first is jo@example.org",
    )
    refused = Refused.of(
        error, file_number=1, name="jo@example.org.xlsx", sha256="0" * 64, size_bytes=9
    )
    assert refused.file_name == "[email address removed].xlsx"
    assert refused.sheet == "Sheet of [phone number removed]"
    assert (refused.row, refused.column) == (3, "B")
    assert "jo@example.org" not in refused.message
    assert refused.message.endswith("the first is [email address removed]")
    assert refused.code == "unclassified"
