"""Executes Athena statements against the Glue catalog and S3 objects of the endpoint.

Queries run on an in-memory DuckDB that holds only the tables the query reads, loaded
from their S3 objects as Athena would read them (registered partitions only, Parquet by
column name, CSV through OpenCSVSerde as strings, TEXTFILE through LazySimpleSerDe). CTAS
writes Parquet to S3 and registers tables and partitions in Glue; INSERT (of a query or of
VALUES) writes Parquet or text as the table is stored; the DDL dbt-athena sends changes
Glue as Athena's DDL does; SHOW and EXPLAIN answer from Glue and the translation
(:mod:`athena_local.utility`). Anything Athena would refuse fails with Athena's error name.

Iceberg tables (`table_type='ICEBERG'`) are Iceberg metadata and Parquet under their
location (:mod:`athena_local.iceberg`); the hooks here hand their CTAS, INSERT, DROP and
ALTER to it, and MERGE, UPDATE, DELETE, OPTIMIZE, VACUUM, time travel and the `$` metadata
tables to :mod:`athena_local.iceberg_statements`.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from sqlglot import exp

from athena_local.billing import scanned_bytes
from athena_local.dialect import (
    Schema,
    check_query,
    parse,
    referenced_tables,
    to_duckdb,
    view_body,
)
from athena_local.errors import AthenaQueryError, fail, runtime_error
from athena_local.iceberg import check_ctas_properties as check_iceberg_properties
from athena_local.iceberg import is_iceberg, partition_texts, split_reference
from athena_local.iceberg_statements import IcebergStatements
from athena_local.store import (
    PARQUET_STORAGE,
    TEXT_STORAGE,
    Warehouse,
    view_original_text,
    view_sql,
)
from athena_local.types import (
    arrow_to_athena,
    arrow_to_hive,
    format_rows,
    hive_to_duckdb,
    is_nested_type,
    trino_type_name,
)
from athena_local.utility import (
    ExplainRequest,
    Utility,
    Word,
    expand_table_functions,
    explain_request,
    hive_pattern,
    utility_statement,
    words,
)
from dap.schema import NULL_PARTITION, PARQUET_SERDE

MAX_PARTITIONS_PER_WRITE = 100
_OPEN_CSV_SERDE = "org.apache.hadoop.hive.serde2.OpenCSVSerde"
_LAZY_SIMPLE_SERDE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
_TABLE_INPUT_KEYS = (
    "Name",
    "Description",
    "Owner",
    "Retention",
    "StorageDescriptor",
    "PartitionKeys",
    "TableType",
    "Parameters",
    "ViewOriginalText",
    "ViewExpandedText",
)
_COMPRESSIONS = {"snappy": "snappy", "gzip": "gzip", "zstd": "zstd", "none": "none"}


@dataclass
class Outcome:
    """What a statement did, in the shape GetQueryExecution/GetQueryResults report."""

    statement_type: str
    substatement_type: str
    columns: list[tuple[str, str]] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)
    update_count: int = 0
    scanned_bytes: int = 0
    translated: str | None = None
    # Whether GetQueryResults' first row repeats the column names: for queries (DML), and
    # for EXPLAIN, whose plain-text result Athena starts with `Query Plan`.
    header_row: bool | None = None

    @property
    def has_header_row(self) -> bool:
        if self.header_row is not None:
            return self.header_row
        return self.statement_type == "DML"


class Engine:
    """Runs one statement at a time; safe to use from several threads at once."""

    def __init__(self, warehouse: Warehouse) -> None:
        self._warehouse = warehouse
        self._iceberg = IcebergStatements(warehouse, lambda: _Workspace(warehouse))

    def execute(  # noqa: PLR0911 - one return per statement kind
        self, sql: str, database: str, query_id: str, output_location: str
    ) -> Outcome:
        database = database.lower()
        _check_statement_start(sql)
        utility = utility_statement(sql)
        if utility is not None:
            return self._utility(utility, database)
        statement = parse(sql)
        if isinstance(statement, exp.Create):
            return self._create(statement, sql, database, query_id, output_location)
        if isinstance(statement, exp.Drop):
            return self._drop(statement, database)
        if isinstance(statement, exp.Alter):
            return self._alter(statement, database)
        if isinstance(statement, exp.Insert):
            return self._insert(statement, sql, database, query_id)
        if isinstance(statement, exp.Query):
            return self._select(statement, sql, database)
        if isinstance(statement, exp.Merge | exp.Update | exp.Delete | exp.Command):
            outcome = self._table_maintenance(statement, sql, database)
            if outcome is not None:
                return outcome
        name = statement.name if isinstance(statement, exp.Command) else statement.key
        raise AthenaQueryError(
            "NOT_SUPPORTED", f"athena-local does not run {name.upper()} statements"
        )

    def _table_maintenance(self, statement: exp.Expr, sql: str, database: str) -> Outcome | None:
        """MERGE, UPDATE, DELETE, OPTIMIZE and VACUUM: Iceberg tables only, as on Athena."""
        if isinstance(statement, exp.Merge | exp.Update | exp.Delete):
            check_query(sql, statement)
            done = self._iceberg.row_level(statement, database)
            return Outcome(
                "DML",
                statement.key.upper(),
                update_count=done.rows,
                scanned_bytes=done.scanned,
                translated=done.translated,
            )
        command = statement.name.upper()
        if isinstance(statement, exp.Command) and command in ("OPTIMIZE", "VACUUM"):
            text = statement.expression.name if statement.expression else ""
            return Outcome("DML", self._iceberg.maintenance(command, text, database))
        return None

    # EXPLAIN, SHOW -----------------------------------------------------------------------

    def _utility(self, utility: Utility, database: str) -> Outcome:
        if utility.keyword == "explain":
            return self._explain(explain_request(utility.rest), database)
        if utility.keyword == "show":
            return self._show(words(utility.rest), database)
        raise AthenaQueryError(
            "NOT_SUPPORTED", "athena-local does not run DESCRIBE: use SHOW COLUMNS"
        )

    def _explain(self, request: ExplainRequest, database: str) -> Outcome:
        """The plan of the DuckDB translation (Athena shows Trino's: the text differs, the
        statement is checked the same way), or `Valid` for TYPE VALIDATE."""
        statement = parse(request.statement)
        query: exp.Expr | None = statement
        if isinstance(statement, exp.Create | exp.Insert):
            query = statement.expression
        if not isinstance(query, exp.Query):
            raise AthenaQueryError(
                "NOT_SUPPORTED", "athena-local explains queries, CTAS and INSERT only"
            )
        check_query(request.statement, statement)
        with _Workspace(self._warehouse) as workspace:
            translated = workspace.prepare(query, database, measure=False)
            if request.kind == "validate":
                workspace.run(f"select * from ({translated}) as validated limit 0")  # noqa: S608 - translated by sqlglot
                return Outcome(
                    "UTILITY",
                    "EXPLAIN",
                    columns=[("Valid", "boolean")],
                    rows=[["true"]],
                    header_row=True,
                )
            plan = workspace.explain(translated)
        return Outcome(
            "UTILITY",
            "EXPLAIN",
            columns=[("Query Plan", "varchar")],
            rows=[[line] for line in plan],
            translated=translated,
            header_row=True,
        )

    def _show(self, said: list[Word], database: str) -> Outcome:
        what = said[0].text.lower() if said else ""
        rest = said[1:]
        if what == "columns":
            db, name = _show_table(rest, database, in_clause=True)
            table = self._table(db, name)
            names = [c["Name"] for c in _current_columns(table)]
            names += [k["Name"] for k in table.get("PartitionKeys", [])]
            return _show_rows("SHOW_COLUMNS", "field", names)
        if what == "partitions":
            db, name = _show_table(rest, database, in_clause=False)
            table = self._table(db, name)
            keys = [k["Name"] for k in table.get("PartitionKeys", [])]
            if not keys:
                raise AthenaQueryError("GENERIC_USER_ERROR", f"Table {name} is not partitioned")
            values = sorted(
                _partition_folder(keys, p["Values"]) for p in self._warehouse.partitions(db, name)
            )
            return _show_rows("SHOW_PARTITIONS", "partition", values)
        if what == "tables":
            db = database
            if len(rest) >= 2 and rest[0].text.lower() in ("in", "from"):
                db, rest = rest[1].text.lower(), rest[2:]
            self._require_database(db)
            names = sorted(self._warehouse.table_names(db))
            return _show_rows("SHOW_TABLES", "tab_name", _matching(names, rest))
        if what in ("databases", "schemas"):
            if rest and rest[0].text.lower() == "like":
                rest = rest[1:]
            names = sorted(self._warehouse.database_names())
            return _show_rows("SHOW_DATABASES", "database_name", _matching(names, rest))
        raise AthenaQueryError(
            "NOT_SUPPORTED",
            "athena-local runs SHOW COLUMNS, TABLES, DATABASES and PARTITIONS, "
            f"not SHOW {what.upper()}",
        )

    def _table(self, db: str, name: str) -> dict[str, Any]:
        table = self._warehouse.get_table(db, name)
        if table is None:
            self._require_database(db)
            raise AthenaQueryError(
                "TABLE_NOT_FOUND", f"Table 'awsdatacatalog.{db}.{name}' does not exist"
            )
        return table

    # queries ---------------------------------------------------------------------------

    def _select(self, query: exp.Query, sql: str, database: str) -> Outcome:
        check_query(sql, query)
        with _Workspace(self._warehouse) as workspace:
            translated = workspace.prepare(query, database)
            result = workspace.run(translated)
            return Outcome(
                "DML",
                "SELECT",
                columns=[(_column_label(name), arrow_to_athena(t)) for name, t in _fields(result)],
                rows=format_rows(result),
                scanned_bytes=workspace.scanned_bytes,
                translated=translated,
            )

    # CREATE ----------------------------------------------------------------------------

    def _create(
        self, statement: exp.Create, sql: str, database: str, query_id: str, output: str
    ) -> Outcome:
        kind = str(statement.args.get("kind", "")).upper()
        if kind in ("SCHEMA", "DATABASE"):
            return self._create_schema(statement)
        if kind == "VIEW":
            return self._create_view(statement, sql, database)
        if kind == "TABLE" and isinstance(statement.expression, exp.Query):
            return self._create_table_as(statement, sql, database, query_id, output)
        if kind == "TABLE":
            return self._create_external_table(statement, database)
        raise AthenaQueryError("NOT_SUPPORTED", f"CREATE {kind} is not supported")

    def _create_schema(self, statement: exp.Create) -> Outcome:
        name = _identifier(statement.this.args.get("db") or statement.this.this)
        if self._warehouse.database_exists(name):
            if not statement.args.get("exists"):
                raise AthenaQueryError("ALREADY_EXISTS", f"Database {name} already exists")
        else:
            location = _properties(statement).get("location")
            self._warehouse.create_database(name, location)
        return Outcome("DDL", "CREATE_DATABASE")

    def _create_view(self, statement: exp.Create, sql: str, database: str) -> Outcome:
        db, name = _table_name(statement.this, database)
        body = statement.expression
        if not isinstance(body, exp.Query):
            raise AthenaQueryError("SYNTAX_ERROR", "CREATE VIEW needs a query")
        check_query(sql, statement)
        self._require_database(db)
        existing = self._warehouse.get_table(db, name)
        if existing is not None and existing.get("TableType") != "VIRTUAL_VIEW":
            raise AthenaQueryError(
                "ALREADY_EXISTS", f"Table 'awsdatacatalog.{db}.{name}' exists and is not a view"
            )
        if existing is not None and not statement.args.get("replace"):
            raise AthenaQueryError("ALREADY_EXISTS", f"View 'awsdatacatalog.{db}.{name}' exists")
        with _Workspace(self._warehouse) as workspace:
            translated = workspace.prepare(body, db, measure=False)
            result = workspace.run(f"select * from ({translated}) as view_columns limit 0")  # noqa: S608 - translated by sqlglot
        columns = [{"Name": n.lower(), "Type": arrow_to_athena_full(t)} for n, t in _fields(result)]
        text = view_body(sql, body)
        table_input = {
            "Name": name,
            "TableType": "VIRTUAL_VIEW",
            "Parameters": {"presto_view": "true", "comment": "Presto View"},
            "ViewOriginalText": view_original_text(text, db, columns),
            "ViewExpandedText": "/* Presto View */",
            "StorageDescriptor": {"Columns": columns, "SerdeInfo": {}, "Location": ""},
            "PartitionKeys": [],
        }
        if existing is None:
            self._warehouse.create_table(db, table_input)
        else:
            self._warehouse.update_table(db, table_input)
        return Outcome("DDL", "CREATE_VIEW", translated=translated)

    def _create_external_table(self, statement: exp.Create, database: str) -> Outcome:
        schema_node = statement.this
        if not isinstance(schema_node, exp.Schema):
            raise AthenaQueryError("SYNTAX_ERROR", "CREATE TABLE needs a column list or AS")
        db, name = _table_name(schema_node.this, database)
        props = _properties(statement)
        if str(props.get("tblproperties", {}).get("table_type", "")).upper() == "ICEBERG":
            return self._create_iceberg_table(statement, schema_node, db, name, props)
        if "external" not in props:
            raise AthenaQueryError(
                "NOT_SUPPORTED", "Only EXTERNAL tables (or CTAS) are supported for Hive"
            )
        if self._table_taken_or_placeless(statement, props, db, name, "An external table"):
            return Outcome("DDL", "CREATE_TABLE")
        columns = [_column_def(c) for c in schema_node.expressions]
        partition_keys = [_column_def(c) for c in props.get("partitioned_by_columns", [])]
        serde = props.get("serde", "")
        file_format = props.get("format", "").lower()
        if serde == _OPEN_CSV_SERDE:
            storage: dict[str, Any] = {
                **TEXT_STORAGE,
                "SerdeInfo": {"SerializationLibrary": serde, "Parameters": {}},
            }
        elif serde == PARQUET_SERDE or file_format == "parquet":
            storage = dict(PARQUET_STORAGE)
        elif serde == _LAZY_SIMPLE_SERDE or (not serde and file_format in ("", "textfile")):
            # Athena's default: TEXTFILE read by LazySimpleSerDe, fields split on \x01
            # unless ROW FORMAT DELIMITED says otherwise.
            storage = {
                **TEXT_STORAGE,
                "SerdeInfo": {
                    "SerializationLibrary": _LAZY_SIMPLE_SERDE,
                    "Parameters": _delimited_parameters(props.get("delimited", {})),
                },
            }
        else:
            raise AthenaQueryError(
                "NOT_SUPPORTED",
                "athena-local reads Parquet, TEXTFILE (LazySimpleSerDe) and OpenCSVSerde "
                "tables only",
            )
        self._warehouse.create_table(
            db,
            {
                "Name": name,
                "TableType": "EXTERNAL_TABLE",
                "Parameters": {"EXTERNAL": "TRUE", **props.get("tblproperties", {})},
                "StorageDescriptor": {
                    **storage,
                    "Columns": columns,
                    "Location": props["location"],
                },
                "PartitionKeys": partition_keys,
            },
        )
        return Outcome("DDL", "CREATE_TABLE")

    def _table_taken_or_placeless(
        self, statement: exp.Create, props: dict[str, Any], db: str, name: str, kind: str
    ) -> bool:
        """What the Hive and Iceberg CREATE TABLE both check before they differ: a LOCATION
        is required (else SYNTAX_ERROR naming ``kind``), and whether the table exists
        already (:meth:`_table_taken`: True under IF NOT EXISTS, else ALREADY_EXISTS)."""
        if "location" not in props:
            raise AthenaQueryError("SYNTAX_ERROR", f"{kind} needs a LOCATION")
        return self._table_taken(statement, db, name)

    def _create_iceberg_table(
        self,
        statement: exp.Create,
        schema_node: exp.Schema,
        db: str,
        name: str,
        props: dict[str, Any],
    ) -> Outcome:
        """CREATE TABLE … TBLPROPERTIES ('table_type'='ICEBERG'): an empty Iceberg table."""
        if "external" in props:
            raise AthenaQueryError(
                "NOT_SUPPORTED", "CREATE EXTERNAL TABLE is not supported for Iceberg tables"
            )
        if self._table_taken_or_placeless(statement, props, db, name, "An Iceberg table"):
            return Outcome("DDL", "CREATE_TABLE")
        columns = [_column_def(c) for c in schema_node.expressions]
        settings = {
            k: v for k, v in props.get("tblproperties", {}).items() if k not in ("table_type",)
        }
        if str(settings.pop("format", "parquet")).lower() != "parquet":
            raise AthenaQueryError("NOT_SUPPORTED", "athena-local writes Iceberg tables as Parquet")
        empty = _empty_rows(columns)
        partitioning = partition_texts(props.get("partitioned_by_columns", []))
        self._warehouse.iceberg.create(db, name, props["location"], empty, partitioning, settings)
        return Outcome("DDL", "CREATE_TABLE")

    def _create_table_as(
        self, statement: exp.Create, sql: str, database: str, query_id: str, output: str
    ) -> Outcome:
        db, name = _table_name(statement.this, database)
        props = _properties(statement)
        iceberg = str(props.get("table_type", "hive")).lower() == "iceberg"
        if iceberg:
            check_iceberg_properties(props)
        else:
            _check_ctas_properties(props)
        location = (
            props.get("location" if iceberg else "external_location")
            or f"{output.rstrip('/')}/tables/{query_id}/"
        )
        self._require_database(db)
        if self._warehouse.get_table(db, name) is not None:
            raise AthenaQueryError("ALREADY_EXISTS", f"Table 'awsdatacatalog.{db}.{name}' exists")
        if self._warehouse.list_objects(location):
            raise AthenaQueryError(
                "HIVE_PATH_ALREADY_EXISTS",
                f"Target directory for table '{db}.{name}' already exists: {location}",
            )
        check_query(sql, statement)
        body = statement.expression
        _require_column_names(body)
        with _Workspace(self._warehouse) as workspace:
            translated = workspace.prepare(body, database)
            result = workspace.run(translated)
            scanned = workspace.scanned_bytes
        result = result.rename_columns([n.lower() for n in result.column_names])
        outcome = Outcome(
            "DDL",
            "CREATE_TABLE_AS_SELECT",
            update_count=result.num_rows,
            scanned_bytes=scanned,
            translated=translated,
        )
        if iceberg:
            self._warehouse.iceberg.create(
                db, name, location, result, props.get("partitioning", []), _iceberg_settings(props)
            )
            return outcome
        partitioned_by = [p.lower() for p in props.get("partitioned_by", [])]
        _check_partition_order(result.column_names, partitioned_by)
        described = [{"Name": n, "Type": arrow_to_hive(t, n)} for n, t in _fields(result)]
        columns = [c for c in described if c["Name"] not in partitioned_by]
        keys = [c for c in described if c["Name"] in partitioned_by]
        for key in keys:
            if is_nested_type(key["Type"]):
                # Hive partitions by primitive values only (a folder name per value).
                raise AthenaQueryError(
                    "NOT_SUPPORTED",
                    f"Unsupported type {key['Type']} for partition column '{key['Name']}'",
                )
        compression = _COMPRESSIONS.get(str(props.get("write_compression", "gzip")).lower(), "gzip")
        written = self._write_files(result, location, partitioned_by, query_id, compression)
        storage = {**PARQUET_STORAGE, "Columns": columns, "Location": location}
        self._warehouse.create_table(
            db,
            {
                "Name": name,
                "TableType": "EXTERNAL_TABLE",
                "Parameters": {
                    "EXTERNAL": "TRUE",
                    "has_encrypted_data": "false",
                    "parquet.compression": compression.upper(),
                },
                "StorageDescriptor": storage,
                "PartitionKeys": keys,
            },
        )
        self._register_partitions(db, name, storage, location, partitioned_by, written)
        return outcome

    # INSERT ----------------------------------------------------------------------------

    def _insert(self, statement: exp.Insert, sql: str, database: str, query_id: str) -> Outcome:
        target = statement.this
        listed: list[str] = []
        if isinstance(target, exp.Schema):
            listed = [_identifier(c) for c in target.expressions]
            target = target.this
        db, name = _table_name(target, database)
        table = self._warehouse.get_table(db, name)
        if table is None:
            raise AthenaQueryError(
                "TABLE_NOT_FOUND", f"Table 'awsdatacatalog.{db}.{name}' does not exist"
            )
        if table.get("TableType") == "VIRTUAL_VIEW":
            raise AthenaQueryError("NOT_SUPPORTED", f"Inserting into view '{db}.{name}'")
        query = statement.expression
        if isinstance(query, exp.Values):
            # INSERT … VALUES is INSERT of the query that selects those rows.
            query = exp.select("*").from_(query.copy())
        if not isinstance(query, exp.Query):
            raise AthenaQueryError("SYNTAX_ERROR", "INSERT needs a query or VALUES")
        check_query(sql, statement)
        if is_iceberg(table):
            return self._insert_iceberg(db, name, table, query, listed, database)
        storage = table["StorageDescriptor"]
        encode = _encoder(table, f"{db}.{name}")
        keys = [k["Name"].lower() for k in table.get("PartitionKeys", [])]
        target_columns = [(c["Name"].lower(), c["Type"]) for c in storage["Columns"]] + [
            (k["Name"].lower(), k["Type"]) for k in table.get("PartitionKeys", [])
        ]
        result, outcome = self._rows_to_insert(query, target_columns, listed, database)
        compression = str(table.get("Parameters", {}).get("parquet.compression", "gzip")).lower()
        location = storage["Location"]
        written = self._write_files(result, location, keys, query_id, compression, encode)
        existing = {tuple(p["Values"]) for p in self._warehouse.partitions(db, name)}
        self._register_partitions(
            db, name, storage, location, keys, [w for w in written if tuple(w) not in existing]
        )
        return outcome

    def _rows_to_insert(
        self,
        query: exp.Query,
        target_columns: list[tuple[str, str]],
        listed: list[str],
        database: str,
    ) -> tuple[pa.Table, Outcome]:
        """An INSERT's rows, shaped to the target's columns (Hive or Iceberg alike), and the
        statement's outcome once they are written."""
        with _Workspace(self._warehouse) as workspace:
            translated = workspace.prepare(query, database)
            result = workspace.insert_shape(translated, target_columns, listed)
            scanned = workspace.scanned_bytes
        outcome = Outcome(
            "DML",
            "INSERT",
            update_count=result.num_rows,
            scanned_bytes=scanned,
            translated=translated,
        )
        return result, outcome

    def _insert_iceberg(
        self,
        db: str,
        name: str,
        table: dict[str, Any],
        query: exp.Query,
        listed: list[str],
        database: str,
    ) -> Outcome:
        target_columns = [(c["Name"].lower(), c["Type"]) for c in _current_columns(table)]
        result, outcome = self._rows_to_insert(query, target_columns, listed, database)
        self._warehouse.iceberg.append(db, name, result)
        return outcome

    # DROP / ALTER ----------------------------------------------------------------------

    def _drop(self, statement: exp.Drop, database: str) -> Outcome:
        kind = str(statement.args.get("kind", "")).upper()
        if_exists = bool(statement.args.get("exists"))
        targets = statement.args.get("tables") or [statement.this]
        if len(targets) != 1 or targets[0] is None:
            raise AthenaQueryError("SYNTAX_ERROR", f"DROP {kind} takes exactly one name")
        target = targets[0]
        if kind in ("SCHEMA", "DATABASE"):
            name = _identifier(target.args.get("db") or target.this)
            if not self._warehouse.database_exists(name):
                if if_exists:
                    return Outcome("DDL", "DROP_DATABASE")
                raise AthenaQueryError("SCHEMA_NOT_FOUND", f"Schema '{name}' does not exist")
            names = self._warehouse.table_names(name)
            if names and not statement.args.get("cascade"):
                raise AthenaQueryError("GENERIC_USER_ERROR", f"Schema '{name}' is not empty")
            for table_name in names:
                self._warehouse.delete_table(name, table_name)
            self._warehouse.delete_database(name)
            return Outcome("DDL", "DROP_DATABASE")
        if kind not in ("TABLE", "VIEW"):
            raise AthenaQueryError("NOT_SUPPORTED", f"DROP {kind} is not supported")
        db, name = _table_name(target, database)
        table = self._warehouse.get_table(db, name)
        if table is None:
            if if_exists:
                return Outcome("DDL", f"DROP_{kind}")
            raise AthenaQueryError(
                "TABLE_NOT_FOUND", f"Table 'awsdatacatalog.{db}.{name}' does not exist"
            )
        is_view = table.get("TableType") == "VIRTUAL_VIEW"
        if is_view != (kind == "VIEW"):
            actual = "a view" if is_view else "a table"
            raise AthenaQueryError(
                "GENERIC_USER_ERROR",
                f"'{db}.{name}' is {actual}: use DROP {'VIEW' if is_view else 'TABLE'}",
            )
        if is_iceberg(table):
            # Athena's DROP TABLE of an Iceberg table deletes its data and metadata too.
            self._warehouse.iceberg.drop(db, name, self._warehouse.delete_under)
            return Outcome("DDL", f"DROP_{kind}")
        # Dropping an external table removes it from the catalog; its data stays in S3.
        self._warehouse.delete_table(db, name)
        return Outcome("DDL", f"DROP_{kind}")

    def _alter(self, statement: exp.Alter, database: str) -> Outcome:
        db, name = _table_name(statement.this, database)
        table = self._warehouse.get_table(db, name)
        if table is None:
            raise AthenaQueryError(
                "TABLE_NOT_FOUND", f"Table 'awsdatacatalog.{db}.{name}' does not exist"
            )
        actions = statement.args.get("actions") or []
        if len(actions) != 1:
            raise AthenaQueryError("NOT_SUPPORTED", "ALTER TABLE with several actions")
        action = actions[0]
        table_input = {k: table[k] for k in _TABLE_INPUT_KEYS if k in table}
        if isinstance(action, exp.AlterSet):
            settings = {
                _literal(p.this): _literal(p.args["value"])
                for props in action.expressions
                for p in props.expressions
                if isinstance(p, exp.Property)
            }
            if not settings:
                raise AthenaQueryError(
                    "NOT_SUPPORTED", "ALTER TABLE SET supports TBLPROPERTIES only"
                )
            if is_iceberg(table):
                self._warehouse.iceberg.set_properties(db, name, settings)
                return Outcome("DDL", "ALTER_TABLE")
            table_input["Parameters"] = {**table.get("Parameters", {}), **settings}
            self._warehouse.update_table(db, table_input)
            return Outcome("DDL", "ALTER_TABLE")
        if isinstance(action, exp.AlterRename):
            new_db, new_name = _table_name(action.this, db)
            if new_db != db:
                raise AthenaQueryError("NOT_SUPPORTED", "Renaming a table into another database")
            table_input["Name"] = new_name
            self._warehouse.create_table(db, table_input)
            partitions = self._warehouse.partitions(db, name)
            self._warehouse.add_partitions(
                db,
                new_name,
                [
                    {
                        "Values": p["Values"],
                        "Parameters": p.get("Parameters", {}),
                        "StorageDescriptor": p["StorageDescriptor"],
                    }
                    for p in partitions
                ],
            )
            self._warehouse.delete_table(db, name)
            return Outcome("DDL", "ALTER_TABLE")
        if is_iceberg(table):
            if isinstance(action, exp.Drop) and str(action.args.get("kind")).upper() == "COLUMN":
                dropped = [c.name.lower() for c in action.args.get("tables") or []]
                self._warehouse.iceberg.drop_columns(db, name, dropped)
            else:
                self._alter_iceberg_columns(db, name, action, _current_columns(table))
            return Outcome("DDL", "ALTER_TABLE")
        columns = _alter_columns(action, list(table["StorageDescriptor"]["Columns"]))
        table_input["StorageDescriptor"] = {**table["StorageDescriptor"], "Columns": columns}
        self._warehouse.update_table(db, table_input)
        return Outcome("DDL", "ALTER_TABLE")

    def _alter_iceberg_columns(
        self, db: str, name: str, action: exp.Expr, columns: list[dict[str, str]]
    ) -> None:
        """ADD / REPLACE COLUMNS, CHANGE COLUMN on an Iceberg table: its schema evolves."""
        wanted = _alter_columns(action, [{"Name": c["Name"], "Type": c["Type"]} for c in columns])
        iceberg = self._warehouse.iceberg
        if isinstance(action, exp.Schema):
            iceberg.add_columns(db, name, _empty_rows(wanted[len(columns) :]).schema)
        elif isinstance(action, exp.ReplaceColumns):
            iceberg.replace_columns(db, name, _empty_rows(wanted).schema)
        else:
            old = action.this.name.lower()
            index = [c["Name"] for c in columns].index(old)
            kind = _empty_rows([wanted[index]]).schema.field(0).type
            iceberg.change_column(db, name, old, wanted[index]["Name"], kind)

    # helpers ---------------------------------------------------------------------------

    def _table_taken(self, statement: exp.Create, db: str, name: str) -> bool:
        """CREATE TABLE's checks: the database exists; a table of the name is there
        already (True under IF NOT EXISTS, ALREADY_EXISTS otherwise) or not (False)."""
        self._require_database(db)
        if self._warehouse.get_table(db, name) is None:
            return False
        if statement.args.get("exists"):
            return True
        raise AthenaQueryError("ALREADY_EXISTS", f"Table 'awsdatacatalog.{db}.{name}' exists")

    def _require_database(self, database: str) -> None:
        if not self._warehouse.database_exists(database):
            raise AthenaQueryError("SCHEMA_NOT_FOUND", f"Schema '{database}' does not exist")

    def _write_files(
        self,
        result: pa.Table,
        location: str,
        partitioned_by: list[str],
        query_id: str,
        compression: str,
        encode: Callable[[pa.Table, str], bytes] | None = None,
    ) -> list[list[str]]:
        """Write files (Parquet unless ``encode`` says otherwise) under location, one per
        partition; return partition values."""
        encode = encode or _parquet
        base = location.rstrip("/")
        if not partitioned_by:
            if result.num_rows:
                self._warehouse.write(f"{base}/{query_id}_00000", encode(result, compression))
            return []
        groups: dict[tuple[str, ...], list[int]] = {}
        values = [result.column(key).to_pylist() for key in partitioned_by]
        for index in range(result.num_rows):
            groups.setdefault(tuple(_partition_value(v[index]) for v in values), []).append(index)
        if len(groups) > MAX_PARTITIONS_PER_WRITE:
            raise AthenaQueryError(
                "HIVE_TOO_MANY_OPEN_PARTITIONS",
                f"Exceeded limit of {MAX_PARTITIONS_PER_WRITE} open writers for "
                f"partitions/buckets ({len(groups)} partitions)",
            )
        data = result.drop_columns(partitioned_by)
        for key, indices in groups.items():
            folder = _partition_folder(partitioned_by, key)
            part = data.take(pa.array(indices, type=pa.int64()))
            self._warehouse.write(f"{base}/{folder}/{query_id}_00000", encode(part, compression))
        return [list(key) for key in groups]

    def _register_partitions(
        self,
        db: str,
        name: str,
        storage: dict[str, Any],
        location: str,
        keys: list[str],
        written: list[list[str]],
    ) -> None:
        if not written:
            return
        base = location.rstrip("/")
        self._warehouse.add_partitions(
            db,
            name,
            [
                {
                    "Values": values,
                    "Parameters": {},
                    "StorageDescriptor": {
                        **storage,
                        "Location": f"{base}/{_partition_folder(keys, values)}/",
                    },
                }
                for values in written
            ],
        )


