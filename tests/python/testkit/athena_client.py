"""A boto3 client of the local Athena endpoint for tests that send it SQL one statement at
a time and read back what Athena's API returns (state, column types, rows, Glue)."""

from __future__ import annotations

from typing import Any

import boto3

from athena_local import AthenaLocal
from testkit.support import ATHENA_REGION


class AthenaClient:
    """Queries run in the Glue database ``database``, results written under ``bucket``."""

    def __init__(self, endpoint: AthenaLocal, bucket: str, database: str = "lab") -> None:
        session = boto3.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=ATHENA_REGION
        )
        self.athena = session.client("athena", endpoint_url=endpoint.url)
        self.glue = session.client("glue", endpoint_url=endpoint.url)
        self.s3 = session.client("s3", endpoint_url=endpoint.url)
        self.bucket = bucket
        self.database = database

    def create_bucket(self) -> None:
        self.s3.create_bucket(
            Bucket=self.bucket, CreateBucketConfiguration={"LocationConstraint": ATHENA_REGION}
        )

    def execution(self, sql: str) -> dict[str, Any]:
        query_id = self.athena.start_query_execution(
            QueryString=sql,
            QueryExecutionContext={"Database": self.database},
            ResultConfiguration={"OutputLocation": f"s3://{self.bucket}/results/"},
        )["QueryExecutionId"]
        return dict(self.athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"])

    def ok(self, sql: str) -> None:
        status = self.execution(sql)["Status"]
        assert status["State"] == "SUCCEEDED", status.get("StateChangeReason")

    def result(self, sql: str) -> tuple[dict[str, Any], list[str], list[list[str | None]]]:
        """(execution, ``name:type`` of each column, every row as returned, header row
        included if any)."""
        execution = self.execution(sql)
        assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"].get(
            "StateChangeReason"
        )
        page = self.athena.get_query_results(QueryExecutionId=execution["QueryExecutionId"])
        info = page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
        rows = [[d.get("VarCharValue") for d in r["Data"]] for r in page["ResultSet"]["Rows"]]
        return execution, [f"{c['Name']}:{c['Type']}" for c in info], rows

    def typed_rows(self, sql: str) -> tuple[list[str], list[list[str | None]]]:
        """(column types, data rows) of a query; its header row checked and dropped."""
        _, columns, rows = self.result(sql)
        names = [c.rsplit(":", 1)[0] for c in columns]
        assert rows[0] == names
        return [c.rsplit(":", 1)[1] for c in columns], rows[1:]

    def rows(self, sql: str) -> list[list[str | None]]:
        """Data rows of a query (its header row checked and dropped)."""
        return self.typed_rows(sql)[1]

    def fails(self, sql: str) -> str:
        status = self.execution(sql)["Status"]
        assert status["State"] == "FAILED", f"expected {sql!r} to fail"
        return str(status["StateChangeReason"])

    def glue_types(self, name: str) -> dict[str, str]:
        table = self.glue.get_table(DatabaseName=self.database, Name=name)["Table"]
        return {c["Name"]: c["Type"] for c in table["StorageDescriptor"]["Columns"]}
