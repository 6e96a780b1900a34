"""The Glue catalog and S3 objects the local Athena reads and writes, through their APIs.

The engine never reaches into moto's internals: it calls Glue and S3 over HTTP on the
same endpoint, as Athena calls the real services.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from athena_local.errors import AthenaQueryError
from dap.schema import PARQUET_INPUT_FORMAT, PARQUET_OUTPUT_FORMAT, PARQUET_SERDE

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient

    from athena_local.iceberg import IcebergTables

S3Client = Any  # no S3 stubs installed; the calls used are few and plain

PARQUET_STORAGE = {
    "InputFormat": PARQUET_INPUT_FORMAT,
    "OutputFormat": PARQUET_OUTPUT_FORMAT,
    "SerdeInfo": {
        "SerializationLibrary": PARQUET_SERDE,
        "Parameters": {"serialization.format": "1"},
    },
}
TEXT_STORAGE = {
    "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
}
_PRESTO_VIEW = "/* Presto View: {} */"


def split_s3_uri(uri: str) -> tuple[str, str]:
    """('bucket', 'key/prefix') of an s3:// URI."""
    if not uri.startswith("s3://"):
        raise AthenaQueryError("INVALID_TABLE_PROPERTY", f"Not an S3 location: '{uri}'")
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


@dataclass(frozen=True)
class StoredObject:
    bucket: str
    key: str
    size: int