class _Workspace:
    """An in-memory DuckDB holding the tables and views one statement reads."""

    def __init__(self, warehouse: Warehouse) -> None:
        self._warehouse = warehouse
        self._connection = duckdb.connect(":memory:")
        # Athena's session time zone is UTC, whatever the machine's is.
        self._connection.execute("set TimeZone = 'UTC'")
        self._schema: Schema = {}
        self._loaded: set[tuple[str, str]] = set()
        self._iceberg = IcebergStatements(warehouse, lambda: _Workspace(warehouse))
        self.scanned_bytes = 0

    def __enter__(self) -> _Workspace:
        return self

    def __exit__(self, *_: object) -> None:
        self._connection.close()

    def prepare(self, query: exp.Expr, database: str, *, measure: bool = True) -> str:
        """Load what the query reads; return it translated to DuckDB. ``measure``: count
        the bytes Athena would scan for it (:mod:`athena_local.billing`)."""
        query = expand_table_functions(query.copy())
        query = self._iceberg.resolve_versions(query, database)
        self._load(referenced_tables(query, database), ())
        if measure:
            self.scanned_bytes = scanned_bytes(query, database, self._warehouse)
        return to_duckdb(query, self._schema, database)

    def explain(self, sql: str) -> list[str]:
        """DuckDB's plan of a translated query, line by line."""
        try:
            rows = self._connection.execute(f"explain {sql}").fetchall()
        except duckdb.Error as error:
            raise _runtime_error(error) from error
        return [line for _, plan in rows for line in str(plan).splitlines() if line.strip()]

    def run(self, sql: str) -> pa.Table:
        try:
            return self._connection.execute(sql).to_arrow_table()
        except duckdb.Error as error:
            raise _runtime_error(error) from error

    def count(self, sql: str) -> int:
        """Run a translated UPDATE, DELETE or MERGE; the number of rows it changed."""
        try:
            row = self._connection.execute(sql).fetchone()
        except duckdb.Error as error:
            raise _runtime_error(error) from error
        return int(row[0]) if row else 0

    def insert_shape(
        self, translated: str, target: list[tuple[str, str]], listed: list[str]
    ) -> pa.Table:
        """Run an INSERT's query and shape its rows as the target table's columns."""
        names = listed or [name for name, _ in target]
        known = {name for name, _ in target}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise AthenaQueryError(
                "COLUMN_NOT_FOUND", f"Insert column name does not exist: {unknown[0]}"
            )
        source = self.run(f"select * from ({translated}) as insert_source limit 0")  # noqa: S608 - translated by sqlglot
        if source.num_columns != len(names):
            raise AthenaQueryError(
                "TYPE_MISMATCH",
                f"Insert query has {source.num_columns} columns, target has {len(names)}",
            )
        position = {name: index for index, name in enumerate(names)}
        source_names = source.column_names
        select = ", ".join(
            f"cast(insert_source.{_quote(source_names[position[name]])} "
            f"as {hive_to_duckdb(hive)}) as {_quote(name)}"
            if name in position
            else f"cast(null as {hive_to_duckdb(hive)}) as {_quote(name)}"
            for name, hive in target
        )
        # Identifiers are quoted; types come from hive_to_duckdb's fixed vocabulary.
        return self.run(f"select {select} from ({translated}) as insert_source")  # noqa: S608

    def _load(self, tables: set[tuple[str, str]], within: tuple[tuple[str, str], ...]) -> None:
        for db, name in sorted(tables):
            if (db, name) in self._loaded:
                continue
            if (db, name) in within:
                raise AthenaQueryError("GENERIC_USER_ERROR", f"View '{db}.{name}' refers to itself")
            if "$" in name:
                self._load_iceberg_view(db, name)
                continue
            table = self._warehouse.get_table(db, name)
            if table is None:
                if not self._warehouse.database_exists(db):
                    raise AthenaQueryError("SCHEMA_NOT_FOUND", f"Schema '{db}' does not exist")
                raise AthenaQueryError(
                    "TABLE_NOT_FOUND", f"Table 'awsdatacatalog.{db}.{name}' does not exist"
                )
            self._connection.execute(f"create schema if not exists {_quote(db)}")
            columns = [(c["Name"].lower(), c["Type"]) for c in _current_columns(table)]
            keys = [(k["Name"].lower(), k["Type"]) for k in table.get("PartitionKeys", [])]
            if table.get("TableType") == "VIRTUAL_VIEW":
                query = expand_table_functions(parse(view_sql(table)))
                self._load(referenced_tables(query, db), (*within, (db, name)))
                translated = to_duckdb(query, self._schema, db)
                self._connection.execute(f"create view {_quote(db)}.{_quote(name)} as {translated}")
            elif is_iceberg(table):
                typed = [(column, hive_to_duckdb(hive)) for column, hive in columns]
                definition = ", ".join(f"{_quote(column)} {duck}" for column, duck in typed)
                self._connection.execute(f"create table {_quote(db)}.{_quote(name)} ({definition})")
                rows = self._warehouse.iceberg.read(split_reference(db, name))
                self._insert_arrow(
                    db, name, typed, rows, {}, table["StorageDescriptor"]["Location"]
                )
            else:
                self._load_table(db, name, table, columns, keys)
            self._schema.setdefault(db, {})[name] = {
                column: hive_to_duckdb(hive) for column, hive in columns + keys
            }
            self._loaded.add((db, name))

    def _load_iceberg_view(self, db: str, name: str) -> None:
        """A metadata table (`t$snapshots`) or a time-travel read (`t$snapshot_<id>`) of an
        Iceberg table, as a table of its own."""
        reference = split_reference(db, name)
        table = self._warehouse.get_table(db, reference.name)
        if table is None or not is_iceberg(table):
            raise AthenaQueryError(
                "TABLE_NOT_FOUND", f"Table 'awsdatacatalog.{db}.{name}' does not exist"
            )
        iceberg = self._warehouse.iceberg
        refused: frozenset[str] = frozenset()
        if reference.metadata:
            metadata = iceberg.metadata_table(reference)
            rows, refused = metadata.rows, metadata.refused
        else:
            rows = iceberg.read(reference)
        self._connection.execute(f"create schema if not exists {_quote(db)}")
        stored = _quote(f"{name}$rows")
        self._connection.register("incoming", rows)
        try:
            # Quoted identifiers only.
            self._connection.execute(
                f"create table {_quote(db)}.{stored} as select * from incoming"  # noqa: S608
            )
        finally:
            self._connection.unregister("incoming")
        types = dict(
            (row[0], row[1])
            for row in self._connection.execute(f"describe {_quote(db)}.{stored}").fetchall()
        )
        select = ", ".join(
            _refused_column(
                column,
                types[column],
                f"{reference.name}${reference.metadata}",
                rows.column_names[-1] if column == rows.column_names[0] else rows.column_names[0],
            )
            if column in refused
            else _quote(column)
            for column in rows.column_names
        )
        self._connection.execute(
            f"create view {_quote(db)}.{_quote(name)} as select {select} from {_quote(db)}.{stored}"  # noqa: S608
        )
        described = self._connection.execute(f"describe {_quote(db)}.{_quote(name)}").fetchall()
        self._schema.setdefault(db, {})[name] = {row[0]: row[1] for row in described}
        self._loaded.add((db, name))

    def _load_table(
        self,
        db: str,
        name: str,
        table: dict[str, Any],
        columns: list[tuple[str, str]],
        keys: list[tuple[str, str]],
    ) -> None:
        typed = [(column, hive_to_duckdb(hive)) for column, hive in columns + keys]
        storage = table["StorageDescriptor"]
        serde = storage.get("SerdeInfo", {}).get("SerializationLibrary", "")
        nested = [column for column, hive in columns + keys if is_nested_type(hive)]
        if nested and serde != PARQUET_SERDE:
            # Text tables keep arrays and maps with Hive's collection delimiters, which
            # these readers do not split: refuse rather than read them as NULL or text.
            raise AthenaQueryError(
                "NOT_SUPPORTED",
                f"athena-local reads arrays, maps and structs from Parquet tables only "
                f"(column '{nested[0]}' of '{db}.{name}')",
            )
        definition = ", ".join(f"{_quote(column)} {duck}" for column, duck in typed)
        self._connection.execute(f"create table {_quote(db)}.{_quote(name)} ({definition})")
        if keys:
            key_names = [k for k, _ in keys]
            locations = [
                (p["StorageDescriptor"]["Location"], dict(zip(key_names, p["Values"], strict=True)))
                for p in self._warehouse.partitions(db, name)
            ]
        else:
            locations = [(storage["Location"], {})]
        skip = int(table.get("Parameters", {}).get("skip.header.line.count", "0"))
        for location, partition in locations:
            for stored in self._warehouse.list_objects(location):
                data = self._warehouse.read(stored)
                if serde == _OPEN_CSV_SERDE:
                    incoming = _read_csv(data, [c for c, _ in columns], skip)
                elif serde == PARQUET_SERDE:
                    incoming = _read_parquet(data, stored.key)
                elif serde == _LAZY_SIMPLE_SERDE:
                    parameters = storage.get("SerdeInfo", {}).get("Parameters", {})
                    incoming = _read_text(data, [c for c, _ in columns], parameters, skip)
                    # LazySimpleSerDe reads a value it cannot convert as NULL.
                    self._insert_arrow(
                        db, name, typed, incoming, partition, stored.key, lenient=True
                    )
                    continue
                else:
                    raise AthenaQueryError(
                        "NOT_SUPPORTED", f"athena-local cannot read '{db}.{name}' (SerDe {serde})"
                    )
                self._insert_arrow(db, name, typed, incoming, partition, stored.key)

    def _insert_arrow(
        self,
        db: str,
        name: str,
        typed: list[tuple[str, str]],
        incoming: pa.Table,
        partition: dict[str, str],
        key: str,
        *,
        lenient: bool = False,
    ) -> None:
        present = {n.lower(): n for n in incoming.column_names}
        convert = "try_cast" if lenient else "cast"
        select = []
        for column, duck in typed:
            if column in partition:
                value = partition[column]
                literal = (
                    "null" if value == NULL_PARTITION else "'" + value.replace("'", "''") + "'"
                )
                select.append(f"cast({literal} as {duck})")
            elif column in present:
                select.append(f"{convert}(incoming.{_quote(present[column])} as {duck})")
            else:
                select.append(f"cast(null as {duck})")
        self._connection.register("incoming", incoming)
        try:
            self._connection.execute(
                f"insert into {_quote(db)}.{_quote(name)} "  # noqa: S608 - quoted identifiers
                f"select {', '.join(select)} from incoming"
            )
        except duckdb.Error as error:
            raise AthenaQueryError(
                "HIVE_BAD_DATA", f"Error reading s3 object {key} for '{db}.{name}': {error}"
            ) from error
        finally:
            self._connection.unregister("incoming")


