"""Every environment variable the platform reads, with its default, in one place.

The loader reads its settings once, at start (:func:`from_environment`); nothing else in
``dap`` looks at ``os.environ``. The ``DAP_ATHENA_*`` variables are read by dbt's profile
(``profiles.yml.example``) and ``DAP_REQUIRE_BROWSER`` by the tests, not by ``dap``; they are
listed here so that one table names them all (``dap --help`` prints it).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Variable:
    name: str
    default: str | None
    meaning: str
    read_by: str = "dap"


VARIABLES: tuple[Variable, ...] = (
    Variable("DAP_LAKE", "lake", "the lake: a local folder or s3://bucket/prefix", "dap, dbt"),
    Variable("DAP_LANDING_LAKE", None, "the landing zone's s3:// bucket, if it has its own"),
    Variable("DAP_RAW_LAKE", None, "the raw zone's s3:// bucket, if it has its own"),
    Variable("DAP_RAW_DATABASE", "raw", "Glue database of the raw zone (s3:// lakes)", "dap, dbt"),
    Variable(
        "DAP_KMS_KEY_ID", None, "KMS key for SSE-KMS on every object written to S3", "dap, dbt"
    ),
    Variable("DAP_PII", "stop", "what dap load does with personal data: stop or mask"),
    Variable("DBT_TARGET_PATH", "target", "dbt's artifacts (run_results.json, manifest)"),
    Variable("DBT_TARGET", "local", "dbt's target: local (DuckDB) or athena", "dap, dbt"),
    Variable("DAP_EXPORT_URL", None, "dap pipeline: the export to fetch (default: the portal's)"),
    Variable("DAP_PUBLISH", "build/site", "dap pipeline: where to publish (folder or s3://)"),
    Variable(
        "DAP_PUBLISH_KMS_KEY_ID",
        None,
        "KMS key of the published files (default: the bucket's encryption)",
    ),
    Variable("DAP_DBT", None, "dap pipeline: the dbt executable (default: dbt on PATH)"),
    Variable("DAP_DBT_PROJECT_DIR", ".", "dap pipeline: the dbt project (dbt_project.yml)"),
    Variable("AWS_REGION", "ca-central-1", "region of the local endpoint's buckets"),
    Variable("DAP_ATHENA_S3_STAGING_DIR", None, "Athena query results (s3://)", "dap, dbt"),
    Variable("DAP_ATHENA_S3_DATA_DIR", None, "where dbt-athena writes tables (s3://)", "dbt"),
    Variable("DAP_ATHENA_CURATED_S3_DIR", None, "the curated zone's tables, if apart", "dbt"),
    Variable("DAP_ATHENA_TRUSTED_S3_DIR", None, "the trusted zone's tables, if apart", "dbt"),
    Variable("DAP_ATHENA_WORK_GROUP", "primary", "Athena workgroup", "dap, dbt"),
    Variable("DAP_ATHENA_SCHEMA", "vancouver_311", "Glue database of dbt's models", "dbt"),
    Variable("DAP_ATHENA_ROLE_ARN", None, "a role for dbt-athena to assume", "dbt"),
    Variable("DAP_ATHENA_POLL_INTERVAL", "1", "seconds between Athena status polls", "dbt"),
    Variable("DAP_ATHENA_NUM_RETRIES", "3", "dbt-athena's retries of a failed query", "dbt"),
    Variable("DAP_SITE_URI", None, "the site bucket's s3:// URI, set as DAP_PUBLISH nightly", "CI"),
    Variable(
        "ARROW_DEFAULT_MEMORY_POOL",
        None,
        "Arrow's allocator (unset: dap load, pipeline and repair use jemalloc)",
        "dap, pyarrow",
    ),
    Variable(
        "DAP_REQUIRE_BROWSER", None, "1: a browser test fails, not skips, without Chromium", "tests"
    ),
)


@dataclass(frozen=True)
class Settings:
    """The loader's settings; a command-line option, where given, wins over these."""

    lake: str
    landing_lake: str | None
    raw_lake: str | None
    raw_database: str
    kms_key_id: str | None
    pii: str
    dbt_target_path: Path
    aws_region: str
    dbt_target: str = "local"
    export_url: str | None = None
    publish: str = "build/site"
    publish_kms_key_id: str | None = None
    dbt_executable: str | None = None
    dbt_project_dir: Path = Path()
    athena_s3_staging_dir: str | None = None
    athena_work_group: str = "primary"
    arrow_memory_pool: str | None = None


