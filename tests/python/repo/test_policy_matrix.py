"""Least privilege and defence in depth, evaluated on infra/platform.yaml's own statements.

testkit.cfn_stack resolves the template for one account and region (parameters,
conditions, Ref, GetAtt, Sub, If); testkit.iam_eval evaluates the resolved identity,
bucket, key and trust policies for a request, conditions included (moto enforces none of
the resource policies: tests/python/integration/iam/ covers the IAM layer there).
testkit.role_matrix holds who may read and write each zone.

Each layer must keep the matrix on its own (the roles' IAM policies; the bucket policies
and the key policy against a principal with AdministratorAccess), and all together. The
last tests break a statement in a scratch copy of the template and check that the checks
above then fail.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from testkit.cfn_stack import KEY_ID, TEMPLATE_PATH, Stack, load_template
from testkit.iam_eval import ALLOW_ALL, Request, allowed
from testkit.role_matrix import LAYERS, ZONES, decisions, mismatches, principals, s3_request


@pytest.fixture(scope="module")
def stack() -> Stack:
    return Stack.from_file()


@pytest.mark.parametrize("layer", LAYERS)
def test_each_layer_keeps_the_role_zone_matrix(stack: Stack, layer: str) -> None:
    assert mismatches(stack, layer) == []


@pytest.mark.parametrize("layer", LAYERS)
def test_ci_gets_the_loaders_zones_only_with_ci_runs_loads(layer: str) -> None:
    stack = Stack.from_file(parameters={"CiRunsLoads": "true"})
    assert mismatches(stack, layer) == []


def test_the_matrix_is_not_vacuous(stack: Stack) -> None:
    # Both outcomes occur in every layer: a layer that allowed or denied everything would
    # only pass by accident of the expectations.
    for layer in LAYERS:
        outcomes = {ok for *_, ok, _ in decisions(stack, layer)}
        assert outcomes == {True, False}, layer


# --- the key: only through S3, only the platform's roles ----------------------------------


def kms_direct_use_problems(stack: Stack) -> list[str]:
    """Principals (with their real IAM policies) that may use the key outside S3."""
    problems = []
    for name, who in principals(stack).items():
        for action in ("kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt", "kms:ReEncryptFrom"):
            for via in ({}, {"kms:ViaService": f"glue.{stack.region}.amazonaws.com"}):
                request = Request(who.arn, action, stack.key_arn(), via)
                if allowed(
                    who.identity,
                    stack.key_policy(),
                    request,
                    account=stack.account,
                    resource_policy_required=True,
                ):
                    problems.append(f"{name}: {action} {via or 'directly'}")
    return problems


def test_nobody_uses_the_key_except_through_s3(stack: Stack) -> None:
    assert kms_direct_use_problems(stack) == []


def test_the_account_administers_the_key_but_grants_are_not_among_its_rights(stack: Stack) -> None:
    admin = principals(stack)["administrator"]
    for action, want in (
        ("kms:PutKeyPolicy", True),
        ("kms:EnableKeyRotation", True),
        ("kms:ScheduleKeyDeletion", True),
        ("kms:CreateGrant", False),
        ("kms:Decrypt", False),
    ):
        request = Request(admin.arn, action, stack.key_arn())
        got = allowed(
            [ALLOW_ALL],
            stack.key_policy(),
            request,
            account=stack.account,
            resource_policy_required=True,
        )
        assert got is want, action


@pytest.mark.parametrize(
    ("service", "context", "want"),
    [
        pytest.param(
            "cloudwatch.amazonaws.com",
            {
                "aws:SourceAccount": "123456789012",
                "aws:SourceArn": "arn:aws:cloudwatch:ca-central-1:123456789012:alarm:x",
            },
            True,
            id="cloudwatch-this-accounts-alarm",
        ),
        pytest.param(
            "cloudwatch.amazonaws.com",
            {
                "aws:SourceAccount": "210987654321",
                "aws:SourceArn": "arn:aws:cloudwatch:ca-central-1:210987654321:alarm:x",
            },
            False,
            id="cloudwatch-another-accounts-alarm",
        ),
        pytest.param("cloudwatch.amazonaws.com", {}, False, id="cloudwatch-no-source"),
        pytest.param("budgets.amazonaws.com", {}, False, id="budgets-no-source"),
        pytest.param(
            "cloudtrail.amazonaws.com",
            {
                "aws:SourceArn": "arn:aws:cloudtrail:ca-central-1:123456789012:trail/other",
                "kms:EncryptionContext:aws:cloudtrail:arn": "arn:aws:cloudtrail:ca-central-1"
                ":123456789012:trail/other",
            },
            False,
            id="cloudtrail-another-trail",
        ),
    ],
)
def test_services_use_the_key_only_for_this_account(
    stack: Stack, service: str, context: dict[str, str], want: bool
) -> None:
    request = Request(service, "kms:GenerateDataKey", stack.key_arn(), context)
    got = allowed(
        [], stack.key_policy(), request, account=stack.account, resource_policy_required=True
    )
    assert got is want


def test_every_service_statement_of_the_key_has_a_source_condition(stack: Stack) -> None:
    for statement in stack.key_policy()["Statement"]:
        if "Service" in statement["Principal"]:
            keys = {k for condition in statement["Condition"].values() for k in condition}
            assert keys & {"aws:SourceArn", "aws:SourceAccount"}, statement["Sid"]


def kms_direct_use_problems_with_admin_iam(stack: Stack) -> list[str]:
    """As kms_direct_use_problems, with the roles' IAM policies widened to everything: the
    key policy on its own must hold them to S3."""
    problems = []
    for name, who in principals(stack).items():
        request = Request(
            who.arn,
            "kms:Decrypt",
            stack.key_arn(),
            {"kms:EncryptionContext:aws:s3:arn": stack.bucket_arn("RawBucket")},
        )
        if allowed(
            [ALLOW_ALL],
            stack.key_policy(),
            request,
            account=stack.account,
            resource_policy_required=True,
        ):
            problems.append(f"{name}: kms:Decrypt directly")
    return problems


def test_the_key_policy_alone_holds_everyone_to_s3(stack: Stack) -> None:
    assert kms_direct_use_problems_with_admin_iam(stack) == []


# --- the zone buckets: TLS and the stack's key ---------------------------------------------


def test_zone_writes_need_tls_and_the_stacks_key(stack: Stack) -> None:
    loader = principals(stack)["loader"]
    raw = next(z for z in ZONES if z.name == "raw")
    good = s3_request(stack, loader, raw, "write")
    policy = stack.bucket_policy("RawBucket")
    assert allowed(loader.identity, policy, good, account=stack.account)
    for change in (
        {"aws:SecureTransport": "false"},
        {"s3:x-amz-server-side-encryption": "AES256"},
        {"s3:x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:ca-central-1:1:key/x"},
    ):
        bad = Request(good.principal, good.action, good.resource, {**good.context, **change})
        assert not allowed(loader.identity, policy, bad, account=stack.account), change
    unencrypted = {k: v for k, v in good.context.items() if "encryption" not in k}
    bad = Request(good.principal, good.action, good.resource, unencrypted)
    assert not allowed(loader.identity, policy, bad, account=stack.account)


# --- the public website: CloudFront reads it, CI writes it ----------------------------------


def distribution_arn(stack: Stack, distribution: str = "SiteDistribution") -> str:
    return (
        f"arn:{stack.partition}:cloudfront::{stack.account}:distribution/{stack.ref(distribution)}"
    )


def site_reader_problems(stack: Stack) -> list[str]:
    """Who reads the site bucket's objects without IAM: only CloudFront, for this stack's
    distribution, and it reads nothing else."""
    policy = stack.bucket_policy("SiteBucket")
    page = stack.bucket_arn("SiteBucket") + "/index.html"
    here = distribution_arn(stack)
    elsewhere = f"arn:{stack.partition}:cloudfront::210987654321:distribution/EOTHER"
    sibling = f"arn:{stack.partition}:cloudfront::{stack.account}:distribution/EOTHER"
    cases = [
        ("cloudfront.amazonaws.com", "s3:GetObject", page, {"aws:SourceArn": here}, True),
        ("cloudfront.amazonaws.com", "s3:GetObject", page, {"aws:SourceArn": sibling}, False),
        ("cloudfront.amazonaws.com", "s3:GetObject", page, {"aws:SourceArn": elsewhere}, False),
        ("cloudfront.amazonaws.com", "s3:GetObject", page, {}, False),
        ("cloudfront.amazonaws.com", "s3:PutObject", page, {"aws:SourceArn": here}, False),
        ("cloudfront.amazonaws.com", "s3:ListBucket", stack.bucket_arn("SiteBucket"), {}, False),
        ("anonymous", "s3:GetObject", page, {}, False),  # the public, straight to S3
    ]
    problems = []
    for who, action, resource, context, want in cases:
        request = Request(who, action, resource, {"aws:SecureTransport": "true", **context})
        if allowed([], policy, request, account=stack.account) != want:
            outcome = "denied" if want else "allowed"
            problems.append(f"{who} {action} {context or 'without a source'}: {outcome}")
    # The distribution's identity reaches no other bucket.
    for zone in ZONES:
        if zone.bucket == "SiteBucket":
            continue
        request = Request(
            "cloudfront.amazonaws.com",
            "s3:GetObject",
            f"{stack.bucket_arn(zone.bucket)}/{zone.key}",
            {"aws:SecureTransport": "true", "aws:SourceArn": here},
        )
        if allowed([], stack.bucket_policy(zone.bucket), request, account=stack.account):
            problems.append(f"cloudfront reads {zone.name}")
    return problems


def test_the_public_reads_the_site_only_through_the_distribution(stack: Stack) -> None:
    assert site_reader_problems(stack) == []


def test_the_site_refuses_sse_kms_and_plain_http(stack: Stack) -> None:
    ci = principals(stack)["ci"]
    site = next(z for z in ZONES if z.name == "site")
    good = s3_request(stack, ci, site, "write")
    policy = stack.bucket_policy("SiteBucket")
    assert allowed(ci.identity, policy, good, account=stack.account)
    for change in (
        {"aws:SecureTransport": "false"},
        # CloudFront could not decrypt it: the page would be published and unreadable.
        {"s3:x-amz-server-side-encryption": "aws:kms"},
        {"s3:x-amz-server-side-encryption": "aws:kms:dsse"},
    ):
        bad = Request(good.principal, good.action, good.resource, {**good.context, **change})
        assert not allowed(ci.identity, policy, bad, account=stack.account), change
    aes = {**good.context, "s3:x-amz-server-side-encryption": "AES256"}
    assert allowed(
        ci.identity,
        policy,
        Request(good.principal, good.action, good.resource, aes),
        account=stack.account,
    )


# --- audit logs nobody but the security role can erase -------------------------------------

LOG_TAMPERING = (
    ("s3:DeleteObject", "/AWSLogs/123456789012/CloudTrail/x.json.gz"),
    ("s3:DeleteObjectVersion", "/AWSLogs/123456789012/CloudTrail/x.json.gz"),
    ("s3:BypassGovernanceRetention", "/AWSLogs/123456789012/CloudTrail/x.json.gz"),
    ("s3:PutObjectRetention", "/AWSLogs/123456789012/CloudTrail/x.json.gz"),
    ("s3:PutBucketPolicy", ""),
    ("s3:DeleteBucketPolicy", ""),
    ("s3:PutLifecycleConfiguration", ""),
    ("s3:PutBucketObjectLockConfiguration", ""),
    ("s3:PutBucketVersioning", ""),
    ("s3:DeleteBucket", ""),
)
ACCESS_LOG_TAMPERING = tuple(
    (action, "/s3/raw/2026-12-01-00-00-00-0A1B" if suffix else "")
    for action, suffix in LOG_TAMPERING
    if "Retention" not in action and "ObjectLock" not in action
)


def log_tampering_problems(stack: Stack) -> list[str]:
    """Who, of the principals with AdministratorAccess, may erase logs or unprotect them
    (everyone but the security role must be refused), and whether the security role can."""
    problems = []
    everyone = principals(stack)
    for bucket, attempts in (
        ("TrailBucket", LOG_TAMPERING),
        ("AccessLogsBucket", ACCESS_LOG_TAMPERING),
    ):
        policy = stack.bucket_policy(bucket)
        for name in ("administrator", "break-glass", "security", "loader"):
            who = everyone[name]
            for action, suffix in attempts:
                request = Request(
                    who.arn,
                    action,
                    stack.bucket_arn(bucket) + suffix,
                    {"aws:SecureTransport": "true"},
                )
                got = allowed([ALLOW_ALL], policy, request, account=stack.account)
                if got != (name == "security"):
                    problems.append(f"{bucket}: {name} {action}: {'allowed' if got else 'denied'}")
    return problems


def test_only_the_security_role_erases_logs_or_changes_their_protection(stack: Stack) -> None:
    assert log_tampering_problems(stack) == []


def test_the_log_deliveries_still_get_through(stack: Stack) -> None:
    trail = Request(
        "cloudtrail.amazonaws.com",
        "s3:PutObject",
        stack.bucket_arn("TrailBucket") + "/AWSLogs/123456789012/CloudTrail/x.json.gz",
        {
            "aws:SecureTransport": "true",
            "s3:x-amz-acl": "bucket-owner-full-control",
            "aws:SourceArn": "arn:aws:cloudtrail:ca-central-1:123456789012:trail/"
            "vancouver-311-trail",
        },
    )
    assert allowed([], stack.bucket_policy("TrailBucket"), trail, account=stack.account)
    logs = Request(
        "logging.s3.amazonaws.com",
        "s3:PutObject",
        stack.bucket_arn("AccessLogsBucket") + "/s3/raw/2026-12-01-00-00-00-0A1B",
        {
            "aws:SecureTransport": "true",
            "aws:SourceAccount": "123456789012",
            "aws:SourceArn": stack.bucket_arn("RawBucket"),
        },
    )
    assert allowed([], stack.bucket_policy("AccessLogsBucket"), logs, account=stack.account)


def test_trail_logs_are_locked_as_long_as_they_are_kept(stack: Stack) -> None:
    trail = stack.properties("TrailBucket")
    assert trail["ObjectLockEnabled"] is True
    retention = trail["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
    assert retention == {"Mode": "GOVERNANCE", "Days": stack.parameters["LogRetentionDays"]}
    for bucket in ("TrailBucket", "AccessLogsBucket"):
        (rule,) = stack.properties(bucket)["LifecycleConfiguration"]["Rules"]
        assert rule["ExpirationInDays"] == stack.parameters["LogRetentionDays"], bucket
        noncurrent = rule["NoncurrentVersionExpiration"]["NoncurrentDays"]
        assert noncurrent == stack.parameters["LogRetentionDays"], bucket


# --- who may assume the roles -------------------------------------------------------------


def trust_problems(stack: Stack) -> list[str]:
    account_role = f"arn:aws:iam::{stack.account}:role/"
    loader_runner = account_role + "vancouver-311-loader-runner"
    dbt_runner = account_role + "vancouver-311-dbt-runner"
    other = account_role + "Administrator"
    cases: list[tuple[str, str, dict[str, str], bool]] = [
        ("LoaderRole", loader_runner, {}, True),
        ("LoaderRole", dbt_runner, {}, False),
        ("LoaderRole", other, {}, False),
        ("TransformerRole", dbt_runner, {}, True),
        ("TransformerRole", loader_runner, {}, False),
        ("TransformerRole", other, {}, False),
        ("AnalystRole", other, {"aws:MultiFactorAuthPresent": "true"}, True),
        ("AnalystRole", other, {"aws:MultiFactorAuthPresent": "false"}, False),
        ("AnalystRole", other, {}, False),
    ]
    problems = []
    for role, caller, context, want in cases:
        request = Request(caller, "sts:AssumeRole", stack.role_arn(role), context)
        got = allowed(
            [ALLOW_ALL],
            stack.trust_policy(role),
            request,
            account=stack.account,
            resource_policy_required=True,
        )
        if got != want:
            problems.append(f"{caller} assumes {role}: {'allowed' if got else 'denied'}")
    # CI: GitHub's OIDC token for the repository's environment, nothing else.
    provider = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    for subject, want in (
        ("repo:city-of-vancouver/vancouver-311:environment:athena", True),
        ("repo:city-of-vancouver/vancouver-311:ref:refs/heads/main", False),
        ("repo:someone-else/vancouver-311:environment:athena", False),
    ):
        claims = {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": subject,
        }
        request = Request(
            provider, "sts:AssumeRoleWithWebIdentity", stack.role_arn("CiRole"), claims
        )
        got = allowed(
            [],
            stack.trust_policy("CiRole"),
            request,
            account=stack.account,
            resource_policy_required=True,
        )
        if got != want:
            problems.append(f"CI token {subject}: {'allowed' if got else 'denied'}")
    return problems


def test_only_the_named_principals_assume_the_roles(stack: Stack) -> None:
    assert trust_problems(stack) == []


def test_the_trusted_principals_are_parameters() -> None:
    stack = Stack.from_file(
        parameters={"LoaderAssumedBy": "role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_Ops_*"}
    )
    sso = (
        "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/ca-central-1/"
        "AWSReservedSSO_Ops_0a1b"
    )
    request = Request(sso, "sts:AssumeRole", stack.role_arn("LoaderRole"))
    assert allowed(
        [ALLOW_ALL],
        stack.trust_policy("LoaderRole"),
        request,
        account=stack.account,
        resource_policy_required=True,
    )


# --- breaking a statement on purpose fails the checks above ---------------------------------


def edit_after(text: str, marker: str, old: str, new: str) -> str:
    """The template text with the first `old` after `marker` replaced by `new`."""
    found = text.index(old, text.index(marker))
    return text[:found] + new + text[found + len(old) :]


def drop_trail_delete_deny(text: str) -> str:
    sid = text.index(
        "- Sid: DenyLogDeletionAndProtectionChanges", text.index("  TrailBucketPolicy:")
    )
    start = text.rindex("\n", 0, sid) + 1
    end = text.index("\n  # ", start) + 1
    return text[:start] + text[end:]


ANALYST_ROLE = (
    '!Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${Prefix}/${AWS::Region}/analyst/*"'
)
VIA_S3 = (
    "              StringEquals:\n"
    '                "kms:ViaService": !Sub "s3.${AWS::Region}.amazonaws.com"\n'
)

# name: (break the template's text, the check that must then fail, a problem it must report)
MUTATIONS: dict[str, tuple[Callable[[str], str], Callable[[Stack], list[str]], str]] = {
    "analyst-iam-reads-raw": (
        lambda text: edit_after(
            text,
            "  AnalystPolicy:",
            'Resource: !Sub "${TrustedBucket.Arn}/*"',
            'Resource: [!Sub "${TrustedBucket.Arn}/*", !Sub "${RawBucket.Arn}/*"]',
        ),
        lambda stack: mismatches(stack, "iam"),
        "iam: analyst read raw: allowed, should be denied",
    ),
    "raw-bucket-lets-the-analyst-read": (
        lambda text: edit_after(
            text,
            "  RawBucketPolicy:",
            '"aws:PrincipalArn":\n',
            f'"aws:PrincipalArn":\n                  - {ANALYST_ROLE}\n',
        ),
        lambda stack: mismatches(stack, "bucket-policy"),
        "bucket-policy: analyst read raw: allowed, should be denied",
    ),
    "key-lets-the-analyst-decrypt-raw": (
        lambda text: edit_after(
            text, "- Sid: AnalystsReadTrustedAndResults", "${Prefix}-trusted-", "${Prefix}-raw-"
        ),
        lambda stack: mismatches(stack, "key-policy"),
        "key-policy: analyst read RawBucket: allowed, should be denied",
    ),
    "key-usable-outside-s3": (
        lambda text: edit_after(text, "- Sid: LoaderUsesTheKeyForLandingAndRaw", VIA_S3, ""),
        kms_direct_use_problems_with_admin_iam,
        "loader: kms:Decrypt directly",
    ),
    "trail-delete-deny-dropped": (
        drop_trail_delete_deny,
        log_tampering_problems,
        "TrailBucket: administrator s3:DeleteObjectVersion: allowed",
    ),
    "site-lets-the-transformer-publish": (
        lambda text: edit_after(
            text,
            "- Sid: DenyWritesToAllButThePublisher",
            '"aws:PrincipalArn":\n',
            '"aws:PrincipalArn":\n                  - '
            + ANALYST_ROLE.replace("/analyst/", "/transformer/")
            + "\n",
        ),
        lambda stack: mismatches(stack, "bucket-policy"),
        "bucket-policy: transformer write site: allowed, should be denied",
    ),
    "publisher-iam-writes-raw": (
        lambda text: edit_after(
            text,
            "- Sid: PublishTheSite",
            'Resource: !Sub "${SiteBucket.Arn}/*"',
            'Resource: [!Sub "${SiteBucket.Arn}/*", !Sub "${RawBucket.Arn}/*"]',
        ),
        lambda stack: mismatches(stack, "iam"),
        "iam: ci write raw: allowed, should be denied",
    ),
    "site-read-by-another-distribution": (
        lambda text: edit_after(
            text,
            "- Sid: CloudFrontReadsTheSite",
            "distribution/${SiteDistribution}",
            "distribution/*",
        ),
        site_reader_problems,
        "cloudfront.amazonaws.com s3:GetObject {'aws:SourceArn': "
        "'arn:aws:cloudfront::123456789012:distribution/ESITEDISTRIBUT'}: denied",
    ),
    "loader-trusts-the-whole-account": (
        lambda text: edit_after(text, "  LoaderRole:", ':${LoaderAssumedBy}"', ':*"'),
        trust_problems,
        "arn:aws:iam::123456789012:role/Administrator assumes LoaderRole: allowed",
    ),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_breaking_a_statement_fails_the_checks(tmp_path: Path, mutation: str) -> None:
    """Each mutation, in a scratch copy of the template, makes its check report it."""
    breaks, check, finding = MUTATIONS[mutation]
    text = TEMPLATE_PATH.read_text()
    broken = breaks(text)
    assert broken != text
    copy = tmp_path / "platform.yaml"
    copy.write_text(broken)
    assert finding in check(Stack.from_file(copy))


# --- replication still gets through the zone buckets' and the keys' limits -----------------

REPLICATING = {
    "ReplicaRegion": "ca-west-1",
    "ReplicaKmsKeyId": KEY_ID,
}


def replication_problems(primary: Stack, replica: Stack) -> list[str]:
    role = primary.role_arn("ReplicationRole")
    identity = primary.role_policies("ReplicationRole")
    problems = []
    for zone in ("LandingBucket", "RawBucket", "CuratedBucket", "TrustedBucket"):
        source = Request(
            role,
            "s3:GetObjectVersionForReplication",
            primary.bucket_arn(zone) + "/x",
            {"aws:SecureTransport": "true"},
        )
        if not allowed(identity, primary.bucket_policy(zone), source, account=primary.account):
            problems.append(f"read {zone}")
        decrypt = Request(
            role,
            "kms:Decrypt",
            primary.key_arn(),
            {
                "kms:ViaService": f"s3.{primary.region}.amazonaws.com",
                "kms:EncryptionContext:aws:s3:arn": primary.bucket_arn(zone),
            },
        )
        if not allowed(
            identity,
            primary.key_policy(),
            decrypt,
            account=primary.account,
            resource_policy_required=True,
        ):
            problems.append(f"decrypt {zone}")
        target = Request(
            role,
            "s3:ReplicateObject",
            replica.bucket_arn(zone) + "/x",
            {"aws:SecureTransport": "true"},
        )
        if not allowed(identity, replica.bucket_policy(zone), target, account=replica.account):
            problems.append(f"write the replica of {zone}")
        encrypt = Request(
            role,
            "kms:GenerateDataKey",
            replica.key_arn(),
            {
                "kms:ViaService": f"s3.{replica.region}.amazonaws.com",
                "kms:EncryptionContext:aws:s3:arn": replica.bucket_arn(zone),
            },
        )
        if not allowed(
            identity,
            replica.key_policy(),
            encrypt,
            account=replica.account,
            resource_policy_required=True,
        ):
            problems.append(f"encrypt the replica of {zone}")
    return problems


def test_replication_reads_the_zones_and_writes_the_replicas() -> None:
    template = load_template(TEMPLATE_PATH.read_text())
    primary = Stack(template, REPLICATING)
    replica = Stack(
        template,
        {
            "AccountWideResources": "false",
            "GitHubOidcProviderArn": "arn:aws:iam::123456789012:oidc-provider/"
            "token.actions.githubusercontent.com",
        },
        region="ca-west-1",
    )
    assert replication_problems(primary, replica) == []