# The words a statement may begin with (Trino's grammar, and Athena's Hive DDL).
_STATEMENT_STARTS = (
    "ALTER",
    "ANALYZE",
    "CALL",
    "COMMENT",
    "COMMIT",
    "CREATE",
    "DEALLOCATE",
    "DELETE",
    "DENY",
    "DESC",
    "DESCRIBE",
    "DROP",
    "EXECUTE",
    "EXPLAIN",
    "GRANT",
    "INSERT",
    "MERGE",
    "MSCK",
    "OPTIMIZE",
    "PREPARE",
    "REFRESH",
    "RESET",
    "REVOKE",
    "ROLLBACK",
    "SET",
    "SHOW",
    "START",
    "TRUNCATE",
    "UNLOAD",
    "UPDATE",
    "USE",
    "VACUUM",
)
_QUERY_STARTS = ("SELECT", "WITH", "VALUES", "TABLE", "(")
_FIRST_WORD = re.compile(
    r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*(?P<word>[A-Za-z_][\w$]*|\S)", re.DOTALL
)


def _check_statement_start(sql: str) -> None:
    """Text that does not begin as a statement fails as Athena fails it (sqlglot would
    read `THIS IS NOT SQL` as an expression)."""
    match = _FIRST_WORD.match(sql)
    if match is None:
        raise AthenaQueryError("SYNTAX_ERROR", "mismatched input '<EOF>'", 1, 1)
    word = match.group("word")
    if word.upper() in _STATEMENT_STARTS or word.upper() in _QUERY_STARTS:
        return
    before = sql[: match.start("word")]
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1) + 1
    expected = ", ".join(
        f"'{w}'" for w in _STATEMENT_STARTS if w not in ("MSCK", "OPTIMIZE", "UNLOAD", "VACUUM")
    )
    raise AthenaQueryError(
        "SYNTAX_ERROR", f"mismatched input '{word}'. Expecting: {expected}, <query>", line, column
    )


