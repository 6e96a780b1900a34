"""The loader benchmark's three contenders, each run in a fresh Python process.

- ``ours``: ``dap load WORKBOOK --lake LAKE`` through :func:`dap.cli.main`, in process:
  parse, check, personal-data scan, landing copy, Parquet per year, manifest, audit record.
- ``pandas``: a plain loader doing the same job with ``pandas.read_excel(engine="openpyxl")``:
  headers matched to the raw schema, columns cast, dates validated, lineage columns added,
  landing copy, Parquet per year (pyarrow), manifest. No personal-data scan.
- ``bare``: python-calamine reading the sheet's values to Python objects, untyped.
- ``fastexcel``: fastexcel (calamine in Rust) reading the sheet straight to Arrow, then
  ``pyarrow.parquet.write_table``: the ten-line loader a data engineer would write, with
  no check at all. The peer ``ours`` is measured against.
- ``polars``: ``polars.read_excel`` (its calamine engine, through fastexcel) to a
  DataFrame, then ``write_parquet``.

The parse alone (to Arrow, to a DataFrame, to Python objects) is timed as well
(``parse_seconds``): the fastest parse to Arrow is the floor.

``python -m bench.contenders NAME WORKBOOK WORKDIR RESULT_JSON`` imports what the contender
needs, then times the job alone (interpreter start-up and imports excluded; the parent
measures the whole process as well) and writes ``{"rows", "seconds", "cpu_seconds",
"parse_seconds"}``.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

CONTENDERS = ("fastexcel", "polars", "bare", "ours", "pandas")
PARSED: dict[str, float] = {}
"""The contender's parse alone, in seconds (set by the runners that can time it)."""


def run_ours(workbook: Path, workdir: Path) -> int:
    from dap.cli import main  # noqa: PLC0415 - imported before the clock starts, see run()

    lake = workdir / "lake"
    status = main(["load", str(workbook), "--lake", str(lake)])
    if status != 0:
        raise SystemExit(f"dap load exited {status}")
    manifests = list((lake / "_manifests").rglob("*.json"))
    return sum(int(json.loads(m.read_text())["rows"]) for m in manifests)


def run_bare(workbook: Path, _workdir: Path) -> int:
    from python_calamine import CalamineWorkbook  # noqa: PLC0415

    book = CalamineWorkbook.from_path(str(workbook))
    rows = 0
    for name in book.sheet_names:
        grid = book.get_sheet_by_name(name).to_python()
        rows += max(0, len(grid) - 1)  # the header row is not data
    PARSED["bare"] = time.perf_counter() - STARTED[0]
    return rows


def run_fastexcel(workbook: Path, workdir: Path) -> int:
    import fastexcel  # noqa: PLC0415
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    reader = fastexcel.read_excel(workbook)
    batch = reader.load_sheet(0).to_arrow()
    PARSED["fastexcel"] = time.perf_counter() - STARTED[0]
    pq.write_table(pa.Table.from_batches([batch]), workdir / "metrics.parquet")
    rows: int = batch.num_rows
    return rows


def run_polars(workbook: Path, workdir: Path) -> int:
    import polars as pl  # noqa: PLC0415

    frame = pl.read_excel(workbook, engine="calamine")
    PARSED["polars"] = time.perf_counter() - STARTED[0]
    frame.write_parquet(workdir / "metrics.parquet")
    return frame.height


def run_pandas(workbook: Path, workdir: Path) -> int:
    """The plain pandas + openpyxl loader: same input, same raw-zone output."""
    import pandas as pd  # noqa: PLC0415
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.compute as pc  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    from dap.schema import DATASET, DATE_COLUMN, RAW_SCHEMA  # noqa: PLC0415

    lake = workdir / "lake"
    data = workbook.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    landing = lake / "landing" / DATASET / f"{sha256}{workbook.suffix}"
    landing.parent.mkdir(parents=True, exist_ok=True)
    landing.write_bytes(data)

    sheets: dict[str, pd.DataFrame] = pd.read_excel(workbook, sheet_name=None, engine="openpyxl")
    frames = [
        typed
        for sheet, frame in sheets.items()
        if (typed := _pandas_metrics(frame, workbook.name, sheet)) is not None
    ]
    if not frames:
        raise SystemExit(f"{workbook.name}: no sheet has the metric columns")
    rows = pd.concat(frames)
    rows["source_file_name"] = workbook.name
    rows["source_file_sha256"] = sha256
    rows["ingested_at"] = pd.Timestamp(datetime.now(UTC).replace(tzinfo=None, microsecond=0))
    rows["extract_rows"] = len(rows)  # lineage of newer raw schemas; not written if absent
    table = pa.Table.from_pandas(rows[RAW_SCHEMA.names], preserve_index=False).cast(RAW_SCHEMA)

    years = pc.year(table.column(DATE_COLUMN.raw_name))
    pq.write_to_dataset(
        table.append_column("year", years),
        lake / "raw" / DATASET,
        partition_cols=["year"],
        basename_template=f"{sha256}-{{i}}.parquet",
        compression="snappy",
    )
    rows_written: int = table.num_rows
    manifest = {"sha256": sha256, "file_name": workbook.name, "rows": rows_written}
    manifest_path = lake / "_manifests" / DATASET / f"{sha256}.json"
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(manifest, indent=2))
    return rows_written


