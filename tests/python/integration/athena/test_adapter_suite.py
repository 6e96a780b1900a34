"""A handful of dbt-athena 1.11.1's own functional tests against the local endpoint.

`make test-adapter` runs the whole suite (tools/adapter_suite.py); this runs a fast,
representative selection of it in `make test`: each is a test nobody on this project
wrote, run through dbt-athena and the endpoint as they are. The suite comes from
dbt-athena's source distribution on PyPI, downloaded into build/adapter-suite/ once; when
it cannot be downloaded (offline), the test skips and says so.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest

from testkit.support import REPO_ROOT


def _adapter_suite() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "adapter_suite", REPO_ROOT / "tools" / "adapter_suite.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("adapter_suite", module)
    spec.loader.exec_module(module)
    return module


adapter_suite = _adapter_suite()

_CONNECTIONS = "tests/functional/adapter/test_connections.py::TestConnection"
SELECTION = [
    # The Athena SQL surface: EXPLAIN, rows and types, Athena's errors, a table function,
    # more than 100 partitions in one INSERT.
    f"{_CONNECTIONS}::test__run_ddl_query",
    f"{_CONNECTIONS}::test__run_query_with_multiple_rows_and_columns",
    f"{_CONNECTIONS}::test__syntax_error",
    f"{_CONNECTIONS}::test__semantic_error",
    f"{_CONNECTIONS}::test__catalog_error",
    f"{_CONNECTIONS}::test__too_many_open_partitions",
    # An incremental model whose columns change: ALTER TABLE … REPLACE COLUMNS, SHOW COLUMNS.
    "tests/functional/adapter/test_on_schema_change.py::TestOnSchemaChange"
    "::test__sync_all_columns[hive]",
    # Seeds inserted with INSERT … VALUES into a TEXTFILE table, then views, tables and
    # their swaps: dbt-tests-adapter's BaseSimpleMaterializations.
    "tests/functional/adapter/test_seed_by_insert.py::TestSimpleMaterializationsHive::test_base",
    # Iceberg (issue 18): an incremental `merge` on a unique key, and a table rebuilt with
    # the rename swap dbt-athena uses for Iceberg tables.
    "tests/functional/adapter/test_incremental_iceberg.py::TestIcebergIncrementalUniqueKey"
    "::test__one_unique_key",
    "tests/functional/adapter/test_ha_iceberg.py::TestTableIcebergTable::test__table_creation",
]


def test_a_selection_of_dbt_athenas_own_tests_passes() -> None:
    try:
        suite_dir = adapter_suite.prepare()
    except adapter_suite.SuiteUnavailableError as error:
        pytest.skip(f"dbt-athena's test suite could not be downloaded from PyPI: {error}")
    report = adapter_suite.run(SELECTION, suite_dir=suite_dir)
    outcomes = {o.nodeid: o for o in report.outcomes}
    # Every selected test ran: none was renamed away, deselected or skipped.
    assert sorted(outcomes) == sorted(SELECTION)
    failed = {n: o.message for n, o in outcomes.items() if o.status != "passed"}
    assert failed == {}


def test_the_iceberg_group_is_dbt_athenas_57_iceberg_tests() -> None:
    """The group `--group iceberg` runs (and the report counts apart): every Iceberg test
    of the suite, and nothing else."""
    try:
        suite_dir = adapter_suite.prepare()
    except adapter_suite.SuiteUnavailableError as error:
        pytest.skip(f"dbt-athena's test suite could not be downloaded from PyPI: {error}")
    selection = adapter_suite.iceberg_selection(suite_dir)
    assert len(selection) == len(set(selection)) == 57
    assert all(adapter_suite.Report().group(n) == "iceberg" for n in selection)
    hive = "tests/functional/adapter/test_incremental_microbatch.py::"
    assert adapter_suite.Report().group(f"{hive}TestAthenaHiveMicrobatchMissingPartitionBy::t") == (
        "hive"
    )
