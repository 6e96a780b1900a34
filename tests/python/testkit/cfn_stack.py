"""infra/platform.yaml as a deployed stack would see it: parameters, conditions and the
intrinsic functions the template uses (Ref, Fn::GetAtt, Fn::Sub, Fn::If, Fn::Join,
Fn::Equals, Fn::Not) resolved for one account and region.

The policy tests (tests/python/repo/test_policy_matrix.py) evaluate the template's own
statements through this, and the moto role matrix (tests/python/integration/iam/) creates
the roles and policies from it. Only YAML and the standard library, so that the policy
scanners' runner (infra/scan_policies.py, in .venv-infra) can use it too.

Physical ids follow CloudFormation where a test depends on them: a bucket is its
BucketName, a role's ARN is arn:<partition>:iam::<account>:role<Path><logical id>, a
managed policy's Ref is its ARN. The rest get stable stand-ins (the key's id, the topic).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

TEMPLATE_PATH = Path(__file__).resolve().parents[3] / "infra" / "platform.yaml"
ACCOUNT = "123456789012"
REGION = "ca-central-1"
PARTITION = "aws"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
# The parameters a deploy must give (infra/README.md, "Deploy").
REQUIRED_PARAMETERS = {"GitHubOrg": "city-of-vancouver", "GitHubRepo": "vancouver-311"}


class CloudFormationLoader(yaml.SafeLoader):
    """CloudFormation's short tags: `!Sub x` becomes {"Fn::Sub": x}, `!Ref x` {"Ref": x}."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    if suffix in ("Ref", "Condition"):
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


CloudFormationLoader.add_multi_constructor("!", _construct_tag)


def load_template(text: str) -> dict[str, Any]:
    template = yaml.load(text, Loader=CloudFormationLoader)  # a SafeLoader subclass
    if not isinstance(template, dict):
        raise ValueError("the template is not a YAML mapping")
    return template


class _NoValue:
    """AWS::NoValue: removed from the list or mapping it is in."""


NO_VALUE = _NoValue()


