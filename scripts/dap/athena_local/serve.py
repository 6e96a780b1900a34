"""The `dap athena-local` command: start the endpoint, create buckets, serve until Ctrl-C."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import boto3

from dap.athena_local.server import AthenaLocal


def serve(
    *,
    host: str,
    port: int,
    region: str,
    buckets: list[str],
    query_log: Path | None,
    log_requests: bool,
    say: Callable[[str], None],
) -> int:
    endpoint = AthenaLocal(host, port, query_log, log_requests=log_requests).start()
    try:
        session = boto3.Session(
            aws_access_key_id="athena-local",
            aws_secret_access_key="athena-local",  # noqa: S106 - the local endpoint accepts any
            region_name=region,
        )
        s3 = session.client("s3", endpoint_url=endpoint.url)
        for bucket in buckets:
            config = {} if region == "us-east-1" else {"LocationConstraint": region}
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration=config)
            say(f"created bucket s3://{bucket} in {region}")
        say(f"athena-local listening on {endpoint.url} (Ctrl-C to stop)")
        say("point AWS clients, dbt-athena and `dap load` at it with:")
        say(f"  export AWS_ENDPOINT_URL={endpoint.url} AWS_REGION={region}")
        say("  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local")
        if query_log is not None:
            say(f"queries are appended to {query_log}")
        say(f"query log as JSON: {endpoint.url}/_athena_local/queries")
        endpoint.serve_forever()
    except KeyboardInterrupt:
        say("athena-local stopped")
    finally:
        endpoint.stop()
    return 0
