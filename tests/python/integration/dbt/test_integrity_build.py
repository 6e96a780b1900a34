"""The build refuses raw files that are not what the load wrote: a raw Parquet file altered
after landing (a column retyped, values shifted to other rows) fails `dbt build
--full-refresh` with `assert_raw_files_match_their_register`, whose rows name the file, its
extract and what differs; after `dap repair` the build passes again."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dap.lake.audit import Identity
from dap.lake.integrity import repair_extract
from dap.lake.load import load_workbooks
from dap.lake.storage import LocalLake
from dap.schema import DATASET
from testkit.support import DbtRunner
from testkit.workbooks import sha256_of, simple_book

pytestmark = pytest.mark.dbt

TEST = "test.vancouver_311.assert_raw_files_match_their_register"


def _failures(target: Path) -> list[dict[str, object]]:
    """The failing test's rows: its compiled SQL run on the lake."""
    compiled = next((target / "compiled").rglob("assert_raw_files_match_their_register.sql"))
    with duckdb.connect() as connection:
        result = connection.execute(compiled.read_text())
        names = [d[0] for d in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def _shift(path: Path, column: str, *, retype: bool) -> None:
    table = pq.read_table(path)
    values = table.column(column).to_pylist()
    moved = values[1:] + values[:1]
    array = pa.array([str(v) for v in moved]) if retype else pa.array(moved)
    index = table.schema.get_field_index(column)
    pq.write_table(table.set_column(index, column, array), path)


def test_a_build_over_a_tampered_raw_file_fails_naming_it(tmp_path, run_dbt: DbtRunner):
    books = [
        simple_book(tmp_path / "in" / "first.xlsx", date(2021, 12, 30), 4),
        simple_book(tmp_path / "in" / "second.xlsx", date(2022, 12, 30), 5, start_n=20),
    ]
    lake = tmp_path / "lake"
    load_workbooks(books, LocalLake(lake))
    result = run_dbt("build", lake=lake)
    assert result.statuses()[TEST] == "pass"

    sha = sha256_of(books[1])
    key = f"raw/{DATASET}/year=2023/{sha}.parquet"
    original = (lake / key).read_bytes()
    _shift(lake / key, "callsoffered", retype=True)  # retyped and shifted
    _shift(lake / key, "servicelevel", retype=False)  # shifted only
    result = run_dbt("build", "--full-refresh", lake=lake, check=False)
    assert result.returncode != 0
    assert result.statuses()[TEST] == "fail"
    assert "assert_raw_files_match_their_register" in result.output
    (row,) = _failures(tmp_path / "dbt-target")
    assert row["raw_file"] == key
    assert row["source_file_name"] == "second.xlsx"
    assert row["what_differs"] == "callsoffered values differ; servicelevel values differ"
    assert f"dap repair {sha[:12]}" in str(row["what_to_do"])

    repair_extract(lake=LocalLake(lake), text=sha, who=Identity("local", "tester"))
    assert (lake / key).read_bytes() == original
    result = run_dbt("build", "--select", "assert_raw_files_match_their_register", lake=lake)
    assert result.statuses()[TEST] == "pass"


def test_rows_moved_into_another_year_folder_are_named(tmp_path, run_dbt: DbtRunner):
    book = simple_book(tmp_path / "in" / "first.xlsx", date(2021, 12, 30), 4)
    lake = tmp_path / "lake"
    load_workbooks([book], LocalLake(lake))
    sha = sha256_of(book)
    source = lake / f"raw/{DATASET}/year=2021/{sha}.parquet"
    planted = lake / f"raw/{DATASET}/year=2020/{sha}.parquet"
    planted.parent.mkdir(parents=True)
    source.rename(planted)
    result = run_dbt(
        "build", "--select", "assert_raw_files_match_their_register", lake=lake, check=False
    )
    assert result.statuses()[TEST] == "fail"
    (row,) = _failures(tmp_path / "dbt-target")
    assert row["raw_file"] == f"raw/{DATASET}/year=2020/{sha}.parquet"
    assert str(row["what_differs"]).startswith("rows in a year folder the load did not write")
