"""The whole project on Athena, offline: loader to s3://, then `dbt build --target athena`.

The local endpoint (athena_local) serves S3, Glue and Athena on 127.0.0.1; dbt-athena
talks to it over HTTP with AWS_ENDPOINT_URL set, exactly as it would talk to AWS. The
trusted marts it builds must equal, row for row, the ones the DuckDB target builds from
the same workbooks.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests
import yaml

from athena_local import AthenaLocal
from athena_local.serve import create_lake_key, create_protected_bucket
from testkit.athena_lake import query_pages, session
from testkit.support import (
    ATHENA_REGION,
    BIN,
    REPO_ROOT,
    DbtResult,
    aws_env,
    copy_project,
    run_dbt_cli,
)
from testkit.workbooks import simple_book

pytestmark = [pytest.mark.dbt, pytest.mark.s3]

LAKE_BUCKET = "vancouver-311-lake"
RESULTS_BUCKET = "vancouver-311-athena-results"
MARTS = {
    "fct_contact_centre_daily": "date",
    "fct_calls_handled_monthly": "month_start_date",
    "fct_calls_handled_yearly": "year",
    "fct_contact_centre_weekday_profile": "month_of_year, iso_weekday",
    "fct_contact_centre_strain_days": "date",
    "fct_contact_centre_volume_response_yearly": "year",
    "metricflow_time_spine": "date_day",
}
# When each extract was loaded differs between the two loads by design.
LOAD_TIME_COLUMNS = {"ingested_at", "extracts_ingested_through", "dbt_invocation_id", "built_at"}
"""Columns set by the time of a load or a build, which differ between the two targets."""


@dataclass
class AthenaProject:
    endpoint: AthenaLocal
    env: dict[str, str]
    workbooks: Path
    first_build: DbtResult
    tmp: Path

    def dbt(self, *args: str, project: Path = REPO_ROOT) -> DbtResult:
        return _dbt(args, project, self.env, self.tmp / "athena-target")

    def query(self, sql: str) -> tuple[list[str], list[list[str | None]]]:
        types, rows = query_pages(self.endpoint, sql, RESULTS_BUCKET)
        return types, rows[1:]

    def columns(self, table: str) -> list[str]:
        glue = session().client("glue", endpoint_url=self.endpoint.url)
        found = glue.get_table(DatabaseName="trusted", Name=table)["Table"]
        keys = [k["Name"] for k in found["PartitionKeys"]]
        return [c["Name"] for c in found["StorageDescriptor"]["Columns"]] + keys


def _dbt(args: tuple[str, ...], project: Path, env: dict[str, str], target: Path) -> DbtResult:
    return run_dbt_cli(args, cwd=project, env=env, target=target)


def _base_env(profiles: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DAP_", "DBT_"))}
    env.update(DBT_PROFILES_DIR=str(profiles), DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    return env


@pytest.fixture(scope="module")
def profiles(dbt_profiles_dir: Path) -> Path:
    """The documented profile (conftest's dbt_profiles_dir), under a shorter name."""
    return dbt_profiles_dir


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("workbooks")
    subprocess.run([str(BIN / "dap"), "sample", "--out", str(out)], check=True, capture_output=True)
    return out


@pytest.fixture(scope="module")
def athena_project(
    tmp_path_factory: pytest.TempPathFactory, profiles: Path, workbooks: Path
) -> Iterator[AthenaProject]:
    tmp = tmp_path_factory.mktemp("athena")
    with AthenaLocal() as endpoint:
        requests.post(f"{endpoint.url}/moto-api/reset", timeout=30).raise_for_status()
        s3 = session().client("s3", endpoint_url=endpoint.url)
        # Versioned, SSE-KMS by default: `dap load` refuses anything less, and the Athena
        # side must work on such buckets (drops leave delete markers, not empty folders).
        key_arn = create_lake_key(session().client("kms", endpoint_url=endpoint.url))
        for bucket in (LAKE_BUCKET, RESULTS_BUCKET):
            create_protected_bucket(s3, bucket, ATHENA_REGION, key_arn)
        env = {
            **_base_env(profiles),
            **aws_env(endpoint.url),
            "DBT_TARGET": "athena",
            "DAP_ATHENA_S3_STAGING_DIR": f"s3://{RESULTS_BUCKET}/dbt/",
            "DAP_ATHENA_S3_DATA_DIR": f"s3://{LAKE_BUCKET}/",
            "DAP_ATHENA_POLL_INTERVAL": "0.2",
            "DAP_ATHENA_NUM_RETRIES": "0",
        }
        load = subprocess.run(
            [
                str(BIN / "dap"),
                "load",
                "--lake",
                f"s3://{LAKE_BUCKET}",
                *sorted(map(str, workbooks.iterdir())),
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert load.returncode == 0, load.stderr
        first = _dbt(("build",), REPO_ROOT, env, tmp / "athena-target")
        yield AthenaProject(endpoint, env, workbooks, first, tmp)


@pytest.fixture(scope="module")
def local_lake(tmp_path_factory: pytest.TempPathFactory, profiles: Path, workbooks: Path) -> Path:
    lake = tmp_path_factory.mktemp("lake")
    env = {**_base_env(profiles), "DAP_LAKE": str(lake)}
    subprocess.run(
        [str(BIN / "dap"), "load", "--lake", str(lake), *sorted(map(str, workbooks.iterdir()))],
        env=env,
        check=True,
        capture_output=True,
    )
    result = _dbt(("build",), REPO_ROOT, env, lake.parent / "local-target")
    assert result.returncode == 0, result.output[-4000:]
    return lake


def test_dbt_build_on_athena_passes_models_data_and_unit_tests(
    athena_project: AthenaProject,
) -> None:
    result = athena_project.first_build
    assert result.returncode == 0, result.output[-6000:]
    statuses = result.statuses()
    kinds: dict[str, int] = {}
    for unique_id, status in statuses.items():
        kind = unique_id.split(".")[0]
        if kind == "exposure":
            continue
        assert status in ("success", "pass", "warn"), (unique_id, status)
        kinds[kind] = kinds.get(kind, 0) + 1
    assert "seed" not in kinds  # the rule catalogue is a model (quality_rules)
    # Every model and unit test of the project ran, and passed, on Athena.
    models = REPO_ROOT / "models"
    assert kinds["model"] == len(list(models.rglob("*.sql")))
    unit_tests = sum(
        len((yaml.safe_load(path.read_text()) or {}).get("unit_tests", []))
        for path in models.rglob("*.yml")
    )
    assert kinds["unit_test"] == unit_tests >= 18
    assert kinds["test"] > 80
    log = athena_project.endpoint.query_log()
    assert [e["error"] for e in log if e["state"] != "SUCCEEDED"] == []
    # Every model's SQL went through the translator (nothing ran untranslated).
    ctas = [e for e in log if e["substatement_type"] == "CREATE_TABLE_AS_SELECT"]
    assert ctas
    assert all(e["translated"] for e in ctas)


def test_zones_are_glue_databases_with_their_own_prefixes(athena_project: AthenaProject) -> None:
    glue = session().client("glue", endpoint_url=athena_project.endpoint.url)
    tables = {
        db: {t["Name"]: t for t in glue.get_tables(DatabaseName=db)["TableList"]}
        for db in ("raw", "curated", "trusted")
    }
    assert set(tables["trusted"]) == set(MARTS)
    assert tables["curated"]["stg_contact_centre__daily_metrics"]["TableType"] == "VIRTUAL_VIEW"
    for name, table in tables["trusted"].items():
        location = table["StorageDescriptor"]["Location"]
        assert location.startswith(f"s3://{LAKE_BUCKET}/trusted/{name}/"), location
        assert table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"].endswith(
            "ParquetHiveSerDe"
        )
        assert table["Parameters"]["parquet.compression"] == "SNAPPY"
    quarantine = tables["curated"]["quarantine_daily_metrics"]["StorageDescriptor"]["Location"]
    assert quarantine.startswith(f"s3://{LAKE_BUCKET}/curated/quarantine_daily_metrics/")
    daily = tables["trusted"]["fct_contact_centre_daily"]
    assert daily["PartitionKeys"] == [{"Name": "year", "Type": "int"}]
    partitions = glue.get_partitions(DatabaseName="trusted", TableName="fct_contact_centre_daily")
    years = sorted(p["Values"][0] for p in partitions["Partitions"])
    assert years == ["2020", "2021", "2022", "2023", "2024"]


def _typed(value: str | None, athena_type: str) -> Any:  # noqa: PLR0911
    if value is None:
        return None
    if athena_type in ("integer", "bigint"):
        return int(value)
    if athena_type == "double":
        return float(value)
    if athena_type == "boolean":
        return value == "true"
    if athena_type == "date":
        return date.fromisoformat(value)
    if athena_type == "timestamp":
        return datetime.fromisoformat(value)
    return value


def test_trusted_marts_on_athena_equal_the_duckdb_marts(
    athena_project: AthenaProject, local_lake: Path
) -> None:
    warehouse = duckdb.connect(str(local_lake / "warehouse.duckdb"), read_only=True)
    try:
        for mart, key in MARTS.items():
            local = warehouse.execute(f"select * from trusted.{mart} order by {key}")
            local_columns = [d[0] for d in local.description]
            local_rows = local.fetchall()
            types, athena_rows = athena_project.query(
                f"select * from trusted.{mart} order by {key}"
            )
            assert athena_project.columns(mart) == local_columns
            assert len(athena_rows) == len(local_rows) > 0, mart
            keep = [i for i, c in enumerate(local_columns) if c not in LOAD_TIME_COLUMNS]
            for local_row, athena_row in zip(local_rows, athena_rows, strict=True):
                expected = [local_row[i] for i in keep]
                actual = [_typed(athena_row[i], types[i]) for i in keep]
                assert actual == expected, (mart, local_row[0])
    finally:
        warehouse.close()


@pytest.mark.long  # a second full build on Athena (~2 min); the reissued-year test
# below rebuilds the marts (with `ha`) after a load and checks no table is left over
def test_rerunning_the_build_against_the_same_state_succeeds(
    athena_project: AthenaProject,
) -> None:
    figures = (
        "select year, calls_offered, calls_handled, calls_handled_pct, days_reported"
        " from trusted.fct_calls_handled_yearly order by year"
    )
    builds = "select distinct dbt_invocation_id from trusted.fct_calls_handled_yearly"
    before, built_by = athena_project.query(figures), athena_project.query(builds)
    result = athena_project.dbt("build")
    assert result.returncode == 0, result.output[-6000:]
    assert athena_project.query(figures) == before
    rebuilt_by = athena_project.query(builds)
    assert rebuilt_by[1] == [[result.run_results["metadata"]["invocation_id"]]] != built_by[1]
    _assert_no_leftover_tables(athena_project)


def _assert_no_leftover_tables(athena_project: AthenaProject) -> None:
    """No table dbt-athena makes on the way (``ha`` swaps, temporary tables) is left."""
    glue = session().client("glue", endpoint_url=athena_project.endpoint.url)
    for db in ("curated", "trusted"):
        names = [t["Name"] for t in glue.get_tables(DatabaseName=db)["TableList"]]
        assert not [n for n in names if n.endswith(("__ha", "__dbt_tmp", "__bkp"))], names


FAULTS = {
    "fault_duckdb_function": (
        "select epoch_ms(ingested_at) as loaded_ms\n"
        "from {{ ref('stg_contact_centre__daily_metrics') }}\n",
        r"FUNCTION_NOT_FOUND: line \d+:\d+: Function 'epoch_ms' not registered",
    ),
    "fault_unknown_column": (
        "select date, calls_handeld\nfrom {{ ref('fct_contact_centre_daily') }}\n",
        r"COLUMN_NOT_FOUND: line \d+:\d+: Column 'calls_handeld' cannot be resolved",
    ),
    "fault_integer_division": (
        "select date, calls_handled / calls_offered as handled_share\n"
        "from {{ ref('fct_contact_centre_daily') }}\n",
        r"handled_share\s*\|\s*BIGINT\s*\|\s*DOUBLE\s*\|\s*data type mismatch",
    ),
}
# Incremental models run by dbt-athena's own strategies (Hive: insert_overwrite, append).
INCREMENTAL = {
    "incr_by_year": """{{ config(materialized='incremental',
    incremental_strategy='insert_overwrite', partitioned_by=['year']) }}
select date, calls_offered, {{ year_of('date') }} as year
from {{ ref('fct_contact_centre_daily') }}
{% if is_incremental() %}
where {{ year_of('date') }} >= (select max(year) from {{ this }})
{% endif %}
""",
    "incr_appended": """{{ config(materialized='incremental', incremental_strategy='append') }}
select date, calls_offered
from {{ ref('fct_contact_centre_daily') }}
{% if is_incremental() %}
where date > (select max(date) from {{ this }})
{% endif %}
""",
}
FAULTS_YML = """
models:
  - name: fault_integer_division
    description: handled_share is a fraction on DuckDB and truncated to 0 or 1 on Athena.
    config:
      contract:
        enforced: true
    columns:
      - name: date
        data_type: date
      - name: handled_share
        data_type: double
"""


@pytest.fixture(scope="module")
def scratch_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project with one seeded Athena-only fault per model."""
    scratch = copy_project(tmp_path_factory.mktemp("scratch-project"))
    faults = scratch / "models" / "scratch"
    faults.mkdir()
    for name, (sql, _) in FAULTS.items():
        (faults / f"{name}.sql").write_text(sql)
    for name, sql in INCREMENTAL.items():
        (faults / f"{name}.sql").write_text(sql)
    (faults / "_scratch__models.yml").write_text(FAULTS_YML)
    return scratch


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_seeded_athena_only_fault_fails_clearly_through_the_endpoint(
    athena_project: AthenaProject, local_lake: Path, scratch_project: Path, fault: str
) -> None:
    # On DuckDB the model builds: the fault only shows on Athena (except the typo).
    local_env = {
        **_base_env(Path(athena_project.env["DBT_PROFILES_DIR"])),
        "DAP_LAKE": str(local_lake),
    }
    local = _dbt(
        ("run", "--select", fault),
        scratch_project,
        local_env,
        local_lake.parent / f"scratch-{fault}",
    )
    expected_locally = 1 if fault == "fault_unknown_column" else 0
    assert local.returncode == expected_locally, local.output[-3000:]

    result = athena_project.dbt("run", "--select", fault, project=scratch_project)
    assert result.returncode == 1
    # For the division, dbt's contract check names the type Athena computes: bigint.
    assert re.search(FAULTS[fault][1], result.output), result.output[-3000:]


def test_incremental_models_and_dbt_show_work_through_dbt_athena(
    athena_project: AthenaProject, scratch_project: Path
) -> None:
    select = ("--select", *sorted(INCREMENTAL))
    first = athena_project.dbt("run", *select, project=scratch_project)
    assert first.returncode == 0, first.output[-3000:]
    second = athena_project.dbt("run", *select, project=scratch_project)
    assert second.returncode == 0, second.output[-3000:]
    # The second run is incremental: the last year is replaced, nothing is appended.
    assert "OK 0" in second.output
    _, per_year = athena_project.query(
        "select year, count(*) from vancouver_311.incr_by_year group by year order by year"
    )
    _, expected = athena_project.query(
        "select year, count(*) from trusted.fct_contact_centre_daily group by year order by year"
    )
    assert per_year == expected
    _, appended = athena_project.query(
        "select count(*), count(distinct date) from vancouver_311.incr_appended"
    )
    total = str(sum(int(n) for _, n in expected))
    assert appended == [[total, total]]

    show = athena_project.dbt("show", "--select", "fct_calls_handled_yearly", "--limit", "3")
    assert show.returncode == 0, show.output[-3000:]
    assert "2020" in show.output
    assert "2022" in show.output


def test_a_reissued_year_rebuilds_only_that_year_of_the_daily_mart_on_athena(
    athena_project: AthenaProject,
) -> None:
    """Last in the module: it lands a new extract. dbt-athena's insert_overwrite of the
    `year` partitions replaces 2021 and leaves every other year as the first build wrote
    it; the period marts follow."""
    by_year = (
        "select year, min(dbt_invocation_id), count(distinct dbt_invocation_id), count(*),"
        " sum(calls_offered) from trusted.fct_contact_centre_daily group by year order by year"
    )
    _, before = athena_project.query(by_year)
    reissued = simple_book(athena_project.tmp / "reissued-2021.xlsx", date(2021, 1, 1), 31)
    load = subprocess.run(
        # January only, reaching less far than the extract it corrects: a deliberate
        # correction, so it supersedes (see int_extract_precedence).
        [str(BIN / "dap"), "load", "--supersede", "--lake", f"s3://{LAKE_BUCKET}", str(reissued)],
        env=athena_project.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert load.returncode == 0, load.stderr
    result = athena_project.dbt("build")
    assert result.returncode == 0, result.output[-6000:]
    invocation = result.run_results["metadata"]["invocation_id"]
    _, after = athena_project.query(by_year)
    assert [row[0] for row in after] == [row[0] for row in before]
    for old, new in zip(before, after, strict=True):
        if new[0] == "2021":
            assert new[1:3] == [invocation, "1"]
            assert new[3] == old[3]  # the same days, other figures for January
            assert new[4] != old[4]
        else:
            assert new == old, new[0]
    _, yearly = athena_project.query(
        "select calls_offered from trusted.fct_calls_handled_yearly where year = 2021"
    )
    assert yearly == [[after[[r[0] for r in after].index("2021")][4]]]
    _assert_no_leftover_tables(athena_project)  # the marts were swapped in with `ha`
