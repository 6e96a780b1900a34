"""`dap athena-local`: moto's S3, Glue and Athena on 127.0.0.1, with Athena queries run.

One HTTP endpoint serves every AWS API moto has. Athena's query calls
(StartQueryExecution, GetQueryExecution, GetQueryResults, StopQueryExecution,
BatchGetQueryExecution, ListQueryExecutions) are answered here instead: the query is run
by `Engine` against the endpoint's own Glue and S3, synchronously, so the first status
poll already sees SUCCEEDED or FAILED. Every query is kept in a log, served as JSON at
`/_athena_local/queries` and, when a path is given, appended to a JSON-lines file.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

from athena_local.engine import Engine, Outcome
from athena_local.errors import USER_ERROR_CATEGORY, AthenaQueryError
from athena_local.store import Warehouse

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

QUERY_LOG_PATH = "/_athena_local/queries"
_HANDLED = {
    "StartQueryExecution",
    "GetQueryExecution",
    "GetQueryResults",
    "StopQueryExecution",
    "BatchGetQueryExecution",
    "ListQueryExecutions",
}
_REGION = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/")
_PAGE_SIZE = 1000
_ENGINE_VERSION = {
    "SelectedEngineVersion": "AUTO",
    "EffectiveEngineVersion": "Athena engine version 3",
}


@dataclass
class QueryRecord:
    """One query as the log keeps it."""

    query_execution_id: str
    query: str
    database: str
    work_group: str
    region: str
    state: str
    submitted_at: float
    completed_at: float | None = None
    statement_type: str | None = None
    substatement_type: str | None = None
    error: str | None = None
    error_name: str | None = None
    translated: str | None = None
    rows: int | None = None
    data_scanned_bytes: int = 0
    output_location: str = ""
    outcome: Outcome | None = field(default=None, repr=False)

    def to_log(self) -> dict[str, Any]:
        entry = asdict(self)
        entry.pop("outcome")
        return entry


class AthenaLocalApp:
    """WSGI app: Athena query calls answered here, everything else by moto."""

    def __init__(self, moto_app: Callable[..., Iterable[bytes]], query_log: Path | None) -> None:
        self._moto = moto_app
        self._lock = threading.Lock()
        self._records: dict[str, QueryRecord] = {}
        self._tokens: dict[str, str] = {}
        self._order: list[str] = []
        self._query_log = query_log
        self._engines: dict[str, Engine] = {}
        self.endpoint_url = ""

    # WSGI --------------------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == QUERY_LOG_PATH and environ.get("REQUEST_METHOD") == "GET":
            return _respond(start_response, 200, self.query_log())
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        service, _, action = target.partition(".")
        if service != "AmazonAthena" or action not in _HANDLED:
            return self._moto(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        try:
            body = json.loads(environ["wsgi.input"].read(length) or b"{}")
        except ValueError:
            return _respond(
                start_response, 400, {"__type": "SerializationException", "Message": "Bad JSON"}
            )
        region_match = _REGION.search(str(environ.get("HTTP_AUTHORIZATION", "")))
        region = region_match.group(1) if region_match else "us-east-1"
        try:
            handler = getattr(self, f"_{_snake(action)}")
            return _respond(start_response, 200, handler(body, region))
        except _InvalidRequestError as error:
            return _respond(
                start_response, 400, {"__type": "InvalidRequestException", "Message": str(error)}
            )

    # Athena actions ----------------------------------------------------------------------

    def _start_query_execution(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        query = str(body.get("QueryString", ""))
        if not query.strip():
            raise _InvalidRequestError("QueryString must not be empty")
        context = body.get("QueryExecutionContext", {})
        database = str(context.get("Database") or "default")
        output = str(body.get("ResultConfiguration", {}).get("OutputLocation", ""))
        token = body.get("ClientRequestToken")
        with self._lock:
            if token and token in self._tokens:
                # A retried request (same token) is the same query, not a second run.
                return {"QueryExecutionId": self._tokens[token]}
        query_id = str(uuid.uuid4())
        record = QueryRecord(
            query_execution_id=query_id,
            query=query,
            database=database,
            work_group=str(body.get("WorkGroup") or "primary"),
            region=region,
            state="RUNNING",
            submitted_at=time.time(),
            output_location=f"{output.rstrip('/')}/{query_id}.csv" if output else "",
        )
        with self._lock:
            self._records[query_id] = record
            self._order.append(query_id)
            if token:
                self._tokens[token] = query_id
        try:
            outcome = self._engine(region).execute(query, database, query_id, output)
        except AthenaQueryError as error:
            record.state, record.error, record.error_name = "FAILED", str(error), error.name
        except Exception as error:
            record.state = "FAILED"
            record.error = f"GENERIC_INTERNAL_ERROR: {type(error).__name__}: {error}"
            record.error_name = "GENERIC_INTERNAL_ERROR"
        else:
            record.state, record.outcome = "SUCCEEDED", outcome
            record.statement_type = outcome.statement_type
            record.substatement_type = outcome.substatement_type
            record.translated = outcome.translated
            record.rows = len(outcome.rows) if outcome.columns else outcome.update_count
            record.data_scanned_bytes = outcome.scanned_bytes
        record.completed_at = time.time()
        self._append_log(record)
        return {"QueryExecutionId": query_id}

    def _get_query_execution(self, body: dict[str, Any], _region: str) -> dict[str, Any]:
        return {"QueryExecution": self._execution(self._record(body))}

    def _batch_get_query_execution(self, body: dict[str, Any], _region: str) -> dict[str, Any]:
        found, missing = [], []
        for query_id in body.get("QueryExecutionIds", []):
            with self._lock:
                record = self._records.get(query_id)
            if record is None:
                missing.append({"QueryExecutionId": query_id, "ErrorCode": "INVALID_INPUT"})
            else:
                found.append(self._execution(record))
        return {"QueryExecutions": found, "UnprocessedQueryExecutionIds": missing}

    def _list_query_executions(self, body: dict[str, Any], _region: str) -> dict[str, Any]:
        work_group = body.get("WorkGroup")
        with self._lock:
            ids = [
                i
                for i in reversed(self._order)
                if work_group is None or self._records[i].work_group == work_group
            ]
        return {"QueryExecutionIds": ids[: int(body.get("MaxResults", 50))]}

    def _stop_query_execution(self, body: dict[str, Any], _region: str) -> dict[str, Any]:
        self._record(body)  # queries finish before StartQueryExecution returns
        return {}

    def _get_query_results(self, body: dict[str, Any], _region: str) -> dict[str, Any]:
        record = self._record(body)
        if record.state != "SUCCEEDED" or record.outcome is None:
            raise _InvalidRequestError(f"Query has not yet finished. Current state: {record.state}")
        outcome = record.outcome
        rows: list[list[str | None]] = list(outcome.rows)
        if outcome.columns and outcome.has_header_row:
            rows.insert(0, [name for name, _ in outcome.columns])
        next_token = str(body.get("NextToken") or "0")
        if not next_token.isdigit():
            raise _InvalidRequestError(f"NextToken {next_token!r} is not valid")
        start = int(next_token)
        size = min(int(body.get("MaxResults") or _PAGE_SIZE), _PAGE_SIZE)
        page = rows[start : start + size]
        response: dict[str, Any] = {
            "UpdateCount": outcome.update_count,
            "ResultSet": {
                "Rows": [
                    {"Data": [{} if v is None else {"VarCharValue": v} for v in row]}
                    for row in page
                ],
                "ResultSetMetadata": {
                    "ColumnInfo": [
                        {
                            "CatalogName": "hive",
                            "SchemaName": "",
                            "TableName": "",
                            "Name": name,
                            "Label": name,
                            "Type": athena_type,
                            "Precision": 0,
                            "Scale": 0,
                            "Nullable": "UNKNOWN",
                            "CaseSensitive": athena_type == "varchar",
                        }
                        for name, athena_type in outcome.columns
                    ]
                },
            },
        }
        if start + size < len(rows):
            response["NextToken"] = str(start + size)
        return response

    # helpers -----------------------------------------------------------------------------

    def query_log(self) -> list[dict[str, Any]]:
        with self._lock:
            return [self._records[i].to_log() for i in self._order]

    def _record(self, body: dict[str, Any]) -> QueryRecord:
        query_id = str(body.get("QueryExecutionId", ""))
        with self._lock:
            record = self._records.get(query_id)
        if record is None:
            raise _InvalidRequestError(f"QueryExecution {query_id} was not found")
        return record

    def _execution(self, record: QueryRecord) -> dict[str, Any]:
        status: dict[str, Any] = {
            "State": record.state,
            "SubmissionDateTime": record.submitted_at,
        }
        if record.completed_at is not None:
            status["CompletionDateTime"] = record.completed_at
        if record.error is not None:
            status["StateChangeReason"] = record.error
            status["AthenaError"] = {
                "ErrorCategory": USER_ERROR_CATEGORY,
                "ErrorType": AthenaQueryError(record.error_name or "", "").error_type,
                "Retryable": False,
                "ErrorMessage": record.error,
            }
        elapsed = int(((record.completed_at or time.time()) - record.submitted_at) * 1000)
        execution: dict[str, Any] = {
            "QueryExecutionId": record.query_execution_id,
            "Query": record.query,
            "StatementType": record.statement_type or "DML",
            "ResultConfiguration": {"OutputLocation": record.output_location},
            "QueryExecutionContext": {"Database": record.database, "Catalog": "awsdatacatalog"},
            "Status": status,
            "Statistics": {
                "EngineExecutionTimeInMillis": elapsed,
                "DataScannedInBytes": record.data_scanned_bytes,
                "TotalExecutionTimeInMillis": elapsed,
                "QueryQueueTimeInMillis": 0,
            },
            "WorkGroup": record.work_group,
            "EngineVersion": _ENGINE_VERSION,
        }
        if record.substatement_type:
            execution["SubstatementType"] = record.substatement_type
        return execution

    def _engine(self, region: str) -> Engine:
        with self._lock:
            engine = self._engines.get(region)
            if engine is None:
                session = boto3.Session(
                    aws_access_key_id="athena-local",
                    aws_secret_access_key="athena-local",  # noqa: S106 - the local endpoint's own
                    region_name=region,
                )
                config = Config(retries={"max_attempts": 2}, s3={"addressing_style": "path"})
                warehouse = Warehouse(
                    session.client("glue", endpoint_url=self.endpoint_url, config=config),
                    session.client("s3", endpoint_url=self.endpoint_url, config=config),
                )
                engine = self._engines[region] = Engine(warehouse)
        return engine

    def _append_log(self, record: QueryRecord) -> None:
        if self._query_log is None:
            return
        with self._lock, self._query_log.open("a", encoding="utf-8") as log:
            log.write(json.dumps(record.to_log()) + "\n")


class AthenaLocal:
    """The local endpoint: start it, point AWS_ENDPOINT_URL at `.url`, stop it.

    Usable as a context manager, and as a pytest fixture that yields it.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        query_log: Path | None = None,
        *,
        log_requests: bool = False,
    ) -> None:
        self._host = host
        self._handler = MotoRequestHandler if log_requests else _QuietRequestHandler
        self._port = port
        self._app = AthenaLocalApp(DomainDispatcherApplication(create_backend_app), query_log)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("athena-local is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> AthenaLocal:
        self._server = make_server(
            self._host, self._port, self._app, threaded=True, request_handler=self._handler
        )
        self._app.endpoint_url = self.url
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def serve_forever(self) -> None:
        """Run in the foreground until interrupted (the CLI's mode)."""
        if self._thread is None:
            self.start()
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(timeout=0.5)
        finally:
            self.stop()

    def query_log(self) -> list[dict[str, Any]]:
        """Every query so far, oldest first."""
        return self._app.query_log()

    def __enter__(self) -> AthenaLocal:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


class _InvalidRequestError(Exception):
    pass


class _QuietRequestHandler(MotoRequestHandler):
    """Moto's handler without a line on stderr per request."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def _snake(action: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", action).lower()


def _respond(start_response: StartResponse, status: int, payload: object) -> list[bytes]:
    data = json.dumps(payload).encode()
    reason = "OK" if status == 200 else "Bad Request"
    start_response(
        f"{status} {reason}",
        [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(data)))],
    )
    return [data]