def _pandas_metrics(frame: pd.DataFrame, file_name: str, sheet: str) -> pd.DataFrame | None:
    """One sheet's rows with the raw zone's metric columns, typed, or None if the sheet has
    no metrics: headers matched as the loader matches them, unreadable values null and
    named in ``load_issues``, blank rows dropped, a date column mostly unreadable refused."""
    import pandas as pd  # noqa: PLC0415

    from dap.schema import (  # noqa: PLC0415
        CARRIED_SEPARATOR,
        HEADER_INDEX,
        MEASURE_COLUMNS,
        METRIC_COLUMNS,
        normalise_header,
    )

    by_column = {HEADER_INDEX.get(normalise_header(c)): c for c in frame.columns}
    if not all(c in by_column for c in METRIC_COLUMNS if c.required):
        return None
    out = pd.DataFrame(index=frame.index)
    issues = pd.Series("", index=frame.index)
    for column in METRIC_COLUMNS:
        source = by_column.get(column)
        if source is None:
            out[column.raw_name] = None
            continue
        raw = frame[source]
        if column.kind == "date":
            typed = pd.to_datetime(raw, errors="coerce")
            if (typed.isna() & raw.notna()).sum() > raw.notna().sum() / 2:
                raise SystemExit(f"{file_name} {sheet!r}: the date column cannot be read")
            out[column.raw_name] = typed.dt.normalize()  # Arrow casts it to date32
        else:
            typed = pd.to_numeric(raw, errors="coerce")
            if column.kind == "count":
                typed = typed.where(typed.round() == typed).astype("Int64")
            out[column.raw_name] = typed
        unreadable = typed.isna() & raw.notna()
        issues = issues.where(~unreadable, issues + f"{column.label} unreadable; ")
    out = out[out[[c.raw_name for c in METRIC_COLUMNS]].notna().any(axis=1)]
    out["load_issues"] = issues[out.index].str.rstrip("; ").replace("", None)
    out["source_sheet"] = sheet
    out["carried_columns"] = CARRIED_SEPARATOR.join(
        c.raw_name for c in MEASURE_COLUMNS if c in by_column
    )
    out["source_row_number"] = out.index + 2  # the header is row 1
    return out


STARTED = [0.0]

RUNNERS: dict[str, Callable[[Path, Path], int]] = {
    "fastexcel": run_fastexcel,
    "polars": run_polars,
    "bare": run_bare,
    "ours": run_ours,
    "pandas": run_pandas,
}
_IMPORTS: dict[str, tuple[str, ...]] = {
    "bare": ("python_calamine",),
    "fastexcel": ("fastexcel", "pyarrow.parquet"),
    "polars": ("polars", "fastexcel", "pyarrow"),
    "ours": ("dap.cli", "dap.lake.load", "dap.ingest.workbook", "pyarrow.parquet"),
    "pandas": ("pandas", "openpyxl", "pyarrow.parquet", "dap.schema"),
}


class _WithoutPandas(importlib.abc.MetaPathFinder):
    """An import finder under which ``import pandas`` fails as if it were not installed."""

    def find_spec(self, fullname: str, path: object, target: object = None) -> None:
        if fullname == "pandas" or fullname.startswith("pandas."):
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)


def run(name: str, workbook: Path, workdir: Path) -> dict[str, float | None]:
    if name == "ours":
        # As `pip install .` runs it: without pandas, which only the dev extra (this
        # benchmark's pandas contender) installs. Where pandas is importable, pyarrow imports
        # it the first time it converts a Python object, about half a second.
        sys.meta_path.insert(0, _WithoutPandas())
    for module in _IMPORTS[name]:
        __import__(module)
    workdir.mkdir(parents=True, exist_ok=True)
    start, cpu = time.perf_counter(), time.process_time()
    STARTED[0] = start
    rows = RUNNERS[name](workbook, workdir)
    return {
        "rows": rows,
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu,
        "parse_seconds": PARSED.get(name),
    }


def main(argv: list[str]) -> int:
    name, workbook, workdir, result = argv
    outcome = run(name, Path(workbook), Path(workdir))
    Path(result).write_text(json.dumps(outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
