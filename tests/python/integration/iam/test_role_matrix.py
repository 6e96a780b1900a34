"""Least privilege by running it: the template's roles and policies in a moto server that
enforces IAM, each role assumed and tried on every zone, read and write, call by call.

The deploy path: moto's CloudFormation leaves a role's ManagedPolicyArns unattached and
skips bucket policies, so the test creates the IAM resources itself from the resolved
template (testkit.cfn_stack): each managed policy with its document, each role with its
path, inline policies and attached policies, and the buckets by name. moto checks a trust
policy's principal against the caller's ARN literally (no account-root delegation, no
aws:PrincipalArn), so the roles trust the test's administrator user here; the template's
trust statements, bucket policies, key policy and conditions are evaluated in
tests/python/repo/test_policy_matrix.py. moto enforces identity policies only: this is the
matrix's IAM layer (testkit.role_matrix, layer "iam").

IAM enforcement is process-wide in moto (settings.INITIAL_NO_AUTH_ACTION_COUNT): the
server here is this module's own, and the fixture turns enforcement off again, and resets
moto's state, when the module is done.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from testkit.cfn_stack import ACCOUNT, REGION, TEMPLATE_PATH, Stack
from testkit.role_matrix import OPERATIONS, ROLES, ZONES, expected

pytestmark = pytest.mark.s3

ADMIN = "platform-deployer"
# moto counts requests from a reset-auth: the first ones (creating the administrator
# and its keys) go through unauthenticated, every later one is authenticated.
BOOTSTRAP_REQUESTS = 3


@dataclass
class Moto:
    url: str
    admin: boto3.Session

    def client(self, service: str, session: boto3.Session | None = None) -> Any:
        return (session or self.admin).client(service, endpoint_url=self.url)  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def moto() -> Iterator[Moto]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    requests.post(f"{url}/moto-api/reset", timeout=30).raise_for_status()
    try:
        requests.post(
            f"{url}/moto-api/reset-auth", data=str(BOOTSTRAP_REQUESTS).encode(), timeout=30
        ).raise_for_status()
        anonymous = boto3.Session(
            aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap", region_name=REGION
        )
        iam = anonymous.client("iam", endpoint_url=url)
        iam.create_user(UserName=ADMIN)
        iam.put_user_policy(
            UserName=ADMIN,
            PolicyName="AdministratorAccess",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
                }
            ),
        )
        key = iam.create_access_key(UserName=ADMIN)["AccessKey"]
        admin = boto3.Session(
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
            region_name=REGION,
        )
        yield Moto(url, admin)
    finally:
        requests.post(f"{url}/moto-api/reset-auth", data=b"inf", timeout=30).raise_for_status()
        requests.post(f"{url}/moto-api/reset", timeout=30).raise_for_status()
        server.stop()


def deploy(moto: Moto, stack: Stack) -> dict[str, str]:
    """Create the stack's managed policies, roles and zone buckets; the roles' ARNs."""
    iam = moto.client("iam")
    admin_arn = moto.client("sts").get_caller_identity()["Arn"]
    for name in stack.logical_ids("AWS::IAM::ManagedPolicy"):
        document = json.dumps(stack.properties(name)["PolicyDocument"])
        arn = stack.ref(name)
        try:
            versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
        except ClientError:
            created = iam.create_policy(PolicyName=name, PolicyDocument=document)["Policy"]["Arn"]
            assert created == arn
            continue
        # Deployed before (the same server, another template): a new default version.
        for version in versions:
            if not version["IsDefaultVersion"]:
                iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=document, SetAsDefault=True)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": admin_arn}, "Action": "sts:AssumeRole"}
        ],
    }
    arns = {}
    for name in ROLES.values():
        properties = stack.properties(name)
        try:
            role = iam.get_role(RoleName=name)["Role"]
        except ClientError:
            role = iam.create_role(
                RoleName=name, Path=properties["Path"], AssumeRolePolicyDocument=json.dumps(trust)
            )["Role"]
        assert role["Arn"] == stack.role_arn(name)
        for index, inline in enumerate(properties.get("Policies", [])):
            iam.put_role_policy(
                RoleName=name,
                PolicyName=f"{index}-{inline['PolicyName']}",
                PolicyDocument=json.dumps(inline["PolicyDocument"]),
            )
        for policy in properties.get("ManagedPolicyArns", []):
            iam.attach_role_policy(RoleName=name, PolicyArn=policy)
        arns[name] = role["Arn"]
    s3 = moto.client("s3")
    existing = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    for bucket in dict.fromkeys(zone.bucket for zone in ZONES):
        if (name := stack.ref(bucket)) not in existing:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    for zone in ZONES:
        s3.put_object(Bucket=stack.ref(zone.bucket), Key=zone.key, Body=b"x")
    return arns


def try_zones(moto: Moto, stack: Stack, role: str) -> dict[tuple[str, str], bool]:
    """Assume the role and read and write each zone; what was allowed."""
    credentials = moto.client("sts").assume_role(
        RoleArn=stack.role_arn(role), RoleSessionName="role-matrix"
    )["Credentials"]
    session = boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )
    assert moto.client("sts", session).get_caller_identity()["Account"] == ACCOUNT
    s3 = moto.client("s3", session)
    outcome = {}
    for zone in ZONES:
        bucket = stack.ref(zone.bucket)
        for operation in OPERATIONS:
            try:
                if operation == "read":
                    s3.get_object(Bucket=bucket, Key=zone.key)["Body"].read()
                else:
                    s3.put_object(Bucket=bucket, Key=zone.key, Body=b"y")
            except ClientError as error:
                if error.response["Error"]["Code"] != "AccessDenied":
                    raise
                outcome[zone.name, operation] = False
            else:
                outcome[zone.name, operation] = True
    return outcome


def matrix_mismatches(moto: Moto, stack: Stack) -> list[str]:
    problems = []
    for name, role in ROLES.items():
        for (zone, operation), ok in try_zones(moto, stack, role).items():
            if ok != expected(stack, name, zone, operation):
                problems.append(f"{name} {operation} {zone}: {'allowed' if ok else 'denied'}")
    return problems


def test_iam_is_enforced(moto: Moto) -> None:
    # Without it the matrix below would pass with every call allowed.
    nobody = boto3.Session(
        aws_access_key_id="AKIAUNKNOWN000000000", aws_secret_access_key="x", region_name=REGION
    )
    with pytest.raises(ClientError):
        moto.client("s3", nobody).list_buckets()


def test_each_role_reads_and_writes_exactly_its_zones(moto: Moto) -> None:
    stack = Stack.from_file()
    deploy(moto, stack)
    assert matrix_mismatches(moto, stack) == []


def test_widening_the_analysts_read_to_raw_fails_the_matrix(moto: Moto, tmp_path: Path) -> None:
    text = TEMPLATE_PATH.read_text()
    old = 'Resource: !Sub "${TrustedBucket.Arn}/*"'
    at = text.index(old, text.index("  AnalystPolicy:"))
    widened = 'Resource: [!Sub "${TrustedBucket.Arn}/*", !Sub "${RawBucket.Arn}/*"]'
    copy = tmp_path / "platform.yaml"
    copy.write_text(text[:at] + widened + text[at + len(old) :])
    stack = Stack.from_file(copy)
    deploy(moto, stack)
    try:
        assert matrix_mismatches(moto, stack) == ["analyst read raw: allowed"]
    finally:
        deploy(moto, Stack.from_file())  # the template as it is, for any test after this one