def _show_table(said: list[Word], database: str, *, in_clause: bool) -> tuple[str, str]:
    """The table of `SHOW COLUMNS {FROM|IN} [db.]table [{FROM|IN} db]` (in_clause) or of
    `SHOW PARTITIONS [db.]table`."""
    if in_clause:
        if not said or said[0].text.lower() not in ("from", "in"):
            raise AthenaQueryError("SYNTAX_ERROR", "SHOW COLUMNS needs FROM or IN a table")
        said = said[1:]
    names = [w.text.lower() for w in said if w.text != "."]
    dots = [w for w in said if w.text == "."]
    if len(names) == 1 and not dots:
        return database, names[0]
    if len(names) == 2 and len(dots) == 1:
        return names[0], names[1]
    if in_clause and len(names) == 3 and not dots and names[1] in ("from", "in"):
        return names[2], names[0]
    raise AthenaQueryError("SYNTAX_ERROR", f"mismatched input '{' '.join(w.text for w in said)}'")


def _matching(names: list[str], said: list[Word]) -> list[str]:
    """names that match SHOW's optional 'pattern'."""
    if not said:
        return names
    if len(said) != 1 or said[0].kind != "string":
        raise AthenaQueryError("SYNTAX_ERROR", f"mismatched input '{said[0].text}'")
    pattern = hive_pattern(said[0].text)
    return [n for n in names if pattern.fullmatch(n)]


