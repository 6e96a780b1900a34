"""Iceberg tables of the endpoint, stored as Athena stores them.

An Iceberg table is Iceberg metadata (JSON, Avro manifests) and Parquet data under the
table's S3 location, and a Glue table whose parameters say ``table_type=ICEBERG`` and
point at the current ``metadata_location``. pyiceberg's Glue catalog writes both, through
the endpoint's own Glue and S3 APIs (as Athena's Iceberg connector writes through Glue and
S3). Rows go in and out as Arrow tables; what the rows *are* after an INSERT, MERGE,
UPDATE or DELETE is computed by the engine's DuckDB workspace, and written here as a new
snapshot (copy-on-write: Athena writes merge-on-read delete files, the rows read back are
the same).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from pyiceberg.catalog.glue import GlueCatalog
from pyiceberg.exceptions import CommitFailedException, NoSuchTableError
from pyiceberg.io.pyarrow import (
    _ConvertToIcebergWithoutIDs,
    _dataframe_to_data_files,
    visit_pyarrow,
)
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema, assign_fresh_schema_ids
from pyiceberg.table import Table
from pyiceberg.transforms import (
    BucketTransform,
    DayTransform,
    HourTransform,
    IdentityTransform,
    MonthTransform,
    Transform,
    TruncateTransform,
    YearTransform,
)
from sqlglot import exp

from athena_local.errors import AthenaQueryError
from athena_local.iceberg_metadata import METADATA_TABLES, MetadataTable, metadata_table
from athena_local.types import arrow_to_hive

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient

ICEBERG = "ICEBERG"
# Athena's Iceberg table properties and their defaults (Athena's "Creating Iceberg
# tables" page: vacuum_min_snapshots_to_keep 1, vacuum_max_snapshot_age_seconds 432000).
VACUUM_MIN_SNAPSHOTS = "vacuum_min_snapshots_to_keep"
VACUUM_MAX_AGE = "vacuum_max_snapshot_age_seconds"
_ICEBERG_PROPERTIES = frozenset(
    {
        "table_type",
        "is_external",
        "location",
        "partitioning",
        "format",
        "write_compression",
        "optimize_rewrite_delete_file_threshold",
        "optimize_rewrite_data_file_threshold",
        VACUUM_MIN_SNAPSHOTS,
        VACUUM_MAX_AGE,
        "vacuum_max_metadata_files_to_keep",
        "tblproperties",
    }
)
# Trino's partitioning values (Athena's CTAS `partitioning`): `day(ts)`, `bucket(id, 16)`,
# `truncate(name, 2)`, or a column name.
_TRANSFORM = re.compile(r"^\s*(\w+)\s*\(\s*\"?(\w+)\"?\s*(?:,\s*(\d+)\s*)?\)\s*$")


def is_iceberg(table: dict[str, Any] | None) -> bool:
    """Whether a Glue table is an Iceberg table (Athena's and dbt-athena's signal)."""
    if table is None:
        return False
    return str(table.get("Parameters", {}).get("table_type", "")).upper() == ICEBERG


def check_ctas_properties(props: dict[str, Any]) -> None:
    """Refuse CTAS properties Athena refuses for Iceberg tables."""
    if str(props.get("is_external", "false")).lower() != "false":
        raise AthenaQueryError(
            "INVALID_TABLE_PROPERTY", "Iceberg tables are managed: set is_external=false"
        )
    if "external_location" in props:
        raise AthenaQueryError(
            "INVALID_TABLE_PROPERTY",
            "external_location is for Hive tables; Iceberg tables take location",
        )
    for hive_only in ("partitioned_by", "bucketed_by", "bucket_count"):
        if hive_only in props:
            raise AthenaQueryError(
                "INVALID_TABLE_PROPERTY",
                f"{hive_only} is not supported for Iceberg tables: use partitioning",
            )
    if str(props.get("format", "parquet")).lower() != "parquet":
        raise AthenaQueryError(
            "NOT_SUPPORTED", "athena-local writes Iceberg tables as Parquet only"
        )
    unknown = set(props) - _ICEBERG_PROPERTIES
    if unknown:
        raise AthenaQueryError(
            "INVALID_TABLE_PROPERTY",
            f"Catalog 'awsdatacatalog' does not support table property '{sorted(unknown)[0]}'",
        )


def partition_texts(nodes: list[Any]) -> list[str]:
    """`PARTITIONED BY (day(ts), bucket(16, id), col)` (Hive DDL's order) as CTAS's
    `partitioning` spells it (Trino's: `bucket(id, 16)`)."""
    texts = []
    for node in nodes:
        if isinstance(node, str):
            texts.append(node)
        elif isinstance(node, exp.Identifier | exp.Column):
            texts.append(node.name.lower())
        elif isinstance(node, exp.PartitionedByBucket | exp.PartitionByTruncate):
            kind = "bucket" if isinstance(node, exp.PartitionedByBucket) else "truncate"
            texts.append(f"{kind}({node.this.name.lower()}, {node.expression.name})")
        elif isinstance(node, exp.Func):
            column = node.find(exp.Column)
            if column is None:
                raise AthenaQueryError("SYNTAX_ERROR", f"Bad partition field: {node.sql()}")
            texts.append(f"{node.key.lower()}({column.name.lower()})")
        else:
            raise AthenaQueryError("SYNTAX_ERROR", f"Bad partition field: {node.sql()}")
    return texts


def _transform(kind: str, argument: str | None) -> tuple[Transform[Any, Any], str]:
    """The transform and the suffix Athena (Trino) gives its partition field name."""
    if kind in ("year", "month", "day", "hour") and argument is None:
        transforms: dict[str, Transform[Any, Any]] = {
            "year": YearTransform(),
            "month": MonthTransform(),
            "day": DayTransform(),
            "hour": HourTransform(),
        }
        return transforms[kind], kind
    if kind == "bucket" and argument is not None:
        return BucketTransform(int(argument)), "bucket"
    if kind == "truncate" and argument is not None:
        return TruncateTransform(int(argument)), "trunc"
    raise AthenaQueryError("INVALID_TABLE_PROPERTY", f"Unable to parse partitioning value: {kind}")


def partition_spec(schema: Schema, partitioning: list[str]) -> PartitionSpec:
    """An Iceberg partition spec from Athena's partitioning texts (``day(ts)``,
    ``bucket(id, 16)``, ``truncate(name, 10)``, ``col``)."""
    fields = []
    for index, text in enumerate(partitioning):
        match = _TRANSFORM.match(text)
        if match:
            kind, column, argument = match.group(1).lower(), match.group(2), match.group(3)
            transform, suffix = _transform(kind, argument)
            name = f"{column.lower()}_{suffix}"
        elif re.fullmatch(r"\s*\"?\w+\"?\s*", text):
            column = text.strip().strip('"')
            transform, name = IdentityTransform(), column.lower()
        else:
            raise AthenaQueryError(
                "INVALID_TABLE_PROPERTY", f"Unable to parse partitioning value: {text}"
            )
        try:
            source = schema.find_field(column.lower())
        except ValueError as error:
            raise AthenaQueryError(
                "COLUMN_NOT_FOUND", f"Partition column '{column}' is not in the table"
            ) from error
        if not transform.can_transform(source.field_type):
            raise AthenaQueryError(
                "INVALID_TABLE_PROPERTY",
                f"Invalid partitioning value {text} for column type {source.field_type}",
            )
        fields.append(
            PartitionField(
                source_id=source.field_id, field_id=1000 + index, transform=transform, name=name
            )
        )
    return PartitionSpec(*fields)


def iceberg_rows(rows: pa.Table) -> pa.Table:
    """Rows in the types an Iceberg table stores (timestamps in microseconds). Athena
    refuses tinyint and smallint for Iceberg tables (its "Supported data types for Iceberg
    tables" page), and what it cannot store in a Hive table either."""
    fields = []
    for field in rows.schema:
        arrow_to_hive(field.type, field.name)  # refuses unknown, time zones, anonymous rows
        fields.append(pa.field(field.name.lower(), _storable(field.type)))
    return rows.rename_columns([f.name for f in fields]).cast(pa.schema(fields))


def _storable(arrow_type: pa.DataType) -> pa.DataType:
    if pa.types.is_int8(arrow_type) or pa.types.is_int16(arrow_type):
        name = "tinyint" if pa.types.is_int8(arrow_type) else "smallint"
        raise AthenaQueryError("NOT_SUPPORTED", f"Type not supported for Iceberg: {name}")
    if pa.types.is_timestamp(arrow_type):
        return pa.timestamp("us")
    if pa.types.is_large_string(arrow_type):
        return pa.string()
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return pa.list_(_storable(arrow_type.value_type))
    if pa.types.is_map(arrow_type):
        return pa.map_(_storable(arrow_type.key_type), _storable(arrow_type.item_type))
    if pa.types.is_struct(arrow_type):
        return pa.struct([pa.field(f.name.lower(), _storable(f.type)) for f in arrow_type])
    return arrow_type


@dataclass(frozen=True)
class Reference:
    """A table a query reads: the table itself at a snapshot (None: current), or one of
    its metadata tables (``t$snapshots``)."""

    database: str
    name: str
    snapshot_id: int | None = None
    metadata: str | None = None


def split_reference(database: str, name: str) -> Reference:
    """`t$snapshots` → the snapshots of t; `t$snapshot_12` → t at snapshot 12 (the name
    the engine gives a time-travel read)."""
    base, _, suffix = name.partition("$")
    if not suffix:
        return Reference(database, base)
    if suffix.startswith("snapshot_") and suffix[len("snapshot_") :].isdigit():
        return Reference(database, base, snapshot_id=int(suffix[len("snapshot_") :]))
    if suffix in METADATA_TABLES:
        return Reference(database, base, metadata=suffix)
    raise AthenaQueryError(
        "TABLE_NOT_FOUND", f"Table 'awsdatacatalog.{database}.{name}' does not exist"
    )


class IcebergTables:
    """The Iceberg tables of one region of the endpoint."""

    def __init__(self, glue: GlueClient, s3_endpoint: str) -> None:
        self._catalog = GlueCatalog(
            "awsdatacatalog",
            client=glue,
            **{
                "s3.endpoint": s3_endpoint,
                "s3.access-key-id": "athena-local",
                "s3.secret-access-key": "athena-local",
                "s3.region": glue.meta.region_name,
                "s3.force-virtual-addressing": "false",
            },
        )
        # Commits to one table are serialised: the endpoint's statements on a table run
        # one after another, as Athena's (concurrent commits retry on Athena).
        self._lock = threading.RLock()

    # tables ------------------------------------------------------------------------------

    def create(
        self,
        database: str,
        name: str,
        location: str,
        rows: pa.Table,
        partitioning: list[str],
        properties: dict[str, str],
    ) -> int:
        """Create the table with rows (none for CREATE TABLE); return the row count."""
        rows = iceberg_rows(rows)
        schema = iceberg_schema(rows.schema)
        spec = partition_spec(schema, partitioning)
        with self._lock:
            transaction = self._catalog.create_table_transaction(
                f"{database}.{name}",
                schema=schema,
                location=location.rstrip("/"),
                partition_spec=spec,
                properties={"write.parquet.compression-codec": "zstd", **properties},
            )
            if rows.num_rows:
                transaction.append(rows)
            transaction.commit_transaction()
        count: int = rows.num_rows
        return count

    def load(self, database: str, name: str) -> Table:
        try:
            return self._catalog.load_table(f"{database}.{name}")
        except NoSuchTableError as error:
            raise AthenaQueryError(
                "TABLE_NOT_FOUND", f"Table 'awsdatacatalog.{database}.{name}' does not exist"
            ) from error

    def append(self, database: str, name: str, rows: pa.Table) -> None:
        with self._lock:
            table = self.load(database, name)
            if rows.num_rows:
                table.append(self._shaped(table, rows))

    def current_snapshot(self, database: str, name: str) -> int | None:
        snapshot = self.load(database, name).current_snapshot()
        return None if snapshot is None else snapshot.snapshot_id

    def replace(self, database: str, name: str, rows: pa.Table, read_at: int | None) -> None:
        """Make rows the table's rows, in one new `overwrite` snapshot (as a row-level
        change commits one snapshot on Athena). ``read_at``: the snapshot the rows were
        computed from; if another statement committed since, this one fails as Athena's
        conflicting commit does, rather than drop that statement's rows."""
        with self._lock:
            table = self.load(database, name)
            current = table.current_snapshot()
            if (None if current is None else current.snapshot_id) != read_at:
                raise AthenaQueryError(
                    "ICEBERG_COMMIT_ERROR",
                    f"Failed to commit Iceberg update to table {database}.{name}: "
                    "the table changed while the statement ran",
                )
            shaped = self._shaped(table, rows)
            files = [task.file for task in table.scan().plan_files()]
            try:
                with table.transaction() as transaction:
                    producer = transaction.update_snapshot().overwrite()
                    with producer as overwrite:
                        for old in files:
                            overwrite.delete_data_file(old)
                        if shaped.num_rows:
                            for new in _dataframe_to_data_files(
                                table_metadata=transaction.table_metadata,
                                write_uuid=overwrite.commit_uuid,
                                df=shaped,
                                io=table.io,
                            ):
                                overwrite.append_data_file(new)
            except CommitFailedException as error:
                raise AthenaQueryError(
                    "ICEBERG_COMMIT_ERROR", f"Failed to commit Iceberg update: {error}"
                ) from error

    def drop(self, database: str, name: str, purge: Callable[[str], None]) -> None:
        """Drop the table; Athena deletes an Iceberg table's data and metadata with it."""
        with self._lock:
            table = self.load(database, name)
            location = table.location()
            self._catalog.drop_table(f"{database}.{name}")
            purge(location)

    def columns(self, database: str, name: str) -> pa.Schema:
        return self.load(database, name).schema().as_arrow()

    def read(self, reference: Reference) -> pa.Table:
        """The rows of the table, at a snapshot or now."""
        table = self.load(reference.database, reference.name)
        scan = table.scan(snapshot_id=reference.snapshot_id)
        return scan.to_arrow()

    def data_files(self, database: str, name: str) -> list[tuple[str, int]]:
        """(path, size) of each data file of the current snapshot."""
        table = self.load(database, name)
        return [
            (task.file.file_path, task.file.file_size_in_bytes)
            for task in table.scan().plan_files()
        ]

    # time travel -------------------------------------------------------------------------

    def snapshot_at(self, database: str, name: str, when: datetime) -> int:
        """The snapshot current at a time (FOR TIMESTAMP AS OF)."""
        table = self.load(database, name)
        millis = int(when.timestamp() * 1000)
        found = None
        for entry in table.metadata.snapshot_log:
            if entry.timestamp_ms <= millis:
                found = entry.snapshot_id
        if found is None:
            raise AthenaQueryError(
                "INVALID_ARGUMENTS",
                f"No version history table {database}.{name} at or before {when.isoformat()}",
            )
        return found

    def snapshot(self, database: str, name: str, snapshot_id: int) -> int:
        """A snapshot id FOR VERSION AS OF may name."""
        table = self.load(database, name)
        if table.snapshot_by_id(snapshot_id) is None:
            raise AthenaQueryError(
                "INVALID_ARGUMENTS", f"Iceberg snapshot ID does not exists: {snapshot_id}"
            )
        return snapshot_id

    # metadata tables ---------------------------------------------------------------------

    def metadata_table(self, reference: Reference) -> MetadataTable:
        """Athena's `t$snapshots`, `t$history`, `t$files`, `t$partitions`, `t$manifests`
        and `t$refs` (:mod:`athena_local.iceberg_metadata`)."""
        table = self.load(reference.database, reference.name)
        return metadata_table(table, str(reference.metadata))

    # maintenance -------------------------------------------------------------------------

    def optimize(self, database: str, name: str) -> None:
        """OPTIMIZE … REWRITE DATA: the same rows, rewritten into fewer files."""
        with self._lock:
            read_at = self.current_snapshot(database, name)
            self.replace(database, name, self.read(Reference(database, name)), read_at)

    def vacuum(self, database: str, name: str, purge_files: Callable[[list[str]], None]) -> None:
        """VACUUM: expire snapshots older than vacuum_max_snapshot_age_seconds, keeping at
        least vacuum_min_snapshots_to_keep; delete the data files only they referenced."""
        with self._lock:
            table = self.load(database, name)
            properties = table.properties
            keep = int(properties.get(VACUUM_MIN_SNAPSHOTS, "1"))
            age = int(properties.get(VACUUM_MAX_AGE, "432000"))
            cutoff = datetime.now(UTC) - timedelta(seconds=age)
            history = sorted(table.metadata.snapshots, key=lambda s: s.timestamp_ms)
            kept = {s.snapshot_id for s in history[-keep:]} if keep else set()
            current = table.current_snapshot()
            if current is not None:
                kept.add(current.snapshot_id)
            expired = [
                s.snapshot_id
                for s in history
                if s.snapshot_id not in kept and s.timestamp_ms < cutoff.timestamp() * 1000
            ]
            if not expired:
                return
            before = self._referenced_files(table)
            table.maintenance.expire_snapshots().by_ids(expired).commit()
            table = self.load(database, name)
            purge_files(sorted(before - self._referenced_files(table)))

    @staticmethod
    def _referenced_files(table: Table) -> set[str]:
        files: set[str] = set()
        for snapshot in table.metadata.snapshots:
            for manifest in snapshot.manifests(table.io):
                for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True):
                    files.add(entry.data_file.file_path)
        return files

    # schema ------------------------------------------------------------------------------

    def add_columns(self, database: str, name: str, added: pa.Schema) -> None:
        with self._lock:
            table = self.load(database, name)
            with table.update_schema() as update:
                for field, kind in zip(added, _iceberg_types(added), strict=True):
                    update.add_column(field.name.lower(), kind)

    def replace_columns(self, database: str, name: str, wanted: pa.Schema) -> None:
        """REPLACE COLUMNS: drop the columns not listed, add the new ones (by name)."""
        with self._lock:
            table = self.load(database, name)
            present = [f.name for f in table.schema().fields]
            names = [f.name.lower() for f in wanted]
            with table.update_schema() as update:
                for column in present:
                    if column not in names:
                        update.delete_column(column)
                for field, kind in zip(wanted, _iceberg_types(wanted), strict=True):
                    if field.name.lower() not in present:
                        update.add_column(field.name.lower(), kind)

    def drop_columns(self, database: str, name: str, columns: list[str]) -> None:
        with self._lock:
            table = self.load(database, name)
            present = {f.name for f in table.schema().fields}
            missing = [c for c in columns if c not in present]
            if missing:
                raise AthenaQueryError("COLUMN_NOT_FOUND", f"Column '{missing[0]}' does not exist")
            with table.update_schema() as update:
                for column in columns:
                    update.delete_column(column)

    def change_column(
        self, database: str, name: str, old: str, new: str, kind: pa.DataType
    ) -> None:
        with self._lock:
            table = self.load(database, name)
            with table.update_schema() as update:
                if old != new:
                    update.rename_column(old, new)
                current = table.schema().find_field(old).field_type
                wanted = _iceberg_types(pa.schema([pa.field(new, _storable(kind))]))[0]
                if current != wanted:
                    update.update_column(new if old == new else old, field_type=wanted)

    def set_properties(self, database: str, name: str, properties: dict[str, str]) -> None:
        with self._lock:
            table = self.load(database, name)
            with table.transaction() as transaction:
                transaction.set_properties(properties)

    def _shaped(self, table: Table, rows: pa.Table) -> pa.Table:
        """Rows cast to the table's own Arrow schema (names and types)."""
        target = table.schema().as_arrow()
        rows = iceberg_rows(rows)
        return rows.select([f.name for f in target]).cast(target)


def _iceberg_types(schema: pa.Schema) -> list[Any]:
    return [field.field_type for field in iceberg_schema(schema).fields]


def iceberg_schema(schema: pa.Schema) -> Schema:
    """The Iceberg schema of Arrow columns, with fresh field ids; every column optional
    (Athena's Iceberg columns are nullable)."""
    storable = pa.schema([pa.field(f.name.lower(), _storable(f.type)) for f in schema])
    converted = visit_pyarrow(storable, _ConvertToIcebergWithoutIDs())
    return assign_fresh_schema_ids(converted)
