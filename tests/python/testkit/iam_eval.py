"""A small evaluator of AWS policy documents, for the requests the platform's matrix makes.

Why our own: moto enforces identity policies (tests/python/integration/iam/) but not
bucket policies, key policies or conditions, and no maintained Python library evaluates
identity, bucket, key and trust policies together with condition keys for a request
(parliament and cloudsplaining lint documents, policy_sentry writes them, iam-ape expands
an account's effective permissions without request conditions). This covers what
infra/platform.yaml uses, and refuses anything else rather than guess:

- Action/NotAction, Resource/NotResource with `*` and `?` wildcards;
- Principal "*", {"AWS": account root | ARN}, {"Service": name}, {"Federated": ARN};
- condition operators String(Not)Equals, String(Not)Like, Arn(Not)Equals, Arn(Not)Like,
  Bool and Null, each with the IfExists suffix; a negated operator holds when the key is
  absent, as in IAM. Several values of one key are alternatives; all keys and operators of
  a statement must hold.

The decision follows IAM's evaluation logic within one account: an explicit Deny in any
policy wins; for S3 an Allow in the identity policy or a bucket policy statement naming the
principal itself suffices; for KMS and sts:AssumeRole the resource policy (key policy,
trust policy) must allow, and where it names the account root it delegates to IAM, so the
principal's identity policy must allow too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Effect(Enum):
    ALLOW = "allow"
    DENY = "explicit deny"
    NONE = "no statement applies"


@dataclass(frozen=True)
class Request:
    """One API call: who (an IAM ARN, a service principal, an OIDC provider ARN), the action,
    the resource ARN and the request's condition keys (aws:PrincipalArn is added for IAM
    principals)."""

    principal: str
    action: str
    resource: str
    context: Mapping[str, str] = field(default_factory=dict)

    def keys(self) -> dict[str, str]:
        values = {k.lower(): v for k, v in self.context.items()}
        if self.principal.startswith("arn:") and ":iam::" in self.principal:
            values.setdefault("aws:principalarn", self.principal)
        return values


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _glob(pattern: str, value: str, *, case: bool) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, 0 if case else re.IGNORECASE) is not None


def _arn_like(pattern: str, value: str) -> bool:
    # IAM compares the six colon-separated parts of an ARN one by one.
    pattern_parts, value_parts = pattern.split(":", 5), value.split(":", 5)
    if len(pattern_parts) != 6 or len(value_parts) != 6:
        return False
    return all(_glob(p, v, case=True) for p, v in zip(pattern_parts, value_parts, strict=True))


def _equals(expected: str, actual: str) -> bool:
    return expected == actual


def _string_like(expected: str, actual: str) -> bool:
    return _glob(expected, actual, case=True)


def _bool(expected: str, actual: str) -> bool:
    return expected.lower() == actual.lower()


_POSITIVE: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": _equals,
    "StringLike": _string_like,
    "ArnEquals": _equals,
    "ArnLike": _arn_like,
    "Bool": _bool,
}
_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def condition_holds(operator: str, key: str, expected: Any, context: Mapping[str, str]) -> bool:
    actual = context.get(key.lower())
    values = [str(v).lower() if isinstance(v, bool) else str(v) for v in as_list(expected)]
    if operator == "Null":
        (want_absent,) = values
        return (actual is None) == (want_absent.lower() == "true")
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    if actual is None:
        # A missing key: the negated operators hold, the others do not, unless IfExists.
        return if_exists or base in _NEGATED
    if base in _NEGATED:
        match = _POSITIVE[_NEGATED[base]]
        return not any(match(value, actual) for value in values)
    if base in _POSITIVE:
        return any(_POSITIVE[base](value, actual) for value in values)
    raise ValueError(f"condition operator {operator} is not implemented by testkit.iam_eval")


def _matches_any(patterns: Iterable[str], value: str, *, case: bool) -> bool:
    return any(_glob(p, value, case=case) for p in patterns)


def _principal_match(principal: Any, request: Request, account: str) -> str | None:
    """ "direct" when the statement names the requester (or everyone), "account" when it
    names the requester's account (delegation to IAM), None when it does not apply."""
    if principal == "*":
        return "direct"
    for kind, values in principal.items():
        for value in as_list(values):
            if kind == "AWS":
                if value == "*":
                    return "direct"
                if value in (f"arn:aws:iam::{account}:root", account):
                    if f":iam::{account}:" in request.principal:
                        return "account"
                elif value == request.principal:
                    return "direct"
            elif kind in ("Service", "Federated") and value == request.principal:
                return "direct"
    return None


def _applies(statement: Mapping[str, Any], request: Request) -> bool:
    action = request.action
    if "Action" in statement:
        if not _matches_any(as_list(statement["Action"]), action, case=False):
            return False
    elif _matches_any(as_list(statement["NotAction"]), action, case=False):
        return False
    if "Resource" in statement:
        if not _matches_any(as_list(statement["Resource"]), request.resource, case=True):
            return False
    elif "NotResource" in statement and _matches_any(
        as_list(statement["NotResource"]), request.resource, case=True
    ):
        return False
    context = request.keys()
    for operator, keys in statement.get("Condition", {}).items():
        for key, expected in keys.items():
            if not condition_holds(operator, key, expected, context):
                return False
    return True


@dataclass(frozen=True)
class Outcome:
    identity: Effect
    resource: Effect
    resource_delegates: bool  # the resource policy's Allow named the account, not the requester

    def allowed(self, *, resource_policy_required: bool) -> bool:
        if Effect.DENY in (self.identity, self.resource):
            return False
        resource_direct = self.resource is Effect.ALLOW and not self.resource_delegates
        resource_via_iam = self.resource is Effect.ALLOW and self.identity is Effect.ALLOW
        if resource_policy_required:
            return resource_direct or resource_via_iam
        return self.identity is Effect.ALLOW or resource_direct


def _identity_effect(documents: Sequence[Mapping[str, Any]], request: Request) -> Effect:
    effect = Effect.NONE
    for document in documents:
        for statement in as_list(document["Statement"]):
            if _applies(statement, request):
                if statement["Effect"] == "Deny":
                    return Effect.DENY
                effect = Effect.ALLOW
    return effect


def evaluate(
    identity: Sequence[Mapping[str, Any]],
    resource_policy: Mapping[str, Any] | None,
    request: Request,
    *,
    account: str,
) -> Outcome:
    identity_effect = _identity_effect(identity, request)
    resource_effect, delegates = Effect.NONE, True
    for statement in as_list(resource_policy["Statement"]) if resource_policy else []:
        match = _principal_match(statement["Principal"], request, account)
        if match is None or not _applies(statement, request):
            continue
        if statement["Effect"] == "Deny":
            resource_effect = Effect.DENY
            break
        resource_effect = Effect.ALLOW
        delegates = delegates and match == "account"
    return Outcome(identity_effect, resource_effect, delegates)


def allowed(
    identity: Sequence[Mapping[str, Any]],
    resource_policy: Mapping[str, Any] | None,
    request: Request,
    *,
    account: str,
    resource_policy_required: bool = False,
) -> bool:
    """Whether the request is allowed: resource_policy_required for KMS and AssumeRole."""
    outcome = evaluate(identity, resource_policy, request, account=account)
    return outcome.allowed(resource_policy_required=resource_policy_required)


ALLOW_ALL: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
"""An administrator's identity policy (AdministratorAccess): what a bucket or key policy
must stand up to on its own."""
