"""Crash safety and concurrency: a load killed with SIGKILL at any point leaves a lake
whose readers see only whole extracts, and loading again converges to exactly the lake an
uninterrupted load makes; two loads at once lose nothing. On a local lake and on S3
(a moto server on 127.0.0.1)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import testkit
from athena_local.serve import create_protected_bucket
from dap.lake.catalog import GlueCatalog
from dap.lake.extracts import EMPTY_KEY, EVENT_SCHEMA, EVENTS_PREFIX
from dap.lake.integrity import REGISTER_PREFIX, REGISTER_SCHEMA, verify_lake
from dap.lake.load import load_workbooks
from dap.lake.storage import RAW, Lake, LocalLake, S3Lake, open_lake
from dap.schema import DATASET
from testkit.support import DbtRunner
from testkit.workbooks import clean_env, simple_book, tree_state

KILLER = Path(testkit.__file__).with_name("kill_load.py")
VOLATILE = {"ingested_at"}
"""Differs between two loads of the same workbooks by design (when they were loaded)."""


def _books(folder: Path) -> list[Path]:
    """Two workbooks, each spanning two years (2021-2022, 2022-2023). Every row is valid
    (service level 0.5 + n/64 stays within 0-1 for n <= 32), so a row kept out of the marts
    is kept out by the commit rule, not by the quality rules."""
    return [
        simple_book(folder / "first.xlsx", date(2021, 12, 30), 4),
        simple_book(folder / "second.xlsx", date(2022, 12, 30), 5, start_n=20),
    ]


def _kill_load(
    args: list[str], kill_at: int, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(KILLER), "load", *args],
        env={**env, "DAP_KILL_AT": str(kill_at)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _event_count(args: list[str], env: dict[str, str]) -> int:
    done = _kill_load(args, -1, env)
    assert done.returncode == 0, done.stderr
    return int(done.stderr.strip().splitlines()[-1].removeprefix("events="))


def _snapshot(lake: Lake) -> dict[str, object]:
    """The lake as a reader sees it, minus what differs by design between two loads:
    every key but the audit trail; landing bytes; Parquet rows and manifests without their
    load times."""
    state: dict[str, object] = {}
    for key in lake.list_keys(""):
        if key.startswith("_audit/"):
            continue
        data = lake.read_bytes(key)
        if key.endswith(".parquet"):
            table = pq.read_table(io.BytesIO(data))
            state[key] = table.drop_columns([c for c in table.column_names if c in VOLATILE])
        elif key.endswith(".json"):
            manifest = json.loads(data)
            manifest.pop("ingested_at")
            # The raw files' checksums follow from their bytes, which hold ingested_at.
            manifest["raw_objects"] = [(o["key"], o["rows"]) for o in manifest["raw_objects"]]
            state[key] = manifest
        else:
            state[key] = data
    return state


def _check_readers_see_whole_extracts(lake: Lake) -> None:
    """What int_daily_metrics_validated relies on: every extract with a manifest is
    complete, and every Parquet file is whole (a partial file would not even parse). And
    what the dbt source of the extract event log relies on: once anything is in the raw
    zone, ``_audit/events/`` holds at least its zero-row file, and every file there has
    the log's columns."""
    keys = lake.list_keys("")
    tables = {
        k: pq.read_table(io.BytesIO(lake.read_bytes(k))) for k in keys if k.endswith(".parquet")
    }
    assert not [k for k in keys if k.rsplit("/", 1)[-1].startswith(".")], keys  # no temporaries
    events = {k: t for k, t in tables.items() if k.startswith(EVENTS_PREFIX)}
    raw = {k: t for k, t in tables.items() if k.startswith(f"{RAW}/")}
    register = {k: t for k, t in tables.items() if k.startswith(REGISTER_PREFIX)}
    assert set(tables) == set(events) | set(raw) | set(register), keys  # nowhere else
    if raw:
        assert EMPTY_KEY in events, keys
        assert f"{REGISTER_PREFIX}_empty.parquet" in register, keys
    # dap.lake.integrity: every raw file has its register entry (written before it).
    entered = {key for t in register.values() for key in t.column("raw_key").to_pylist()}
    assert set(raw) <= entered, keys
    for key, table in register.items():
        assert table.schema.equals(REGISTER_SCHEMA), key
    for key, table in events.items():
        assert table.schema.equals(EVENT_SCHEMA), key
    rows: dict[str, list[int]] = {}
    for table in raw.values():
        for sha, expected in zip(
            table.column("source_file_sha256").to_pylist(),
            table.column("extract_rows").to_pylist(),
            strict=True,
        ):
            rows.setdefault(sha, []).append(expected)
    for key in keys:
        if key.startswith("_manifests/"):
            sha = key.rsplit("/", 1)[-1].removesuffix(".json")
            assert len(rows[sha]) == rows[sha][0], f"{sha} has a manifest but is incomplete"


