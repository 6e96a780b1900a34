"""The `dap athena-local` command: start the endpoint, create buckets, then serve until
Ctrl-C, or run one command against it and stop."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

import boto3

from athena_local.server import AthenaLocal

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.literals import BucketLocationConstraintType

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


LOCAL_KEY_ALIAS = "alias/vancouver-311-local"


def create_lake_key(kms: KMSClient) -> str:
    """A KMS key for the local buckets, as infra/platform.yaml makes one for the zones."""
    key_arn: str = kms.create_key(Description="local lake key (athena-local)")["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName=LOCAL_KEY_ALIAS, TargetKeyId=key_arn)
    return key_arn


def create_protected_bucket(s3: S3Client, bucket: str, region: str, key_arn: str) -> None:
    """A bucket set up as the platform's zone buckets are: versioning on, SSE-KMS by
    default with a bucket key, public access blocked. `dap load` refuses buckets without
    the first two."""
    if region == "us-east-1":  # the one region that takes no location constraint
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(
            Bucket=bucket,
            CreateBucketConfiguration={
                "LocationConstraint": cast("BucketLocationConstraintType", region)
            },
        )
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": key_arn,
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )


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
        key_arn = None
        for bucket in buckets:
            if key_arn is None:
                key_arn = create_lake_key(session.client("kms", endpoint_url=endpoint.url))
            create_protected_bucket(s3, bucket, region, key_arn)
            say(f"created bucket s3://{bucket} in {region} (versioned, SSE-KMS by default)")
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
