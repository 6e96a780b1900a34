"""Bytes scanned by a query, measured as Athena measures them, and what Athena bills for them.

Athena reports, in ``Statistics.DataScannedInBytes``, the bytes it read from S3: for
Parquet, the column chunks of the columns a query references, in the files of the
partitions it did not prune; for text formats (CSV), whole files. Statements that read no
table data (CREATE/DROP/ALTER of tables, databases and views, SHOW, DESCRIBE, MSCK) scan
nothing. Athena *bills* that figure rounded up to the next megabyte, with a minimum of
10 MB per query that scans data, and DDL free: :func:`billed_bytes`.

:func:`scanned_bytes` measures a query from the Glue catalog and the Parquet footers of the
objects under the tables' S3 locations (``total_compressed_size`` of each column chunk):

- columns: the query is qualified against the catalog (views expanded inline, as Trino
  expands them) and projections no outer query uses are pruned (sqlglot's
  ``pushdown_projections``), so that ``with source as (select * from t)`` followed by a
  query that uses two columns reads two columns, as Trino's projection pushdown does;
- partitions: filters are pushed down into subqueries, views and CTEs (sqlglot's
  ``pushdown_predicates``, as Trino pushes them), then the conjuncts of a scope's WHERE
  that compare a table's partition keys with constants are evaluated against the table's
  registered partitions; the partitions they keep are read.

What is approximated (each errs towards more bytes, except the CTE case):

- no row-group pruning by Parquet statistics and no dynamic filtering (a partition filter
  that needs a subquery's result, e.g. ``year >= (select max(year) ...)``, prunes nothing);
- a CTE referenced twice is counted once (Trino inlines it and may read it twice);
- a Parquet query that references no column of a table (``count(*)``) counts 0 bytes for
  it (Athena reads the footers, a few kilobytes);
- if the query cannot be analysed (a construct sqlglot cannot qualify), every column of
  every partition of every table it names is counted.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from sqlglot import exp
from sqlglot.errors import OptimizeError, SqlglotError
from sqlglot.optimizer.pushdown_predicates import pushdown_predicates
from sqlglot.optimizer.pushdown_projections import pushdown_projections
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, traverse_scope

from athena_local.dialect import parse
from athena_local.store import StoredObject, view_sql
from athena_local.types import hive_to_duckdb
from dap.ops.cost import athena_billed_bytes
from dap.schema import NULL_PARTITION, PARQUET_SERDE

FREE_STATEMENT_TYPES = frozenset({"DDL", "UTILITY"})


class CatalogReader(Protocol):
    """The part of :class:`athena_local.store.Warehouse` measuring needs."""

    def get_table(self, database: str, name: str) -> dict[str, Any] | None: ...

    def partitions(self, database: str, name: str) -> list[dict[str, Any]]: ...

    def list_objects(self, location: str) -> list[StoredObject]: ...

    def read(self, stored: StoredObject) -> bytes: ...

    def iceberg_data_files(self, database: str, name: str) -> list[StoredObject]: ...


def billed_bytes(scanned: int, statement_type: str = "DML", substatement: str = "") -> int:
    """What Athena charges for a query that reported ``scanned`` bytes.

    DDL (CREATE, ALTER, DROP, MSCK) and utility statements (SHOW, DESCRIBE, EXPLAIN) are
    free, except CTAS, which is billed for the data its query reads; everything else is
    rounded up to the next megabyte, with a 10 MB minimum.
    """
    if statement_type in FREE_STATEMENT_TYPES and substatement != "CREATE_TABLE_AS_SELECT":
        return 0
    return athena_billed_bytes(scanned)


@dataclass
class _Read:
    """One table as one scope of the query reads it."""

    database: str
    name: str
    table: dict[str, Any]
    columns: set[str] = field(default_factory=set)
    conditions: list[exp.Expr] = field(default_factory=list)
    alias: str = ""


def scanned_bytes(query: exp.Expr, database: str, catalog: CatalogReader) -> int:
    """Bytes Athena reads from S3 to run ``query`` (a SELECT, or the query of a CTAS/INSERT)."""
    reads = _reads(query, database, catalog)
    return sum(_read_bytes(read, catalog) for read in reads)


# which tables, columns and partitions ---------------------------------------------------


def _reads(query: exp.Expr, database: str, catalog: CatalogReader) -> list[_Read]:
    tables: dict[tuple[str, str], dict[str, Any]] = {}
    expanded = _expand_views(query.copy(), database, catalog, tables, ())
    try:
        return _analysed_reads(expanded, database, tables)
    except (SqlglotError, KeyError, ValueError, TypeError):
        # Count everything the query names rather than fail the query over its bill.
        return [
            _Read(db, name, table, columns=_all_columns(table))
            for (db, name), table in sorted(tables.items())
        ]


def _expand_views(
    query: exp.Expr,
    database: str,
    catalog: CatalogReader,
    tables: dict[tuple[str, str], dict[str, Any]],
    within: tuple[tuple[str, str], ...],
) -> exp.Expr:
    """The query with every view replaced by its body, as a subquery under the view's
    alias; base tables found are collected in ``tables``."""
    ctes = {cte.alias_or_name.lower() for cte in query.find_all(exp.CTE)}
    for node in list(query.find_all(exp.Table)):
        name = node.name.lower()
        if not name or (not node.db and name in ctes):
            continue
        key = ((node.db or database).lower(), name)
        table = catalog.get_table(*key)
        if table is None or key in within:
            continue  # the engine reports the missing table; billing just counts nothing
        node.set("catalog", None)
        if table.get("TableType") != "VIRTUAL_VIEW":
            node.set("db", exp.to_identifier(key[0]))  # a view's tables: in the view's database
            tables[key] = table
            continue
        body = _expand_views(parse(view_sql(table)), key[0], catalog, tables, (*within, key))
        alias = node.alias or name
        node.replace(exp.Subquery(this=body, alias=exp.TableAlias(this=exp.to_identifier(alias))))
    return query


def _analysed_reads(
    query: exp.Expr, database: str, tables: dict[tuple[str, str], dict[str, Any]]
) -> list[_Read]:
    schema: dict[str, object] = {}
    for (db, name), table in tables.items():
        columns = dict.fromkeys(sorted(_all_columns(table)), "varchar")
        by_name = schema.setdefault(db, {})
        assert isinstance(by_name, dict)
        by_name[name] = columns
    try:
        qualified = qualify(
            query,
            schema=schema,
            db=database,
            dialect="athena",
            validate_qualify_columns=False,
            quote_identifiers=False,
        )
        pruned = pushdown_projections(pushdown_predicates(qualified))
    except OptimizeError as error:
        raise ValueError(str(error)) from error
    reads: list[_Read] = []
    by_scope: dict[tuple[int, str], _Read] = {}
    scopes = traverse_scope(pruned)
    for scope in scopes:
        for alias, (_, source) in scope.selected_sources.items():
            if isinstance(source, exp.Table):
                key = ((source.db or database).lower(), source.name.lower())
                read = _Read(*key, tables[key], alias=alias)
                read.conditions = _conditions(scope, alias)
                by_scope[(id(scope), alias)] = read
                reads.append(read)
    for scope in scopes:
        for column in scope.columns:
            name = column.name.lower()
            if column.table:
                owner = _owner(scope, column.table, by_scope)
                owners = [owner] if owner is not None else []
            else:  # left unqualified (ambiguous): count it for every table that has it
                owners = [r for r in reads if name in _all_columns(r.table)]
            for owner in owners:
                owner.columns.add(name)
    return reads


def _owner(scope: Scope | None, alias: str, by_scope: dict[tuple[int, str], _Read]) -> _Read | None:
    """The table read a column's qualifier names, in its scope or an enclosing one."""
    while scope is not None:
        found = by_scope.get((id(scope), alias))
        if found is not None:
            return found
        if alias in scope.selected_sources:
            return None  # a derived table or CTE: its own scope reads the tables
        scope = scope.parent
    return None


