"""README.md's "Where things are" tree matches the code, and the paths it cites exist."""

from __future__ import annotations

import re
from pathlib import Path

from testkit.support import REPO_ROOT

README = REPO_ROOT / "README.md"
_NAME = re.compile(r"^[\w.-]+(/[\w.-]+)*/?$")


def _tree_block() -> list[str]:
    text = README.read_text()
    section = text.split("## Where things are\n", 1)[1]
    return section.split("```\n", 2)[1].splitlines()


def _tree_paths() -> set[Path]:
    """Every file or folder the tree names, as a path from the repository's root."""
    stack: list[str] = []
    paths: set[Path] = set()
    for line in _tree_block():
        indent = len(line) - len(line.lstrip(" "))
        if indent >= 16 or not line.strip():  # a description carried over to the next line
            continue
        names = re.split(r"\s{2,}", line.strip())[0]
        parts = [n.strip() for n in names.split(",")]
        if not all(_NAME.match(p) for p in parts):
            continue
        level = indent // 2
        stack = stack[:level]
        for part in parts:
            paths.add(Path(*stack, part.rstrip("/")))
        if parts[-1].endswith("/"):
            stack.append(parts[-1].rstrip("/"))
    return paths


def test_every_path_in_the_tree_exists():
    paths = _tree_paths()
    assert len(paths) > 40  # the parser found the tree
    missing = sorted(str(p) for p in paths if not (REPO_ROOT / p).exists())
    assert missing == []


def test_every_package_and_test_folder_is_in_the_tree():
    paths = _tree_paths()
    folders = [
        p.parent.relative_to(REPO_ROOT)
        for p in (REPO_ROOT / "scripts").rglob("__init__.py")
        if "egg-info" not in str(p)
    ]
    folders += [
        p.relative_to(REPO_ROOT)
        for p in (REPO_ROOT / "tests" / "python").iterdir()
        if p.is_dir() and not p.name.startswith((".", "__"))
    ]
    assert sorted(str(f) for f in folders if f not in paths) == []


def test_cited_paths_exist():
    """Backquoted paths in the README's prose (`scripts/...`, `tests/python/...`)."""
    cited = re.findall(
        r"`((?:scripts|tests|models|macros|infra|constraints|tools|bench)/[^`\s]*)`",
        README.read_text(),
    )
    assert cited
    concrete = [c for c in cited if not set(c) & set("*<{")]
    assert sorted(c for c in concrete if not (REPO_ROOT / c).exists()) == []