def _default(name: str) -> str:
    for variable in VARIABLES:
        if variable.name == name and variable.default is not None:
            return variable.default
    raise KeyError(name)  # a programming error: every defaulted variable is in VARIABLES


def from_environment(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings once; an empty variable counts as unset."""
    env = os.environ if environ is None else environ

    def get(name: str) -> str | None:
        return env.get(name) or None

    return Settings(
        lake=get("DAP_LAKE") or _default("DAP_LAKE"),
        landing_lake=get("DAP_LANDING_LAKE"),
        raw_lake=get("DAP_RAW_LAKE"),
        raw_database=get("DAP_RAW_DATABASE") or _default("DAP_RAW_DATABASE"),
        kms_key_id=get("DAP_KMS_KEY_ID"),
        pii=get("DAP_PII") or _default("DAP_PII"),
        dbt_target_path=Path(get("DBT_TARGET_PATH") or _default("DBT_TARGET_PATH")),
        aws_region=get("AWS_REGION") or _default("AWS_REGION"),
        dbt_target=get("DBT_TARGET") or _default("DBT_TARGET"),
        export_url=get("DAP_EXPORT_URL"),
        publish=get("DAP_PUBLISH") or _default("DAP_PUBLISH"),
        publish_kms_key_id=get("DAP_PUBLISH_KMS_KEY_ID"),
        dbt_executable=get("DAP_DBT"),
        dbt_project_dir=Path(get("DAP_DBT_PROJECT_DIR") or _default("DAP_DBT_PROJECT_DIR")),
        athena_s3_staging_dir=get("DAP_ATHENA_S3_STAGING_DIR"),
        athena_work_group=get("DAP_ATHENA_WORK_GROUP") or _default("DAP_ATHENA_WORK_GROUP"),
        arrow_memory_pool=get("ARROW_DEFAULT_MEMORY_POOL"),
    )


def use_arrow_memory_pool(settings: Settings) -> None:
    """Have Arrow allocate with jemalloc (the C library's malloc where pyarrow was built
    without it), unless ``ARROW_DEFAULT_MEMORY_POOL`` names a pool, which Arrow then uses.
    Arrow's own default in these wheels, mimalloc, was measured about four times slower
    at the large buffers the loader fills once each (a million rows' columns put in year
    order: 0.22 s against 0.05 s; 0.3 s of a 3.4 s load), every page of them slow to
    come in; it is set once, before the loader allocates anything, by the commands that
    load (``dap load``, ``dap pipeline``, ``dap repair``)."""
    if settings.arrow_memory_pool is not None:
        return  # Arrow reads the variable itself
    import pyarrow as pa  # noqa: PLC0415 - only the commands that load need it

    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:
        pool = pa.system_memory_pool()
    pa.set_memory_pool(pool)


def child_environment(overrides: Mapping[str, str]) -> dict[str, str]:
    """This process's environment with ``overrides``, for a child process (``dap pipeline``
    runs dbt with the lake it was given as ``DAP_LAKE``)."""
    return {**os.environ, **overrides}


def describe() -> str:
    """The table ``dap --help`` ends with."""
    lines = ["environment (an option given on the command line wins):"]
    for v in VARIABLES:
        default = f" (default {v.default})" if v.default else ""
        reader = "" if v.read_by == "dap" else f" [{v.read_by}]"
        lines.append(f"  {v.name:<32}{v.meaning}{default}{reader}")
    return "\n".join(lines)