def _conditions(scope: Scope, alias: str) -> list[exp.Expr]:
    """The conjuncts of the scope's WHERE that name only this source's columns."""
    where = scope.expression.args.get("where") if isinstance(scope.expression, exp.Select) else None
    if not isinstance(where, exp.Where):
        return []
    conjuncts = where.this.flatten() if isinstance(where.this, exp.And) else [where.this]
    kept = []
    for conjunct in conjuncts:
        columns = list(conjunct.find_all(exp.Column))
        if not columns or conjunct.find(exp.Query, exp.Subquery) is not None:
            continue
        if all(c.table == alias for c in columns):
            kept.append(conjunct)
    return kept


def _all_columns(table: dict[str, Any]) -> set[str]:
    storage = table.get("StorageDescriptor", {})
    names = [c["Name"] for c in storage.get("Columns", [])]
    names += [k["Name"] for k in table.get("PartitionKeys", [])]
    return {n.lower() for n in names}


# bytes ----------------------------------------------------------------------------------


def _read_bytes(read: _Read, catalog: CatalogReader) -> int:
    if str(read.table.get("Parameters", {}).get("table_type", "")).upper() == "ICEBERG":
        # The data files of the current snapshot, not the metadata or older files.
        files = catalog.iceberg_data_files(read.database, read.name)
        return sum(_column_chunk_bytes(catalog.read(f), read.columns) for f in files)
    storage = read.table.get("StorageDescriptor", {})
    serde = storage.get("SerdeInfo", {}).get("SerializationLibrary", "")
    keys = [(k["Name"].lower(), k["Type"]) for k in read.table.get("PartitionKeys", [])]
    if keys:
        partitions = catalog.partitions(read.database, read.name)
        kept = _prune(partitions, keys, read.conditions)
        locations = [p["StorageDescriptor"]["Location"] for p in kept]
    else:
        locations = [storage.get("Location", "")]
    data_columns = read.columns - {k for k, _ in keys}
    total = 0
    for location in locations:
        for stored in catalog.list_objects(location):
            if serde == PARQUET_SERDE:
                total += _column_chunk_bytes(catalog.read(stored), data_columns)
            else:
                total += stored.size  # text formats are read whole
    return total


