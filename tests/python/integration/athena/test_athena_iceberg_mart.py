"""The daily mart as an Iceberg table, built with dbt-athena's `merge` strategy through
the local endpoint (issue 18), equals the project's Hive build after every load.

A copy of the project gains `fct_contact_centre_daily_iceberg`: the daily mart's own SQL
(incremental by year, reading its own watermark from `{{ this }}`), configured as an
Iceberg table merged on `date`. One `dbt run` builds both from the same upstream models
after each of a sequence of loads: 2020, then 2021, then a re-issued 2021 that
supersedes the January it covers. After each run the two tables hold
the same rows.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from athena_local import AthenaLocal
from testkit.athena_lake import prepare_lake, query_pages, session
from testkit.support import BIN, REPO_ROOT, DbtResult, copy_project, run_dbt_cli
from testkit.workbooks import simple_book

pytestmark = [pytest.mark.dbt, pytest.mark.s3]

LAKE_BUCKET = "vancouver-311-iceberg-lake"
RESULTS_BUCKET = "vancouver-311-iceberg-results"
DAILY = "fct_contact_centre_daily"
ICEBERG = f"{DAILY}_iceberg"
# Set by the time of a build, or by which model wrote the row.
BUILD_COLUMNS = {"dbt_invocation_id", "built_at"}
ICEBERG_CONFIG = (
    "{{ config(materialized='incremental', on_schema_change='fail', table_type='iceberg',"
    " incremental_strategy='merge', unique_key='date', partitioned_by=['year'],"
    " contract={'enforced': false}) }}"
)


@dataclass
class Lake:
    endpoint: AthenaLocal
    env: dict[str, str]
    project: Path
    target: Path

    def load(self, *workbooks: Path, supersede: bool = False) -> None:
        command = [str(BIN / "dap"), "load", *(["--supersede"] if supersede else [])]
        command += ["--lake", f"s3://{LAKE_BUCKET}", *map(str, workbooks)]
        done = subprocess.run(command, env=self.env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr

    def run(self) -> DbtResult:
        args = ("run", "--select", f"+{DAILY}", f"+{ICEBERG}")
        result = run_dbt_cli(args, cwd=self.project, env=self.env, target=self.target)
        assert result.returncode == 0, result.output[-6000:]
        return result

    def rows(self, table: str) -> tuple[list[str | None], list[list[str | None]]]:
        query = f"select * from trusted.{table} order by date"
        _, rows = query_pages(self.endpoint, query, RESULTS_BUCKET)
        return rows[0], rows[1:]

    def assert_equal_builds(self) -> int:
        hive_columns, hive_rows = self.rows(DAILY)
        iceberg_columns, iceberg_rows = self.rows(ICEBERG)
        assert sorted(iceberg_columns) == sorted(hive_columns)
        kept = [c for c in hive_columns if c not in BUILD_COLUMNS]
        hive = [[r[hive_columns.index(c)] for c in kept] for r in hive_rows]
        iceberg = [[r[iceberg_columns.index(c)] for c in kept] for r in iceberg_rows]
        assert iceberg == hive
        return len(hive)


def _scratch_project(root: Path) -> Path:
    """The project, plus the daily mart as an Iceberg table merged on `date`."""
    copy_project(root)
    sql = (REPO_ROOT / "models" / "marts" / f"{DAILY}.sql").read_text()
    config = re.compile(r"\{\{\s*config\(.*?\)\s*\}\}", re.DOTALL)
    assert len(config.findall(sql)) == 1
    (root / "models" / "marts" / f"{ICEBERG}.sql").write_text(config.sub(ICEBERG_CONFIG, sql))
    return root


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory, dbt_profiles_dir: Path) -> Iterator[Lake]:
    tmp = tmp_path_factory.mktemp("iceberg-mart")
    project = _scratch_project(tmp / "project")
    with AthenaLocal() as endpoint:
        env = prepare_lake(
            endpoint,
            dbt_profiles_dir,
            lake_bucket=LAKE_BUCKET,
            results_bucket=RESULTS_BUCKET,
            poll_interval="0.1",
        )
        yield Lake(endpoint, env, project, tmp / "target")


def test_the_daily_mart_merged_into_iceberg_equals_the_hive_build(
    lake: Lake, tmp_path: Path
) -> None:
    workbooks = tmp_path / "workbooks"
    subprocess.run(
        [str(BIN / "dap"), "sample", "--out", str(workbooks), "--end", "2021-12-31"],
        check=True,
        capture_output=True,
    )
    books = sorted(workbooks.iterdir())
    assert len(books) == 2  # 2020 (the legacy .xls) and 2021
    lake.load(books[0])
    lake.run()
    first = lake.assert_equal_builds()
    lake.load(books[1])
    lake.run()
    assert lake.assert_equal_builds() > first
    # A re-issued January 2021, superseding the extract it corrects: the merge updates
    # those days in place; the Hive build replaces the year.
    reissued = simple_book(tmp_path / "reissued-2021.xlsx", date(2021, 1, 1), 31)
    lake.load(reissued, supersede=True)
    before = lake.rows(ICEBERG)[1]
    lake.run()
    assert lake.rows(ICEBERG)[1] != before
    lake.assert_equal_builds()
    # The later runs merged into the Iceberg table (dbt-athena's `merge` strategy), and
    # every statement the endpoint ran succeeded.
    log = lake.endpoint.query_log()
    assert [e["error"] for e in log if e["state"] != "SUCCEEDED"] == []
    merges = [e for e in log if e["substatement_type"] == "MERGE"]
    assert len(merges) >= 2
    assert all(ICEBERG in e["query"] for e in merges)
    glue = session().client("glue", endpoint_url=lake.endpoint.url)
    table = glue.get_table(DatabaseName="trusted", Name=ICEBERG)["Table"]
    assert table["Parameters"]["table_type"] == "ICEBERG"
    athena_types = {c["Name"]: c["Type"] for c in table["StorageDescriptor"]["Columns"]}
    assert athena_types["date"] == "date"
