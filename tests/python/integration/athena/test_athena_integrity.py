"""The build-side integrity check on Athena, offline: `dap load` to s3:// registers the
raw-object register as a Glue table, `assert_raw_files_match_their_register` passes on the
lake as loaded, fails on a raw object altered after landing (its rows name the file and
what differs), and passes again after `dap repair`."""

from __future__ import annotations

import io
import subprocess
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from athena_local import AthenaLocal
from testkit.athena_lake import prepare_lake, query_pages, session
from testkit.support import BIN, REPO_ROOT, run_dbt_cli
from testkit.workbooks import sha256_of, simple_book

pytestmark = [pytest.mark.dbt, pytest.mark.s3]

LAKE = "dap-integrity-lake"
RESULTS = "dap-integrity-results"
NAME = "assert_raw_files_match_their_register"
TEST = f"test.vancouver_311.{NAME}"


def _query(endpoint: AthenaLocal, sql: str) -> list[list[str | None]]:
    return query_pages(endpoint, sql, RESULTS)[1][1:]


def test_the_register_check_runs_on_athena(tmp_path: Path, dbt_profiles_dir: Path) -> None:
    books = [
        simple_book(tmp_path / "in" / "first.xlsx", date(2021, 12, 30), 4),
        simple_book(tmp_path / "in" / "second.xlsx", date(2022, 12, 30), 5, start_n=20),
    ]
    with AthenaLocal() as endpoint:
        env = prepare_lake(endpoint, dbt_profiles_dir, lake_bucket=LAKE, results_bucket=RESULTS)
        s3 = session().client("s3", endpoint_url=endpoint.url)

        def dap(*args: str) -> subprocess.CompletedProcess[str]:
            done = subprocess.run(
                [str(BIN / "dap"), *args, "--lake", f"s3://{LAKE}"],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            assert done.returncode == 0, done.stderr
            return done

        def check() -> str:
            result = run_dbt_cli(
                ("build", "--select", NAME),
                cwd=REPO_ROOT,
                env=env,
                target=tmp_path / "target",
            )
            return result.statuses().get(TEST, result.output[-3000:])

        dap("load", *map(str, books))
        assert check() == "pass"

        sha = sha256_of(books[0])
        key = f"raw/contact_centre_metrics/year=2022/{sha}.parquet"
        original = s3.get_object(Bucket=LAKE, Key=key)["Body"].read()
        table = pq.read_table(io.BytesIO(original))
        values = table.column("callshandled").to_pylist()
        index = table.schema.get_field_index("callshandled")
        sink = io.BytesIO()
        pq.write_table(
            table.set_column(index, "callshandled", pa.array(values[1:] + values[:1])), sink
        )
        s3.put_object(Bucket=LAKE, Key=key, Body=sink.getvalue())
        assert check() == "fail"
        compiled = next((tmp_path / "target" / "compiled").rglob(f"{NAME}.sql"))
        rows = _query(endpoint, compiled.read_text())
        assert [(r[0], r[1], r[3]) for r in rows] == [
            (key, "first.xlsx", "callshandled values differ")
        ]

        dap("repair", sha[:12])
        assert s3.get_object(Bucket=LAKE, Key=key)["Body"].read() == original
        assert check() == "pass"
