"""Run dbt-athena's own functional tests against the local Athena endpoint (a development
tool; `make test-adapter`).

Nothing of the suite is kept in the repository: at run time this downloads dbt-athena's
source distribution from PyPI (the wheel has no tests), unpacks its `tests/` under
build/adapter-suite/, installs the pinned dbt-tests-adapter harness into a folder of its
own there (pip `--target`, so the dev venv's pins are untouched; everything else it needs
is already in the venv), then runs pytest on it under `dap athena-local`, with the
`DBT_TEST_ATHENA_*` variables its conftest.py reads. Downloads are cached: a second run
works offline.

Groups, as issues 15 and 18 count them:
  sql-surface  test_connections.py and utils/test_utils.py: what Athena SQL returns
  iceberg      the Iceberg tests (ICEBERG_TESTS); `--group iceberg` runs only them
  hive         every other Hive/Parquet dbt-feature test
Not run, and listed with the reason: Spark (Python models) and catalog integrations, and
the tests that cannot pass on dbt-core 1.11. Of the 57 Iceberg tests, 13 are skipped (or
expected to fail) by dbt-athena's own markers, whatever the endpoint does; the report
counts them as "skipped by the suite itself".
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SUITE_DIR = ROOT / "build" / "adapter-suite"

DBT_ATHENA = "dbt-athena==1.11.1"
# dbt-athena-community 1.11.1 is a shim without tests; dbt-athena's sdist carries them.
SDIST_NAME = "dbt_athena-1.11.1.tar.gz"
# dbt-tests-adapter 1.20.0, the newest release (the one issue 15 measured with), provides
# the base classes dbt-athena 1.11.1's tests import; it needs dbt-adapters>=1.14 and
# dbt-common>=1.34, which the dev venv already has, and freezegun, which it lacks.
HARNESS = ("dbt-tests-adapter==1.20.0", "freezegun==1.5.5")

ADAPTER = "tests/functional/adapter"
SQL_SURFACE = (f"{ADAPTER}/test_connections.py", f"{ADAPTER}/utils/test_utils.py")

# The Iceberg tests (issue 18): node id prefixes relative to the suite, matched as pytest's
# --deselect matches (a class name also matches the classes whose names it begins).
_OSC = f"{ADAPTER}/test_on_schema_change.py::TestOnSchemaChange"
ICEBERG_TESTS: tuple[str, ...] = (
    *(
        f"{ADAPTER}/{module}.py"
        for module in (
            "test_basic_iceberg",
            "test_basic_iceberg_native_drop",
            "test_ha_iceberg",
            "test_hive_iceberg",
            "test_incremental_iceberg",
            "test_incremental_iceberg_merge_no_updates",
            "test_retries_iceberg",
        )
    ),
    f"{ADAPTER}/test_change_relation_types.py::TestChangeRelationTypesIceberg",
    f"{ADAPTER}/test_detailed_table_type.py::TestDetailedTableType",
    f"{ADAPTER}/test_docs.py::TestDocsGenerateIcebergNonCurrentColumn",
    f"{ADAPTER}/test_force_batch.py::TestMergeForceBatch",
    # The Hive microbatch model joins an Iceberg input model.
    f"{ADAPTER}/test_incremental_microbatch.py::TestAthenaHiveMicrobatch::",
    f"{ADAPTER}/test_incremental_microbatch.py::TestAthenaIcebergMicrobatch",
    f"{ADAPTER}/test_partitions.py::TestIceberg",
    f"{ADAPTER}/test_snapshot.py::TestIceberg",
    *(
        f"{_OSC}::test__{name}[iceberg]"
        for name in ("sync_all_columns", "append_new_columns", "ignore", "fail")
    ),
    f"{_OSC}SpecialChars::test__append_new_columns_special_chars[iceberg]",
)
# Not run: (node id prefix, reason).
EXCLUDED: tuple[tuple[str, str], ...] = (
    (f"{ADAPTER}/test_python_submissions.py", "Python models run on Athena for Apache Spark"),
    (f"{ADAPTER}/catalog_integrations", "Glue Iceberg catalogs and S3 Tables (Iceberg)"),
)
# Tests that cannot pass on dbt-core 1.11, whatever the endpoint does.
_SEED_FLAG = f"{ADAPTER}/test_empty.py::TestAthenaEmptySeedFlag"
CANNOT_PASS: tuple[tuple[str, str], ...] = (
    (
        f"{_SEED_FLAG}::test_seed_empty_creates_table_with_zero_rows",
        "dbt-core 1.11 has no `dbt seed --empty` (No such option '--empty')",
    ),
    (
        f"{_SEED_FLAG}::test_seed_empty_preserves_column_types",
        "dbt-core 1.11 has no `dbt seed --empty` (No such option '--empty')",
    ),
    (
        f"{_SEED_FLAG}::test_build_empty_with_seed",
        "dbt-core 1.11's `dbt build --empty` still loads every seed row",
    ),
)


@dataclass
class Outcome:
    nodeid: str
    status: str  # passed, failed, error, skipped
    message: str = ""


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0

    def group(self, nodeid: str) -> str:
        if nodeid.startswith(SQL_SURFACE):
            return "sql-surface"
        return "iceberg" if is_iceberg_test(nodeid) else "hive"

    def counts(self) -> dict[str, Counter[str]]:
        found: dict[str, Counter[str]] = {}
        for outcome in self.outcomes:
            found.setdefault(self.group(outcome.nodeid), Counter())[outcome.status] += 1
        return found


def is_iceberg_test(nodeid: str) -> bool:
    return nodeid.startswith(ICEBERG_TESTS)


def iceberg_selection(suite_dir: Path) -> list[str]:
    """The node ids of the Iceberg group, collected from their modules."""
    modules = sorted({prefix.split("::")[0] for prefix in ICEBERG_TESTS})
    command = [str(BIN / "python"), "-m", "pytest", "--collect-only", "-q", *modules]
    env = {**os.environ, **suite_environment(suite_dir, "adapter-suite", "us-east-1")}
    proc = subprocess.run(
        command, cwd=suite_dir, env=env, capture_output=True, text=True, check=False
    )
    nodeids = [line.strip() for line in proc.stdout.splitlines() if "::" in line]
    return [n for n in nodeids if is_iceberg_test(n)]


class SuiteUnavailableError(RuntimeError):
    """The sdist or the harness could not be fetched (offline, PyPI unreachable)."""


def _pip(*args: str) -> None:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    # Offline, pip would retry for minutes; give up soon and let the caller skip.
    command += ["--timeout", "15", "--retries", "1", *args]
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if line.startswith("ERROR")]
        reason = (lines or proc.stderr.strip().splitlines() or ["no message"])[-1]
        raise SuiteUnavailableError(f"pip {args[0]} failed: {reason}")


def prepare(suite_dir: Path = SUITE_DIR) -> Path:
    """Download, unpack and install what the suite needs (once); return suite_dir."""
    sdist = suite_dir / "sdist" / SDIST_NAME
    if not sdist.is_file():
        _pip("download", "--no-deps", "--no-binary", ":all:", DBT_ATHENA, "-d", str(sdist.parent))
    tests = suite_dir / "tests"
    if not (tests / "functional" / "conftest.py").is_file():
        shutil.rmtree(tests, ignore_errors=True)
        with tarfile.open(sdist) as archive:
            top = SDIST_NAME.removesuffix(".tar.gz")
            members = [
                m
                for m in archive.getmembers()
                if m.name == f"{top}/tests/__init__.py"
                or m.name.startswith(f"{top}/tests/functional/")
            ]
            for member in members:
                member.name = member.name.removeprefix(f"{top}/")
            archive.extractall(suite_dir, members=members, filter="data")
    site = suite_dir / "site"
    stamp = site / ".installed"
    if not stamp.is_file() or stamp.read_text() != " ".join(HARNESS):
        shutil.rmtree(site, ignore_errors=True)
        _pip("install", "--no-deps", "--target", str(site), *HARNESS)
        stamp.write_text(" ".join(HARNESS))
    # Our own pytest.ini: the sdist's pyproject options (-n auto, env files) are not wanted,
    # and it stops pytest from reading the repository's configuration above build/.
    (suite_dir / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    return suite_dir


def suite_environment(suite_dir: Path, bucket: str, region: str) -> dict[str, str]:
    """The variables the suite's conftest.py builds its dbt profile from."""
    return {
        "DBT_TEST_ATHENA_S3_STAGING_DIR": f"s3://{bucket}/staging/",
        "DBT_TEST_ATHENA_S3_TMP_TABLE_DIR": f"s3://{bucket}/temporary-tables/",
        "DBT_TEST_ATHENA_REGION_NAME": region,
        "DBT_TEST_ATHENA_DATABASE": "awsdatacatalog",
        "DBT_TEST_ATHENA_SCHEMA": "adapter_suite",
        "DBT_TEST_ATHENA_WORK_GROUP": "primary",
        "DBT_TEST_ATHENA_THREADS": "1",
        # The endpoint answers synchronously: the first poll sees the final state.
        "DBT_TEST_ATHENA_POLL_INTERVAL": "0.05",
        "DBT_TEST_ATHENA_NUM_RETRIES": "0",
        "PYTHONPATH": str(suite_dir / "site"),
    }


