"""Building test workbooks and inspecting a local lake, shared by the loader tests."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from dap.samples.excel_writer import Cell, write_xls, write_xlsx
from dap.schema import DATASET

# The export's header, restated here (not imported) so the tests catch a changed label.
HEADER: list[Cell] = [
    "Date",
    "CallsOffered",
    "CallsHandled",
    "CallsAbandoned",
    "AverageSpeedofAnswer",
    "ServiceLevel",
    "BI_ID",
]
REQUIRED_HEADER: list[Cell] = HEADER[:-1]
SHEET = "3-1-1 Contact Centre Metrics"
FIXED_NOW = datetime(2024, 10, 1, 12, 0, 0)


def metrics(n: int) -> list[Cell]:
    """The six values after Date for row ``n`` (distinct per row, exactly representable)."""
    return [1000 + n, 900 + n, 50 + n, 20.0 + n / 4, 0.5 + n / 64, n]


def row(day: Cell, n: int) -> list[Cell]:
    return [day, *metrics(n)]


def days(first: date, count: int) -> list[date]:
    return [first + timedelta(days=i) for i in range(count)]


def rows_for(first: date, count: int, start_n: int = 1) -> list[list[Cell]]:
    return [row(d, start_n + i) for i, d in enumerate(days(first, count))]


def xlsx(path: Path, sheets: Mapping[str, Sequence[Sequence[Cell]]]) -> Path:
    write_xlsx(path, sheets)
    return path


def xls(path: Path, sheets: Mapping[str, Sequence[Sequence[Cell]]]) -> Path:
    write_xls(path, sheets)
    return path


def simple_book(path: Path, first: date, count: int, start_n: int = 1) -> Path:
    """One metrics sheet with the export's header and ``count`` consecutive days."""
    return xlsx(path, {SHEET: [HEADER, *rows_for(first, count, start_n)]})


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree_state(root: Path, *, audit: bool = False) -> dict[str, str]:
    """Every file under ``root`` (hidden and temporary ones included) -> sha256 of its bytes.

    The audit trail (``_audit/``: a record per load, even one that lands nothing, and
    per refusal; the extract event log) is left out unless ``audit``."""
    if not root.exists():
        return {}
    state: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if not audit and Path(dirpath) == root:
            dirnames[:] = [d for d in dirnames if d != "_audit"]
        for name in filenames:
            path = Path(dirpath) / name
            state[path.relative_to(root).as_posix()] = sha256_of(path)
        for name in dirnames:  # empty folders count as a change too
            path = Path(dirpath) / name
            state[path.relative_to(root).as_posix() + "/"] = ""
    return state


AUDIT = "_audit/"


def audit_added(before: Mapping[str, str], after: Mapping[str, str]) -> dict[str, list[str]]:
    """The files ``_audit/`` gained between two ``tree_state(..., audit=True)``, by kind
    (the folder under ``_audit/``: ``loads``, ``refusals``, ``events``, ``extracts``),
    each list sorted. The trail only grows: an audit file changed or removed fails."""
    changed = sorted(k for k, v in before.items() if k.startswith(AUDIT) and after.get(k) != v)
    assert changed == [], f"audit files changed or removed: {changed}"
    added: dict[str, list[str]] = {}
    for key in sorted(set(after) - set(before)):
        if key.startswith(AUDIT) and not key.endswith("/"):
            kind = key.removeprefix(AUDIT).split("/")[0]
            added.setdefault(kind, []).append(key)
    return added


def assert_refused(
    lake: Path,
    before: Mapping[str, str],
    *,
    sha256: str,
    code: str,
    never: Sequence[str] = (),
) -> dict[str, Any]:
    """A refused file left its trace and nothing else: the lake outside ``_audit/`` as in
    ``before`` (a ``tree_state(lake, audit=True)``), and ``_audit/`` one refusal record
    and one event-log file more, both naming the file's ``sha256`` and the reason
    ``code``, neither holding any of ``never`` (personal data, in any case). Returns the record."""
    after = tree_state(lake, audit=True)
    outside = {k: v for k, v in before.items() if not k.startswith(AUDIT)}
    assert {k: v for k, v in after.items() if not k.startswith(AUDIT)} == outside
    added = audit_added(before, after)
    assert sorted(added) == ["events", "refusals"], added
    (record_key,) = added["refusals"]
    (events_key,) = added["events"]
    text = (lake / record_key).read_text()
    record: dict[str, Any] = json.loads(text)
    stamp, load_id = r"\d{8}T\d{6}\.\d{6}Z", record["load_id"]
    assert re.fullmatch(rf"_audit/refusals/\d{{4}}/\d\d/\d\d/{stamp}-{load_id}\.json", record_key)
    assert re.fullmatch(rf"_audit/events/{stamp}-{load_id}\.parquet", events_key)
    assert (record["record"], record["file"]["sha256"], record["reason_code"]) == (
        "refusal",
        sha256,
        code,
    )
    (event,) = pq.read_table(lake / events_key).to_pylist()
    assert (event["event_type"], event["source_file_sha256"], event["reason_code"]) == (
        "refused",
        sha256,
        code,
    )
    assert event["event_id"] == load_id
    for value in never:  # in any case
        assert value.lower() not in text.lower(), "the refusal record holds the value"
        assert value.lower() not in repr(event).lower(), "the event log holds the value"
    return record


def raw_table(lake: Path) -> pa.Table:
    """The raw zone read back as one table, with the ``year`` partition column."""
    dataset = ds.dataset(lake / "raw" / DATASET, format="parquet", partitioning="hive")
    table = dataset.to_table()
    return table.sort_by([("source_file_name", "ascending"), ("source_row_number", "ascending")])


def manifest(lake: Path, sha256: str) -> dict[str, Any]:
    path = lake / "_manifests" / DATASET / f"{sha256}.json"
    result: dict[str, Any] = json.loads(path.read_text())
    return result


def dap_command() -> list[str]:
    """The installed ``dap`` console script next to this interpreter, else ``python -m``."""
    script = Path(sys.executable).parent / "dap"
    return [str(script)] if script.exists() else [sys.executable, "-m", "dap.cli"]


def run_dap(
    *args: str | Path, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*dap_command(), *map(str, args)],
        capture_output=True,
        text=True,
        env=dict(env) if env is not None else clean_env(),
        cwd=cwd,
        timeout=120,
        check=False,
    )


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without lake or AWS settings, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "DAP_LAKE" and not k.startswith("AWS_") and k != "BOTO_CONFIG"
    }
    env.update(extra)
    return env