def _check_verify_reports_whole(
    lake: Lake, kill_at: int, *, finished: bool = False, catalog: GlueCatalog | None = None
) -> None:
    """`dap verify` after a stop: the lake is whole; what the stopped load wrote is
    reported as unfinished, never as damage; once loaded again, nothing is unfinished."""
    report = verify_lake(lake, catalog=catalog)
    assert report.whole, (kill_at, report.describe())
    kinds = {f.kind for f in report.findings}
    assert kinds <= ({"note"} if finished else {"unfinished", "note"}), report.describe()


def _converges(
    open_fresh: Callable[[], Lake],
    args: list[str],
    env: dict[str, str],
    books: list[Path],
    **load: Any,
) -> int:
    """Kill a load at every event in turn; after each, readers see whole extracts only
    and loading again gives the reference lake. Returns how many points were tried."""
    reference_lake = open_fresh()
    load_workbooks(books, reference_lake, **load)
    reference = _snapshot(reference_lake)
    events = _event_count([*map(str, books), *args(open_fresh())], env)
    assert events >= 2 * len(books)
    for kill_at in range(events):
        lake = open_fresh()
        killed = _kill_load([*map(str, books), *args(lake)], kill_at, env)
        assert killed.returncode == -9, (kill_at, killed.stderr[-2000:])
        _check_readers_see_whole_extracts(lake)
        _check_verify_reports_whole(lake, kill_at)
        load_workbooks(books, lake, **load)
        assert _snapshot(lake) == reference, f"no convergence after a kill at event {kill_at}"
        _check_readers_see_whole_extracts(lake)
        _check_verify_reports_whole(lake, kill_at, finished=True)
    return events


def test_a_local_load_killed_anywhere_converges(tmp_path):
    books = _books(tmp_path / "in")
    lakes = iter(range(1000))

    def fresh() -> Lake:
        return LocalLake(tmp_path / f"lake{next(lakes)}")

    def args(lake: Lake) -> list[str]:
        return ["--lake", lake.uri]

    points = _converges(fresh, args, clean_env(), books)
    # First the event log's zero-row file; per workbook: the landing copy, two Parquet
    # files, the manifest; then the load's events and its audit record. Each is two
    # events on a local lake: the write starts, the rename.
    # First the event log's and the raw-object register's zero-row files; per workbook: the
    # landing copy, its register entries, two Parquet files, the manifest; then the
    # load's events and its audit record. Each is two events on a local lake.
    assert points == 2 * (2 + 2 * 5 + 2)


def test_an_s3_load_killed_anywhere_converges(tmp_path, moto_env):
    books = _books(tmp_path / "in")
    session = boto3.Session()
    s3 = session.client("s3")
    key_arn = session.client("kms").create_key()["KeyMetadata"]["Arn"]
    buckets = iter(range(1000))

    def fresh() -> Lake:
        name = f"dap-kill-{next(buckets)}"
        create_protected_bucket(s3, name, "ca-central-1", key_arn)
        return open_lake(f"s3://{name}/lake", session)

    def args(lake: Lake) -> list[str]:
        assert isinstance(lake, S3Lake)
        return ["--lake", lake.uri, "--glue-database", f"kill_{lake.bucket.replace('-', '_')}"]

    def catalog_for(lake: S3Lake) -> GlueCatalog:
        return GlueCatalog(
            session, database=f"kill_{lake.bucket.replace('-', '_')}", lake_root=lake.root
        )

    env = clean_env(**moto_env)
    reference_lake = fresh()
    assert isinstance(reference_lake, S3Lake)
    events = _event_count([*map(str, books), *args(reference_lake)], env)
    reference = _snapshot(reference_lake)
    # The catalog check at the start; the event log's zero-row file; per workbook: four
    # writes and its Glue registration; the load's events; the audit record.
    # (and the raw-object register's zero-row file; per workbook its register entries)
    assert events == 1 + 2 + 2 * 6 + 1 + 1
    for kill_at in range(events):
        lake = fresh()
        assert isinstance(lake, S3Lake)
        killed = _kill_load([*map(str, books), *args(lake)], kill_at, env)
        assert killed.returncode == -9, (kill_at, killed.stderr[-2000:])
        _check_readers_see_whole_extracts(lake)
        _check_verify_reports_whole(lake, kill_at, catalog=catalog_for(lake))
        load_workbooks(books, lake, catalog=catalog_for(lake))
        assert _snapshot(lake) == reference, f"no convergence after a kill at event {kill_at}"
        _check_verify_reports_whole(lake, kill_at, finished=True, catalog=catalog_for(lake))
        glue = session.client("glue")
        values = {
            tuple(p["Values"])
            for p in glue.get_partitions(
                DatabaseName=catalog_for(lake).database, TableName=DATASET
            )["Partitions"]
        }
        assert values == {("2021",), ("2022",), ("2023",)}, kill_at


