"""The Athena statements on Iceberg tables, computed on the engine's DuckDB workspace and
stored by :mod:`athena_local.iceberg`.

INSERT, CTAS, MERGE, UPDATE and DELETE compute the table's rows in DuckDB (the target
loaded from its current snapshot, the statement translated as any other), then commit
them as one new snapshot. OPTIMIZE rewrites the same rows; VACUUM expires snapshots. A
time-travel read (`FOR VERSION AS OF`, `FOR TIMESTAMP AS OF`) or a metadata table
(`"t$snapshots"`) is loaded under a name of its own (``t$snapshot_<id>``, ``t$snapshots``)
that the workspace resolves through :func:`athena_local.iceberg.split_reference`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp

from athena_local.dialect import parse, to_duckdb
from athena_local.errors import AthenaQueryError
from athena_local.iceberg import is_iceberg
from athena_local.store import Warehouse

# The Hive connector's refusal of row-level changes (Trino's HiveMetadata).
_HIVE_ROWS = "Modifying Hive table rows is only supported for transactional tables"
_OPTIMIZE = re.compile(
    r"^\s*(?P<table>[\w.\"`]+)\s+rewrite\s+data\s+using\s+bin_pack(?:\s+where\s+(?P<where>.+))?\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_VACUUM = re.compile(r"^\s*(?P<table>[\w.\"`]+)\s*;?\s*$", re.DOTALL)


class Workspace(Protocol):
    """What the engine's DuckDB workspace offers these statements."""

    scanned_bytes: int

    def prepare(self, query: exp.Expr, database: str, *, measure: bool = True) -> str: ...

    def run(self, sql: str) -> pa.Table: ...

    def count(self, sql: str) -> int: ...


@dataclass
class Done:
    """What a statement did: rows changed, bytes scanned, the DuckDB it ran."""

    rows: int
    scanned: int = 0
    translated: str | None = None


class IcebergStatements:
    """``workspace`` opens a fresh DuckDB workspace of the engine."""

    def __init__(
        self, warehouse: Warehouse, workspace: Callable[[], AbstractContextManager[Workspace]]
    ) -> None:
        self._warehouse = warehouse
        self._open = workspace

    # MERGE / UPDATE / DELETE ---------------------------------------------------------------

    def _iceberg_table(self, db: str, name: str, if_hive: str) -> dict[str, Any]:
        """The Glue table ``db.name``; TABLE_NOT_FOUND, or NOT_SUPPORTED with ``if_hive``
        where it is not an Iceberg table."""
        table = self._warehouse.get_table(db, name)
        if table is None:
            raise AthenaQueryError(
                "TABLE_NOT_FOUND", f"Table 'awsdatacatalog.{db}.{name}' does not exist"
            )
        if not is_iceberg(table):
            raise AthenaQueryError("NOT_SUPPORTED", if_hive)
        return table

    def row_level(self, statement: exp.Expr, database: str) -> Done:
        """MERGE INTO, UPDATE or DELETE FROM an Iceberg table."""
        target = statement.this
        if isinstance(target, exp.Alias):
            target = target.this
        if not isinstance(target, exp.Table):
            raise AthenaQueryError("SYNTAX_ERROR", f"Expected a table, found {target.sql()}")
        db, name = (target.db or database).lower(), target.name.lower()
        self._iceberg_table(db, name, _HIVE_ROWS)
        iceberg = self._warehouse.iceberg
        read_at = iceberg.current_snapshot(db, name)
        with self._open() as workspace:
            translated = _translate_row_level(workspace, statement, database)
            if isinstance(statement, exp.Merge):
                _check_single_matches(workspace, translated)
            changed = workspace.count(translated)
            rows = workspace.run(f'select * from "{db}"."{name}"')  # noqa: S608 - lower-case names from Glue
            scanned = workspace.scanned_bytes
        if changed:
            iceberg.replace(db, name, rows, read_at)
        return Done(changed, scanned, translated)

    # OPTIMIZE / VACUUM ---------------------------------------------------------------------

    def maintenance(self, command: str, text: str, database: str) -> str:
        """OPTIMIZE … REWRITE DATA USING BIN_PACK [WHERE …] or VACUUM; the substatement."""
        pattern = _OPTIMIZE if command == "OPTIMIZE" else _VACUUM
        match = pattern.match(text)
        if match is None:
            raise AthenaQueryError("SYNTAX_ERROR", f"mismatched input in {command} {text.strip()}")
        node = exp.to_table(match.group("table").replace("`", '"'), dialect="athena")
        db, name = (node.db or database).lower(), node.name.lower()
        self._iceberg_table(db, name, f"{command} is supported for Iceberg tables only")
        iceberg = self._warehouse.iceberg
        if command == "VACUUM":
            iceberg.vacuum(db, name, self._warehouse.delete_files)
            return "VACUUM"
        where = match.group("where")
        if where:
            # The predicate must be valid on the table; rewriting all files leaves the
            # rows as they are, which is all a query can see of OPTIMIZE.
            check = parse(f"select count(*) from {db}.{name} where {where}")  # noqa: S608
            with self._open() as workspace:
                workspace.run(workspace.prepare(check, database, measure=False))
        iceberg.optimize(db, name)
        return "OPTIMIZE"

    # time travel ---------------------------------------------------------------------------

    def resolve_versions(self, query: exp.Expr, database: str) -> exp.Expr:
        """Tables read `FOR VERSION AS OF` / `FOR TIMESTAMP AS OF` renamed to the snapshot
        they read (``t$snapshot_<id>``), keeping the name they are referred to by."""
        for node in list(query.find_all(exp.Table)):
            version = node.args.get("version")
            if not isinstance(version, exp.Version):
                continue
            db, name = (node.db or database).lower(), node.name.lower()
            self._iceberg_table(db, name, "This connector does not support versioned tables")
            iceberg = self._warehouse.iceberg
            kind = str(version.this).upper()
            value = _evaluate(version.expression)
            if kind == "VERSION":
                if not isinstance(value, int) or isinstance(value, bool):
                    raise AthenaQueryError(
                        "TYPE_MISMATCH", f"Unsupported type for table version: {type(value)}"
                    )
                snapshot = iceberg.snapshot(db, name, value)
            else:
                if not isinstance(value, datetime):
                    raise AthenaQueryError(
                        "TYPE_MISMATCH", "Type of the FOR TIMESTAMP AS OF value must be a timestamp"
                    )
                when = value if value.tzinfo else value.replace(tzinfo=UTC)
                if when > datetime.now(UTC):
                    raise AthenaQueryError("INVALID_ARGUMENTS", "Pointer must not be in the future")
                snapshot = iceberg.snapshot_at(db, name, when)
            alias = node.alias or name
            replacement = exp.table_(
                exp.to_identifier(f"{name}$snapshot_{snapshot}", quoted=True),
                db=exp.to_identifier(db),
                alias=exp.to_identifier(alias),
            )
            node.replace(replacement)
        return query


