"""Type names across the three systems the endpoint joins: Glue/Hive, DuckDB and Athena."""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

import pyarrow as pa

from athena_local.errors import AthenaQueryError

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
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        arrow_to_athena(arrow_type.value_type)  # refuses what cannot be printed inside
        return "array"
    if pa.types.is_map(arrow_type):
        arrow_to_athena(arrow_type.key_type)
        arrow_to_athena(arrow_type.item_type)
        return "map"
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


# GetQueryResults rendering ----------------------------------------------------------------


def format_rows(table: pa.Table) -> list[list[str | None]]:
    """The rows as GetQueryResults returns them: text, as Athena (Java) prints values."""
    formatters = [_formatter(field.type) for field in table.schema]
    return [
        [format_(value) for format_, value in zip(formatters, row.values(), strict=True)]
        for row in table.to_pylist()
    ]


Formatter = Callable[[object], str | None]


def _formatter(arrow_type: pa.DataType) -> Formatter:
    if pa.types.is_float32(arrow_type):
        return _nullable(lambda v: java_float(float(cast_float(v))))
    if pa.types.is_floating(arrow_type):
        return _nullable(lambda v: java_double(float(cast_float(v))))
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        element = _formatter(arrow_type.value_type)
        return _nullable(lambda v: "[" + ", ".join(_inner(element(e)) for e in _iterable(v)) + "]")
    if pa.types.is_map(arrow_type):
        key, item = _formatter(arrow_type.key_type), _formatter(arrow_type.item_type)
        return _nullable(
            lambda v: (
                "{" + ", ".join(f"{_inner(key(k))}={_inner(item(i))}" for k, i in _pairs(v)) + "}"
            )
        )
    return format_value


def cast_float(value: object) -> float:
    if not isinstance(value, int | float):
        raise TypeError(f"not a number: {value!r}")
    return float(value)


def _nullable(format_: Callable[[object], str]) -> Formatter:
    return lambda value: None if value is None else format_(value)


def _inner(text: str | None) -> str:
    # Inside an array or a map Athena prints a NULL as `null`.
    return "null" if text is None else text


def _iterable(value: object) -> list[object]:
    if not isinstance(value, list):
        raise TypeError(f"not a list: {value!r}")
    return value


def _pairs(value: object) -> list[tuple[object, object]]:
    if not isinstance(value, list):
        raise TypeError(f"not a map: {value!r}")
    return [(k, v) for k, v in value]


def format_value(value: object) -> str | None:  # noqa: PLR0911 - one return per type
    """A scalar as GetQueryResults prints it."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        return f"{text} UTC" if value.tzinfo is not None else text
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def java_double(value: float) -> str:
    """Java's Double.toString: shortest digits, scientific below 1e-3 and from 1e7."""
    return _java_number(value, repr(value))


def java_float(value: float) -> str:
    """Java's Float.toString: the shortest digits that read back as the same float."""
    if math.isnan(value) or math.isinf(value) or value == 0:
        return _java_number(value, repr(value))
    stored = struct.unpack("<f", struct.pack("<f", value))[0]
    for digits in range(1, 10):
        text = f"{value:.{digits}g}"
        if struct.unpack("<f", struct.pack("<f", float(text)))[0] == stored:
            return _java_number(value, text)
    return _java_number(value, repr(value))


def _java_number(value: float, shortest: str) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign, digits, exponent = Decimal(shortest).normalize().as_tuple()
    if not isinstance(exponent, int):
        raise TypeError(f"not a finite number: {shortest}")
    text = "".join(str(d) for d in digits)
    point = len(text) + exponent  # digits before the decimal point
    prefix = "-" if sign else ""
    if 1e-3 <= abs(value) < 1e7:
        if point <= 0:
            return f"{prefix}0.{'0' * -point}{text}"
        whole, fraction = text[:point].ljust(point, "0"), text[point:]
        return f"{prefix}{whole}.{fraction or '0'}"
    return f"{prefix}{text[0]}.{text[1:] or '0'}E{point - 1}"
