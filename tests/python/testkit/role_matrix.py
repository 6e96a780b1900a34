"""Who may read and write which zone: the matrix infra/platform.yaml promises, and the
requests that check it, call by call.

The evaluator tests (tests/python/repo/test_policy_matrix.py) check it layer by layer on the
template's own statements (the roles' IAM policies alone, the bucket policies alone, the
key policy alone, and all together); the moto tests (tests/python/integration/iam/) check
the IAM layer by assuming each role in a moto server that enforces IAM.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from testkit.cfn_stack import Stack
from testkit.iam_eval import ALLOW_ALL, Request, allowed


@dataclass(frozen=True)
class Zone:
    name: str
    bucket: str  # logical id in the template
    key: str  # an object the zone's users work with
    kms: bool = True
    """Objects are SSE-KMS with the stack's key (the site bucket is SSE-S3: public content)."""


ZONES = (
    Zone("landing", "LandingBucket", "landing/contact_centre_metrics/0a1b.xlsx"),
    Zone("extract-events", "LandingBucket", "_audit/events/2026/0a1b.json"),
    Zone("raw-object-register", "LandingBucket", "_audit/raw_objects/2026-0a1b.parquet"),
    Zone("raw", "RawBucket", "raw/contact_centre_metrics/year=2026/0a1b.parquet"),
    Zone("curated", "CuratedBucket", "curated/stg_contact_centre_metrics/0a1b.parquet"),
    Zone("trusted", "TrustedBucket", "trusted/fct_daily_metrics/0a1b.parquet"),
    Zone("results-dbt", "AthenaResultsBucket", "dbt/0a1b.csv"),
    Zone("results-analyst", "AthenaResultsBucket", "analyst/0a1b.csv"),
    # The public website: CI publishes it; the public reads it through CloudFront only
    # (the distribution's reads are checked in tests/python/repo/test_policy_matrix.py).
    Zone("site", "SiteBucket", "index.html", kms=False),
)
ZONE_NAMES = tuple(z.name for z in ZONES)
OPERATIONS = ("read", "write")
S3_ACTION = {"read": "s3:GetObject", "write": "s3:PutObject"}
KMS_ACTION = {"read": "kms:Decrypt", "write": "kms:GenerateDataKey"}

# The platform's roles (logical ids) and the principals outside the stack that the policies
# must stand up to: an administrator of the account, the security role, the break-glass role.
ROLES = {
    "loader": "LoaderRole",
    "transformer": "TransformerRole",
    "analyst": "AnalystRole",
    "ci": "CiRole",
}
OUTSIDERS = ("administrator", "security", "break-glass")

_PIPELINE_EVERYWHERE = {z: "" for z in ZONE_NAMES}
EXPECTED: dict[str, dict[str, str]] = {
    "loader": {
        **_PIPELINE_EVERYWHERE,
        "landing": "rw",
        "extract-events": "rw",
        "raw-object-register": "rw",
        "raw": "rw",
    },
    "transformer": {
        **_PIPELINE_EVERYWHERE,
        "extract-events": "r",
        "raw-object-register": "r",
        "raw": "r",
        "curated": "rw",
        "trusted": "rw",
        "results-dbt": "rw",
    },
    "analyst": {**_PIPELINE_EVERYWHERE, "trusted": "r", "results-analyst": "rw"},
    "administrator": dict(_PIPELINE_EVERYWHERE),
    "security": dict(_PIPELINE_EVERYWHERE),
    "break-glass": {z: "rw" for z in ZONE_NAMES},
}
EXPECTED["ci"] = {**EXPECTED["transformer"], "site": "w"}  # CiRunsLoads=false, the default
EXPECTED_CI_RUNS_LOADS = {
    z: "".join(sorted(set(EXPECTED["transformer"][z]) | set(EXPECTED["loader"][z]), key="rw".index))
    for z in ZONE_NAMES
} | {"site": "w"}


def expected(stack: Stack, principal: str, zone: str, operation: str) -> bool:
    table = EXPECTED_CI_RUNS_LOADS if principal == "ci" and stack.condition("CiLoads") else None
    return operation[0] in (table or EXPECTED[principal])[zone]


def expected_for_bucket(stack: Stack, principal: str, bucket: str, operation: str) -> bool:
    """Whether any zone of the bucket is allowed: what the bucket policies can tell apart
    (the prefixes within a bucket are the IAM policies' to tell apart)."""
    return any(
        expected(stack, principal, zone.name, operation) for zone in ZONES if zone.bucket == bucket
    )


def expected_for_key(stack: Stack, principal: str, bucket: str, operation: str) -> bool:
    """What the key policy can tell apart (the encryption context is the bucket's ARN): as
    expected_for_bucket, and nobody uses the key for a bucket that is not SSE-KMS."""
    kms = all(zone.kms for zone in ZONES if zone.bucket == bucket)
    return kms and expected_for_bucket(stack, principal, bucket, operation)


@dataclass(frozen=True)
class Principal:
    name: str
    arn: str
    identity: list[dict[str, Any]]


