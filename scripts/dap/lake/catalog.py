"""The raw zone in the AWS Glue Data Catalog, so Athena (and dbt's source) can read it.

An S3 lake's raw zone is registered as one external table, ``<database>.<dataset>``,
over ``s3://bucket/prefix/raw/<dataset>/``: Parquet (snappy), its columns derived from
:data:`dap.schema.RAW_SCHEMA`, partitioned by ``year`` (an ``int``; rows whose date could
not be read are in Hive's default partition). Every call is idempotent: the database and
table are created when absent and brought in line when they differ, and a partition that
is already registered with the same definition is left alone. The extract event log
(:mod:`dap.lake.extracts`) is a second table beside it,
``<database>.contact_centre_extract_events``, of the same layout but not partitioned
(:class:`GlueEventLog`).

The boto3 session is passed in, never created here: the CLI creates the one session a
command uses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa

from dap.errors import CatalogError
from dap.lake.storage import RAW
from dap.schema import (
    DATASET,
    PARQUET_INPUT_FORMAT,
    PARQUET_OUTPUT_FORMAT,
    PARQUET_SERDE,
    PARTITION_COLUMN,
    RAW_SCHEMA,
)

if TYPE_CHECKING:
    import boto3
    from botocore.exceptions import ClientError
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_glue.type_defs import (
        ColumnTypeDef,
        PartitionInputTypeDef,
        StorageDescriptorOutputTypeDef,
        StorageDescriptorTypeDef,
        TableInputTypeDef,
        TableTypeDef,
    )

TABLE_PARAMETERS = {
    "EXTERNAL": "TRUE",
    "classification": "parquet",
    "parquet.compression": "SNAPPY",
}
PARTITION_TYPE = "int"
DATABASE_DESCRIPTION = (
    "Raw zone of the Vancouver 3-1-1 contact centre data platform: typed Parquet as "
    "`dap load` lands it in S3, registered by the loader."
)
TABLE_DESCRIPTION = (
    "Every row of every landed workbook, typed, as `dap load` wrote it; "
    "Hive-partitioned by year (rows without a readable date in the default partition)."
)

_NAME = re.compile(r"[a-z0-9_]{1,255}")
"""Athena reads database and table names of lowercase letters, digits and underscores."""
_BATCH_CREATE = 100  # BatchCreatePartition and BatchUpdatePartition take up to 100 entries
_BATCH_GET = 1000  # BatchGetPartition takes up to 1000 keys
_ALREADY_EXISTS = "AlreadyExistsException"
_NOT_FOUND = "EntityNotFoundException"


def glue_type(arrow_type: pa.DataType) -> str:
    """The Hive/Glue type name Athena reads an Arrow (Parquet) column as."""
    if pa.types.is_timestamp(arrow_type):
        return "timestamp"
    for check, name in (
        (pa.types.is_string, "string"),
        (pa.types.is_large_string, "string"),
        (pa.types.is_int64, "bigint"),
        (pa.types.is_int32, "int"),
        (pa.types.is_float64, "double"),
        (pa.types.is_boolean, "boolean"),
        (pa.types.is_date32, "date"),
    ):
        if check(arrow_type):
            return name
    raise CatalogError(f"Arrow type {arrow_type} has no Glue type mapping in dap.lake.catalog")


def glue_columns(schema: pa.Schema) -> tuple[tuple[str, str], ...]:
    """(name, Glue type) for every column of ``schema`` but the partition column."""
    columns: list[tuple[str, str]] = []
    for arrow_field in schema:
        if arrow_field.name == PARTITION_COLUMN:
            continue
        try:
            columns.append((arrow_field.name, glue_type(arrow_field.type)))
        except CatalogError as exc:
            raise CatalogError(f"raw column {arrow_field.name!r}: {exc}") from exc
    return tuple(columns)


@dataclass(frozen=True)
class _Layout:
    """What the loader decides about a table or partition, in a form that compares equal
    whether it was built here or read back from Glue (which adds fields of its own)."""

    columns: tuple[tuple[str, str], ...]
    location: str
    input_format: str | None = PARQUET_INPUT_FORMAT
    output_format: str | None = PARQUET_OUTPUT_FORMAT
    serde: str | None = PARQUET_SERDE

    @classmethod
    def read(cls, descriptor: StorageDescriptorOutputTypeDef) -> _Layout:
        return cls(
            columns=tuple((c["Name"], c.get("Type", "")) for c in descriptor.get("Columns", [])),
            location=descriptor.get("Location", ""),
            input_format=descriptor.get("InputFormat"),
            output_format=descriptor.get("OutputFormat"),
            serde=descriptor.get("SerdeInfo", {}).get("SerializationLibrary"),
        )

    def storage_descriptor(self) -> StorageDescriptorTypeDef:
        return {
            "Columns": _columns(self.columns),
            "Location": self.location,
            "InputFormat": PARQUET_INPUT_FORMAT,
            "OutputFormat": PARQUET_OUTPUT_FORMAT,
            "Compressed": False,  # Parquet compresses inside the file (snappy)
            "SerdeInfo": {"SerializationLibrary": PARQUET_SERDE, "Parameters": {}},
        }


def _columns(columns: Iterable[tuple[str, str]]) -> list[ColumnTypeDef]:
    return [{"Name": name, "Type": type_} for name, type_ in columns]


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "unknown"))


class GlueCatalog:
    """The raw table of one S3 lake in one Glue database.

    ``lake_root`` is the lake's ``s3://bucket/prefix`` (or ``s3://bucket``); the table's
    location is ``<lake_root>/raw/<table>/``.
    """

    partition_keys: tuple[tuple[str, str], ...] = ((PARTITION_COLUMN, PARTITION_TYPE),)
    description = TABLE_DESCRIPTION

    def __init__(
        self,
        session: boto3.Session,
        *,
        database: str,
        lake_root: str,
        table: str = DATASET,
        schema: pa.Schema = RAW_SCHEMA,
    ) -> None:
        for kind, name in (("database", database), ("table", table)):
            if not _NAME.fullmatch(name):
                raise CatalogError(
                    f"Glue {kind} name {name!r}: use 1 to 255 lowercase letters, digits "
                    "and underscores (the names Athena can read)"
                )
        if not lake_root.startswith("s3://") or not lake_root[5:].partition("/")[0]:
            raise CatalogError(f"{lake_root}: the Glue catalog registers s3:// lakes only")
        self.database = database
        self.table = table
        self.session = session
        self.lake_root = lake_root
        self.location = f"{lake_root.rstrip('/')}/{RAW}/{table}/"
        self.columns = glue_columns(schema)
        with self._errors(f"open a Glue client for database {database}"):  # no region, ...
            self.client: GlueClient = session.client("glue")

    @property
    def qualified_name(self) -> str:
        return f"{self.database}.{self.table}"

    # -- database and table ------------------------------------------------------------

    def ensure_database(self) -> None:
        """Create the database if it does not exist (an existing one is left as it is)."""
        from botocore.exceptions import ClientError  # noqa: PLC0415 - boto3 loads lazily

        with self._errors(f"read database {self.database}"):
            try:
                self.client.get_database(Name=self.database)
            except ClientError as exc:
                if _code(exc) != _NOT_FOUND:
                    raise
            else:
                return
        with self._errors(f"create database {self.database}"):
            try:
                self.client.create_database(
                    DatabaseInput={"Name": self.database, "Description": DATABASE_DESCRIPTION}
                )
            except ClientError as exc:  # created meanwhile by another load
                if _code(exc) != _ALREADY_EXISTS:
                    raise

    def ensure_table(self) -> bool:
        """Create the database and table if absent; bring the table (and its partitions)
        in line if its columns, partition keys, location or formats differ.

        Returns True when the table was created or changed.
        """
        from botocore.exceptions import ClientError  # noqa: PLC0415

        self.ensure_database()
        existing = self._get_table()
        if existing is None:
            with self._errors(f"create table {self.qualified_name}"):
                try:
                    self.client.create_table(
                        DatabaseName=self.database, TableInput=self._table_input({})
                    )
                except ClientError as exc:
                    if _code(exc) != _ALREADY_EXISTS:
                        raise
                else:
                    return True
            existing = self._get_table()
            if existing is None:  # created and dropped again meanwhile: leave it to the next load
                raise CatalogError(f"Glue table {self.qualified_name} vanished while creating it")
        if self._table_matches(existing):
            return False
        with self._errors(f"update table {self.qualified_name}"):
            self.client.update_table(
                DatabaseName=self.database,
                TableInput=self._table_input(existing.get("Parameters", {})),
            )
        self._align_partitions(self._registered_partitions())
        return True

    def _get_table(self) -> TableTypeDef | None:
        from botocore.exceptions import ClientError  # noqa: PLC0415

        with self._errors(f"read table {self.qualified_name}"):
            try:
                return self.client.get_table(DatabaseName=self.database, Name=self.table)["Table"]
            except ClientError as exc:
                if _code(exc) != _NOT_FOUND:
                    raise
                return None

    def _table_input(self, parameters: dict[str, str]) -> TableInputTypeDef:
        return {
            "Name": self.table,
            "Description": self.description,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {**parameters, **TABLE_PARAMETERS},
            "StorageDescriptor": _Layout(self.columns, self.location).storage_descriptor(),
            "PartitionKeys": _columns(self.partition_keys),
        }

    def _table_matches(self, table: TableTypeDef) -> bool:
        parameters = table.get("Parameters", {})
        keys = tuple((c["Name"], c.get("Type", "")) for c in table.get("PartitionKeys", []))
        return (
            table.get("TableType") == "EXTERNAL_TABLE"
            and all(parameters.get(k) == v for k, v in TABLE_PARAMETERS.items())
            and keys == self.partition_keys
            and _Layout.read(table.get("StorageDescriptor", {}))
            == _Layout(self.columns, self.location)
        )

    # -- partitions --------------------------------------------------------------------

    def partition_location(self, value: str) -> str:
        return f"{self.location}{PARTITION_COLUMN}={value}/"

    def add_partitions(self, values: Iterable[str]) -> None:
        """Register ``year=<value>`` for each value ("2021", "__HIVE_DEFAULT_PARTITION__").

        A partition already registered with this table's layout is left alone; one
        registered with another layout (an older schema, another location) is updated.
        """
        wanted = sorted(set(values))
        if not wanted:
            return
        existing: list[str] = []
        for chunk in _chunks(wanted, _BATCH_CREATE):
            with self._errors(f"add partitions to {self.qualified_name}"):
                response = self.client.batch_create_partition(
                    DatabaseName=self.database,
                    TableName=self.table,
                    PartitionInputList=[self._partition_input(v) for v in chunk],
                )
            for error in response.get("Errors", []):
                detail = error.get("ErrorDetail", {})
                values_ = error.get("PartitionValues", [])
                if detail.get("ErrorCode") == _ALREADY_EXISTS and len(values_) == 1:
                    existing.append(values_[0])
                    continue
                raise CatalogError(
                    f"Glue table {self.qualified_name}: cannot add partition "
                    f"{PARTITION_COLUMN}={'/'.join(values_)} ({detail.get('ErrorCode')}: "
                    f"{detail.get('ErrorMessage')})"
                )
        if existing:
            self._align_partitions(self._get_partitions(existing))

    def _partition_input(self, value: str) -> PartitionInputTypeDef:
        layout = _Layout(self.columns, self.partition_location(value))
        return {"Values": [value], "StorageDescriptor": layout.storage_descriptor()}

    def _get_partitions(self, values: Sequence[str]) -> dict[str, _Layout]:
        found: dict[str, _Layout] = {}
        for chunk in _chunks(values, _BATCH_GET):
            with self._errors(f"read partitions of {self.qualified_name}"):
                response = self.client.batch_get_partition(
                    DatabaseName=self.database,
                    TableName=self.table,
                    PartitionsToGet=[{"Values": [v]} for v in chunk],
                )
            for partition in response.get("Partitions", []):
                if len(partition.get("Values", [])) == 1:
                    found[partition["Values"][0]] = _Layout.read(
                        partition.get("StorageDescriptor", {})
                    )
            if response.get("UnprocessedKeys"):
                raise CatalogError(
                    f"Glue table {self.qualified_name}: Glue left partitions unread "
                    "(throttled); run the load again"
                )
        return found

    def _registered_partitions(self) -> dict[str, _Layout]:
        found: dict[str, _Layout] = {}
        with self._errors(f"list partitions of {self.qualified_name}"):
            pages = self.client.get_paginator("get_partitions").paginate(
                DatabaseName=self.database, TableName=self.table
            )
            for page in pages:
                for partition in page.get("Partitions", []):
                    if len(partition.get("Values", [])) == 1:
                        found[partition["Values"][0]] = _Layout.read(
                            partition.get("StorageDescriptor", {})
                        )
        return found

    def _align_partitions(self, registered: dict[str, _Layout]) -> None:
        """Update the registered partitions whose layout is not this table's."""
        stale = sorted(
            value
            for value, layout in registered.items()
            if layout != _Layout(self.columns, self.partition_location(value))
        )
        for chunk in _chunks(stale, _BATCH_CREATE):
            with self._errors(f"update partitions of {self.qualified_name}"):
                response = self.client.batch_update_partition(
                    DatabaseName=self.database,
                    TableName=self.table,
                    Entries=[
                        {"PartitionValueList": [v], "PartitionInput": self._partition_input(v)}
                        for v in chunk
                    ],
                )
            for error in response.get("Errors", []):
                detail = error.get("ErrorDetail", {})
                raise CatalogError(
                    f"Glue table {self.qualified_name}: cannot update partition "
                    f"{PARTITION_COLUMN}={'/'.join(error.get('PartitionValueList', []))} "
                    f"({detail.get('ErrorCode')}: {detail.get('ErrorMessage')})"
                )

    # -- errors ------------------------------------------------------------------------

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """botocore's errors as a CatalogError naming what was being done, and where."""
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        try:
            yield
        except ClientError as exc:
            message = exc.response.get("Error", {}).get("Message", "")
            raise CatalogError(f"Glue catalog: cannot {action} ({_code(exc)}: {message})") from exc
        except BotoCoreError as exc:  # endpoint unreachable, no credentials, ...
            raise CatalogError(f"Glue catalog: cannot {action} ({exc})") from exc


EVENT_LOG_DESCRIPTION = (
    "The extract event log: one row per file per `dap` run (landed, masked, unchanged, "
    "refused, retracted, restored), appended by `dap load`, `dap retract` and `dap restore`."
)


class GlueEventLog(GlueCatalog):
    """The extract event log's table (:mod:`dap.lake.extracts`): the same layout as the raw
    table, in the same database, but over the audit trail's ``_audit/events/`` and not
    partitioned (a few small files)."""

    partition_keys = ()
    description = EVENT_LOG_DESCRIPTION

    @classmethod
    def beside(
        cls, catalog: GlueCatalog, *, table: str, schema: pa.Schema, location: str
    ) -> GlueEventLog:
        """The table ``table`` over ``location`` (the audit trail's ``_audit/events/``), in
        ``catalog``'s database, through its session."""
        log = cls(
            catalog.session,
            database=catalog.database,
            lake_root=catalog.lake_root,
            table=table,
            schema=schema,
        )
        log.location = location
        return log
