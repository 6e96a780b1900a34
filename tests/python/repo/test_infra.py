"""The CloudFormation template (infra/platform.yaml) keeps its security and cost promises.

Each test reads the template as CloudFormation would and fails when someone weakens it:
unencrypted or public buckets, wildcard IAM grants, a role writing outside its zones, a
workgroup that stops enforcing its settings, a trail without data events, an alarm gone.
The last test deploys the template to moto's CloudFormation and looks at the buckets and
the key it created. (cfn-lint and checkov run in `make lint-infra`.)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
import yaml
from moto.server import ThreadedMotoServer

from testkit.cfn_stack import CloudFormationLoader, load_template
from testkit.support import ATHENA_REGION, REPO_ROOT, aws_env

TEMPLATE_PATH = REPO_ROOT / "infra" / "platform.yaml"
README_PATH = REPO_ROOT / "infra" / "README.md"

ZONE_BUCKETS = ("LandingBucket", "RawBucket", "CuratedBucket", "TrustedBucket")
KMS_BUCKETS = (*ZONE_BUCKETS, "AthenaResultsBucket", "TrailBucket")
ACCESS_LOGS = "AccessLogsBucket"
# The public website: SSE-S3 (public content; platform.yaml says why). CloudFront's logs
# need ACLs (BucketOwnerPreferred), so they have a bucket of their own.
SITE = "SiteBucket"
SITE_LOGS = "SiteLogsBucket"
SSE_S3_BUCKETS = (ACCESS_LOGS, SITE, SITE_LOGS)
REPORT_TEMPLATE = REPO_ROOT / "scripts" / "dap" / "publish" / "templates" / "report.html.j2"
NAMESPACE = "Vancouver311/DataPlatform"

# Allow statements on Resource "*" are only for actions that have no resource type in
# IAM, and each needs the condition that narrows it (None: no condition needed).
UNSCOPED_ACTIONS: dict[str, tuple[str, str] | None] = {
    "cloudwatch:PutMetricData": ("cloudwatch:namespace", NAMESPACE),
    "sts:GetCallerIdentity": None,
}


# --- reading the template ---------------------------------------------------------------


# The loader of CloudFormation's short tags is shared with the policy tests:
# testkit.cfn_stack (CloudFormationLoader, load_template).


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE_PATH.read_text())


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def references(expression: Any) -> set[str]:
    """Logical ids and parameters an expression refers to (Ref, GetAtt, ${...} in Sub)."""
    found: set[str] = set()
    if isinstance(expression, dict):
        for key, value in expression.items():
            if key == "Ref":
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0])
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                found |= {m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text)}
                if isinstance(value, list):
                    found |= references(value[1])
            else:
                found |= references(value)
    elif isinstance(expression, list):
        for item in expression:
            found |= references(item)
    return found


def text_of(expression: Any) -> str:
    """The string an expression builds, references left as ${Name} (for prefix checks)."""
    if isinstance(expression, str):
        return expression
    if isinstance(expression, dict) and "Fn::Sub" in expression:
        value = expression["Fn::Sub"]
        return str(value if isinstance(value, str) else value[0])
    if isinstance(expression, dict) and "Fn::GetAtt" in expression:
        return "${" + ".".join(expression["Fn::GetAtt"]) + "}"
    if isinstance(expression, dict) and "Ref" in expression:
        return "${" + str(expression["Ref"]) + "}"
    raise AssertionError(f"not a string expression: {expression!r}")


def identity_policies(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every IAM permissions policy document, by a readable name."""
    documents: dict[str, dict[str, Any]] = {}
    for name, policy in resources(template, "AWS::IAM::ManagedPolicy").items():
        documents[name] = policy["Properties"]["PolicyDocument"]
    for name, policy in resources(template, "AWS::IAM::Policy").items():
        documents[name] = policy["Properties"]["PolicyDocument"]
    for name, role in resources(template, "AWS::IAM::Role").items():
        for inline in role["Properties"].get("Policies", []):
            documents[f"{name}/{inline['PolicyName']}"] = inline["PolicyDocument"]
    return documents