def run(
    selection: list[str],
    *,
    suite_dir: Path = SUITE_DIR,
    pytest_args: list[str] | None = None,
    region: str = "us-east-1",
    bucket: str = "adapter-suite",
) -> Report:
    """Run the selected node ids (default: the whole suite minus EXCLUDED and CANNOT_PASS)
    under `dap athena-local`; return every test's outcome."""
    # One report file per run: `make test` and `make test-adapter` may run at once.
    results = suite_dir / f"results-{os.getpid()}.xml"
    targets = selection or [ADAPTER]
    deselect = [a for prefix, _ in (*EXCLUDED, *CANNOT_PASS) for a in ("--deselect", prefix)]
    command = [str(BIN / "dap"), "athena-local", "--port", "0", "--region", region]
    command += ["--bucket", bucket, "--", str(BIN / "python"), "-m", "pytest", *targets]
    command += ["-p", "no:xdist", "-q", "--tb=short", f"--junitxml={results}", "-rfE"]
    command += [*deselect, *(pytest_args or [])]
    env = {**os.environ, **suite_environment(suite_dir, bucket, region)}
    for name in list(env):
        if name.startswith("AWS_") and name not in ("AWS_CA_BUNDLE",):
            env.pop(name)  # never the caller's real account: the endpoint sets its own
    started = time.monotonic()
    subprocess.run(command, cwd=suite_dir, env=env, check=False)
    report = Report(seconds=time.monotonic() - started)
    if results.is_file():
        report.outcomes = _outcomes(results)
        results.unlink()
    return report