def _row_level_expressions(statement: exp.Expr) -> list[exp.Expr]:
    """The expressions of a DELETE, UPDATE or MERGE that compute values: conditions, SET
    values, INSERT values (not the column names they assign)."""
    found: list[exp.Expr] = []
    where = statement.args.get("where")
    if isinstance(statement, exp.Update):
        found += [e.expression for e in statement.expressions if isinstance(e, exp.EQ)]
    if isinstance(statement, exp.Merge):
        found.append(statement.args["on"])
        whens = statement.args.get("whens")
        for clause in whens.expressions if isinstance(whens, exp.Whens) else []:
            condition = clause.args.get("condition")
            if condition is not None:
                found.append(condition)
            then = clause.args.get("then")
            if isinstance(then, exp.Update):
                found += [e.expression for e in then.expressions if isinstance(e, exp.EQ)]
            elif isinstance(then, exp.Insert) and isinstance(then.expression, exp.Tuple):
                found += list(then.expression.expressions)
    if isinstance(where, exp.Where):
        found.append(where.this)
    return found


def _translate_row_level(workspace: Workspace, statement: exp.Expr, database: str) -> str:
    """The DuckDB DELETE, UPDATE or MERGE computing what Athena's would. Each value it
    computes is translated as a column of a SELECT over the same tables (sqlglot's
    qualifier and the type rules of :mod:`athena_local.dialect` work on queries), then put
    back in the statement: `id / 2` divides as integers, as on Athena."""
    copied = statement.copy()
    expressions = _row_level_expressions(copied)
    target = copied.this.this if isinstance(copied.this, exp.Alias) else copied.this
    columns = [e.copy().as_(f"athena_local_{i}") for i, e in enumerate(expressions)]
    wrapper = exp.select(*(columns or [exp.Literal.number(1).as_("athena_local_0")]))
    wrapper = wrapper.from_(target.copy())
    if isinstance(copied, exp.Merge):
        wrapper = wrapper.join(copied.args["using"].copy(), join_type="cross")
    translated = sqlglot.parse_one(workspace.prepare(wrapper, database), read="duckdb")
    assert isinstance(translated, exp.Select)
    for original, column in zip(expressions, translated.selects, strict=False):
        original.replace(column.this if isinstance(column, exp.Alias) else column)
    found = translated.find(exp.From)
    assert found is not None
    target.replace(found.this)
    if isinstance(copied, exp.Merge):
        copied.set("using", translated.args["joins"][0].this)
    return copied.sql(dialect="duckdb", identify=True)


def _evaluate(value: exp.Expr) -> object:
    """A constant expression's value (the timestamp or version a read travels to)."""
    translated = to_duckdb(exp.select(value.copy().as_("value")), {}, "default")
    connection = duckdb.connect(":memory:")
    try:
        connection.execute("set TimeZone = 'UTC'")
        row = connection.execute(translated).fetchone()
    except duckdb.Error as error:
        raise AthenaQueryError("INVALID_ARGUMENTS", f"Cannot evaluate {value.sql()}") from error
    finally:
        connection.close()
    return row[0] if row else None


def _check_single_matches(workspace: Workspace, translated: str) -> None:
    """Athena fails a MERGE in which one target row matches several source rows; DuckDB
    would change it once."""
    merge = sqlglot.parse_one(translated, read="duckdb")
    if not isinstance(merge, exp.Merge):
        return
    whens = merge.args.get("whens")
    clauses = whens.expressions if isinstance(whens, exp.Whens) else []
    if not any(clause.args.get("matched") for clause in clauses):
        return
    target = merge.this
    alias = target.alias_or_name
    using = merge.args["using"]
    check = (
        exp.select("1")
        .from_(target.copy())
        .join(using.copy(), on=merge.args["on"].copy())
        .group_by(exp.column("rowid", table=alias))
        .having("count(*) > 1")
        .limit(1)
    )
    if workspace.run(check.sql(dialect="duckdb")).num_rows:
        raise AthenaQueryError(
            "MERGE_TARGET_ROW_MULTIPLE_MATCHES",
            "One MERGE target table row matched more than one source row",
        )