def resource_policies(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    documents: dict[str, dict[str, Any]] = {}
    for kind in ("AWS::S3::BucketPolicy", "AWS::SNS::TopicPolicy"):
        for name, policy in resources(template, kind).items():
            documents[name] = policy["Properties"]["PolicyDocument"]
    for name, key in resources(template, "AWS::KMS::Key").items():
        documents[name] = key["Properties"]["KeyPolicy"]
    return documents


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return as_list(document["Statement"])


def role_statements(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """The Allow statements of a role: its managed policies (this template's) and inline ones."""
    properties = template["Resources"][role]["Properties"]
    documents = [p["PolicyDocument"] for p in properties.get("Policies", [])]
    for arn in properties.get("ManagedPolicyArns", []):
        (policy,) = references(arn) & set(resources(template, "AWS::IAM::ManagedPolicy"))
        documents.append(template["Resources"][policy]["Properties"]["PolicyDocument"])
    return [s for d in documents for s in statements(d) if s["Effect"] == "Allow"]


def actions_on(stmts: list[dict[str, Any]], service: str) -> Iterator[tuple[str, Any]]:
    """(action, resource) pairs of the statements for one service."""
    for statement in stmts:
        for action in as_list(statement["Action"]):
            if action.startswith(f"{service}:"):
                for resource in as_list(statement["Resource"]):
                    yield action, resource


def is_s3_write(action: str) -> bool:
    name = action.split(":", 1)[1]
    return not name.startswith(("Get", "List"))


def buckets_written(template: dict[str, Any], role: str) -> dict[str, set[str]]:
    """Bucket logical id -> the key patterns a role may write (PutObject, DeleteObject...)."""
    bucket_ids = set(resources(template, "AWS::S3::Bucket"))
    written: dict[str, set[str]] = {}
    for action, resource in actions_on(role_statements(template, role), "s3"):
        if is_s3_write(action):
            (bucket,) = references(resource) & bucket_ids
            written.setdefault(bucket, set()).add(text_of(resource).split("/", 1)[1])
    return written


def buckets_read(template: dict[str, Any], role: str) -> set[str]:
    bucket_ids = set(resources(template, "AWS::S3::Bucket"))
    return {
        bucket
        for action, resource in actions_on(role_statements(template, role), "s3")
        if action == "s3:GetObject"
        for bucket in references(resource) & bucket_ids
    }


# --- the template as a file -------------------------------------------------------------


def test_the_template_uses_no_yaml_aliases_or_merge_keys() -> None:
    # CloudFormation's YAML parser supports neither (a template using them is rejected).
    events = list(yaml.parse(TEMPLATE_PATH.read_text(), Loader=CloudFormationLoader))
    assert not [e for e in events if isinstance(e, yaml.AliasEvent)]
    assert not [e for e in events if getattr(e, "anchor", None)]
    assert "<<:" not in TEMPLATE_PATH.read_text()


def test_the_loader_reads_short_tags() -> None:
    loaded = load_template(
        "A: !Sub '${X}-y'\nB: !GetAtt K.Arn\nC: !If [Cond, !Ref P, !Ref AWS::NoValue]\n"
    )
    assert loaded == {
        "A": {"Fn::Sub": "${X}-y"},
        "B": {"Fn::GetAtt": ["K", "Arn"]},
        "C": {"Fn::If": ["Cond", {"Ref": "P"}, {"Ref": "AWS::NoValue"}]},
    }
    assert references(loaded) == {"X", "K", "P", "AWS::NoValue"}


def test_the_parameters_keep_the_platforms_names(template: dict[str, Any]) -> None:
    parameters = template["Parameters"]
    assert parameters["Prefix"]["Default"] == "vancouver-311"
    assert parameters["WorkGroupName"]["Default"] == "vancouver-311"
    assert parameters["RawDatabaseName"]["Default"] == "raw"
    assert parameters["ReplicaRegion"]["Default"] == ""
    for name, zone in [
        ("LandingBucket", "landing"),
        ("RawBucket", "raw"),
        ("CuratedBucket", "curated"),
        ("TrustedBucket", "trusted"),
        ("AthenaResultsBucket", "athena-results"),
        ("AccessLogsBucket", "access-logs"),
    ]:
        bucket_name = template["Resources"][name]["Properties"]["BucketName"]
        assert bucket_name == {
            "Fn::Sub": f"${{Prefix}}-{zone}-${{AWS::AccountId}}-${{AWS::Region}}"
        }


# --- storage ----------------------------------------------------------------------------


def test_every_bucket_is_versioned_private_encrypted_logged_and_expires(
    template: dict[str, Any],
) -> None:
    buckets = resources(template, "AWS::S3::Bucket")
    assert set(KMS_BUCKETS) | set(SSE_S3_BUCKETS) == set(buckets)
    for name, bucket in buckets.items():
        properties = bucket["Properties"]
        assert properties["VersioningConfiguration"] == {"Status": "Enabled"}, name
        assert properties["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, name
        assert "AccessControl" not in properties, name
        ownership = "BucketOwnerPreferred" if name == SITE_LOGS else "BucketOwnerEnforced"
        assert properties["OwnershipControls"]["Rules"] == [{"ObjectOwnership": ownership}], name
        (encryption,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        if name in SSE_S3_BUCKETS:
            assert encryption["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
            logged = "LoggingConfiguration" in properties
            assert logged == (name != ACCESS_LOGS), name
            if logged:
                logging = properties["LoggingConfiguration"]
                assert logging["DestinationBucketName"] == {"Ref": ACCESS_LOGS}, name
        else:
            assert encryption["ServerSideEncryptionByDefault"] == {
                "SSEAlgorithm": "aws:kms",
                "KMSMasterKeyID": {"Fn::GetAtt": ["Key", "Arn"]},
            }, name
            assert encryption["BucketKeyEnabled"] is True, name
            logging = properties["LoggingConfiguration"]
            assert logging["DestinationBucketName"] == {"Ref": ACCESS_LOGS}, name
        rules = properties["LifecycleConfiguration"]["Rules"]
        assert all(rule["Status"] == "Enabled" for rule in rules), name
        assert any("NoncurrentDays" in r.get("NoncurrentVersionExpiration", {}) for r in rules)
        assert any("AbortIncompleteMultipartUpload" in rule for rule in rules), name
        assert bucket.get("DeletionPolicy") == "Retain", name


def test_the_access_log_bucket_says_why_it_is_not_kms_encrypted() -> None:
    text = TEMPLATE_PATH.read_text()
    block = text[text.index("  AccessLogsBucket:\n") : text.index("  AccessLogsBucketPolicy:\n")]
    comments = " ".join(line.split("#", 1)[1] for line in block.splitlines() if "#" in line)
    assert "SSE-KMS is not supported" in comments
    assert "SSE-S3" in comments


def test_results_and_logs_expire(template: dict[str, Any]) -> None:
    def expiration(bucket: str) -> Any:
        rules = template["Resources"][bucket]["Properties"]["LifecycleConfiguration"]["Rules"]
        return [r["ExpirationInDays"] for r in rules if "ExpirationInDays" in r]

    assert expiration("AthenaResultsBucket") == [{"Ref": "AthenaResultsExpirationDays"}]
    assert expiration(ACCESS_LOGS) == [{"Ref": "LogRetentionDays"}]
    assert expiration("TrailBucket") == [{"Ref": "LogRetentionDays"}]
    for bucket in ZONE_BUCKETS:  # the zones keep current objects; only old versions expire
        assert expiration(bucket) == []
    parameters = template["Parameters"]
    assert parameters["AthenaResultsExpirationDays"]["Default"] == 30
    assert parameters["NoncurrentVersionExpirationDays"]["Default"] == 90
    assert parameters["LogRetentionDays"]["Default"] == 365


def test_zone_and_results_buckets_deny_plain_http_and_unencrypted_puts(
    template: dict[str, Any],
) -> None:
    policies = {
        text_of(p["Properties"]["Bucket"]).strip("${}"): p["Properties"]["PolicyDocument"]
        for p in resources(template, "AWS::S3::BucketPolicy").values()
    }
    for bucket in (*ZONE_BUCKETS, "AthenaResultsBucket"):
        denies = [s for s in statements(policies[bucket]) if s["Effect"] == "Deny"]
        assert all(s["Principal"] == "*" for s in denies), bucket
        tls = [
            s for s in denies if s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        ]
        assert len(tls) == 1, bucket
        assert as_list(tls[0]["Action"]) == ["s3:*"]
        covered = {text_of(r) for r in as_list(tls[0]["Resource"])}
        assert covered == {f"${{{bucket}.Arn}}", f"${{{bucket}.Arn}}/*"}, bucket

        puts = [s for s in denies if as_list(s["Action"]) == ["s3:PutObject"]]
        conditions = [s["Condition"] for s in puts]
        assert {"Null": {"s3:x-amz-server-side-encryption": "true"}} in conditions, bucket
        assert {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}} in conditions
        assert {
            "StringNotEqualsIfExists": {
                "s3:x-amz-server-side-encryption-aws-kms-key-id": {"Fn::GetAtt": ["Key", "Arn"]}
            }
        } in conditions, bucket
        assert all(text_of(s["Resource"]) == f"${{{bucket}.Arn}}/*" for s in puts), bucket
    for bucket in (ACCESS_LOGS, "TrailBucket", SITE, SITE_LOGS):
        assert any(
            s["Effect"] == "Deny"
            and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements(policies[bucket])
        ), bucket


def test_resource_policies_allow_only_named_principals(template: dict[str, Any]) -> None:
    for name, document in resource_policies(template).items():
        for statement in statements(document):
            if statement["Effect"] == "Allow":
                assert statement["Principal"] != "*", name
                assert "*" not in as_list(statement["Principal"].get("AWS", [])), name


def test_the_key_rotates_and_the_account_administers_it_without_using_it(
    template: dict[str, Any],
) -> None:
    (key,) = resources(template, "AWS::KMS::Key").values()
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"
    root = {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}
    use = ("kms:Decrypt", "kms:Encrypt", "kms:ReEncrypt", "kms:GenerateDataKey", "kms:CreateGrant")
    administration, *others = statements(key["Properties"]["KeyPolicy"])
    assert administration["Sid"] == "AccountAdministersTheKeyThroughIam"
    assert administration["Principal"] == root
    assert "kms:PutKeyPolicy" in administration["Action"]
    assert not [a for a in administration["Action"] if a.startswith(use) or "*" in a]
    for statement in others:
        assert "kms:*" not in as_list(statement["Action"]), statement["Sid"]
        if statement["Principal"] == root:  # the platform's roles, through S3 only
            condition = statement["Condition"]
            assert condition["StringEquals"] == {
                "kms:ViaService": {"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"}
            }, statement["Sid"]
            assert set(condition["ArnLike"]) == {"aws:PrincipalArn"}, statement["Sid"]
            assert set(condition["StringLike"]) == {"kms:EncryptionContext:aws:s3:arn"}
        else:  # services: named ones, for this account's resources only
            assert set(statement["Principal"]) == {"Service"}, statement["Sid"]
            keys = {k for operator in statement["Condition"].values() for k in operator}
            assert keys & {"aws:SourceArn", "aws:SourceAccount"}, statement["Sid"]


def test_the_replication_is_off_by_default_and_covers_the_zones(template: dict[str, Any]) -> None:
    assert template["Conditions"]["Replicate"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ReplicaRegion"}, ""]}]
    }
    for bucket in ZONE_BUCKETS:
        condition, config, off = template["Resources"][bucket]["Properties"][
            "ReplicationConfiguration"
        ]["Fn::If"]
        assert (condition, off) == ("Replicate", {"Ref": "AWS::NoValue"})
        (rule,) = config["Rules"]
        zone = bucket.removesuffix("Bucket").lower()
        assert rule["Destination"]["Bucket"] == {
            "Fn::Sub": f"arn:${{AWS::Partition}}:s3:::${{Prefix}}-{zone}-${{AWS::AccountId}}"
            "-${ReplicaRegion}"
        }
        assert "ReplicaKmsKeyID" in rule["Destination"]["EncryptionConfiguration"]
    assert template["Resources"]["ReplicationRole"]["Condition"] == "Replicate"


# --- the public website -----------------------------------------------------------------


def _csp(policy: str) -> dict[str, str]:
    """A Content-Security-Policy as {directive: sources}."""
    directives = (part.strip().split(None, 1) for part in policy.split(";") if part.strip())
    return {d[0]: (d[1] if len(d) > 1 else "") for d in directives}


def test_the_site_is_served_by_cloudfront_over_https_only_with_oac(
    template: dict[str, Any],
) -> None:
    (name,) = resources(template, "AWS::CloudFront::Distribution")
    config = template["Resources"][name]["Properties"]["DistributionConfig"]
    assert config["Enabled"] is True
    assert config["DefaultRootObject"] == "index.html"
    (origin,) = config["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": [SITE, "RegionalDomainName"]}
    # Origin access control, not a legacy origin access identity.
    (oac,) = resources(template, "AWS::CloudFront::OriginAccessControl").values()
    oac_config = oac["Properties"]["OriginAccessControlConfig"]
    assert (oac_config["OriginAccessControlOriginType"], oac_config["SigningBehavior"]) == (
        "s3",
        "always",
    )
    assert references(origin["OriginAccessControlId"]) == set(
        resources(template, "AWS::CloudFront::OriginAccessControl")
    )
    assert origin["S3OriginConfig"]["OriginAccessIdentity"] == ""
    behaviours = [config["DefaultCacheBehavior"], *config.get("CacheBehaviors", [])]
    for behaviour in behaviours:
        assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
        assert set(behaviour["AllowedMethods"]) == {"GET", "HEAD"}
        assert references(behaviour["ResponseHeadersPolicyId"]) == {"SiteResponseHeadersPolicy"}
    condition, own_certificate, default = config["ViewerCertificate"]["Fn::If"]
    assert condition == "SiteHasCertificate"
    assert own_certificate["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert own_certificate["SslSupportMethod"] == "sni-only"
    assert default == {"CloudFrontDefaultCertificate": True}
    assert config["Logging"]["Bucket"] == {"Fn::GetAtt": [SITE_LOGS, "DomainName"]}
    assert {"SiteAliasNeedsACertificate", "SiteCertificateNeedsAnAlias"} <= set(template["Rules"])


def test_the_sites_headers_fit_the_report_page(template: dict[str, Any]) -> None:
    (policy,) = resources(template, "AWS::CloudFront::ResponseHeadersPolicy").values()
    headers = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert all(header["Override"] is True for header in headers.values())
    hsts = headers["StrictTransportSecurity"]
    assert hsts["AccessControlMaxAgeSec"] >= 365 * 24 * 3600
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert "ContentTypeOptions" in headers  # X-Content-Type-Options: nosniff
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] in ("no-referrer", "same-origin")
    served = _csp(headers["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    # The page's own meta CSP, directive by directive: the header allows no more.
    meta = re.search(
        r'http-equiv="Content-Security-Policy"\s+content="([^"]+)"', REPORT_TEMPLATE.read_text()
    )
    assert meta is not None
    assert {k: v for k, v in served.items() if k in _csp(meta[1])} == _csp(meta[1])
    assert served["default-src"] == "'none'"
    assert served["frame-ancestors"] == "'none'"  # only a header can say this
    assert "script-src" not in served


def test_only_ci_publishes_the_site(template: dict[str, Any]) -> None:
    # (The replication role writes only the replica region's zone buckets: checked above.)
    for role in ("LoaderRole", "TransformerRole", "AnalystRole", "CiRole"):
        written = buckets_written(template, role)
        if role == "CiRole":
            assert written[SITE] == {"*"}
        else:
            assert SITE not in written, role
    publisher = template["Resources"]["PublisherPolicy"]["Properties"]["PolicyDocument"]
    actions = {a for s in statements(publisher) for a in as_list(s["Action"])}
    # What dap.lake.storage's S3 writer calls: HeadBucket, the protection check, PutObject.
    assert actions == {
        "s3:ListBucket",
        "s3:GetBucketVersioning",
        "s3:GetEncryptionConfiguration",
        "s3:PutObject",
    }
    assert {"Ref": "PublisherPolicy"} in template["Resources"]["CiRole"]["Properties"][
        "ManagedPolicyArns"
    ]


def test_the_site_outputs_name_the_bucket_and_the_domain(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert outputs["SiteBucketName"]["Value"] == {"Ref": SITE}
    assert outputs["SiteDomainName"]["Value"] == {"Fn::GetAtt": ["SiteDistribution", "DomainName"]}


# --- access -----------------------------------------------------------------------------


def test_no_identity_policy_grants_wildcard_actions(template: dict[str, Any]) -> None:
    documents = identity_policies(template)
    assert {"LoaderPolicy", "TransformerPolicy", "AnalystPolicy"} <= set(documents)
    for name, document in documents.items():
        for statement in statements(document):
            for action in as_list(statement.get("Action", [])):
                assert "*" not in action, f"{name}: {action}"
            assert "NotAction" not in statement, name
            assert "NotResource" not in statement, name


def test_allow_statements_on_every_resource_are_the_unscopable_few(
    template: dict[str, Any],
) -> None:
    unscoped = []
    for name, document in identity_policies(template).items():
        for statement in statements(document):
            if statement["Effect"] == "Allow" and "*" in as_list(statement["Resource"]):
                unscoped.append((name, statement))
                assert as_list(statement["Resource"]) == ["*"], name
                for action in as_list(statement["Action"]):
                    assert action in UNSCOPED_ACTIONS, f"{name}: {action} on *"
                    narrowing = UNSCOPED_ACTIONS[action]
                    if narrowing is not None:
                        key, value = narrowing
                        assert statement["Condition"] == {"StringEquals": {key: value}}, name
            for resource in as_list(statement["Resource"]):
                assert not (isinstance(resource, str) and resource.endswith(":*")), name
    # PutMetricData for the loader and the transformer (`dap metrics`), nothing else.
    assert sorted(name for name, _ in unscoped) == ["LoaderPolicy", "TransformerPolicy"]


def test_the_loader_writes_landing_and_raw_only(template: dict[str, Any]) -> None:
    assert buckets_written(template, "LoaderRole") == {
        "LandingBucket": {"landing/*", "_audit/*"},
        "RawBucket": {"raw/*", "_manifests/*"},
    }
    loader = role_statements(template, "LoaderRole")
    s3_actions = {action for action, _ in actions_on(loader, "s3")}
    # It checks the buckets' protection before writing
    # (dap.lake.storage.bucket_protection_problems).
    assert {"s3:GetBucketVersioning", "s3:GetEncryptionConfiguration"} <= s3_actions
    assert "s3:DeleteObject" in s3_actions  # cleans up after a failed write...
    assert "s3:DeleteObjectVersion" not in s3_actions  # ...but cannot erase history
    glue = {text_of(r) for _, r in actions_on(loader, "glue")}
    assert glue == {
        "arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:catalog",
        "arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:database/${RawDatabaseName}",
        "arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:"
        "table/${RawDatabaseName}/contact_centre_metrics",
        "arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:"
        "table/${RawDatabaseName}/contact_centre_extract_events",
        "arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:"
        "table/${RawDatabaseName}/contact_centre_raw_objects",
    }
    glue_actions = {action for action, _ in actions_on(loader, "glue")}
    assert {
        "glue:GetDatabase",
        "glue:GetTable",
        "glue:CreateTable",
        "glue:UpdateTable",
        "glue:GetPartitions",
        "glue:BatchCreatePartition",
        "glue:CreatePartition",
    } <= glue_actions
    assert not {a for a in glue_actions if "Delete" in a}
    assert not list(actions_on(loader, "athena"))


def test_the_transformer_reads_raw_and_writes_curated_and_trusted(
    template: dict[str, Any],
) -> None:
    written = buckets_written(template, "TransformerRole")
    assert set(written) == {"CuratedBucket", "TrustedBucket", "AthenaResultsBucket"}
    assert written["AthenaResultsBucket"] == {"dbt/*"}
    assert buckets_read(template, "TransformerRole") == {
        "LandingBucket",  # _audit/events/ and _audit/raw_objects/ only (checked below)
        "RawBucket",
        "CuratedBucket",
        "TrustedBucket",
        "AthenaResultsBucket",
    }
    transformer = role_statements(template, "TransformerRole")
    landing_reads = {
        text_of(r)
        for action, r in actions_on(transformer, "s3")
        if action == "s3:GetObject" and "LandingBucket" in references(r)
    }
    assert landing_reads == {
        "${LandingBucket.Arn}/_audit/events/*",
        "${LandingBucket.Arn}/_audit/raw_objects/*",
    }
    glue_writes = {
        text_of(r)
        for action, r in actions_on(transformer, "glue")
        if not action.split(":")[1].startswith(("Get", "BatchGet"))
    }
    assert not [arn for arn in glue_writes if "RawDatabaseName" in arn]
    athena = {text_of(r) for _, r in actions_on(transformer, "athena")}
    assert athena == {
        "arn:${AWS::Partition}:athena:${AWS::Region}:${AWS::AccountId}:workgroup/${WorkGroupName}"
    }


def test_the_analyst_reads_trusted_only(template: dict[str, Any]) -> None:
    assert buckets_written(template, "AnalystRole") == {"AthenaResultsBucket": {"analyst/*"}}
    assert buckets_read(template, "AnalystRole") == {"TrustedBucket", "AthenaResultsBucket"}
    analyst = role_statements(template, "AnalystRole")
    glue = list(actions_on(analyst, "glue"))
    assert all(action.split(":")[1].startswith(("Get", "BatchGet")) for action, _ in glue)
    databases = {text_of(r).rsplit(":", 1)[1] for _, r in glue if ":database/" in text_of(r)} | {
        text_of(r).rsplit(":", 1)[1].split("/")[1] for _, r in glue if ":table/" in text_of(r)
    }
    assert databases == {"database/default", "database/trusted", "trusted"}
    athena = {text_of(r) for _, r in actions_on(analyst, "athena")}
    assert athena == {
        "arn:${AWS::Partition}:athena:${AWS::Region}:${AWS::AccountId}:"
        "workgroup/${WorkGroupName}-analyst"
    }
    trust = statements(
        template["Resources"]["AnalystRole"]["Properties"]["AssumeRolePolicyDocument"]
    )
    assert trust[0]["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


def test_ci_assumes_its_role_only_from_the_repositorys_environment(
    template: dict[str, Any],
) -> None:
    properties = template["Resources"]["CiRole"]["Properties"]
    (trust,) = statements(properties["AssumeRolePolicyDocument"])
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert references(trust["Principal"]["Federated"]) == {
        "GitHubOidcProvider",
        "GitHubOidcProviderArn",
    }
    assert set(trust["Condition"]) == {"StringEquals"}  # no StringLike wildcards
    assert trust["Condition"]["StringEquals"] == {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": {
            "Fn::Sub": "repo:${GitHubOrg}/${GitHubRepo}:environment:${GitHubEnvironment}"
        },
    }
    assert template["Parameters"]["GitHubEnvironment"]["Default"] == "athena"
    assert properties["ManagedPolicyArns"][0] == {"Ref": "TransformerPolicy"}
    assert properties["ManagedPolicyArns"][1] == {
        "Fn::If": ["CiLoads", {"Ref": "LoaderPolicy"}, {"Ref": "AWS::NoValue"}]
    }
    assert properties["ManagedPolicyArns"][2:] == [{"Ref": "PublisherPolicy"}]
    provider = template["Resources"]["GitHubOidcProvider"]
    assert provider["Condition"] == "CreateOidcProvider"
    assert provider["Properties"]["Url"] == "https://token.actions.githubusercontent.com"
    assert provider["Properties"]["ClientIdList"] == ["sts.amazonaws.com"]


def test_only_ci_trusts_an_outside_identity(template: dict[str, Any]) -> None:
    for name, role in resources(template, "AWS::IAM::Role").items():
        for statement in statements(role["Properties"]["AssumeRolePolicyDocument"]):
            principal = statement["Principal"]
            if "Federated" in principal:
                assert name == "CiRole"
            elif "AWS" in principal:  # this account's IAM decides who may assume it
                assert principal["AWS"] == {
                    "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"
                }, name
            else:
                assert set(principal) == {"Service"}, name


# --- catalog and query --------------------------------------------------------------------


def test_the_workgroups_enforce_encryption_limits_and_metrics(template: dict[str, Any]) -> None:
    workgroups = resources(template, "AWS::Athena::WorkGroup")
    assert workgroups["WorkGroup"]["Properties"]["Name"] == {"Ref": "WorkGroupName"}
    assert set(workgroups) == {"WorkGroup", "AnalystWorkGroup"}
    for name, workgroup in workgroups.items():
        config = workgroup["Properties"]["WorkGroupConfiguration"]
        assert config["EnforceWorkGroupConfiguration"] is True, name
        assert config["PublishCloudWatchMetricsEnabled"] is True, name
        assert config["BytesScannedCutoffPerQuery"] == {"Ref": "BytesScannedCutoffPerQuery"}
        assert config["EngineVersion"] == {"SelectedEngineVersion": "Athena engine version 3"}
        results = config["ResultConfiguration"]
        assert results["EncryptionConfiguration"] == {
            "EncryptionOption": "SSE_KMS",
            "KmsKey": {"Fn::GetAtt": ["Key", "Arn"]},
        }, name
        assert references(results["OutputLocation"]) == {"AthenaResultsBucket"}
    assert text_of(
        workgroups["WorkGroup"]["Properties"]["WorkGroupConfiguration"]["ResultConfiguration"][
            "OutputLocation"
        ]
    ).endswith("/dbt/")
    assert template["Parameters"]["BytesScannedCutoffPerQuery"]["Default"] == 10 * 1024**3


def test_a_glue_database_per_zone(template: dict[str, Any]) -> None:
    names = {
        text_of(db["Properties"]["DatabaseInput"]["Name"])
        for db in resources(template, "AWS::Glue::Database").values()
    }
    assert names == {"${RawDatabaseName}", "curated", "trusted"}


# --- audit, alerting, budget ------------------------------------------------------------


def test_the_trail_validates_logs_and_records_the_zones_data_events(
    template: dict[str, Any],
) -> None:
    (trail,) = resources(template, "AWS::CloudTrail::Trail").values()
    assert trail["Condition"] == "CreateAccountWide"  # off only in a second stack
    assert template["Parameters"]["AccountWideResources"]["Default"] == "true"
    properties = trail["Properties"]
    assert properties["EnableLogFileValidation"] is True
    assert properties["IsMultiRegionTrail"] is True
    assert properties["IsLogging"] is True
    assert properties["KMSKeyId"] == {"Fn::GetAtt": ["Key", "Arn"]}
    selectors = {s["Name"]: s["FieldSelectors"] for s in properties["AdvancedEventSelectors"]}
    (data,) = [
        fields
        for fields in selectors.values()
        if {"Field": "eventCategory", "Equals": ["Data"]} in fields
    ]
    assert {"Field": "resources.type", "Equals": ["AWS::S3::Object"]} in data
    (arns,) = [f["StartsWith"] for f in data if f["Field"] == "resources.ARN"]
    here = [a for a in arns if "Fn::If" not in a]
    assert {text_of(a) for a in here} == {f"${{{b}.Arn}}/" for b in ZONE_BUCKETS}
    replicas = {text_of(a["Fn::If"][1]) for a in arns if "Fn::If" in a}
    assert replicas == {
        f"arn:${{AWS::Partition}}:s3:::${{Prefix}}-{zone}-${{AWS::AccountId}}-${{ReplicaRegion}}/"
        for zone in ("landing", "raw", "curated", "trusted")
    }
    assert any(
        {"Field": "eventCategory", "Equals": ["Management"]} in fields
        for fields in selectors.values()
    )


def _alarm_metrics(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """The metrics an alarm watches: its own, or those of its metric-math expression."""
    properties = alarm["Properties"]
    if "MetricName" in properties:
        return [properties]
    return [m["MetricStat"]["Metric"] for m in properties["Metrics"] if "MetricStat" in m]


def test_alarms_watch_failures_quarantine_and_bytes_scanned(template: dict[str, Any]) -> None:
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert alarm["Properties"]["TreatMissingData"] == "notBreaching", name

    def alarms_on(namespace: str, metric: str) -> dict[str, dict[str, Any]]:
        return {
            name: alarm
            for name, alarm in alarms.items()
            if any(
                m["Namespace"] == namespace and m["MetricName"] == metric
                for m in _alarm_metrics(alarm)
            )
        }

    failures = alarms_on(NAMESPACE, "Failures")
    stages = set()
    for alarm in failures.values():
        properties = alarm["Properties"]
        assert properties["Statistic"] == "Sum"
        assert properties["Threshold"] == 1
        assert properties["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        (dimension,) = properties["Dimensions"]
        assert dimension["Name"] == "Stage"
        stages.add(dimension["Value"])
    assert stages == {"load", "dbt"}

    (quarantine,) = alarms_on(NAMESPACE, "RowsQuarantined").values()
    assert quarantine["Properties"]["Dimensions"] == [{"Name": "Stage", "Value": "dbt"}]
    assert quarantine["Properties"]["Statistic"] == "Maximum"
    assert quarantine["Properties"]["ComparisonOperator"] == "GreaterThanThreshold"
    assert quarantine["Properties"]["Threshold"] == {"Ref": "QuarantinedRowsThreshold"}
    assert template["Parameters"]["QuarantinedRowsThreshold"]["Default"] == 0

    (scanned,) = alarms_on("AWS/Athena", "ProcessedBytes").values()
    assert scanned["Properties"]["Threshold"] == {"Ref": "DailyProcessedBytesThreshold"}
    watched = {
        (text_of(d["Value"]), state["Value"])
        for metric in _alarm_metrics(scanned)
        for d in metric["Dimensions"]
        if d["Name"] == "WorkGroup"
        for state in metric["Dimensions"]
        if state["Name"] == "QueryState"
    }
    assert {("${WorkGroup}", s) for s in ("SUCCEEDED", "FAILED", "CANCELED")} <= watched
    periods = {
        m["MetricStat"]["Period"] for m in scanned["Properties"]["Metrics"] if "MetricStat" in m
    }
    assert periods == {86400}
    (expression,) = [m for m in scanned["Properties"]["Metrics"] if m.get("ReturnData")]
    ids = {m["Id"] for m in scanned["Properties"]["Metrics"] if "MetricStat" in m}
    assert set(re.findall(r"FILL\((\w+), 0\)", expression["Expression"])) == ids


def test_the_alarm_topic_is_encrypted(template: dict[str, Any]) -> None:
    topic = template["Resources"]["AlarmTopic"]
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": ["Key", "Arn"]}
    subscription = template["Resources"]["AlarmEmailSubscription"]
    assert subscription["Condition"] == "SubscribeAlarmEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}


def test_a_monthly_budget_alerts_the_topic(template: dict[str, Any]) -> None:
    (budget,) = resources(template, "AWS::Budgets::Budget").values()
    assert budget["Condition"] == "CreateAccountWide"
    assert budget["Properties"]["Budget"]["TimeUnit"] == "MONTHLY"
    assert budget["Properties"]["Budget"]["BudgetType"] == "COST"
    notifications = {
        (n["Notification"]["NotificationType"], n["Notification"]["Threshold"]): n["Subscribers"]
        for n in budget["Properties"]["NotificationsWithSubscribers"]
    }
    assert set(notifications) == {("ACTUAL", 80), ("FORECASTED", 100)}
    for subscribers in notifications.values():
        assert {"SubscriptionType": "SNS", "Address": {"Ref": "AlarmTopic"}} in subscribers


# --- checkov skips and outputs ----------------------------------------------------------


def test_every_checkov_skip_gives_its_reason_in_the_template_and_readme(
    template: dict[str, Any],
) -> None:
    readme = README_PATH.read_text()
    skips = [
        (name, skip)
        for name, resource in template["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips, "no skips at all: drop this test's README expectation"
    for name, skip in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), name
        assert len(skip.get("comment", "").strip()) >= 40, f"{name} {skip['id']}: say why"
        assert skip["id"] in readme, f"{name} {skip['id']}: not explained in infra/README.md"
        assert name in readme, f"{name} {skip['id']}: not explained in infra/README.md"


def test_outputs_wire_up_the_projects_environment(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    by_variable = {o["Description"].split()[0]: o for o in outputs.values()}
    expected = {
        "DAP_LANDING_LAKE": {"Fn::Sub": "s3://${LandingBucket}"},
        "DAP_RAW_LAKE": {"Fn::Sub": "s3://${RawBucket}"},
        "DAP_KMS_KEY_ID": {"Fn::GetAtt": ["Key", "Arn"]},
        "DAP_ATHENA_WORK_GROUP": {"Ref": "WorkGroup"},
        "DAP_ATHENA_S3_STAGING_DIR": {"Fn::Sub": "s3://${AthenaResultsBucket}/dbt/"},
        "DAP_ATHENA_CURATED_S3_DIR": {"Fn::Sub": "s3://${CuratedBucket}/"},
        "DAP_ATHENA_TRUSTED_S3_DIR": {"Fn::Sub": "s3://${TrustedBucket}/"},
        "DAP_RAW_DATABASE": {"Ref": "RawDatabase"},
        "DAP_SITE_URI": {"Fn::Sub": "s3://${SiteBucket}/"},
    }
    for variable, value in expected.items():
        assert by_variable[variable]["Value"] == value, variable
    combined = outputs["DapEnvironment"]["Value"]["Fn::Join"][1]
    assert {text_of(part).split("=")[0] for part in combined} >= set(expected)
    for name in ("LoaderRoleArn", "TransformerRoleArn", "AnalystRoleArn", "CiRoleArn", "KeyArn"):
        assert name in outputs


# --- a deploy to moto's CloudFormation ----------------------------------------------------


@pytest.fixture
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    requests.post(f"{url}/moto-api/reset", timeout=30).raise_for_status()  # moto's state is global
    try:
        yield url
    finally:
        requests.post(f"{url}/moto-api/reset", timeout=30).raise_for_status()
        server.stop()


# Types moto's CloudFormation does not implement (it skips them), whose attributes an output
# reads: moto cannot resolve such an output, so the template it gets leaves those out.
MOTO_UNIMPLEMENTED = ("SiteDistribution",)


def template_for_moto(text: str) -> str:
    """The template without the outputs that read an attribute of MOTO_UNIMPLEMENTED."""
    head, outputs = text.split("\nOutputs:\n", 1)
    blocks = re.split(r"(?m)^(?=  [A-Za-z]+:\n)", outputs)
    kept = [
        block
        for block in blocks
        if not any(f"!GetAtt {name}." in block for name in MOTO_UNIMPLEMENTED)
    ]
    assert len(kept) == len(blocks) - len(MOTO_UNIMPLEMENTED)
    return head + "\nOutputs:\n" + "".join(kept)


@pytest.mark.s3
@pytest.mark.filterwarnings("ignore:Tried to parse AWS.*not supported by moto:UserWarning")
@pytest.mark.parametrize(
    ("region", "extra"),
    [
        pytest.param(ATHENA_REGION, {}, id="primary"),
        pytest.param(
            ATHENA_REGION,
            {
                "ReplicaRegion": "ca-west-1",
                "ReplicaKmsKeyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
            },
            id="primary-replicating",
        ),
        pytest.param(
            "ca-west-1",
            {
                "AccountWideResources": "false",
                "GitHubOidcProviderArn": "arn:aws:iam::123456789012:oidc-provider/"
                "token.actions.githubusercontent.com",
            },
            id="replica-region",
        ),
    ],
)
def test_moto_deploys_the_stack_with_encrypted_buckets_and_a_rotating_key(
    moto_endpoint: str, region: str, extra: dict[str, str]
) -> None:
    """moto creates the template's buckets, key, topic and IAM resources and skips the
    types it does not implement (bucket policies, Glue, Athena, CloudTrail, alarms, budget,
    CloudFront; template_for_moto leaves out the output it could not resolve).

    Of a bucket's properties moto 5 applies the default encryption's algorithm and key (and
    tags) only: bucket keys, versioning, public access block, logging and lifecycle are
    checked on the template above.
    """
    env = aws_env(moto_endpoint)
    session = boto3.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=env["AWS_SESSION_TOKEN"],
        region_name=region,
    )

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=moto_endpoint)  # type: ignore[call-overload]

    cloudformation = client("cloudformation")
    parameters = {"GitHubOrg": "city-of-vancouver", "GitHubRepo": "vancouver-311", **extra}
    account_wide = extra.get("AccountWideResources", "true") == "true"
    buckets = KMS_BUCKETS if account_wide else tuple(b for b in KMS_BUCKETS if b != "TrailBucket")
    stack = cloudformation.create_stack(
        StackName="vancouver-311-data-platform",
        TemplateBody=template_for_moto(TEMPLATE_PATH.read_text()),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM"],
    )
    described = cloudformation.describe_stacks(StackName=stack["StackId"])["Stacks"][0]
    assert described["StackStatus"] == "CREATE_COMPLETE", described
    created = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cloudformation.list_stack_resources(StackName=stack["StackId"])[
            "StackResourceSummaries"
        ]
    }
    assert {*buckets, ACCESS_LOGS, "Key", "AlarmTopic"} <= set(created)
    assert ("TrailBucket" in created) == account_wide
    assert {"LoaderPolicy", "TransformerPolicy", "AnalystPolicy"} <= set(created)
    assert {"LoaderRole", "TransformerRole", "AnalystRole", "CiRole"} <= set(created)
    assert {"SiteBucket", "SiteLogsBucket", "PublisherPolicy"} <= set(created)
    assert ("ReplicationRole" in created) == ("ReplicaRegion" in extra)

    account = client("sts").get_caller_identity()["Account"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}
    assert outputs["SiteBucketName"] == f"vancouver-311-site-{account}-{region}"
    # The key's ARN from the outputs: moto 5 keeps a template's KeyPolicy as a mapping, and
    # its DescribeKey, which checks the policy, then fails.
    key_arn = outputs["KeyArn"]
    assert key_arn == f"arn:aws:kms:{region}:{account}:key/{created['Key']}"
    assert client("kms").get_key_rotation_status(KeyId=created["Key"])["KeyRotationEnabled"]

    s3 = client("s3")
    for bucket in buckets:
        zone = {"AthenaResultsBucket": "athena-results", "TrailBucket": "cloudtrail"}.get(
            bucket, bucket.removesuffix("Bucket").lower()
        )
        name = f"vancouver-311-{zone}-{account}-{region}"
        assert created[bucket] == name
        (rule,) = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"][
            "Rules"
        ]
        assert rule["ApplyServerSideEncryptionByDefault"] == {
            "SSEAlgorithm": "aws:kms",
            "KMSMasterKeyID": key_arn,
        }
    logs = s3.get_bucket_encryption(Bucket=created[ACCESS_LOGS])
    (rule,) = logs["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"

    assert outputs["DapKmsKeyId"] == key_arn
    assert outputs["DapAthenaCuratedS3Dir"] == f"s3://vancouver-311-curated-{account}-{region}/"

    # moto validates a managed policy's document as IAM would (inline ones it does not, and
    # it leaves ManagedPolicyArns unattached); the ARNs resolve to the stack's resources.
    iam = client("iam")
    policy = iam.get_policy(PolicyArn=created["LoaderPolicy"])["Policy"]
    document = iam.get_policy_version(
        PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"]
    )["PolicyVersion"]["Document"]
    (write,) = [s for s in document["Statement"] if "s3:PutObject" in as_list(s["Action"])]
    landing, raw = (f"vancouver-311-{zone}-{account}-{region}" for zone in ("landing", "raw"))
    assert sorted(write["Resource"]) == sorted(
        [
            f"arn:aws:s3:::{landing}/landing/*",
            f"arn:aws:s3:::{landing}/_audit/*",
            f"arn:aws:s3:::{raw}/raw/*",
            f"arn:aws:s3:::{raw}/_manifests/*",
        ]
    )
    (glue,) = [s for s in document["Statement"] if "glue:CreateTable" in as_list(s["Action"])]
    assert f"arn:aws:glue:{region}:{account}:table/raw/contact_centre_metrics" in glue["Resource"]
    for name in ("TransformerPolicy", "AnalystPolicy"):
        assert iam.get_policy(PolicyArn=created[name])["Policy"]["Arn"] == created[name]
