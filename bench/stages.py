"""Where ``dap load`` spends its time on one workbook, stage by stage, in one process.

``python -m bench.stages WORKBOOK RESULT_JSON``. Each stage is timed alone, in the order a
load runs them, on the loader's own functions; in a real load the container check and the
fast read run at the same time (the read in the parser probe's child and, for a large
sheet, its own child reading the second half), so the parse stage takes about the longer
of the two, not their sum, where the cores are free.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def _timed(stages: dict[str, float], name: str, step: Callable[[], T]) -> T:
    start = time.perf_counter()
    value = step()
    stages[name] = time.perf_counter() - start
    return value


def measure(workbook: Path) -> dict[str, float]:
    from dap.ingest.guard import check_archive  # noqa: PLC0415
    from dap.ingest.workbook import parse_workbook  # noqa: PLC0415
    from dap.ingest.workbook._fast import read_in_child  # noqa: PLC0415
    from dap.lake.integrity._register import register_bytes  # noqa: PLC0415
    from dap.lake.load import build_raw_objects  # noqa: PLC0415
    from dap.settings import from_environment, use_arrow_memory_pool  # noqa: PLC0415

    use_arrow_memory_pool(from_environment())  # as `dap load` allocates
    stages: dict[str, float] = {}
    data = _timed(stages, "read the file, sha256", workbook.read_bytes)
    sha256 = hashlib.sha256(data).hexdigest()
    _timed(stages, "container check alone", lambda: check_archive(workbook.name, data))
    with tempfile.TemporaryDirectory() as tmp:
        _timed(
            stages,
            "fast read alone (fastexcel to Arrow, the sheet in two halves at once)",
            lambda: read_in_child(str(workbook), Path(tmp)),
        )
    parsed = _timed(
        stages,
        "parse: check and read at once, scan, type",
        lambda: parse_workbook(workbook.name, data),
    )
    at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    objects = _timed(
        stages,
        "raw Parquet files: split by year, encode, hash",
        lambda: build_raw_objects(parsed, sha256, at),
    )
    _timed(
        stages,
        "raw-object register: fingerprints",
        lambda: register_bytes(objects, source_sha256=sha256, source_name=workbook.name, at=at),
    )
    return stages


def main(argv: list[str]) -> int:
    workbook, result = argv
    Path(result).write_text(json.dumps(measure(Path(workbook))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