def _show_rows(substatement: str, column: str, values: list[str]) -> Outcome:
    """A SHOW result as Athena returns Hive DDL output: a utility statement, one string
    column, no header row."""
    return Outcome(
        "UTILITY", substatement, columns=[(column, "string")], rows=[[v] for v in values]
    )


def _alter_columns(action: exp.Expr, columns: list[dict[str, str]]) -> list[dict[str, str]]:
    """The columns after `add columns`, `replace columns` or `change column` (the DDL
    dbt-athena sends for on_schema_change), or an Athena error."""
    names = [c["Name"] for c in columns]
    if isinstance(action, exp.Schema):  # add columns (...)
        added = [_column_def(c) for c in action.expressions]
        clash = [c["Name"] for c in added if c["Name"] in names]
        if clash:
            raise AthenaQueryError("GENERIC_USER_ERROR", f"Column '{clash[0]}' already exists")
        return columns + added
    if isinstance(action, exp.ReplaceColumns):
        return [_column_def(c) for c in action.expressions]
    if isinstance(action, exp.AlterColumn) and action.args.get("dtype") is not None:
        old = action.this.name.lower()
        if old not in names:
            raise AthenaQueryError("COLUMN_NOT_FOUND", f"Column '{old}' does not exist")
        new = (action.args.get("rename_to") or action.this).name.lower()
        dtype = action.args["dtype"].sql(dialect="hive").lower()
        return [{"Name": new, "Type": dtype} if c["Name"] == old else c for c in columns]
    raise AthenaQueryError("NOT_SUPPORTED", f"ALTER TABLE {action.key.upper()} is not supported")


