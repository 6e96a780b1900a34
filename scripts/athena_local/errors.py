"""Athena's error names for what DuckDB reports, and failures raised from inside SQL.

Two directions:

* ``fail(name, message, type)`` is a SQL expression that fails the query with Athena's
  error ``name`` when evaluated. DuckDB's ``error()`` is volatile, and DuckDB refuses
  volatile functions inside ``TRY`` (Trino's ``try()``), so the failure is instead a cast
  of a marked string that cannot convert: deterministic, caught by ``TRY``, and recognised
  here by its marker. Only the branch that is taken is evaluated, as with any CASE.
* ``runtime_error(error)`` maps a DuckDB exception to Athena's error name and wording,
  by one table of rules (exception class, pattern) rather than case by case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb
from sqlglot import exp

# Athena's error types (GetQueryExecution's Status.AthenaError.ErrorType).
USER_ERROR_CATEGORY = 2
_ERROR_TYPES = {
    "SYNTAX_ERROR": 1000,
    "FUNCTION_NOT_FOUND": 1006,
    "COLUMN_NOT_FOUND": 1002,
    "TABLE_NOT_FOUND": 1003,
    "SCHEMA_NOT_FOUND": 1004,
    "ALREADY_EXISTS": 1005,
    "TYPE_MISMATCH": 1007,
    "NOT_SUPPORTED": 1008,
    "INVALID_CAST_ARGUMENT": 1009,
    "DIVISION_BY_ZERO": 1010,
    "HIVE_PATH_ALREADY_EXISTS": 1011,
    "HIVE_COLUMN_ORDER_MISMATCH": 1012,
    "HIVE_TOO_MANY_OPEN_PARTITIONS": 1013,
    "INVALID_TABLE_PROPERTY": 1014,
    "NUMERIC_VALUE_OUT_OF_RANGE": 1015,
    "INVALID_FUNCTION_ARGUMENT": 1016,
    "EXPRESSION_NOT_AGGREGATE": 1017,
    "NESTED_AGGREGATION": 1018,
    "GENERIC_USER_ERROR": 1099,
}


@dataclass
class AthenaQueryError(Exception):
    """A query Athena would fail, with Athena's error name and position."""

    name: str
    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}:{self.column}: " if self.line is not None else ""
        return f"{self.name}: {where}{self.message}"

    @property
    def error_type(self) -> int:
        return _ERROR_TYPES.get(self.name, _ERROR_TYPES["GENERIC_USER_ERROR"])


_MARKER = "athena-local:"
_MARKED = re.compile(re.escape(_MARKER) + r"([A-Z_]+):(.*?)['\"] (?:to |can't)")


def fail(name: str, message: str, dtype: exp.DataType | str = "int") -> exp.Expr:
    """A SQL expression that fails with Athena's error ``name`` and ``message``."""
    target = dtype if isinstance(dtype, exp.DataType) else exp.DataType.build(dtype)
    if target.this in exp.DataType.TEXT_TYPES or target.this == exp.DataType.Type.UNKNOWN:
        # A string converts to a string; fail through an integer and cast that.
        inner = exp.cast(exp.Literal.string(f"{_MARKER}{name}:{message}"), "int")
        return exp.cast(inner, target)
    return exp.cast(exp.Literal.string(f"{_MARKER}{name}:{message}"), target)


@dataclass(frozen=True)
class _Rule:
    kind: type[duckdb.Error] | None
    pattern: re.Pattern[str]
    name: str
    wording: str | None = None  # None: keep DuckDB's first line


_OUT_OF_RANGE_CAST = re.compile(
    r"Type (U?INT\d+|HUGEINT|UHUGEINT) with value (\S+) can't be cast because the value is "
    r"out of range for the destination type (\w+)"
)
_TRINO_TYPE = {
    "INT8": "tinyint",
    "INT16": "smallint",
    "INT32": "integer",
    "INT64": "bigint",
    "INT128": "decimal(38,0)",
}

# First match wins. Wording follows Trino's messages where one is known.
_RULES: tuple[_Rule, ...] = (
    _Rule(
        None, re.compile(r"division by zero", re.IGNORECASE), "DIVISION_BY_ZERO", "Division by zero"
    ),
    _Rule(
        duckdb.OutOfRangeException,
        re.compile(r"Overflow in (\w+) of (\w+)"),
        "NUMERIC_VALUE_OUT_OF_RANGE",
    ),
    _Rule(duckdb.OutOfRangeException, re.compile(r"Overflow"), "NUMERIC_VALUE_OUT_OF_RANGE"),
    _Rule(duckdb.ConversionException, re.compile(r"."), "INVALID_CAST_ARGUMENT"),
    # DuckDB reports a bad function argument (an unparsable date, a bad pattern, an empty
    # pad) as invalid input; Trino as INVALID_FUNCTION_ARGUMENT.
    _Rule(duckdb.InvalidInputException, re.compile(r"."), "INVALID_FUNCTION_ARGUMENT"),
    _Rule(
        duckdb.BinderException,
        re.compile(r"No function matches|Could not choose a best candidate function"),
        "FUNCTION_NOT_FOUND",
    ),
    _Rule(
        duckdb.BinderException,
        re.compile(r"must appear in the GROUP BY clause"),
        "EXPRESSION_NOT_AGGREGATE",
    ),
    _Rule(
        duckdb.BinderException,
        re.compile(r"aggregate function calls cannot be nested"),
        "NESTED_AGGREGATION",
        "Cannot nest aggregations inside aggregation",
    ),
    _Rule(duckdb.BinderException, re.compile(r"."), "SYNTAX_ERROR"),
)


def runtime_error(error: duckdb.Error) -> AthenaQueryError:
    """Athena's error for a DuckDB failure while running a translated query."""
    text = str(error)
    marked = _MARKED.search(text)
    if marked:
        return AthenaQueryError(marked.group(1), marked.group(2))
    first = text.splitlines()[0]
    out_of_range = _OUT_OF_RANGE_CAST.search(first)
    if out_of_range and isinstance(error, duckdb.ConversionException):
        target = _TRINO_TYPE.get(out_of_range.group(3), out_of_range.group(3).lower())
        return AthenaQueryError(
            "NUMERIC_VALUE_OUT_OF_RANGE", f"Out of range for {target}: {out_of_range.group(2)}"
        )
    if isinstance(error, duckdb.CatalogException):
        # A Trino function sqlglot passes through as it is and DuckDB lacks.
        return AthenaQueryError("NOT_SUPPORTED", f"athena-local cannot run this yet: {first}")
    for rule in _RULES:
        if (rule.kind is None or isinstance(error, rule.kind)) and rule.pattern.search(first):
            return AthenaQueryError(rule.name, rule.wording or _wording(first))
    return AthenaQueryError("GENERIC_INTERNAL_ERROR", first)


def _wording(first_line: str) -> str:
    """DuckDB's message without its error-class prefix ('Conversion Error: ...')."""
    return re.sub(r"^[A-Za-z ]+ Error: ", "", first_line)