def principals(stack: Stack) -> dict[str, Principal]:
    """The roles as the template defines them, and the outsiders with AdministratorAccess."""
    found = {
        name: Principal(name, stack.role_arn(role), stack.role_policies(role))
        for name, role in ROLES.items()
    }
    role = f"arn:{stack.partition}:iam::{stack.account}:role/"
    found["administrator"] = Principal("administrator", role + "Administrator", [ALLOW_ALL])
    found["security"] = Principal(
        "security", role + str(stack.parameters["SecurityRoleName"]), [ALLOW_ALL]
    )
    found["break-glass"] = Principal(
        "break-glass", role + str(stack.parameters["BreakGlassRoleName"]), [ALLOW_ALL]
    )
    return found


def s3_request(stack: Stack, who: Principal, zone: Zone, operation: str) -> Request:
    context = {"aws:SecureTransport": "true"}
    if operation == "write" and zone.kms:
        context["s3:x-amz-server-side-encryption"] = "aws:kms"
        context["s3:x-amz-server-side-encryption-aws-kms-key-id"] = stack.key_arn()
    resource = f"{stack.bucket_arn(zone.bucket)}/{zone.key}"
    return Request(who.arn, S3_ACTION[operation], resource, context)


def kms_request(stack: Stack, who: Principal, bucket: str, operation: str) -> Request:
    context = {
        "aws:SecureTransport": "true",
        "kms:ViaService": f"s3.{stack.region}.amazonaws.com",
        "kms:EncryptionContext:aws:s3:arn": stack.bucket_arn(bucket),
    }
    return Request(who.arn, KMS_ACTION[operation], stack.key_arn(), context)


def delegate_to_iam(stack: Stack) -> dict[str, Any]:
    """The key policy before defence in depth: the account delegates all use to IAM.
    Evaluating the roles' IAM policies against it shows what IAM alone allows of the key."""
    root = f"arn:{stack.partition}:iam::{stack.account}:root"
    statement = {"Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"}
    return {"Statement": [statement]}


LAYERS = ("iam", "bucket-policy", "key-iam", "key-policy", "combined")


def decisions(stack: Stack, layer: str) -> Iterator[tuple[str, str, str, bool, bool]]:
    """(principal, zone or bucket, operation, allowed, expected) for one layer:

    - iam: the roles' S3 grants, no bucket policy (the outsiders are not in it: their IAM
      policy allows everything by construction);
    - bucket-policy: each principal with AdministratorAccess against the bucket policies,
      bucket by bucket;
    - key-iam: the roles' KMS grants against a key that delegates everything to IAM;
    - key-policy: each principal with AdministratorAccess against the key policy;
    - combined: the principals' real policies, bucket and key policy together (a read
      needs s3:GetObject and kms:Decrypt, a write s3:PutObject and kms:GenerateDataKey).
    """
    account = stack.account
    everyone = principals(stack)
    for name, who in everyone.items():
        if layer in ("iam", "key-iam") and name not in ROLES:
            continue
        admin = Principal(who.name, who.arn, [ALLOW_ALL])
        for operation in OPERATIONS:
            if layer.startswith("key"):
                for bucket in dict.fromkeys(z.bucket for z in ZONES):
                    request = kms_request(stack, who, bucket, operation)
                    if layer == "key-iam":
                        ok = allowed(
                            who.identity,
                            delegate_to_iam(stack),
                            request,
                            account=account,
                            resource_policy_required=True,
                        )
                    else:
                        ok = allowed(
                            admin.identity,
                            stack.key_policy(),
                            request,
                            account=account,
                            resource_policy_required=True,
                        )
                    yield (
                        name,
                        bucket,
                        operation,
                        ok,
                        expected_for_key(stack, name, bucket, operation),
                    )
                continue
            for zone in ZONES:
                request = s3_request(stack, who, zone, operation)
                if layer == "iam":
                    ok = allowed(who.identity, None, request, account=account)
                elif layer == "bucket-policy":
                    ok = allowed(
                        admin.identity, stack.bucket_policy(zone.bucket), request, account=account
                    )
                    # Bucket policies draw the line at the bucket, as the key does; the
                    # prefixes within a bucket are the IAM policies' to tell apart.
                    want = expected_for_bucket(stack, name, zone.bucket, operation)
                    yield name, zone.name, operation, ok, want
                    continue
                else:
                    s3_ok = allowed(
                        who.identity, stack.bucket_policy(zone.bucket), request, account=account
                    )
                    kms = kms_request(stack, who, zone.bucket, operation)
                    kms_ok = not zone.kms or allowed(
                        who.identity,
                        stack.key_policy(),
                        kms,
                        account=account,
                        resource_policy_required=True,
                    )
                    ok = s3_ok and kms_ok
                yield name, zone.name, operation, ok, expected(stack, name, zone.name, operation)


def mismatches(stack: Stack, layer: str) -> list[str]:
    """Every cell of the layer that differs from the matrix, readably."""
    return [
        f"{layer}: {name} {operation} {where}: "
        + ("allowed, should be denied" if ok else "denied, should be allowed")
        for name, where, operation, ok, want in decisions(stack, layer)
        if ok != want
    ]
