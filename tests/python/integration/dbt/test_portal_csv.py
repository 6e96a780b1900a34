"""The portal's own exports, loaded as they are: the reference CSV (``;``, a byte-order
mark, ISO dates) and the same data as Parquet, each into a fresh lake, then ``dbt build``.

The yearly mart must equal totals computed here, independently of the loader and the
models, from the CSV with Python's csv module: calls offered and handled per year, and
calls_handled_pct = round-half-up(100 x handled / offered, 2). Skipped when the reference
data is absent (../shared/data/README.md).
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from dap.schema import DATASET
from testkit.support import DbtRunner, run_dap

pytestmark = pytest.mark.dbt

BUILD = {"dbt_invocation_id", "built_at", "extracts_ingested_through"}
"""Which build wrote a row and when: differs between any two builds."""
LINEAGE = {"source_file_name", "source_file_sha256", "ingested_at", "extracts_reporting_date"}
"""Which file a row came from: differs between the CSV and the Parquet copy."""


def yearly_totals(path: Path) -> dict[int, tuple[int, int, Decimal]]:
    """Year -> (calls offered, calls handled, handled %), straight from the CSV."""
    offered: dict[int, int] = defaultdict(int)
    handled: dict[int, int] = defaultdict(int)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for record in csv.DictReader(handle, delimiter=";"):
            year = int(record["Date"][:4])
            offered[year] += int(record["CallsOffered"])
            handled[year] += int(record["CallsHandled"])
    return {
        year: (
            offered[year],
            handled[year],
            (Decimal(100 * handled[year]) / Decimal(offered[year])).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_UP
            ),
        )
        for year in sorted(offered)
    }


def yearly_mart(lake: Path) -> list[dict[str, object]]:
    with duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True) as con:
        cursor = con.execute("select * from trusted.fct_calls_handled_yearly order by year")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def load_and_build(path: Path, lake: Path, run_dbt: DbtRunner, *, extension: str) -> None:
    result = run_dap("load", str(path), "--lake", str(lake))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        "loaded: 1 file(s): 1 landed, 0 skipped as unchanged; 5,585 rows"
    )
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    landed = lake / "landing" / DATASET / f"{sha}{extension}"
    assert landed.read_bytes() == path.read_bytes()  # the original bytes, named by format
    manifest = json.loads((lake / "_manifests" / DATASET / f"{sha}.json").read_text())
    assert [(s["header_row"], s["rows"], s["rows_with_issues"]) for s in manifest["sheets"]] == [
        (1, 5585, 0)
    ]
    run_dbt("build", lake=lake)


def check_against_the_csv(yearly: list[dict[str, object]], expected: dict) -> None:
    assert [row["year"] for row in yearly] == list(expected)
    for row in yearly:
        offered, handled, pct = expected[row["year"]]
        assert (row["calls_offered"], row["calls_handled"]) == (offered, handled), row["year"]
        assert Decimal(str(row["calls_handled_pct"])) == pct, row["year"]


def test_the_portal_csv_and_its_parquet_copy_give_the_yearly_totals(
    real_csv: Path, tmp_path: Path, run_dbt: DbtRunner
) -> None:
    expected = yearly_totals(real_csv)
    assert min(expected) == 2009
    assert max(expected) == 2024

    csv_lake = tmp_path / "csv-lake"
    load_and_build(real_csv, csv_lake, run_dbt, extension=".csv")  # the file exactly as it is
    from_csv = yearly_mart(csv_lake)
    check_against_the_csv(from_csv, expected)

    # The same rows as Parquet, typed by pyarrow's CSV reader (dates, integers, doubles).
    table = pa_csv.read_csv(real_csv, parse_options=pa_csv.ParseOptions(delimiter=";"))
    assert str(table.schema.field("Date").type) == "date32[day]"
    parquet = tmp_path / "3-1-1-contact-centre-metrics.parquet"
    pq.write_table(table, parquet)
    parquet_lake = tmp_path / "parquet-lake"
    load_and_build(parquet, parquet_lake, run_dbt, extension=".parquet")
    from_parquet = yearly_mart(parquet_lake)
    check_against_the_csv(from_parquet, expected)

    def comparable(rows: list[dict[str, object]]) -> list[dict[str, object]]:
        return [{k: v for k, v in r.items() if k not in BUILD | LINEAGE} for r in rows]

    assert comparable(from_parquet) == comparable(from_csv)
