"""The `dap athena-local` command: start the endpoint, create buckets, then serve until
Ctrl-C, or run one command against it and stop."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import boto3

from dap.athena_local.server import AthenaLocal

# Clients of the local endpoint get throwaway credentials, never the caller's real ones.
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "athena-local", "AWS_SECRET_ACCESS_KEY": "athena-local"}


def endpoint_environment(url: str, region: str) -> dict[str, str]:
    """Variables that point boto3, dbt-athena and `dap` at the endpoint."""
    return {
        **LOCAL_CREDENTIALS,
        "AWS_ENDPOINT_URL": url,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }


def serve(
    *,
    host: str,
    port: int,
    region: str,
    buckets: list[str],
    query_log: Path | None,
    log_requests: bool,
    command: Sequence[str],
    say: Callable[[str], None],
) -> int:
    endpoint = AthenaLocal(host, port, query_log, log_requests=log_requests).start()
    try:
        session = boto3.Session(
            aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=region,
        )
        s3 = session.client("s3", endpoint_url=endpoint.url)
        for bucket in buckets:
            config = {} if region == "us-east-1" else {"LocationConstraint": region}
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration=config)
            say(f"created bucket s3://{bucket} in {region}")
        environment = endpoint_environment(endpoint.url, region)
        if command:
            say(f"athena-local on {endpoint.url}: running {' '.join(command)}")
            return subprocess.run(
                list(command), env={**os.environ, **environment}, check=False
            ).returncode
        say(f"athena-local listening on {endpoint.url} (Ctrl-C to stop)")
        say("point AWS clients, dbt-athena and `dap load` at it with:")
        say("  export " + " ".join(f"{k}={v}" for k, v in environment.items()))
        if query_log is not None:
            say(f"queries are appended to {query_log}")
        say(f"query log as JSON: {endpoint.url}/_athena_local/queries")
        endpoint.serve_forever()
    except KeyboardInterrupt:
        say("athena-local stopped")
    finally:
        endpoint.stop()
    return 0
