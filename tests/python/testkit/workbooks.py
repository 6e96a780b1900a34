"""Building test workbooks and inspecting a local lake, shared by the loader tests."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds

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

    The audit trail (``_audit/``: a record per successful load, even one that lands
    nothing) is left out unless ``audit``."""
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
