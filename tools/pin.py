"""Write constraints/{run,athena-local,dev}.txt: one resolution of pyproject.toml's
dependencies, pinned per environment (a development tool; `make constraints`).

Each environment's file is the subset of one pip resolution of everything, so the versions
`make run` installs are the ones `make test` tested. pip resolves (``--dry-run --report``);
this only reads its report. Files hold ``name==version`` lines, never download addresses.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENVIRONMENTS = {
    "run": ("dbt", "`make run`: the loader's runtime and dbt"),
    "athena-local": ("dbt,athena-local", "`make run-athena`/`make athena-local`: + the endpoint"),
    "dev": ("dbt,athena-local,metrics,dev", "`make test`: + MetricFlow, tests, linters, stubs"),
}


def resolve(extras: str, constraints: Path | None) -> dict[str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--dry-run"]
        command += ["--ignore-installed", "--report", str(report), f"{ROOT}[{extras}]"]
        if constraints is not None:
            command += ["-c", str(constraints)]
        subprocess.run(command, check=True)
        installs = json.loads(report.read_text())["install"]
    return {
        item["metadata"]["name"].lower().replace("_", "-"): item["metadata"]["version"]
        for item in installs
        if item["metadata"]["name"] != "vancouver-311-dap"
    }


def main(argv: list[str]) -> int:
    upgrade = "--upgrade" in argv  # else keep today's pins where they still fit
    current = ROOT / "constraints" / "dev.txt"
    everything = resolve(ENVIRONMENTS["dev"][0], None if upgrade else current)
    for name, (extras, purpose) in ENVIRONMENTS.items():
        # The subset is resolved against the full pins, so it cannot pick other versions.
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as pins:
            pins.write("".join(f"{n}=={v}\n" for n, v in everything.items()))
        subset = resolve(extras, Path(pins.name))
        Path(pins.name).unlink()
        lines = [
            f"# Pinned versions for {purpose} ('.[{extras}]').",
            "# Written by `make constraints` (tools/pin.py) from pyproject.toml: one resolution",
            "# for all three files, so every environment runs what the tests ran.",
            *(f"{n}=={v}" for n, v in sorted(subset.items())),
        ]
        (ROOT / "constraints" / f"{name}.txt").write_text("\n".join(lines) + "\n")
        sys.stdout.write(f"constraints/{name}.txt: {len(subset)} packages\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
