#!/usr/bin/env python3
"""The operator's stack (infra/template.yaml) as data: its IAM roles' policies rendered to plain
IAM JSON, and cloudsplaining's findings on them. Used by tests/templates/test_stack.py and
`make validate` (tools/validate-stack.sh); needs the project venv (PyYAML, cloudsplaining).

    render DIR          write one JSON policy document per role and inline policy into DIR
    cloudsplaining      cloudsplaining on every function and workflow policy; exit 1 on a
                        high-risk finding (privilege escalation, data exfiltration, credentials
                        or resource exposure, infrastructure modification)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cfn_policy  # noqa: E402

ROOT = cfn_policy.ROOT
STACK_TEMPLATE = ROOT / "infra" / "template.yaml"
CUSTOMER_ROLE_TEMPLATE = cfn_policy.ROLE_TEMPLATE
HIGH_RISK = ("PrivilegeEscalation", "DataExfiltration", "CredentialsExposure", "ResourceExposure",
             "InfrastructureModification")


def load() -> dict[str, Any]:
    return cfn_policy.load_template(STACK_TEMPLATE)


class StackRenderer(cfn_policy.Renderer):
    """ARNs shaped like the ones CloudFormation returns, so analysers see real resource types."""

    def ref(self, name: str) -> Any:
        if name in self.pseudo or name in self.t.get("Parameters", {}):
            return super().ref(name)
        kind = self.t["Resources"][name]["Type"]
        region, account = self.pseudo["AWS::Region"], self.pseudo["AWS::AccountId"]
        pid = f"costradar-{name.lower()}-example"
        return {
            "AWS::SNS::Topic": f"arn:aws:sns:{region}:{account}:{pid}",
            "AWS::Serverless::StateMachine": f"arn:aws:states:{region}:{account}:stateMachine:{pid}",
            "AWS::SQS::Queue": f"https://sqs.{region}.amazonaws.com/{account}/{pid}",
        }.get(kind, pid)

    def get_att(self, logical_id: str, attr: str) -> str:
        r = self.t["Resources"][logical_id]
        kind = r["Type"]
        region, account = self.pseudo["AWS::Region"], self.pseudo["AWS::AccountId"]
        pid = f"costradar-{logical_id.lower()}-example"
        if attr == "Arn":
            arn = {
                "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{region}:{account}:table/{pid}",
                "AWS::Logs::LogGroup": f"arn:aws:logs:{region}:{account}:log-group:{pid}:*",
                "AWS::SQS::Queue": f"arn:aws:sqs:{region}:{account}:{pid}",
                "AWS::Serverless::Function": f"arn:aws:lambda:{region}:{account}:function:{pid}",
                "AWS::KMS::Key": f"arn:aws:kms:{region}:{account}:key/00000000-0000-0000-0000-000000000000",
            }.get(kind)
            if arn:
                return arn
        if attr == "QueueName":
            return pid
        return super().get_att(logical_id, attr)


def roles(template: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    t = template or load()
    return {k: v for k, v in t["Resources"].items() if v["Type"] == "AWS::IAM::Role"}


def rendered_policies(template: dict[str, Any] | None = None,
                      params: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """`Role/PolicyName` -> the inline policy as IAM JSON, for the given parameter values."""
    t = template or load()
    r = StackRenderer(t, params or {"CustomerTemplateUrl": "https://example.s3.amazonaws.com/costradar-role.yaml"})
    out = {}
    for logical, res in roles(t).items():
        for p in res["Properties"].get("Policies", []):
            out[f"{logical}/{p['PolicyName']}"] = r.eval(p["PolicyDocument"])
    return out


def customer_role_name() -> str:
    role = cfn_policy.load_template(CUSTOMER_ROLE_TEMPLATE)
    return role["Resources"]["Role"]["Properties"]["RoleName"]


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("render")
    r.add_argument("directory", type=Path)
    sub.add_parser("cloudsplaining")
    args = ap.parse_args(argv)
    # Both variants of the optional statements (the notification bus on and off).
    variants = {"": None, " (NotifyEventBusName set)": {
        "CustomerTemplateUrl": "https://example.s3.amazonaws.com/costradar-role.yaml", "NotifyEventBusName": "findings"}}
    if args.cmd == "render":
        args.directory.mkdir(parents=True, exist_ok=True)
        for name, doc in rendered_policies().items():
            path = args.directory / (name.replace("/", "--") + ".json")
            path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
            print(path)
        return 0
    status = 0
    for suffix, params in variants.items():
        for name, doc in rendered_policies(params=params).items():
            f = cfn_policy.cloudsplaining_findings(doc, strict=False)
            bad = {k: f[k] for k in HIGH_RISK if f[k]}
            if bad:
                status = 1
                print(f"✕ {name}{suffix}: {bad}")
            else:
                print(f"✓ {name}{suffix}: no high-risk finding (cloudsplaining)")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
