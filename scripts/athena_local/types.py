"""Type names across the three systems the endpoint joins: Glue/Hive, DuckDB and Athena."""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Callable
from datetime import date, datetime, time
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
    """DuckDB column type for a Glue column type: Hive's spelling (``array<int>``,
    ``map<string,int>``, ``struct<a:int>``), as tables record it, or Trino's
    (``array(integer)``, ``map(varchar, integer)``, ``row(a integer)``), as views do."""
    text = hive_type.strip().lower()
    nested = _NESTED.match(text)
    if nested:
        try:
            return _nested_to_duckdb(nested.group(1), _top_level_parts(nested.group(2)), hive_type)
        except AthenaQueryError as error:  # name the column's whole type, not a member's
            raise AthenaQueryError(
                "NOT_SUPPORTED", f"athena-local cannot read Hive type '{hive_type}'"
            ) from error
    name = re.sub(r"\(\s*\d+\s*\)$", "", text)
    if name in _SIMPLE_HIVE_TO_DUCKDB:
        return _SIMPLE_HIVE_TO_DUCKDB[name]
    decimal = _DECIMAL.match(name)
    if decimal:
        return f"DECIMAL({decimal.group(1)}, {decimal.group(2)})"
    raise AthenaQueryError("NOT_SUPPORTED", f"athena-local cannot read Hive type '{hive_type}'")


_NESTED = re.compile(r"^(array|map|struct|row)\s*[<(](.*)[>)]$", re.DOTALL)


def _top_level_parts(text: str) -> list[str]:
    """``int, map<string,int>`` as its two members: commas inside brackets do not split."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char in "<(":
            depth += 1
        elif char in ">)":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:index].strip())
            start = index + 1
    parts.append(text[start:].strip())
    return parts


def _nested_to_duckdb(kind: str, parts: list[str], whole: str) -> str:
    if kind == "array" and len(parts) == 1 and parts[0]:
        return f"{hive_to_duckdb(parts[0])}[]"
    if kind == "map" and len(parts) == 2:
        return f"MAP({hive_to_duckdb(parts[0])}, {hive_to_duckdb(parts[1])})"
    if kind in ("struct", "row") and all(parts):
        # Hive writes a field as `name:type`, Trino as `name type`.
        fields = [re.split(r"\s*:\s*|\s+", part, maxsplit=1) for part in parts]
        if all(len(field) == 2 for field in fields):
            members = ", ".join(
                '"' + name.strip('"`').replace('"', '""') + '" ' + hive_to_duckdb(member)
                for name, member in fields
            )
            return f"STRUCT({members})"
    raise AthenaQueryError("NOT_SUPPORTED", f"athena-local cannot read Hive type '{whole}'")


def is_nested_type(glue_type: str) -> bool:
    """Whether a Glue column type is an array, map or struct (row)."""
    return _NESTED.match(glue_type.strip().lower()) is not None


def arrow_to_hive(arrow_type: pa.DataType, column: str) -> str:
    """Glue (Hive) column type Athena registers for a CTAS result column: Hive's
    spelling, nested types with their members (``array<int>``, ``map<string,double>``,
    ``struct<a:int,b:string>``) so that the table reads back with the same types."""
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return f"array<{arrow_to_hive(arrow_type.value_type, column)}>"
    if pa.types.is_map(arrow_type):
        key = arrow_to_hive(arrow_type.key_type, column)
        return f"map<{key},{arrow_to_hive(arrow_type.item_type, column)}>"
    if pa.types.is_struct(arrow_type):
        members = [arrow_type.field(i) for i in range(arrow_type.num_fields)]
        if any(not m.name or re.fullmatch(r"_\d+", m.name) for m in members):
            # DuckDB numbers the fields of an unnamed row (_0, _1...); Trino's Hive
            # connector refuses such a row (HiveTypeTranslator), with this message.
            raise AthenaQueryError(
                "NOT_SUPPORTED",
                "Anonymous row type is not supported in Hive. Please give each field a name: "
                + trino_type_name(arrow_type, named=False),
            )
        return (
            "struct<"
            + ",".join(f"{m.name.lower()}:{arrow_to_hive(m.type, column)}" for m in members)
            + ">"
        )
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
    if name in _CARRIED:
        raise AthenaQueryError(
            "NOT_SUPPORTED", f"Unsupported Hive type: {name} (column '{column}')"
        )
    return {"integer": "int", "varchar": "string", "real": "float", "varbinary": "binary"}.get(
        name, name
    )


def trino_type_name(arrow_type: pa.DataType, *, named: bool = True) -> str:
    """Trino's full name of a type, members included (``array(integer)``,
    ``map(varchar, double)``, ``row(a integer)``; ``named=False``: ``row(integer)``)."""
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return f"array({trino_type_name(arrow_type.value_type, named=named)})"
    if pa.types.is_map(arrow_type):
        key = trino_type_name(arrow_type.key_type, named=named)
        return f"map({key}, {trino_type_name(arrow_type.item_type, named=named)})"
    if pa.types.is_struct(arrow_type):
        members = [arrow_type.field(i) for i in range(arrow_type.num_fields)]
        fields = [
            (f"{m.name} " if named else "") + trino_type_name(m.type, named=named) for m in members
        ]
        return f"row({', '.join(fields)})"
    return _arrow_name(arrow_type)


def arrow_to_athena(arrow_type: pa.DataType) -> str:
    """The type name Athena's GetQueryResults reports for a result column."""
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        arrow_to_athena(arrow_type.value_type)  # refuses what cannot be printed inside
        return "array"
    if pa.types.is_map(arrow_type):
        arrow_to_athena(arrow_type.key_type)
        arrow_to_athena(arrow_type.item_type)
        return "map"
    if pa.types.is_struct(arrow_type):
        for member in _members(arrow_type):
            arrow_to_athena(member.type)
        return "row"
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
    (pa.types.is_time, "time"),
    (pa.types.is_string, "varchar"),
    (pa.types.is_large_string, "varchar"),
    (pa.types.is_binary, "varbinary"),
    (pa.types.is_large_binary, "varbinary"),
    (pa.types.is_null, "unknown"),
)