def _column_label(name: str) -> str:
    """Athena names an unaliased column `_col0`; sqlglot's qualifier names it `_col_0`."""
    match = re.fullmatch(r"_col_(\d+)", name)
    return f"_col{match.group(1)}" if match else name.lower()


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def arrow_to_athena_full(arrow_type: pa.DataType) -> str:
    """Athena's full type name (with decimal precision, and the members of an array, map
    or row: ``array(integer)``), as Athena records view columns."""
    arrow_to_athena(arrow_type)  # refuses what a result cannot carry
    return trino_type_name(arrow_type)


def _fields(table: pa.Table) -> list[tuple[str, pa.DataType]]:
    return [(f.name, f.type) for f in table.schema]


def _read_parquet(data: bytes, key: str) -> pa.Table:
    try:
        return pq.read_table(io.BytesIO(data))
    except (pa.ArrowInvalid, OSError) as error:
        raise AthenaQueryError(
            "HIVE_CANNOT_OPEN_SPLIT",
            f"Error opening Hive split {key}: not a Parquet file ({error})",
        ) from error


def _read_csv(data: bytes, columns: list[str], skip: int) -> pa.Table:
    reader = csv.reader(io.StringIO(data.decode("utf-8")))
    rows = list(reader)[skip:]
    width = len(columns)
    values = [[(row[i] if i < len(row) else None) for row in rows] for i in range(width)]
    return pa.table(
        {c: pa.array(v, type=pa.string()) for c, v in zip(columns, values, strict=True)}
    )


