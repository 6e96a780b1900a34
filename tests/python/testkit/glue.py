"""Shared by the S3 and Glue tests: the raw table as Athena must see it, a closed port."""

from __future__ import annotations

import socket
from typing import Any

from dap.schema import DATASET


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


TABLE = DATASET
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
# The raw table's columns as Athena must see them, restated (not derived from RAW_SCHEMA)
# so a change to the raw schema or the type mapping shows up here.
GLUE_COLUMNS = [
    ("date", "date"),
    ("callsoffered", "bigint"),
    ("callshandled", "bigint"),
    ("callsabandoned", "bigint"),
    ("averagespeedofanswer", "double"),
    ("servicelevel", "double"),
    ("bi_id", "bigint"),
    ("load_issues", "string"),
    ("source_file_name", "string"),
    ("source_file_sha256", "string"),
    ("source_sheet", "string"),
    ("source_row_number", "bigint"),
    ("carried_columns", "string"),
    ("ingested_at", "timestamp"),
    ("extract_rows", "bigint"),
]


def assert_raw_table(glue: Any, database: str, location: str) -> dict[str, Any]:
    table: dict[str, Any] = glue.get_table(DatabaseName=database, Name=TABLE)["Table"]
    assert table["TableType"] == "EXTERNAL_TABLE"
    assert table["Parameters"] == {
        "EXTERNAL": "TRUE",
        "classification": "parquet",
        "parquet.compression": "SNAPPY",
    }
    assert [(c["Name"], c["Type"]) for c in table["PartitionKeys"]] == [("year", "int")]
    sd = table["StorageDescriptor"]
    assert [(c["Name"], c["Type"]) for c in sd["Columns"]] == GLUE_COLUMNS
    assert sd["Location"] == location
    assert sd["InputFormat"] == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    assert sd["OutputFormat"] == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
    assert sd["SerdeInfo"]["SerializationLibrary"] == PARQUET_SERDE
    return table
