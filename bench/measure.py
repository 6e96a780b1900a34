"""Running one step as a child process and measuring it: wall time, CPU time, peak memory.

Each step is started by a small launcher (a bare ``python -I -S``) that spawns it and waits
for it with :func:`os.wait4`, which returns that child's own resource usage: ``ru_maxrss``
is its peak resident set size (on Linux in KiB; it covers the children the step waited
for, such as dbt's, but one at a time, never their sum). So the launcher also adds up the
proportional memory (PSS) of the step and every process under it every 20 ms (``/proc``;
not in a run made with ``sample_memory=False``, which times a step without that load):
a step that works in two processes at once (``dap load``'s parser probe beside its
container check) is charged for both, and the libraries both map once.

The launcher is there because Linux starts a child's ``ru_maxrss`` at its parent's peak:
spawned straight from the benchmark, whose own memory grows as it writes workbooks, every
small step would show the benchmark's peak instead of its own.
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
import json, os, shutil, sys, threading, time
result, sampling, argv = sys.argv[1], sys.argv[2] == "sample", sys.argv[3:]
tree_peak = [0]
done = threading.Event()

def pss(pid):
    # Proportional set size in KiB: a page shared by n processes counts 1/n in each, so
    # the libraries two processes of one step both map are counted once in their sum.
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0

def tree_rss(root):
    # Memory in KiB of root and every process below it, now (Linux /proc; 0 elsewhere).
    # The tree is found from every process's parent (cheap), then only its processes'
    # PSS is read (walking a large process's page tables is not cheap: read for every
    # process on the machine every 20 ms, it took CPU from the step being measured).
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    total = 0
    for pid in parents:
        walk = pid
        while walk in parents and walk != root:
            walk = parents[walk]
        if walk == root:
            try:
                total += pss(pid)
            except OSError:
                continue  # ended meanwhile
    return total

def sample(root):
    while not done.wait(0.02):
        tree_peak[0] = max(tree_peak[0], tree_rss(root))

start = time.perf_counter()
pid = os.posix_spawn(shutil.which(argv[0]) or argv[0], argv, os.environ)
sampler = None
if sampling and os.path.isdir("/proc"):
    sampler = threading.Thread(target=sample, args=(pid,), daemon=True)
    sampler.start()
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
done.set()
if sampler is not None:
    sampler.join()
per_mib = 1024 * 1024 if sys.platform == "darwin" else 1024
with open(result, "w") as out:
    json.dump({
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mib": usage.ru_maxrss / per_mib,
        "peak_tree_mib": tree_peak[0] / 1024 or None,
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
    """The largest resident set of the step or of any one process it waited for."""
    returncode: int
    peak_tree_mib: float | None = None
    """The largest sum, sampled every 20 ms, of the proportional set sizes of the step and
    every process under it (Linux); None where ``/proc`` is not there."""

    @property
    def peak_memory_mib(self) -> float:
        """The process tree's peak where it was sampled, else the largest process's."""
        return self.peak_tree_mib if self.peak_tree_mib is not None else self.peak_rss_mib


class StepFailedError(RuntimeError):
    """A measured step exited non-zero; the message ends with the tail of its log."""


def run_measured(
    argv: Sequence[str | Path],
    *,
    log: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    check: bool = True,
    sample_memory: bool = True,
) -> Measurement:
    """Run ``argv`` with stdout and stderr to ``log``; measure it; raise if it fails.
    Without ``sample_memory`` the process tree's memory is not sampled (``peak_tree_mib``
    is None): the sampling takes some CPU, which a timed run should not share."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        result = Path(tmp) / "measurement.json"
        with log.open("wb") as out:
            sampling = "sample" if sample_memory else "no-sample"
            launcher = [sys.executable, "-I", "-S", "-c", LAUNCHER, str(result), sampling]
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