# Hive's ROW FORMAT DELIMITED clauses, as LazySimpleSerDe's parameters name them.
_DELIMITED_PARAMETERS = {
    "fields": "field.delim",
    "escaped": "escape.delim",
    "collection_items": "colelction.delim",  # sic: Hive's own spelling
    "map_keys": "mapkey.delim",
    "lines": "line.delim",
    "null": "serialization.null.format",
}


def _delimited_parameters(delimited: dict[str, str]) -> dict[str, str]:
    parameters = {
        _DELIMITED_PARAMETERS[k]: v for k, v in delimited.items() if k in _DELIMITED_PARAMETERS
    }
    parameters["serialization.format"] = parameters.get("field.delim", "1")
    return parameters


def _text_settings(parameters: dict[str, str]) -> tuple[str, str, str | None]:
    """(field delimiter, null text, escape character) of a LazySimpleSerDe table."""
    delimiter = parameters.get("field.delim") or "\x01"
    return (
        delimiter,
        parameters.get("serialization.null.format", "\\N"),
        parameters.get("escape.delim"),
    )


def _read_text(data: bytes, columns: list[str], parameters: dict[str, str], skip: int) -> pa.Table:
    """A TEXTFILE object as LazySimpleSerDe splits it: lines, then fields; the null text
    (\\N) is NULL, missing trailing fields are NULL, extra fields are ignored."""
    if data[:2] == b"\x1f\x8b":  # gzip, as Athena writes text by default
        data = gzip.decompress(data)
    delimiter, null, escape = _text_settings(parameters)
    lines = data.decode("utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    rows = [_split_text(line.removesuffix("\r"), delimiter, escape) for line in lines[skip:]]
    values = [
        [row[i] if i < len(row) and row[i] != null else None for row in rows]
        for i in range(len(columns))
    ]
    return pa.table(
        {c: pa.array(v, type=pa.string()) for c, v in zip(columns, values, strict=True)}
    )


def _split_text(line: str, delimiter: str, escape: str | None) -> list[str]:
    if not escape:
        return line.split(delimiter)
    fields, current, index = [], [], 0
    while index < len(line):
        char = line[index]
        if char == escape and index + 1 < len(line):
            current.append(line[index + 1])
            index += 2
            continue
        if line.startswith(delimiter, index):
            fields.append("".join(current))
            current = []
            index += len(delimiter)
            continue
        current.append(char)
        index += 1
    fields.append("".join(current))
    return fields


def _encoder(table: dict[str, Any], name: str) -> Callable[[pa.Table, str], bytes]:
    """How INSERT writes a table's files: Parquet, or text for a TEXTFILE table."""
    serde = table["StorageDescriptor"].get("SerdeInfo", {}).get("SerializationLibrary", "")
    if serde == PARQUET_SERDE:
        return _parquet
    if serde == _LAZY_SIMPLE_SERDE:
        nested = [
            c["Name"] for c in table["StorageDescriptor"]["Columns"] if is_nested_type(c["Type"])
        ]
        if nested:
            # Hive's collection delimiters are not written: refuse rather than print a list.
            raise AthenaQueryError(
                "NOT_SUPPORTED",
                f"athena-local writes arrays, maps and structs to Parquet tables only "
                f"(column '{nested[0]}' of '{name}')",
            )
        parameters = table["StorageDescriptor"]["SerdeInfo"].get("Parameters", {})
        return lambda rows, _compression: _text(rows, parameters)
    raise AthenaQueryError(
        "NOT_SUPPORTED", f"athena-local inserts into Parquet and TEXTFILE tables only, not '{name}'"
    )


def _text(table: pa.Table, parameters: dict[str, str]) -> bytes:
    """Rows as LazySimpleSerDe writes them (uncompressed), values printed as Athena prints
    them."""
    nested = [f.name for f in table.schema if pa.types.is_nested(f.type)]
    if nested:
        raise AthenaQueryError(
            "NOT_SUPPORTED",
            f"athena-local writes scalar columns only to TEXTFILE tables, not '{nested[0]}'",
        )
    delimiter, null, escape = _text_settings(parameters)
    lines = []
    for row in format_rows(table):
        fields = [null if text is None else _escaped(text, delimiter, escape) for text in row]
        lines.append(delimiter.join(fields) + "\n")
    return "".join(lines).encode("utf-8")


def _escaped(text: str, delimiter: str, escape: str | None) -> str:
    if not escape:
        return text  # as Hive: without escape.delim a delimiter in a value splits it
    for char in (escape, delimiter, "\n"):  # the escape character itself first
        text = text.replace(char, escape + char)
    return text


def _parquet(table: pa.Table, compression: str) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression=None if compression == "none" else compression)
    return sink.getvalue()


def _partition_value(value: object) -> str:
    """A partition value as Hive writes it in Glue."""
    if value is None:
        return NULL_PARTITION
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# Hive's FileUtils.escapePathName: characters a partition directory name cannot hold.
_HIVE_ESCAPED = frozenset("\"#%'*/:=?\\\x7f{[]^") | {chr(c) for c in range(32)}


