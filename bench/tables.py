"""Text tables (printed, and pasted into BENCHMARKS.md as Markdown) and the machine's
description."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

PACKAGES = (
    "python-calamine",
    "pyarrow",
    "pandas",
    "openpyxl",
    "duckdb",
    "dbt-core",
    "dbt-duckdb",
)


def markdown_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]
) -> str:
    """A Markdown table, columns padded so it reads as well printed as rendered."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        padded = [
            c.rjust(w) if align else c.ljust(w)
            for c, w, align in zip(cells, widths, right, strict=True)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = [
        ("-" * (w - 1) + ":") if align else "-" * w for w, align in zip(widths, right, strict=True)
    ]
    return "\n".join([line(header), line(rule), *(line(r) for r in rows)])


def seconds(value: float) -> str:
    return f"{value:,.1f}" if value >= 10 else f"{value:,.2f}"


def rate(rows: int, elapsed: float) -> str:
    return f"{rows / elapsed:,.0f}" if elapsed > 0 else "-"


def mib(value: float) -> str:
    return f"{value:,.0f}"


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else platform.processor() or "unknown"


def _memory_gib() -> str:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return "unknown"
    match = re.search(r"^MemTotal:\s*(\d+) kB", text, re.MULTILINE)
    return f"{int(match.group(1)) / 1024 / 1024:.1f} GiB" if match else "unknown"


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine slows every step."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def code_state(repo: Path) -> str:
    """The commit measured, uncommitted changes to the loader, and where ``dap`` came from."""
    import dap  # noqa: PLC0415 - only to say which copy the steps import

    def git(*args: str) -> str:
        executable = shutil.which("git")
        if executable is None:
            return ""
        result = subprocess.run(  # an argument list, no shell
            [executable, "-C", str(repo), *args], capture_output=True, text=True, check=False
        )
        return result.stdout if result.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD").strip() or "unknown"
    changed = [line[3:] for line in git("status", "--porcelain", "--", "scripts").splitlines()]
    state = f"commit {commit}"
    if changed:
        state += " with uncommitted changes to " + ", ".join(f"`{c}`" for c in changed)
    location = Path(dap.__file__).resolve().parent
    if not location.is_relative_to(repo):
        state += f"; `dap` imported from {location} (PYTHONPATH), not from the repo"
    return state


def machine() -> list[tuple[str, str]]:
    """What the numbers were measured on."""
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    return [
        ("CPU", f"{_cpu_model()}, {os.cpu_count()} logical core(s) (nproc)"),
        ("memory", _memory_gib()),
        ("system", platform.platform()),
        ("Python", platform.python_version()),
        ("packages", ", ".join(versions)),
    ]