class Warehouse:
    """Glue tables and S3 objects in one region of the endpoint."""

    def __init__(self, glue: GlueClient, s3: S3Client) -> None:
        self._glue = glue
        self._s3 = s3
        self._iceberg: IcebergTables | None = None
        self._lock = threading.Lock()

    @property
    def iceberg(self) -> IcebergTables:
        """The Iceberg tables of this catalog (pyiceberg is loaded on first use)."""
        with self._lock:
            if self._iceberg is None:
                from athena_local.iceberg import IcebergTables  # noqa: PLC0415 - heavy import

                self._iceberg = IcebergTables(self._glue, str(self._s3.meta.endpoint_url))
            return self._iceberg

    def iceberg_data_files(self, database: str, name: str) -> list[StoredObject]:
        """The data files of an Iceberg table's current snapshot."""
        found = []
        for path, size in self.iceberg.data_files(database, name):
            bucket, key = split_s3_uri(path)
            found.append(StoredObject(bucket, key, size))
        return found

    # Glue -----------------------------------------------------------------------------

    def database_exists(self, database: str) -> bool:
        try:
            self._glue.get_database(Name=database)
        except self._glue.exceptions.EntityNotFoundException:
            return False
        return True

    def database_names(self) -> list[str]:
        names: list[str] = []
        for page in self._glue.get_paginator("get_databases").paginate():
            names.extend(database["Name"] for database in page["DatabaseList"])
        return names

    def create_database(self, database: str, location: str | None) -> None:
        database_input: dict[str, Any] = {"Name": database}
        if location:
            database_input["LocationUri"] = location
        self._glue.create_database(DatabaseInput=database_input)  # type: ignore[arg-type]

    def delete_database(self, database: str) -> None:
        self._glue.delete_database(Name=database)

    def table_names(self, database: str) -> list[str]:
        names: list[str] = []
        for page in self._glue.get_paginator("get_tables").paginate(DatabaseName=database):
            names.extend(table["Name"] for table in page["TableList"])
        return names

    def get_table(self, database: str, name: str) -> dict[str, Any] | None:
        try:
            response = self._glue.get_table(DatabaseName=database, Name=name)
        except self._glue.exceptions.EntityNotFoundException:
            return None
        return dict(response["Table"])

    def create_table(self, database: str, table_input: dict[str, Any]) -> None:
        try:
            self._glue.create_table(DatabaseName=database, TableInput=table_input)  # type: ignore[arg-type]
        except self._glue.exceptions.AlreadyExistsException as error:
            raise AthenaQueryError(
                "ALREADY_EXISTS",
                f"Table 'awsdatacatalog.{database}.{table_input['Name']}' already exists",
            ) from error

    def update_table(self, database: str, table_input: dict[str, Any]) -> None:
        self._glue.update_table(DatabaseName=database, TableInput=table_input)  # type: ignore[arg-type]

    def delete_table(self, database: str, name: str) -> None:
        self._glue.delete_table(DatabaseName=database, Name=name)

    def partitions(self, database: str, name: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        paginator = self._glue.get_paginator("get_partitions")
        for page in paginator.paginate(DatabaseName=database, TableName=name):
            found.extend(dict(partition) for partition in page["Partitions"])
        return found

    def add_partitions(self, database: str, name: str, partitions: list[dict[str, Any]]) -> None:
        for start in range(0, len(partitions), 100):
            self._glue.batch_create_partition(
                DatabaseName=database,
                TableName=name,
                PartitionInputList=partitions[start : start + 100],  # type: ignore[arg-type]
            )

    # S3 -------------------------------------------------------------------------------

    def list_objects(self, location: str) -> list[StoredObject]:
        """Data files under a location; Hive skips names starting with '_' or '.'."""
        bucket, prefix = split_s3_uri(location)
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        found: list[StoredObject] = []
        try:
            for page in self._s3.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=prefix
            ):
                for item in page.get("Contents", []):
                    base = item["Key"].rsplit("/", 1)[-1]
                    if base and not base.startswith(("_", ".")):
                        found.append(StoredObject(bucket, item["Key"], item["Size"]))
        except ClientError as error:
            raise AthenaQueryError(
                "GENERIC_USER_ERROR", f"Cannot list {location}: {error}"
            ) from error
        return found

    def read(self, stored: StoredObject) -> bytes:
        body: bytes = self._s3.get_object(Bucket=stored.bucket, Key=stored.key)["Body"].read()
        return body

    def delete_under(self, location: str) -> None:
        """Delete every object under a location (Athena's DROP of an Iceberg table)."""
        bucket, prefix = split_s3_uri(location)
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        keys = [
            item["Key"]
            for page in self._s3.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=prefix
            )
            for item in page.get("Contents", [])
        ]
        self._delete_keys(bucket, keys)

    def delete_files(self, uris: list[str]) -> None:
        by_bucket: dict[str, list[str]] = {}
        for uri in uris:
            bucket, key = split_s3_uri(uri)
            by_bucket.setdefault(bucket, []).append(key)
        for bucket, keys in by_bucket.items():
            self._delete_keys(bucket, keys)

    def _delete_keys(self, bucket: str, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            chunk = keys[start : start + 1000]
            self._s3.delete_objects(
                Bucket=bucket, Delete={"Objects": [{"Key": key} for key in chunk]}
            )

    def write(self, uri: str, data: bytes) -> None:
        bucket, key = split_s3_uri(uri)
        try:
            self._s3.put_object(Bucket=bucket, Key=key, Body=data)
        except ClientError as error:
            raise AthenaQueryError("GENERIC_USER_ERROR", f"Cannot write {uri}: {error}") from error


def view_original_text(sql: str, database: str, columns: list[dict[str, str]]) -> str:
    """Glue's ViewOriginalText for an Athena view, as Athena writes it."""
    document = {
        "originalSql": sql,
        "catalog": "awsdatacatalog",
        "schema": database,
        "columns": [{"name": c["Name"], "type": c["Type"]} for c in columns],
    }
    encoded = base64.b64encode(json.dumps(document).encode()).decode()
    return _PRESTO_VIEW.format(encoded)


def view_sql(table: dict[str, Any]) -> str:
    """The SQL of an Athena view stored in Glue."""
    text = str(table.get("ViewOriginalText", ""))
    if not text.startswith("/* Presto View: "):
        raise AthenaQueryError(
            "NOT_SUPPORTED", f"View '{table.get('Name')}' was not created by Athena"
        )
    encoded = text[len("/* Presto View: ") : -len(" */")]
    return str(json.loads(base64.b64decode(encoded))["originalSql"])
