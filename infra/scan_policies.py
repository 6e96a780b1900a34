"""parliament and cloudsplaining on every policy of platform.yaml (make lint-infra).

Runs in .venv-infra (infra/requirements.txt). The template is resolved as a deployed
stack would be (tests/python/testkit/cfn_stack.py: parameters, conditions, Ref, GetAtt,
Sub, If), twice: with the defaults, and with every optional part on (CiRunsLoads=true,
replication on), so that conditional roles and statements are scanned too.

- parliament: the identity policies (managed and inline), the bucket and topic policies
  and the key policy, community auditors included. Trust policies are left out: parliament
  reads every document as a permissions policy and reports a trust policy's missing
  Resource as malformed.
- cloudsplaining: the identity policies, strictly (statements on named resources and with
  conditions are flagged too, not only Resource "*"), every risk category.

Every finding must be accepted in infra/scanner-exceptions.yaml, with its reason; an
exception that no longer matches a finding fails too, so the list stays true. Exit status
1 on either, with what to do.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

INFRA = Path(__file__).resolve().parent
sys.path.insert(0, str(INFRA.parent / "tests" / "python"))

from cloudsplaining.command.scan_policy_file import scan_policy  # noqa: E402
from parliament import analyze_policy_string  # noqa: E402

from testkit.cfn_stack import Stack  # noqa: E402

EXCEPTIONS = INFRA / "scanner-exceptions.yaml"
VARIANTS = {
    "defaults": {},
    "everything-on": {
        "CiRunsLoads": "true",
        "ReplicaRegion": "ca-west-1",
        "ReplicaKmsKeyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
    },
}
# cloudsplaining's result keys that are risk categories (the others describe the policy).
CLOUDSPLAINING_RISKS = (
    "PrivilegeEscalation",
    "DataExfiltration",
    "ResourceExposure",
    "CredentialsExposure",
    "InfrastructureModification",
    "ServiceWildcard",
)

Finding = tuple[str, str, str, frozenset[str]]  # tool, policy, finding, actions


def parliament_findings(stack: Stack) -> set[Finding]:
    documents = {
        **stack.identity_policies(),
        **{k: v for k, v in stack.resource_policies().items() if not k.endswith("/trust")},
    }
    found = set()
    for name, document in documents.items():
        policy = analyze_policy_string(json.dumps(document), include_community_auditors=True)
        for finding in policy.findings:
            found.add(("parliament", name, str(finding.issue), frozenset()))
    return found


def cloudsplaining_findings(stack: Stack) -> set[Finding]:
    found = set()
    for name, document in stack.identity_policies().items():
        results = scan_policy(
            document,
            exclusions_config={},
            flag_conditional_statements=True,
            flag_resource_arn_statements=True,
        )
        for risk in CLOUDSPLAINING_RISKS:
            actions = results.get(risk, {}).get("findings", [])
            if actions:
                found.add(("cloudsplaining", name, risk, frozenset(map(str, actions))))
    return found


def load_exceptions() -> list[dict[str, Any]]:
    entries = yaml.safe_load(EXCEPTIONS.read_text())["exceptions"]
    for number, entry in enumerate(entries, start=1):
        missing = {"tool", "policies", "finding", "reason"} - set(entry)
        if missing or not str(entry.get("reason", "")).strip():
            raise SystemExit(
                f"{EXCEPTIONS.name}, exception {number}: needs tool, policies, finding and a "
                f"reason (missing: {', '.join(sorted(missing)) or 'reason text'})."
            )
    return list(entries)


def accepts(entry: dict[str, Any], finding: Finding) -> bool:
    tool, policy, issue, actions = finding
    if (entry["tool"], entry["finding"]) != (tool, issue) or policy not in entry["policies"]:
        return False
    # cloudsplaining names actions: the exception lists every one it accepts.
    return actions <= set(entry.get("actions", []))


def main() -> int:
    findings: set[Finding] = set()
    for parameters in VARIANTS.values():
        stack = Stack.from_file(parameters=parameters)
        findings |= parliament_findings(stack) | cloudsplaining_findings(stack)
    exceptions = load_exceptions()
    unaccepted = sorted(
        (f for f in findings if not any(accepts(e, f) for e in exceptions)), key=str
    )
    # Stale: an exception naming a policy where it accepts no finding.
    unused = [
        e
        for e in exceptions
        if any(not any(accepts(e, f) for f in findings if f[1] == p) for p in e["policies"])
    ]
    for tool, policy, issue, actions in unaccepted:
        listed = f" ({', '.join(sorted(actions))})" if actions else ""
        sys.stdout.write(f"infra/platform.yaml: {tool}: {policy}: {issue}{listed}\n")
    for entry in unused:
        sys.stdout.write(
            f"{EXCEPTIONS.relative_to(INFRA.parent)}: {entry['tool']} {entry['finding']} on "
            f"{', '.join(entry['policies'])} no longer matches a finding\n"
        )
    if unaccepted or unused:
        sys.stderr.write(
            "Fix the policy, or accept the finding in infra/scanner-exceptions.yaml with its "
            "reason; remove exceptions that no longer match.\n"
        )
        return 1
    sys.stdout.write(
        f"parliament and cloudsplaining: {len(findings)} findings, all accepted in "
        f"{EXCEPTIONS.name} ({len(exceptions)} exceptions).\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