def test_two_loads_at_once_lose_nothing(tmp_path):
    lake = tmp_path / "lake"
    folder = tmp_path / "in"
    mine = [simple_book(folder / f"a{i}.xlsx", date(2010 + i, 6, 1), 30) for i in range(4)]
    theirs = [simple_book(folder / f"b{i}.xlsx", date(2015 + i, 6, 1), 30) for i in range(4)]
    both = mine[0]  # given to both loads
    dap = [str(Path(sys.executable).with_name("dap")), "load", "--lake", str(lake)]
    first = subprocess.Popen([*dap, *map(str, mine)], stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen([*dap, *map(str, [*theirs, both])], stderr=subprocess.PIPE, text=True)
    assert first.wait(timeout=120) == 0, first.stderr.read() if first.stderr else ""
    assert second.wait(timeout=120) == 0, second.stderr.read() if second.stderr else ""

    _check_readers_see_whole_extracts(LocalLake(lake))
    reference = tmp_path / "reference"
    load_workbooks([*mine, *theirs], LocalLake(reference))
    assert _snapshot(LocalLake(lake)).keys() == _snapshot(LocalLake(reference)).keys()
    table = pa.concat_tables(pq.read_table(p) for p in sorted((lake / "raw").rglob("*.parquet")))
    assert table.num_rows == 8 * 30
    assert (
        len(
            set(
                zip(
                    *(
                        table.column(c).to_pylist()
                        for c in ("source_file_sha256", "source_row_number")
                    ),
                    strict=True,
                )
            )
        )
        == 240
    )
    # Loading everything again finds every workbook landed.
    again = load_workbooks([*mine, *theirs], LocalLake(lake))
    assert [f.status for f in again.files] == ["unchanged"] * 8
    assert [k for k in tree_state(lake, audit=True) if k.endswith(".tmp")] == []


@pytest.mark.dbt
def test_dbt_leaves_out_an_extract_whose_load_was_killed(tmp_path, run_dbt: DbtRunner):
    """Killed after the first of the second workbook's two partition files: the marts
    have the first workbook's days only, and a warning names the half-landed extract."""
    books = _books(tmp_path / "in")
    lake = tmp_path / "lake"
    # Events: the event log's and the register's zero-row files (2 each: write, rename);
    # first.xlsx landing (2), register entries (2), 2 partitions (4), manifest (2);
    # second.xlsx landing (2), register entries (2), first partition (2): kill as its
    # second partition starts.
    killed = _kill_load([*map(str, books), "--lake", str(lake)], 20, clean_env())
    assert killed.returncode == -9, killed.stderr
    assert len(list((lake / "raw").rglob("*.parquet"))) == 3

    result = run_dbt("build", lake=lake)
    days = {
        r["unique_id"].split(".")[-1]: (r["status"], r.get("failures"))
        for r in result.run_results["results"]
    }
    assert days["assert_no_extract_is_partly_landed"] == ("warn", 1)
    import duckdb  # noqa: PLC0415

    with duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True) as con:
        dates = [
            d
            for (d,) in con.execute(
                "select date from trusted.fct_contact_centre_daily order by 1"
            ).fetchall()
        ]
    assert dates == [date(2021, 12, 30) + timedelta(days=n) for n in range(4)]
