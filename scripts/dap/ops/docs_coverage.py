"""Documentation coverage of the dbt project, from `dbt docs generate`'s artifacts.

Every model, source table, seed, analysis, macro and exposure of the project must have a
description; every column the warehouse actually has (catalog.json) must be described in
the project (manifest.json); every model states its grain ("Grain: one row per ...").
Coverage is reported per kind; anything below 100% is a failure that names what is missing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dap.errors import DapError


@dataclass
class Coverage:
    """Documented / total per kind, and what is missing."""

    documented: dict[str, int] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def count(self, kind: str, ok: bool, what: str) -> None:
        self.total[kind] = self.total.get(kind, 0) + 1
        self.documented[kind] = self.documented.get(kind, 0) + (1 if ok else 0)
        if not ok:
            self.missing.append(f"{kind}: {what}")

    def percent(self, kind: str) -> float:
        total = self.total.get(kind, 0)
        return 100.0 if total == 0 else 100.0 * self.documented.get(kind, 0) / total

    @property
    def complete(self) -> bool:
        return not self.missing

    def report(self) -> str:
        lines = [
            f"{kind:<16} {self.documented[kind]:>4} / {self.total[kind]:<4} "
            f"{self.percent(kind):6.1f} %"
            for kind in sorted(self.total)
        ]
        lines += [f"  missing {m}" for m in self.missing]
        return "\n".join(lines)


def _described(item: dict[str, Any]) -> bool:
    return bool(str(item.get("description") or "").strip())


def _load(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise DapError(f"{path}: not found; run `dbt docs generate` first") from error
    except ValueError as error:
        raise DapError(f"{path}: not a dbt artifact ({error})") from error
    return data


def measure(target: Path) -> Coverage:
    """Coverage of the project whose artifacts are in target/ (manifest and catalog)."""
    manifest = _load(target / "manifest.json")
    catalog = _load(target / "catalog.json")
    project = manifest["metadata"].get("project_name") or ""
    coverage = Coverage()
    catalog_nodes = {**catalog.get("nodes", {}), **catalog.get("sources", {})}

    for unique_id, node in sorted({**manifest["nodes"], **manifest["sources"]}.items()):
        kind = node["resource_type"]
        if node.get("package_name") != project:
            continue
        if kind == "analysis":
            coverage.count("analyses", _described(node), node["name"])
            continue
        if kind not in ("model", "seed", "source"):
            continue
        name = f"{node.get('source_name')}.{node['name']}" if kind == "source" else node["name"]
        coverage.count(f"{kind}s", _described(node), name)
        if kind == "source":
            coverage.count("sources", bool(node.get("source_description")), f"{name} (source)")
        if kind == "model":
            grain = bool(
                re.search(r"\bgrain: one row per\b", str(node.get("description", "")), re.I)
            )
            coverage.count("model grains", grain, f"{name} states no grain")
        documented = {c.lower(): _described(col) for c, col in node.get("columns", {}).items()}
        actual = catalog_nodes.get(unique_id, {}).get("columns", {})
        if not actual and kind == "source":
            # DuckDB reads the raw zone through read_parquet(): no relation to introspect.
            actual = {c: {"index": i} for i, c in enumerate(node.get("columns", {}))}
        if not actual:
            coverage.count("columns", False, f"{name} is not in catalog.json (not built?)")
        for column in sorted(actual, key=lambda c: actual[c].get("index", 0)):
            coverage.count("columns", documented.get(column.lower(), False), f"{name}.{column}")

    for macro in sorted(manifest["macros"].values(), key=lambda m: m["name"]):
        if macro.get("package_name") == project:
            coverage.count("macros", _described(macro), macro["name"])
    for exposure in sorted(manifest.get("exposures", {}).values(), key=lambda e: e["name"]):
        owner = exposure.get("owner") or {}
        coverage.count("exposures", _described(exposure), exposure["name"])
        coverage.count("exposure owners", bool(owner.get("name")), exposure["name"])
    return coverage