def _column_chunk_bytes(data: bytes, columns: Iterable[str]) -> int:
    """Compressed bytes of the named top-level columns' chunks, in every row group."""
    wanted = set(columns)
    if not wanted:
        return 0
    try:
        metadata = pq.ParquetFile(io.BytesIO(data)).metadata
    except (pa.ArrowInvalid, OSError):
        return len(data)  # not Parquet: the engine fails the query; count the object
    total = 0
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        for index in range(row_group.num_columns):
            chunk = row_group.column(index)
            if chunk.path_in_schema.split(".")[0].lower() in wanted:
                total += chunk.total_compressed_size
    return total


def _prune(
    partitions: list[dict[str, Any]], keys: list[tuple[str, str]], conditions: list[exp.Expr]
) -> list[dict[str, Any]]:
    """The partitions the conditions on partition keys keep (all, if they cannot be judged)."""
    names = {k for k, _ in keys}
    usable = [
        c for c in conditions if all(col.name.lower() in names for col in c.find_all(exp.Column))
    ]
    if not usable or not partitions:
        return partitions
    values: dict[str, list[str | None]] = {name: [] for name, _ in keys}
    for partition in partitions:
        for (name, _), value in zip(keys, partition["Values"], strict=True):
            values[name].append(None if value == NULL_PARTITION else value)
    frame = pa.table({"__index": list(range(len(partitions))), **values})
    types = dict(keys)
    condition = exp.and_(*(c.copy() for c in usable))
    for column in list(condition.find_all(exp.Column)):
        name = column.name.lower()
        column.replace(
            exp.cast(
                exp.column(name, table="partitions", quoted=True),
                exp.DataType.build(hive_to_duckdb(types[name]), dialect="duckdb"),
            )
        )
    sql = f"select __index from partitions where {condition.sql(dialect='duckdb')}"  # noqa: S608 - built by sqlglot
    connection = duckdb.connect(":memory:")
    try:
        connection.execute("set TimeZone = 'UTC'")
        connection.register("partitions", frame)
        kept = {row[0] for row in connection.execute(sql).fetchall()}
    except duckdb.Error:
        return partitions
    finally:
        connection.close()
    return [p for index, p in enumerate(partitions) if index in kept]
