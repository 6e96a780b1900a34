"""dap.settings: every environment variable read in one place, with its default."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from dap import settings
from dap.cli._common import lake_uri
from testkit.support import REPO_ROOT


@pytest.mark.parametrize(
    ("option", "env", "expected"),
    [
        ("s3://bucket/from-option", "s3://bucket/from-env", "s3://bucket/from-option"),
        ("folder", None, "folder"),
        (None, "s3://bucket/from-env", "s3://bucket/from-env"),
        (None, None, "lake"),
        (None, "", "lake"),
    ],
)
def test_lake_precedence(option, env, expected):
    environ = {} if env is None else {"DAP_LAKE": env}
    config = settings.from_environment(environ)
    assert lake_uri(argparse.Namespace(lake=option), config) == expected


def test_defaults_and_overrides():
    default = settings.from_environment({})
    assert (default.lake, default.raw_database, default.pii) == ("lake", "raw", "stop")
    assert default.landing_lake is None
    assert default.kms_key_id is None
    assert default.dbt_target_path == Path("target")
    given = settings.from_environment(
        {
            "DAP_LANDING_LAKE": "s3://l",
            "DAP_RAW_LAKE": "s3://r",
            "DAP_RAW_DATABASE": "raw_x",
            "DAP_KMS_KEY_ID": "alias/k",
            "DAP_PII": "mask",
            "DBT_TARGET_PATH": "t2",
            "AWS_REGION": "us-west-2",
        }
    )
    assert given == settings.Settings(
        lake="lake",
        landing_lake="s3://l",
        raw_lake="s3://r",
        raw_database="raw_x",
        kms_key_id="alias/k",
        pii="mask",
        dbt_target_path=Path("t2"),
        aws_region="us-west-2",
    )


def test_only_settings_reads_the_environment():
    """One place for environment defaults: no other module of dap reads os.environ."""
    readers = [
        path.relative_to(REPO_ROOT)
        for path in (REPO_ROOT / "scripts" / "dap").rglob("*.py")
        if re.search(r"os\.environ|os\.getenv|environ\.get", path.read_text())
    ]
    assert readers == [Path("scripts/dap/settings.py")]


def test_every_variable_the_project_reads_is_listed():
    """The DAP_* names used by the dbt profile and project, the CI workflow and the Makefile
    are all in the table `dap --help` prints (and nothing there is unused)."""
    used: set[str] = set()
    for name in ("profiles.yml.example", "dbt_project.yml", "Makefile"):
        used |= set(re.findall(r"\bDAP_[A-Z0-9_]*[A-Z0-9]\b", (REPO_ROOT / name).read_text()))
    for folder in ("models", "scripts/dap", ".github"):
        for path in (REPO_ROOT / folder).rglob("*.*"):
            if path.suffix in {".yml", ".py", ".sql"}:
                used |= set(re.findall(r"\bDAP_[A-Z0-9_]*[A-Z0-9]\b", path.read_text()))
    listed = {v.name for v in settings.VARIABLES}
    assert used - listed == set()
    assert {n for n in listed if n.startswith("DAP_")} - used == set()


def test_help_lists_the_environment(capsys):
    from dap.cli import main  # noqa: PLC0415

    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for variable in settings.VARIABLES:
        assert variable.name in out


def test_the_loading_commands_allocate_with_jemalloc_unless_told_otherwise() -> None:
    import pyarrow as pa  # noqa: PLC0415

    before = pa.default_memory_pool()
    try:
        settings.use_arrow_memory_pool(settings.from_environment({}))
        chosen = pa.default_memory_pool().backend_name
        assert chosen in {"jemalloc", "system"}  # system only where the wheel lacks jemalloc
        assert chosen != "mimalloc"
        pa.set_memory_pool(pa.system_memory_pool())
        told = settings.from_environment({"ARROW_DEFAULT_MEMORY_POOL": "system"})
        assert told.arrow_memory_pool == "system"
        settings.use_arrow_memory_pool(told)  # Arrow reads the variable itself: left alone
        assert pa.default_memory_pool().backend_name == "system"
    finally:
        pa.set_memory_pool(before)