# Trino types carried through DuckDB as a one-member union named after them (semantics.py).
_CARRIED = frozenset(
    {"uuid", "ipaddress", "json", "timestamp with time zone", "time with time zone"}
)


def _arrow_name(arrow_type: pa.DataType) -> str:
    if (
        pa.types.is_union(arrow_type)
        and arrow_type.num_fields == 1
        and arrow_type.field(0).name in _CARRIED
    ):
        return str(arrow_type.field(0).name)
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
    if pa.types.is_struct(arrow_type):
        # Athena prints a row as its fields by name: {a=1, b=x}.
        members = [(m.name, _formatter(m.type)) for m in _members(arrow_type)]
        return _nullable(
            lambda v: (
                "{" + ", ".join(f"{name}={_inner(f(_field(v, name)))}" for name, f in members) + "}"
            )
        )
    return format_value


def _members(arrow_type: pa.DataType) -> list[pa.Field]:
    """A row's fields; a row without field names is refused: DuckDB numbers or blanks its
    fields where Athena names them itself, and equal names cannot be told apart."""
    members = [arrow_type.field(i) for i in range(arrow_type.num_fields)]
    names = [m.name for m in members]
    if any(not n or re.fullmatch(r"_\d+", n) for n in names) or len(set(names)) < len(names):
        raise AthenaQueryError(
            "NOT_SUPPORTED",
            "athena-local does not return rows without distinct field names "
            "(cast the row to row(name type, ...))",
        )
    return members


def _field(value: object, name: str) -> object:
    if not isinstance(value, dict):
        raise TypeError(f"not a row: {value!r}")
    return value[name]


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
    if isinstance(value, time):
        # Athena prints a time to the millisecond, as it prints timestamps; a time(6)
        # value (DuckDB keeps microseconds) would print more digits.
        if value.microsecond % 1000:
            raise AthenaQueryError(
                "NOT_SUPPORTED", "athena-local does not return times finer than milliseconds"
            )
        return value.strftime("%H:%M:%S.%f")[:-3]
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
