"""The marts the report reads, copied from Athena into a local DuckDB file.

``dap report`` reads the local warehouse (:mod:`dap.publish._report_data`). After a build
on Athena, ``dap pipeline`` copies the few tables the report reads (:data:`REPORT_TABLES`,
a few thousand rows) into ``<folder>/warehouse.duckdb`` with their Athena column types,
so the one report code path serves both targets. Queries go through the Athena API
(``StartQueryExecution``, results read back page by page), as dbt-athena's do.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dap.errors import DapError
from dap.publish._warehouse import WAREHOUSE_FILE

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_athena import AthenaClient
    from mypy_boto3_athena.type_defs import ColumnInfoTypeDef

REPORT_TABLES = (
    "trusted.fct_calls_handled_yearly",
    "trusted.fct_calls_handled_monthly",
    "trusted.fct_contact_centre_daily",
    "trusted.fct_contact_centre_weekday_profile",
    "trusted.fct_contact_centre_strain_days",
    "trusted.fct_contact_centre_volume_response_yearly",
    "curated.quarantine_daily_metrics",
    "curated.conflicts_daily_metrics",
)
"""Every table :mod:`dap.publish` reads (a test checks the report's queries name no other)."""

_TYPES = {
    "boolean": "boolean",
    "tinyint": "tinyint",
    "smallint": "smallint",
    "integer": "integer",
    "int": "integer",
    "bigint": "bigint",
    "real": "real",
    "float": "real",
    "double": "double",
    "date": "date",
    "timestamp": "timestamp",
    "varchar": "varchar",
    "char": "varchar",
    "string": "varchar",
}
"""Athena's result types and DuckDB's; anything else (arrays, maps) is kept as text."""

TIMEOUT_SECONDS = 600.0


def copy_report_tables(
    session: boto3.Session,
    folder: Path,
    *,
    output_location: str | None,
    work_group: str,
    progress: Callable[[str], None],
    poll_seconds: float = 0.2,
) -> Path:
    """Copy :data:`REPORT_TABLES` from Athena into ``folder/warehouse.duckdb``; return it."""
    import duckdb  # noqa: PLC0415
    import pyarrow as pa  # noqa: PLC0415

    athena = session.client("athena")
    path = folder / WAREHOUSE_FILE
    with duckdb.connect(str(path)) as connection:
        for table in REPORT_TABLES:
            schema, name = table.split(".")
            columns, types, rows = _query(
                athena,
                f"select * from {schema}.{name}",  # noqa: S608 - constant names
                output_location,
                work_group,
                poll_seconds,
            )
            text = pa.table(
                {c: pa.array([r[i] for r in rows], pa.string()) for i, c in enumerate(columns)}
            )
            casts = ", ".join(
                f'cast("{c}" as {t}) as "{c}"' for c, t in zip(columns, types, strict=True)
            )
            connection.register("athena_rows", text)
            connection.execute(f"create schema if not exists {schema}")
            connection.execute(f"create table {table} as select {casts} from athena_rows")  # noqa: S608
            connection.unregister("athena_rows")
            progress(f"read {table} from Athena: {len(rows):,} row(s)")
    return path


def _duckdb_type(column: ColumnInfoTypeDef) -> str:
    kind = str(column["Type"]).lower()
    if kind == "decimal":
        return f"decimal({int(column.get('Precision', 38))}, {int(column.get('Scale', 0))})"
    return _TYPES.get(kind, "varchar")


def _query(
    athena: AthenaClient,
    sql: str,
    output_location: str | None,
    work_group: str,
    poll_seconds: float,
) -> tuple[list[str], list[str], list[list[str | None]]]:
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    try:
        started: dict[str, Any] = {"QueryString": sql, "WorkGroup": work_group}
        if output_location:
            started["ResultConfiguration"] = {"OutputLocation": output_location}
        query_id = athena.start_query_execution(**started)["QueryExecutionId"]
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while True:
            status = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"][
                "Status"
            ]
            state = status["State"]
            if state == "SUCCEEDED":
                break
            if state in {"FAILED", "CANCELLED"}:
                reason = status.get("StateChangeReason", state)
                raise DapError(f"Athena query {sql!r} {state.lower()}: {reason}")
            if time.monotonic() > deadline:
                raise DapError(f"Athena query {sql!r} still running after {TIMEOUT_SECONDS:g} s")
            time.sleep(poll_seconds)
        rows: list[list[str | None]] = []
        token: str | None = None
        while True:
            page = (
                athena.get_query_results(QueryExecutionId=query_id, NextToken=token)
                if token
                else athena.get_query_results(QueryExecutionId=query_id)
            )
            rows += [[d.get("VarCharValue") for d in r["Data"]] for r in page["ResultSet"]["Rows"]]
            token = page.get("NextToken")
            if not token:
                break
    except (ClientError, BotoCoreError) as exc:
        raise DapError(
            f"cannot read the marts from Athena ({sql!r}): {exc}; check the credentials, "
            "DAP_ATHENA_S3_STAGING_DIR and DAP_ATHENA_WORK_GROUP"
        ) from exc
    info = page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
    columns = [str(c["Name"]) for c in info]
    return columns, [_duckdb_type(c) for c in info], rows[1:]  # the first row is the header