def _partition_folder(keys: list[str], values: list[str] | tuple[str, ...]) -> str:
    def escape(text: str) -> str:
        return "".join(f"%{ord(c):02X}" if c in _HIVE_ESCAPED else c for c in text)

    return "/".join(f"{escape(k)}={escape(v)}" for k, v in zip(keys, values, strict=True))


def _properties(statement: exp.Create) -> dict[str, Any]:  # noqa: PLR0912
    """CTAS `with (...)` properties and Hive DDL clauses, by lower-case name."""
    found: dict[str, Any] = {}
    node = statement.args.get("properties")
    if node is None:
        return found
    for prop in node.expressions:
        if isinstance(prop, exp.ExternalProperty):
            found["external"] = True
        elif isinstance(prop, exp.LocationProperty):
            found["location"] = _literal(prop.this)
        elif isinstance(prop, exp.RowFormatSerdeProperty):
            found["serde"] = _literal(prop.this)
        elif isinstance(prop, exp.RowFormatDelimitedProperty):
            found["delimited"] = {
                key: _literal(value)
                for key, value in prop.args.items()
                if isinstance(value, exp.Literal)
            }
        elif isinstance(prop, exp.FileFormatProperty):
            found["format"] = _literal(prop.this).lower()
        elif isinstance(prop, exp.PartitionedByProperty):
            inner = prop.this
            if isinstance(inner, exp.Schema):
                found["partitioned_by_columns"] = inner.expressions
            else:
                found["partitioned_by"] = [_literal(e) for e in inner.expressions]
        elif isinstance(prop, exp.Property):
            key = _literal(prop.this).lower()
            value = prop.args.get("value")
            if isinstance(prop.this, exp.Literal) and prop.this.is_string:
                found.setdefault("tblproperties", {})[key] = _literal(value)
            elif isinstance(value, exp.Array):
                found[key] = [_literal(e) for e in value.expressions]
            else:
                found[key] = _literal(value)
    return found


def _check_ctas_properties(props: dict[str, Any]) -> None:
    table_type = str(props.get("table_type", "hive")).lower()
    if table_type != "hive":
        raise AthenaQueryError(
            "NOT_SUPPORTED",
            f"athena-local emulates Hive tables only, not table_type='{table_type}'",
        )
    if str(props.get("format", "parquet")).lower() != "parquet":
        raise AthenaQueryError("NOT_SUPPORTED", "athena-local writes format='parquet' only")
    if "bucketed_by" in props or "bucket_count" in props:
        raise AthenaQueryError("NOT_SUPPORTED", "athena-local does not emulate bucketing")
    unknown = set(props) - {
        "table_type",
        "is_external",
        "external_location",
        "partitioned_by",
        "format",
        "write_compression",
        "tblproperties",
    }
    if unknown:
        raise AthenaQueryError(
            "INVALID_TABLE_PROPERTY",
            f"Catalog 'awsdatacatalog' does not support table property '{sorted(unknown)[0]}'",
        )


_ICEBERG_SETTINGS = (
    "vacuum_min_snapshots_to_keep",
    "vacuum_max_snapshot_age_seconds",
    "vacuum_max_metadata_files_to_keep",
    "optimize_rewrite_delete_file_threshold",
    "optimize_rewrite_data_file_threshold",
)


def _iceberg_settings(props: dict[str, Any]) -> dict[str, str]:
    """The CTAS properties an Iceberg table keeps in its metadata."""
    settings = {k: str(props[k]) for k in _ICEBERG_SETTINGS if k in props}
    if "write_compression" in props:
        codec = _COMPRESSIONS.get(str(props["write_compression"]).lower())
        if codec is None:
            raise AthenaQueryError(
                "INVALID_TABLE_PROPERTY",
                f"Unsupported write_compression '{props['write_compression']}'",
            )
        settings["write.parquet.compression-codec"] = "uncompressed" if codec == "none" else codec
    settings.update(props.get("tblproperties", {}))
    return settings


def _current_columns(table: dict[str, Any]) -> list[dict[str, str]]:
    """A Glue table's columns; for an Iceberg table, those of its current schema (Glue
    keeps dropped ones, marked ``iceberg.field.current=false``)."""
    columns = table.get("StorageDescriptor", {}).get("Columns", [])
    return [c for c in columns if c.get("Parameters", {}).get("iceberg.field.current") != "false"]


def _refused_column(column: str, duckdb_type: str, table: str, present: str) -> str:
    """A column whose values are not emulated: reading it fails by name; a query that does
    not read it runs. The failure hangs on a row's value (``present``, never NULL), so
    that DuckDB evaluates it only for the rows of a query that reads the column."""
    failure = fail(
        "NOT_SUPPORTED",
        f"athena-local does not emulate column '{column}' of \"{table}\"",
        exp.DataType.build(duckdb_type, dialect="duckdb"),
    )
    guarded = exp.Case(
        ifs=[exp.If(this=exp.column(present, quoted=True).is_(exp.null()), true=exp.null())],
        default=failure,
    )
    return f"{guarded.sql(dialect='duckdb')} as {_quote(column)}"


def _empty_rows(columns: list[dict[str, str]]) -> pa.Table:
    """No rows, in the Arrow types of Glue column types."""
    select = ", ".join(
        f"cast(null as {hive_to_duckdb(c['Type'])}) as {_quote(c['Name'])}" for c in columns
    )
    connection = duckdb.connect(":memory:")
    try:
        # Quoted names, types from hive_to_duckdb's fixed vocabulary.
        return connection.execute(f"select {select} limit 0").to_arrow_table()
    finally:
        connection.close()


def _check_partition_order(columns: list[str], partitioned_by: list[str]) -> None:
    if not partitioned_by:
        return
    missing = [p for p in partitioned_by if p not in columns]
    if missing:
        raise AthenaQueryError(
            "COLUMN_NOT_FOUND", f"Partition column '{missing[0]}' is not in the query's columns"
        )
    if columns[-len(partitioned_by) :] != partitioned_by:
        raise AthenaQueryError(
            "HIVE_COLUMN_ORDER_MISMATCH",
            "Partition keys must be the last columns in the table and in the same order as "
            f"the table properties: {partitioned_by}",
        )


def _require_column_names(query: exp.Expr) -> None:
    seen: set[str] = set()
    selects = query.selects if isinstance(query, exp.Query) else []
    for position, select in enumerate(selects, start=1):
        if isinstance(select, exp.Star) or (isinstance(select, exp.Column) and select.is_star):
            return
        name = select.alias_or_name.lower()
        if not name or not isinstance(select, exp.Alias | exp.Column):
            raise AthenaQueryError(
                "GENERIC_USER_ERROR", f"Column name not specified at position {position}"
            )
        if name in seen:
            raise AthenaQueryError(
                "GENERIC_USER_ERROR", f"Column name '{name}' specified more than once"
            )
        seen.add(name)


def _column_def(column: exp.Expr) -> dict[str, str]:
    kind = column.args.get("kind")
    hive = kind.sql(dialect="hive").lower() if isinstance(kind, exp.DataType) else "string"
    return {"Name": column.name.lower(), "Type": hive}


def _table_name(node: exp.Expr, database: str) -> tuple[str, str]:
    if not isinstance(node, exp.Table):
        raise AthenaQueryError("SYNTAX_ERROR", f"Expected a table name, found {node.sql()}")
    return (node.db or database).lower(), node.name.lower()


def _identifier(node: exp.Expr | None) -> str:
    if node is None:
        raise AthenaQueryError("SYNTAX_ERROR", "Missing name")
    return node.name.lower()


def _literal(node: exp.Expr | None) -> str:
    if node is None:
        return ""
    if isinstance(node, exp.Literal | exp.Identifier | exp.Var):
        return str(node.this)
    if isinstance(node, exp.Boolean):
        return "true" if node.this else "false"
    return node.sql()


def _runtime_error(error: duckdb.Error) -> AthenaQueryError:
    return runtime_error(error)
