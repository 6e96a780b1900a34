"""Type names across the three systems the endpoint joins: Glue/Hive, DuckDB and Athena."""

from __future__ import annotations

import re
from collections.abc import Callable

import pyarrow as pa

from athena_local.dialect import AthenaQueryError

_DECIMAL = re.compile(r"^decimal\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)$")
_SIMPLE_HIVE_TO_DUCKDB = {
    "string": "VARCHAR",
    "varchar": "VARCHAR",
    "char": "VARCHAR",
    "int": "INTEGER",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "smallint": "SMALLINT",
    "tinyint": "TINYINT",
    "double": "DOUBLE",
    "float": "FLOAT",
    "real": "FLOAT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "binary": "BLOB",
    "varbinary": "BLOB",
}


def hive_to_duckdb(hive_type: str) -> str:
    """DuckDB column type for a Glue (Hive) column type."""
    name = re.sub(r"\(\s*\d+\s*\)$", "", hive_type.strip().lower())
    if name in _SIMPLE_HIVE_TO_DUCKDB:
        return _SIMPLE_HIVE_TO_DUCKDB[name]
    decimal = _DECIMAL.match(name)
    if decimal:
        return f"DECIMAL({decimal.group(1)}, {decimal.group(2)})"
    raise AthenaQueryError("NOT_SUPPORTED", f"athena-local cannot read Hive type '{hive_type}'")


def arrow_to_hive(arrow_type: pa.DataType, column: str) -> str:
    """Glue (Hive) column type Athena registers for a CTAS result column."""
    if pa.types.is_timestamp(arrow_type) and arrow_type.tz is not None:
        raise AthenaQueryError(
            "NOT_SUPPORTED",
            f"Unsupported Hive type: timestamp(3) with time zone (column '{column}')",
        )
    name = _arrow_name(arrow_type)
    if name == "unknown":
        raise AthenaQueryError(
            "NOT_SUPPORTED", f"Unsupported Hive type: unknown (column '{column}' is a bare NULL)"
        )
    return {"integer": "int", "varchar": "string", "real": "float", "varbinary": "binary"}.get(
        name, name
    )


def arrow_to_athena(arrow_type: pa.DataType) -> str:
    """The type name Athena's GetQueryResults reports for a result column."""
    name = _arrow_name(arrow_type)
    return "decimal" if name.startswith("decimal") else name


_ARROW_NAMES: tuple[tuple[Callable[[pa.DataType], bool], str], ...] = (
    (pa.types.is_int8, "tinyint"),
    (pa.types.is_int16, "smallint"),
    (pa.types.is_int32, "integer"),
    (pa.types.is_integer, "bigint"),
    (pa.types.is_float32, "real"),
    (pa.types.is_floating, "double"),
    (pa.types.is_boolean, "boolean"),
    (pa.types.is_date, "date"),
    (pa.types.is_string, "varchar"),
    (pa.types.is_large_string, "varchar"),
    (pa.types.is_binary, "varbinary"),
    (pa.types.is_large_binary, "varbinary"),
    (pa.types.is_null, "unknown"),
)


def _arrow_name(arrow_type: pa.DataType) -> str:
    if pa.types.is_timestamp(arrow_type):
        return "timestamp with time zone" if arrow_type.tz else "timestamp"
    if pa.types.is_decimal(arrow_type):
        return f"decimal({arrow_type.precision},{arrow_type.scale})"
    for matches, name in _ARROW_NAMES:
        if matches(arrow_type):
            return name
    raise AthenaQueryError("NOT_SUPPORTED", f"athena-local cannot return type {arrow_type}")