class Stack:
    """One deployment of a template: Stack(template, {"CiRunsLoads": "true"})."""

    def __init__(
        self,
        template: Mapping[str, Any],
        parameters: Mapping[str, str] | None = None,
        *,
        account: str = ACCOUNT,
        region: str = REGION,
        partition: str = PARTITION,
    ) -> None:
        self.template = template
        self.account, self.region, self.partition = account, region, partition
        given = {**REQUIRED_PARAMETERS, **(parameters or {})}
        self.parameters: dict[str, Any] = {}
        for name, spec in template["Parameters"].items():
            if name in given:
                value: Any = given[name]
            elif "Default" in spec:
                value = spec["Default"]
            else:
                raise ValueError(f"parameter {name} has no default: give it a value")
            self.parameters[name] = int(value) if spec["Type"] == "Number" else str(value)
        self._conditions: dict[str, bool] = {}
        self._properties: dict[str, dict[str, Any]] = {}

    @classmethod
    def from_file(
        cls, path: Path = TEMPLATE_PATH, parameters: Mapping[str, str] | None = None
    ) -> Stack:
        return cls(load_template(path.read_text()), parameters)

    # --- conditions and resources ---------------------------------------------------------

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            self._conditions[name] = self._truth(self.template["Conditions"][name])
        return self._conditions[name]

    def _truth(self, expression: Any) -> bool:
        if isinstance(expression, dict) and len(expression) == 1:
            ((function, argument),) = expression.items()
            if function == "Condition":
                return self.condition(argument)
            if function == "Fn::Equals":
                left, right = (self.resolve(a) for a in argument)
                return str(left) == str(right)
            if function == "Fn::Not":
                return not self._truth(argument[0])
            if function == "Fn::And":
                return all(self._truth(a) for a in argument)
            if function == "Fn::Or":
                return any(self._truth(a) for a in argument)
        raise ValueError(f"not a condition this resolver knows: {expression!r}")

    def has(self, logical_id: str) -> bool:
        resource = self.template["Resources"][logical_id]
        return "Condition" not in resource or self.condition(resource["Condition"])

    def logical_ids(self, kind: str) -> list[str]:
        return [
            name
            for name, resource in self.template["Resources"].items()
            if resource["Type"] == kind and self.has(name)
        ]

    def properties(self, logical_id: str) -> dict[str, Any]:
        """The resource's properties, resolved (once: treat the result as read-only)."""
        if logical_id not in self._properties:
            if not self.has(logical_id):
                raise KeyError(f"{logical_id} is not created with these parameters")
            resolved = self.resolve(self.template["Resources"][logical_id].get("Properties", {}))
            assert isinstance(resolved, dict)
            self._properties[logical_id] = resolved
        return self._properties[logical_id]

    # --- physical ids ---------------------------------------------------------------------

    def ref(self, name: str) -> Any:  # noqa: PLR0911 (one return per resource type)
        pseudo = {
            "AWS::AccountId": self.account,
            "AWS::Region": self.region,
            "AWS::Partition": self.partition,
            "AWS::StackName": "vancouver-311-data-platform",
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        resource = self.template["Resources"][name]
        kind = resource["Type"]
        raw = resource.get("Properties", {})
        if kind == "AWS::S3::Bucket":
            return self.resolve(raw["BucketName"])
        if kind == "AWS::IAM::ManagedPolicy":
            return f"arn:{self.partition}:iam::{self.account}:policy/{name}"
        if kind == "AWS::IAM::Role":
            return name
        if kind == "AWS::KMS::Key":
            return KEY_ID
        if kind == "AWS::SNS::Topic":
            return f"arn:{self.partition}:sns:{self.region}:{self.account}:{name}"
        if kind == "AWS::IAM::OIDCProvider":
            url = str(raw["Url"]).removeprefix("https://")
            return f"arn:{self.partition}:iam::{self.account}:oidc-provider/{url}"
        if kind == "AWS::Athena::WorkGroup":
            return self.resolve(raw["Name"])
        if kind in ("AWS::CloudFront::Distribution", "AWS::CloudFront::OriginAccessControl"):
            return "E" + name.upper()[:13]  # CloudFront's ids are upper-case, E...
        return name

    def get_att(self, name: str, attribute: str) -> Any:
        kind = self.template["Resources"][name]["Type"]
        if kind == "AWS::S3::Bucket" and attribute in ("DomainName", "RegionalDomainName"):
            region = f".{self.region}" if attribute == "RegionalDomainName" else ""
            return f"{self.ref(name)}.s3{region}.amazonaws.com"
        if kind == "AWS::CloudFront::Distribution" and attribute == "DomainName":
            return f"{self.ref(name).lower()}.cloudfront.net"
        if kind == "AWS::CloudFront::OriginAccessControl" and attribute == "Id":
            return self.ref(name)
        if attribute != "Arn":
            raise ValueError(f"{name}.{attribute}: only Arn and domain names are resolved")
        if kind == "AWS::S3::Bucket":
            return f"arn:{self.partition}:s3:::{self.ref(name)}"
        if kind == "AWS::IAM::Role":
            return self.role_arn(name)
        if kind == "AWS::KMS::Key":
            return f"arn:{self.partition}:kms:{self.region}:{self.account}:key/{KEY_ID}"
        raise ValueError(f"{name}.Arn ({kind}) is not resolved")

    def role_arn(self, logical_id: str) -> str:
        path = self.resolve(self.template["Resources"][logical_id]["Properties"].get("Path", "/"))
        return f"arn:{self.partition}:iam::{self.account}:role{path}{logical_id}"

    def bucket_arn(self, logical_id: str) -> str:
        return str(self.get_att(logical_id, "Arn"))

    def key_arn(self) -> str:
        (key,) = self.logical_ids("AWS::KMS::Key")
        return str(self.get_att(key, "Arn"))

    # --- intrinsic functions --------------------------------------------------------------

    def resolve(self, expression: Any) -> Any:  # noqa: PLR0911 (one per function)
        if isinstance(expression, list):
            items = [self.resolve(item) for item in expression]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(expression, dict):
            return expression
        if len(expression) == 1:
            ((function, argument),) = expression.items()
            if function == "Ref":
                return self.ref(argument)
            if function == "Fn::GetAtt":
                return self.get_att(*argument)
            if function == "Fn::Sub":
                return self._sub(argument)
            if function == "Fn::If":
                name, when_true, when_false = argument
                return self.resolve(when_true if self.condition(name) else when_false)
            if function == "Fn::Join":
                separator, items = argument
                return str(separator).join(str(i) for i in self.resolve(items))
            if function.startswith("Fn::"):
                raise ValueError(f"{function} is not resolved by testkit.cfn_stack")
        resolved = {key: self.resolve(value) for key, value in expression.items()}
        return {key: value for key, value in resolved.items() if value is not NO_VALUE}

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name and not name.startswith("AWS::"):
                return str(self.get_att(*name.split(".", 1)))
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, str(text))

    # --- the policies ---------------------------------------------------------------------

    def role_policies(self, role: str) -> list[dict[str, Any]]:
        """Every permissions policy document of a role: its inline policies and the
        template's managed policies it attaches."""
        properties = self.properties(role)
        documents = [p["PolicyDocument"] for p in properties.get("Policies", [])]
        managed = {self.ref(p): p for p in self.logical_ids("AWS::IAM::ManagedPolicy")}
        for arn in properties.get("ManagedPolicyArns", []):
            documents.append(self.properties(managed[arn])["PolicyDocument"])
        return documents

    def trust_policy(self, role: str) -> dict[str, Any]:
        document = self.properties(role)["AssumeRolePolicyDocument"]
        assert isinstance(document, dict)
        return document

    def bucket_policy(self, bucket: str) -> dict[str, Any]:
        """The policy document of a bucket (by the bucket's logical id)."""
        name = self.ref(bucket)
        for policy in self.logical_ids("AWS::S3::BucketPolicy"):
            properties = self.properties(policy)
            if properties["Bucket"] == name:
                document = properties["PolicyDocument"]
                assert isinstance(document, dict)
                return document
        raise KeyError(f"{bucket} has no bucket policy")

    def key_policy(self) -> dict[str, Any]:
        (key,) = self.logical_ids("AWS::KMS::Key")
        document = self.properties(key)["KeyPolicy"]
        assert isinstance(document, dict)
        return document

    def identity_policies(self) -> dict[str, dict[str, Any]]:
        """Every IAM permissions policy document of the stack, by a readable name."""
        documents: dict[str, dict[str, Any]] = {}
        for name in self.logical_ids("AWS::IAM::ManagedPolicy"):
            documents[name] = self.properties(name)["PolicyDocument"]
        for name in self.logical_ids("AWS::IAM::Role"):
            for inline in self.properties(name).get("Policies", []):
                documents[f"{name}/{inline['PolicyName']}"] = inline["PolicyDocument"]
        return documents

    def resource_policies(self) -> dict[str, dict[str, Any]]:
        """Bucket, topic and key policies and the roles' trust policies, by name."""
        documents: dict[str, dict[str, Any]] = {}
        for kind in ("AWS::S3::BucketPolicy", "AWS::SNS::TopicPolicy"):
            for name in self.logical_ids(kind):
                documents[name] = self.properties(name)["PolicyDocument"]
        documents["Key"] = self.key_policy()
        for name in self.logical_ids("AWS::IAM::Role"):
            documents[f"{name}/trust"] = self.trust_policy(name)
        return documents