def _outcomes(results: Path) -> list[Outcome]:
    found = []
    # Our own pytest's report, written a moment ago: not untrusted input.
    for case in ET.parse(results).getroot().iter("testcase"):  # noqa: S314
        module = str(case.get("classname", "")).split(".")
        # junit names the class path with dots; rebuild pytest's node id.
        parts, klass = module, ""
        if parts and parts[-1][:1].isupper():
            parts, klass = parts[:-1], parts[-1]
        nodeid = "/".join(parts) + ".py" + (f"::{klass}" if klass else "") + f"::{case.get('name')}"
        status, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                status = {"failure": "failed"}.get(child.tag, child.tag)
                message = str(child.get("message", ""))
                break
        found.append(Outcome(nodeid, status, message))
    return found


def print_report(report: Report, out: TextIO = sys.stdout) -> None:
    write = out.write
    write(f"\ndbt-athena 1.11.1 functional suite on the local endpoint ({report.seconds:.0f} s)\n")
    for group, counts in sorted(report.counts().items()):
        ran = counts["passed"] + counts["failed"] + counts["error"]
        rate = f"{100 * counts['passed'] / ran:.0f} %" if ran else "-"
        write(
            f"  {group:<12} passed {counts['passed']:>3} of {ran:>3} ({rate})"
            f"  skipped by the suite itself: {counts['skipped']}\n"
        )
    failed = [o for o in report.outcomes if o.status in ("failed", "error")]
    if failed:
        write("failed:\n")
        for outcome in failed:
            write(f"  {outcome.nodeid}\n      {outcome.message[:200]}\n")
    write("not run (excluded):\n")
    reasons: dict[str, list[str]] = {}
    for prefix, reason in EXCLUDED:
        reasons.setdefault(reason, []).append(prefix.removeprefix(f"{ADAPTER}/"))
    for reason, prefixes in reasons.items():
        write(f"  {reason}:\n" + "".join(f"    {p}\n" for p in prefixes))
    write("cannot pass on dbt-core 1.11:\n")
    for prefix, reason in CANNOT_PASS:
        write(f"  {prefix.removeprefix(f'{ADAPTER}/')}: {reason}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("nodeids", nargs="*", help="tests to run (default: the whole suite)")
    parser.add_argument("--min-pass-rate", type=float, default=0.95)
    parser.add_argument("--prepare-only", action="store_true")
    parser.add_argument("--group", choices=("iceberg",), help="run one group only (its node ids)")
    args, extra = parser.parse_known_args(argv)
    try:
        suite_dir = prepare()
    except SuiteUnavailableError as error:
        sys.stderr.write(f"cannot prepare the suite: {error}\n")
        return 2
    if args.prepare_only:
        return 0
    if args.group == "iceberg" and not args.nodeids:
        args.nodeids = iceberg_selection(suite_dir)
    report = run(args.nodeids, suite_dir=suite_dir, pytest_args=extra)
    print_report(report)
    ran = [o for o in report.outcomes if o.status != "skipped"]
    if not ran:
        sys.stderr.write("no test ran\n")
        return 1
    rate = sum(o.status == "passed" for o in ran) / len(ran)
    return 0 if rate >= args.min_pass_rate else 1


if __name__ == "__main__":
    sys.exit(main())
