"""Running one step as a child process and measuring it: wall time, CPU time, peak memory.

Each step is started by a small launcher (a bare ``python -I -S``) that spawns it and waits
for it with :func:`os.wait4`, which returns that child's own resource usage: ``ru_maxrss``
is its peak resident set size (on Linux in KiB; it covers the children the step waited
for, such as dbt's). The launcher is there because Linux starts a child's ``ru_maxrss`` at
its parent's peak: spawned straight from the benchmark, whose own memory grows as it
writes workbooks, every small step would show the benchmark's peak instead of its own.
``getrusage(RUSAGE_CHILDREN)`` is no use either: it gives the largest child so far.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

LAUNCHER = """
import json, os, shutil, sys, time
result, argv = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.posix_spawn(shutil.which(argv[0]) or argv[0], argv, os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
per_mib = 1024 * 1024 if sys.platform == "darwin" else 1024
with open(result, "w") as out:
    json.dump({
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mib": usage.ru_maxrss / per_mib,
        "returncode": os.waitstatus_to_exitcode(status),
    }, out)
"""
"""Spawns ``argv``, waits for it, writes its measurement as JSON to the file given first."""


@dataclass(frozen=True)
class Measurement:
    wall_s: float
    cpu_s: float
    """User plus system CPU time of the step (and the children it waited for)."""
    peak_rss_mib: float
    returncode: int


class StepFailedError(RuntimeError):
    """A measured step exited non-zero; the message ends with the tail of its log."""


def run_measured(
    argv: Sequence[str | Path],
    *,
    log: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    check: bool = True,
) -> Measurement:
    """Run ``argv`` with stdout and stderr to ``log``; measure it; raise if it fails."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        result = Path(tmp) / "measurement.json"
        with log.open("wb") as out:
            launcher = [sys.executable, "-I", "-S", "-c", LAUNCHER, str(result)]
            subprocess.run(  # an argument list, no shell
                [*launcher, *(str(a) for a in argv)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                check=True,
            )
        measurement = Measurement(**json.loads(result.read_text()))
    if check and measurement.returncode != 0:
        tail = log.read_text(errors="replace")[-4000:]
        command = " ".join(str(a) for a in argv)
        raise StepFailedError(f"{command} exited {measurement.returncode} (log {log}):\n{tail}")
    return measurement
