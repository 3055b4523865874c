"""The operator's stack (infra/template.yaml) and its state machines (infra/statemachines/): the
analysers `make validate` runs (sam validate --lint, cfn-lint, checkov, asl-validator,
cloudsplaining), each guarded against silently checking nothing, and the security and operations
invariants of the stack as tests, not comments."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from conftest import ROOT, cfn_policy, run, tool

import stack_policy  # tools/, on sys.path through conftest

TEMPLATE = ROOT / "infra" / "template.yaml"
ASL_DIR = ROOT / "infra" / "statemachines"
LAMBDA_ERRORS = {"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                 "Lambda.TooManyRequestsException"}
# Output names the README, the demo and operators rely on.
OUTPUTS = {"ReceiverUrl", "CustomResourceTopicArn", "ScannerRoleArn", "OperatorApiUrl", "TableName"}


@pytest.fixture(scope="module")
def stack() -> dict:
    return stack_policy.load()


def resources(t: dict, kind: str) -> dict[str, dict]:
    return {k: v for k, v in t["Resources"].items() if v["Type"] == kind}


def functions(t: dict) -> dict[str, dict]:
    return resources(t, "AWS::Serverless::Function")


def prop(t: dict, fn: dict, name: str):
    """A function property, falling back to Globals."""
    return fn["Properties"].get(name, t.get("Globals", {}).get("Function", {}).get(name))


def ref_of(v) -> str | None:
    return v.get("Ref") if isinstance(v, dict) else None


def getatt_of(v) -> tuple[str, str] | None:
    if isinstance(v, dict) and "Fn::GetAtt" in v:
        a = v["Fn::GetAtt"]
        return tuple(a.split(".", 1)) if isinstance(a, str) else tuple(a)
    return None


def bin_names(cargo: Path) -> set[str]:
    return set(re.findall(r'\[\[bin\]\]\s*\nname\s*=\s*"([^"]+)"', cargo.read_text(encoding="utf-8")))


def cargo_binaries() -> set[str]:
    names = set()
    for cargo in (ROOT / "functions").glob("*/Cargo.toml"):
        names |= bin_names(cargo)
    return names


def statements(doc: dict) -> list[dict]:
    return cfn_policy.as_list(doc["Statement"])


def all_policies() -> dict[str, dict]:
    """Every inline policy, with the optional statements both off and on."""
    out = dict(stack_policy.rendered_policies())
    on = stack_policy.rendered_policies(params={"CustomerTemplateUrl": "https://x.s3.amazonaws.com/r.yaml",
                                                "NotifyEventBusName": "findings"})
    out.update({k + " (bus on)": v for k, v in on.items()})
    return out


# ---------------------------------------------------------------- the analysers


def sam_binary() -> Path:
    path = Path(os.environ.get("SAM", ROOT / ".venv" / "sam" / "bin" / "sam"))
    if not path.exists():
        pytest.fail(f"{path} is missing: run tools/check-templates.sh, which installs aws-sam-cli into .venv/sam/")
    return path


def test_sam_validate_lint():
    r = run([sam_binary(), "validate", "--lint", "--template", TEMPLATE, "--region", "us-east-1"])
    assert r.returncode == 0 and "is a valid SAM Template" in r.stdout + r.stderr, r.stdout + r.stderr


def test_sam_validate_lint_does_fail_a_broken_template(tmp_path):
    broken = tmp_path / "template.yaml"
    broken.write_text(TEMPLATE.read_text(encoding="utf-8").replace("BillingMode: PAY_PER_REQUEST", "BillingMode: WHATEVER"),
                      encoding="utf-8")
    r = run([sam_binary(), "validate", "--lint", "--template", broken, "--region", "us-east-1"])
    assert r.returncode != 0, "sam validate --lint accepted an invalid BillingMode"


def test_cfn_lint_finds_no_error_and_no_warning():
    r = run([tool("cfn-lint"), "--format", "parseable", TEMPLATE])
    assert r.returncode == 0 and r.stdout.strip() == "", r.stdout + r.stderr


def test_checkov_has_no_failed_check_and_every_skip_is_justified(tmp_path):
    from test_analysers import checkov_results

    (tmp_path / "template.yaml").write_text(TEMPLATE.read_text(encoding="utf-8"), encoding="utf-8")
    res = checkov_results(tmp_path)
    failed = [f"{c['check_id']} {c['resource']}" for c in res["failed_checks"]]
    assert not failed, "checkov failed checks:\n  " + "\n  ".join(failed)
    for c in res["skipped_checks"]:
        comment = (c.get("check_result") or {}).get("suppress_comment") or ""
        assert len(comment) > 40, f"checkov skip of {c['check_id']} on {c['resource']} is not justified"
    scanned = {c["resource"] for c in res["passed_checks"]}
    for r in ("AWS::Serverless::Function.ReceiverFunction", "AWS::DynamoDB::Table.Table",
              "AWS::IAM::Role.ScanRole", "AWS::Logs::LogGroup.ScanStateMachineLogGroup"):
        assert r in scanned, f"checkov did not scan {r}"


def test_asl_validator_accepts_every_state_machine():
    r = run(["node", ROOT / "tests" / "sfn" / "validate.mjs"])
    assert r.returncode == 0, r.stdout + r.stderr
    files = sorted(ASL_DIR.glob("*.asl.json"))
    assert files and all(f"{f.relative_to(ROOT)}: valid" in r.stdout for f in files), r.stdout


def test_asl_validator_does_reject_a_broken_definition(tmp_path):
    script = tmp_path / "bad.mjs"
    validator = ROOT / "tests" / "node_modules" / "asl-validator"
    script.write_text(
        f"import {{ createRequire }} from 'node:module';\n"
        f"const v = createRequire({json.dumps(str(ROOT / 'tests' / 'package.json'))})({json.dumps(str(validator))});\n"
        "const r = v({StartAt: 'A', States: {A: {Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:1:function:f', Next: 'Nowhere'}}});\n"
        "process.exit(r.isValid ? 0 : 3);\n", encoding="utf-8")
    assert run(["node", script]).returncode == 3


@pytest.mark.parametrize("name", sorted(stack_policy.rendered_policies()))
def test_cloudsplaining_finds_no_high_risk_action(name):
    for label, doc in all_policies().items():
        if label.split(" ")[0] != name:
            continue
        f = cfn_policy.cloudsplaining_findings(doc, strict=False)
        for key in stack_policy.HIGH_RISK:
            assert f[key] == [], f"cloudsplaining {key} in {label}: {f[key]}"
        assert f["ServiceWildcard"] == [], label


def test_cloudsplaining_would_flag_a_risky_function_policy():
    bad = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"], "Resource": "*"}]}
    f = cfn_policy.cloudsplaining_findings(bad, strict=False)
    assert f["PrivilegeEscalation"], f


# ---------------------------------------------------------------- functions


def test_the_functions_build_the_workspace_binaries(stack):
    fns = functions(stack)
    binaries = {name: f["Metadata"]["BuildProperties"]["Binary"] for name, f in fns.items()}
    assert set(binaries.values()) == cargo_binaries() == {"cur-query", "onboarding", "receiver", "scan"}
    # The operator API and the public custom-resource path share code, never a function.
    assert [n for n, b in sorted(binaries.items()) if b == "onboarding"] == ["OnboardingFunction", "RegistrationFunction"]


def test_every_function_is_arm64_al2023_cargolambda_json_logs_traced(stack):
    for name, fn in functions(stack).items():
        assert prop(stack, fn, "Runtime") == "provided.al2023", name
        assert prop(stack, fn, "Architectures") == ["arm64"], name
        assert prop(stack, fn, "Handler") == "bootstrap", name
        assert fn["Metadata"]["BuildMethod"] == "rust-cargolambda", name
        assert prop(stack, fn, "Tracing") == "Active", name
        logging = prop(stack, fn, "LoggingConfig")
        assert logging["LogFormat"] == "JSON", name
        group = ref_of(logging["LogGroup"])
        assert stack["Resources"][group]["Type"] == "AWS::Logs::LogGroup", name
        assert prop(stack, fn, "CodeUri") == "../", f"{name}: builds in the workspace root"
        assert isinstance(fn["Properties"].get("Timeout"), int), f"{name} sets its timeout"


def test_every_function_has_its_own_role_with_one_policy_that_writes_only_its_log_group(stack):
    seen = set()
    for name, fn in functions(stack).items():
        role = getatt_of(fn["Properties"]["Role"])
        assert role and role[1] == "Arn", f"{name}: an explicit role of this stack"
        assert role[0] not in seen, f"{name} shares role {role[0]}"
        seen.add(role[0])
        props = stack["Resources"][role[0]]["Properties"]
        assert "ManagedPolicyArns" not in props, f"{role[0]}: managed policies grant logs on *"
        assert len(props["Policies"]) == 1, role[0]
        doc = stack_policy.rendered_policies()[f"{role[0]}/{props['Policies'][0]['PolicyName']}"]
        trust = props["AssumeRolePolicyDocument"]["Statement"]
        assert trust[0]["Principal"] == {"Service": "lambda.amazonaws.com"}, role[0]
        # The scan role alone is also assumed by the verifiers (test_verification_runs_as_the_scan_role).
        assert len(trust) == (2 if role[0] == "ScanRole" else 1), role[0]
        log_group = ref_of(fn["Properties"]["LoggingConfig"]["LogGroup"])
        logs = [s for s in statements(doc) if any(a.startswith("logs:") for a in cfn_policy.as_list(s["Action"]))]
        own = f"arn:aws:logs:us-east-1:111122223333:log-group:costradar-{log_group.lower()}-example:*"
        assert len(logs) == 1 and logs[0]["Resource"] == own, role[0]
        assert sorted(cfn_policy.as_list(logs[0]["Action"])) == ["logs:CreateLogStream", "logs:PutLogEvents"]


def test_every_log_group_has_retention_and_the_customer_managed_key(stack):
    for name, g in resources(stack, "AWS::Logs::LogGroup").items():
        assert ref_of(g["Properties"]["RetentionInDays"]) == "LogRetentionDays", name
        assert getatt_of(g["Properties"]["KmsKeyId"]) == ("OpsKey", "Arn"), name


def test_the_local_emulator_switch_is_never_set_in_the_stack():
    # COSTRADAR_LOCAL_EMULATOR relaxes verification for moto; it has no business in AWS.
    assert "COSTRADAR_LOCAL_EMULATOR" not in TEMPLATE.read_text(encoding="utf-8")


# Variables the code reads that the stack does not set: Lambda sets AWS_REGION itself; the
# others are for local runs only (tools/demo.sh).
NOT_FROM_THE_STACK = {"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL"}


def config_reads(binary: str) -> tuple[set[str], set[str]]:
    """(required, all) environment variables a Lambda binary reads: its functions/<crate>/src/config.rs,
    and the onboarding settings when its Config holds them. Required ones are read with need("X")
    (or costradar_core::config::table_name), optional ones with get("X") or hours("X", default);
    the sources' tests are left out."""
    crates = [c.parent for c in (ROOT / "functions").glob("*/Cargo.toml") if binary in bin_names(c)]
    assert len(crates) == 1, f"{binary}: {crates}"
    config = crates[0] / "src" / "config.rs"
    sources = [config.read_text(encoding="utf-8")]
    if "OnboardingSettings" in sources[0]:
        sources.append((ROOT / "crates" / "core" / "src" / "onboarding" / "settings.rs").read_text(encoding="utf-8"))
    code = "".join(src.split("#[cfg(test)]")[0] for src in sources)
    required = set(re.findall(r'\bneed\("([A-Z][A-Z0-9_]*)"\)', code))
    read = set(re.findall(r'\b(?:need|get|hours)\("([A-Z][A-Z0-9_]*)"', code))
    # The shared readers of costradar_core::config.
    if "config::table_name(" in code:
        required.add("TABLE_NAME")
        read.add("TABLE_NAME")
    return required, read


def test_every_function_gets_the_table_and_the_settings_its_code_reads(stack):
    # Each Lambda reads its environment in one place, its config.rs (Config::from_env), which is
    # what config_reads looks at.
    for src in (ROOT / "functions").glob("*/src/**/*.rs"):
        if src.name != "config.rs":
            assert "env::var" not in src.read_text(encoding="utf-8"), f"{src}: read the environment in config.rs"
    fns = functions(stack)
    for name, fn in fns.items():
        env = fn["Properties"]["Environment"]["Variables"]
        assert ref_of(env["TABLE_NAME"]) == "Table", name
        required, read = config_reads(fn["Metadata"]["BuildProperties"]["Binary"])
        assert "TABLE_NAME" in required, name
        missing = required - NOT_FROM_THE_STACK - set(env)
        assert not missing, f"{name} needs {sorted(missing)}"
        assert set(env) <= read, f"{name}: the stack sets {sorted(set(env) - read)}, which its code never reads"
    onboarding, registration = (fns[n]["Properties"]["Environment"]["Variables"]
                                for n in ("OnboardingFunction", "RegistrationFunction"))
    assert onboarding == registration, "one code, one configuration"
    required, _ = config_reads("onboarding")
    assert required >= {"COSTRADAR_ACCOUNT_ID", "COSTRADAR_TOPIC_ARN", "COSTRADAR_TEMPLATE_URL"}
    assert ref_of(onboarding["COSTRADAR_TOPIC_ARN"]) == "CustomResourceTopic"
    receiver = fns["ReceiverFunction"]["Properties"]["Environment"]["Variables"]
    assert ref_of(receiver["NOTIFY_TOPIC_ARN"]) == "NotifyTopic"
    assert config_reads("receiver")[1] >= {"NOTIFY_TOPIC_ARN", "NOTIFY_EVENT_BUS"}


# ---------------------------------------------------------------- IAM: scoping and the scanner roles


def test_no_star_resource_where_the_action_can_be_scoped():
    db = cfn_policy.IamDatabase()
    from policy_sentry.querying.actions import get_action_data

    for label, doc in all_policies().items():
        for s in statements(doc):
            assert s["Effect"] == "Allow" and "NotAction" not in s and "NotResource" not in s, label
            for a in cfn_policy.as_list(s["Action"]):
                assert "*" not in a and "?" not in a, f"{label}: wildcard action {a}"
                assert db.exists(a), f"{label}: {a} is not an IAM action"
                if "*" not in cfn_policy.as_list(s["Resource"]):
                    continue
                service, name = a.split(":")
                rows = get_action_data(service, name)[service]
                formats = {r["resource_arn_format"] for r in rows if r["action"].lower() == a.lower()}
                assert formats == {"*"}, f"{label}: {a} on Resource * but it can be scoped to {formats - {'*'}}"


def test_scoped_resources_are_in_this_account_except_the_customer_roles():
    # "*" is checked above; the customer's two roles are the only ARNs in other accounts.
    customer = {"arn:aws:iam::*:role/" + n for n in customer_role_names().values()}
    for label, doc in all_policies().items():
        for s in statements(doc):
            for r in cfn_policy.as_list(s["Resource"]):
                if r == "*" or r in customer:
                    continue
                # S3 ARNs name no account: only this stack's own buckets.
                if r.startswith("arn:aws:s3:::"):
                    assert r.split(":::")[1].split("/")[0] in own_buckets(), f"{label}: {r}"
                    continue
                assert r.startswith("arn:aws:") and r.split(":")[4] == "111122223333", f"{label}: {r}"


def own_buckets() -> set[str]:
    """The physical names (as rendered) of the stack's S3 buckets."""
    t = stack_policy.load()
    return {f"costradar-{k.lower()}-example" for k, v in t["Resources"].items() if v["Type"] == "AWS::S3::Bucket"}


def customer_role_names() -> dict[str, str]:
    """Logical id -> RoleName of the customer template's roles that costradar assumes."""
    customer = cfn_policy.load_template(stack_policy.CUSTOMER_ROLE_TEMPLATE)
    return {n: customer["Resources"][n]["Properties"]["RoleName"] for n in ("Role", "EnrichmentRole")}


def operator_role_arn(stack: dict, logical: str) -> str:
    """The operator role's ARN as a customer's trust policy names it (account 111122223333, us-east-1)."""
    props = stack["Resources"][logical]["Properties"]
    name = props["RoleName"]["Fn::Sub"].replace("${AWS::Region}", "us-east-1")
    return f"arn:aws:iam::111122223333:role{props['Path']}{name}"


def test_sts_is_only_assume_role_on_the_role_each_function_needs(stack):
    """Scan and cur-query assume the customer's read-only role; the receiver only the customer's
    enrichment role; onboarding and registration only the scan role (to verify as it)."""
    names = customer_role_names()
    assert names == {"Role": "CostradarReadOnly", "EnrichmentRole": "CostradarRealtimeEnrichment"}
    expected = {
        "ScanRole": "arn:aws:iam::*:role/CostradarReadOnly",
        "CurQueryRole": "arn:aws:iam::*:role/CostradarReadOnly",
        "ReceiverRole": "arn:aws:iam::*:role/CostradarRealtimeEnrichment",
        "OnboardingRole": operator_role_arn(stack, "ScanRole"),
        "RegistrationRole": operator_role_arn(stack, "ScanRole"),
    }
    seen = {}
    for label, doc in all_policies().items():
        for s in statements(doc):
            actions = cfn_policy.as_list(s["Action"])
            if any(a.lower().startswith("sts:") for a in actions):
                assert actions == ["sts:AssumeRole"] and "Condition" not in s, f"{label}: {actions}"
                seen.setdefault(label.split("/")[0], set()).update(cfn_policy.as_list(s["Resource"]))
    assert seen == {role: {arn} for role, arn in expected.items()}


def principal_arns(statement: dict) -> list[str]:
    return [v if isinstance(v, str) else v["Fn::Sub"][0]
            for v in cfn_policy.as_list(statement["Condition"]["ArnEquals"]["aws:PrincipalArn"])]


def test_customer_roles_trust_exactly_the_roles_that_use_them(stack):
    """cfn/costradar-role.yaml pins costradar's roles by ARN, never by path: the read-only role
    trusts the scan and cur-query roles, the enrichment role the receiver role. The names match
    the operator stack's RoleNames, costradar's region coming from the topic ARN."""
    customer = cfn_policy.load_template(stack_policy.CUSTOMER_ROLE_TEMPLATE)
    res = customer["Resources"]

    def as_operator(arn: str) -> str:
        return (arn.replace("${CostradarAccountId}", "111122223333").replace("${CostradarRegion}", "us-east-1"))

    for logical, trusted in (("Role", ["ScanRole", "CurQueryRole"]), ("EnrichmentRole", ["ReceiverRole"])):
        (statement,) = res[logical]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Condition"]["StringEquals"] == {"sts:ExternalId": {"Ref": "ExternalId"}}, logical
        assert "ArnLike" not in statement["Condition"], f"{logical}: no wildcard trust"
        pinned = [as_operator(a) for a in principal_arns(statement)]
        assert pinned == [operator_role_arn(stack, t) for t in trusted], logical
    for v in cfn_policy.as_list(res["Role"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]
                                ["ArnEquals"]["aws:PrincipalArn"]):
        assert v["Fn::Sub"][1]["CostradarRegion"] == {"Fn::Select": [3, {"Fn::Split": [":", {"Ref": "CustomResourceTopicArn"}]}]}
    # The enrichment role can describe instances and images and nothing else, and exists only
    # with real time.
    enrich = res["EnrichmentRole"]
    assert enrich["Condition"] == "RealtimeEnabled"
    (policy,) = enrich["Properties"]["Policies"]
    assert [s["Action"] for s in policy["PolicyDocument"]["Statement"]] == [["ec2:DescribeInstances", "ec2:DescribeImages"]]
    code = (ROOT / "crates" / "core" / "src" / "domain" / "ids.rs").read_text(encoding="utf-8")
    assert f'ENRICHMENT_ROLE_NAME: &str = "{enrich["Properties"]["RoleName"]}"' in code


def test_verification_runs_as_the_scan_role(stack):
    """Onboarding and registration prove a customer role as the scan role (the role that will
    use it): their functions name it, and the scan role trusts exactly their two roles."""
    fns = functions(stack)
    for fn in ("OnboardingFunction", "RegistrationFunction"):
        env = fns[fn]["Properties"]["Environment"]["Variables"]
        assert getatt_of(env["COSTRADAR_VERIFY_AS_ROLE_ARN"]) == ("ScanRole", "Arn"), fn
    trust = stack["Resources"]["ScanRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    (verifiers,) = [s for s in trust if s.get("Sid") == "VerifierSessions"]
    arns = [v["Fn::Sub"].replace("${AWS::Partition}", "aws").replace("${AWS::AccountId}", "111122223333")
            .replace("${AWS::Region}", "us-east-1") for v in verifiers["Condition"]["ArnEquals"]["aws:PrincipalArn"]]
    assert arns == [operator_role_arn(stack, "OnboardingRole"), operator_role_arn(stack, "RegistrationRole")]


def test_scanner_role_output_is_the_scan_function_role(stack):
    out = stack["Outputs"]["ScannerRoleArn"]["Value"]
    assert getatt_of(out) == ("ScanRole", "Arn")
    scan = next(f for f in functions(stack).values() if f["Metadata"]["BuildProperties"]["Binary"] == "scan")
    assert getatt_of(scan["Properties"]["Role"]) == ("ScanRole", "Arn")


def test_table_actions_are_item_level_on_this_table_only():
    for label, doc in all_policies().items():
        for s in statements(doc):
            for a in cfn_policy.as_list(s["Action"]):
                if not a.startswith("dynamodb:"):
                    continue
                assert a not in ("dynamodb:Scan", "dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:CreateTable"), \
                    f"{label}: {a}"
                for r in cfn_policy.as_list(s["Resource"]):
                    assert re.fullmatch(r"arn:aws:dynamodb:[^:]+:\d{12}:table/costradar-table-example(/index/GSI[12])?", r), \
                        f"{label}: {a} on {r}"


def test_no_role_can_pass_roles_or_change_iam(stack):
    for label, doc in all_policies().items():
        for s in statements(doc):
            for a in cfn_policy.as_list(s["Action"]):
                assert not a.lower().startswith("iam:"), f"{label}: {a}"


# ---------------------------------------------------------------- entry points


def test_receiver_is_a_public_function_url_and_the_operator_api_uses_iam(stack):
    receiver = next(f for f in functions(stack).values() if f["Metadata"]["BuildProperties"]["Binary"] == "receiver")
    url = receiver["Properties"]["FunctionUrlConfig"]
    assert url["AuthType"] == "NONE", "API destinations cannot sign: the token is checked in the function"
    assert "Events" not in receiver["Properties"], "the receiver has no other trigger"
    api = resources(stack, "AWS::Serverless::HttpApi")
    assert set(api) == {"OperatorApi", "UsersApi", "ConsoleApi"}, "UsersApi (JWT), ConsoleApi: tests/templates/test_users.py"
    assert api["OperatorApi"]["Properties"]["Auth"] == {"EnableIamAuthorizer": True, "DefaultAuthorizer": "AWS_IAM"}


def test_custom_resource_topic_lets_anyone_publish_and_nothing_else(stack):
    policy = stack["Resources"]["CustomResourceTopicPolicy"]["Properties"]["PolicyDocument"]
    allows = [s for s in statements(policy) if s["Effect"] == "Allow"]
    assert len(allows) == 1
    assert allows[0]["Principal"] == {"AWS": "*"} and allows[0]["Action"] == "sns:Publish"
    assert ref_of(allows[0]["Resource"]) == "CustomResourceTopic"
    denies = [s for s in statements(policy) if s["Effect"] == "Deny"]
    assert denies and denies[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_only_the_registration_function_subscribes_to_the_custom_resource_topic(stack):
    subs = [(n, e) for n, f in functions(stack).items() for e in (f["Properties"].get("Events") or {}).values()
            if e["Type"] == "SNS"]
    assert [n for n, _ in subs] == ["RegistrationFunction"]
    api = [n for n, f in functions(stack).items() for e in (f["Properties"].get("Events") or {}).values()
           if e["Type"] == "HttpApi"]
    assert set(api) == {"OnboardingFunction"}, "the operator API has a function of its own"
    assert ref_of(subs[0][1]["Properties"]["Topic"]) == "CustomResourceTopic"


# ---------------------------------------------------------------- dead letters and alarms


ASYNC_EVENTS = {"SNS", "S3", "EventBridgeRule", "CloudWatchEvent", "Schedule", "ScheduleV2", "SQS"}


def test_every_async_invocation_has_a_dead_letter_queue(stack):
    for name, fn in functions(stack).items():
        events = (fn["Properties"].get("Events") or {}).values()
        if not any(e["Type"] in ASYNC_EVENTS for e in events):
            continue
        dlq = fn["Properties"].get("DeadLetterQueue")
        assert dlq and dlq["Type"] == "SQS", f"{name} is invoked asynchronously without a DLQ"
        queue = getatt_of(dlq["TargetArn"])[0]
        role = stack["Resources"][getatt_of(fn["Properties"]["Role"])[0]]["Properties"]
        doc = role["Policies"][0]["PolicyDocument"]
        assert any(isinstance(s, dict) and s.get("Action") == "sqs:SendMessage" and getatt_of(s["Resource"]) == (queue, "Arn")
                   for s in statements(doc)), f"{name}'s role cannot write its DLQ"
        for e in events:
            if e["Type"] == "SNS":
                assert "deadLetterTargetArn" in e["Properties"].get("RedrivePolicy", {}), f"{name}: SNS delivery DLQ"
    for name, s in resources(stack, "AWS::Scheduler::Schedule").items():
        assert "DeadLetterConfig" in s["Properties"]["Target"], name


def test_every_queue_is_a_watched_dead_letter_queue(stack):
    alarms = resources(stack, "AWS::CloudWatch::Alarm").values()
    watched = {getatt_of(d["Value"])[0] for a in alarms if a["Properties"].get("Namespace") == "AWS/SQS"
               for d in a["Properties"]["Dimensions"]}
    assert watched == set(resources(stack, "AWS::SQS::Queue"))


def test_alarms_cover_errors_throttles_failures_and_the_receiver_5xx_rate(stack):
    alarms = list(resources(stack, "AWS::CloudWatch::Alarm").values())
    for a in alarms:
        assert [ref_of(x) for x in a["Properties"]["AlarmActions"]] == ["AlarmTopic"]
    def watched(metric):
        return {ref_of(d["Value"]) for a in alarms if a["Properties"].get("MetricName") == metric
                for d in a["Properties"]["Dimensions"]}
    fns = set(functions(stack))
    assert watched("Errors") == fns and watched("Throttles") == fns
    machines = set(resources(stack, "AWS::Serverless::StateMachine"))
    assert watched("ExecutionsFailed") == machines and watched("ExecutionsTimedOut") == machines
    rate = [a for a in alarms if "Metrics" in a["Properties"]]
    assert len(rate) == 1
    names = {m["MetricStat"]["Metric"]["MetricName"] for m in rate[0]["Properties"]["Metrics"] if "MetricStat" in m}
    assert names == {"Url5xxCount", "UrlRequestCount"}


def test_outputs(stack):
    assert OUTPUTS <= set(stack["Outputs"])
    assert getatt_of(stack["Outputs"]["ReceiverUrl"]["Value"]) == ("ReceiverFunctionUrl", "FunctionUrl")


def test_table_has_pitr_sse_ttl_and_a_deletion_protection_parameter(stack):
    (table,) = resources(stack, "AWS::DynamoDB::Table").values()
    p = table["Properties"]
    assert p["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert p["SSESpecification"]["SSEEnabled"] is True
    assert p["TimeToLiveSpecification"]["Enabled"] is True
    assert ref_of(p["DeletionProtectionEnabled"]) == "TableDeletionProtection"
    assert stack["Parameters"]["TableDeletionProtection"]["Default"] == "true"


# ---------------------------------------------------------------- state machines


def asl_states(definition: dict):
    """Every state, with the ones inside Map/Parallel, as (name, state)."""
    for name, s in definition["States"].items():
        yield name, s
        for sub in [s.get("ItemProcessor"), s.get("Iterator"), *(s.get("Branches") or [])]:
            if sub:
                yield from asl_states(sub)


def rendered(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    return json.loads(re.sub(r"\$\{(MaxConcurrency|ToleratedFailurePercentage)\}", "10", text).replace("${", "X{"))


def test_state_machines_come_from_the_asl_files_with_matching_substitutions(stack):
    machines = resources(stack, "AWS::Serverless::StateMachine")
    files = {p.name for p in ASL_DIR.glob("*.asl.json")}
    used = {Path(m["Properties"]["DefinitionUri"]).name for m in machines.values()}
    assert used == files, "every ASL file is deployed, and only those"
    fn_arns = {getatt_of(v)[0] for m in machines.values() for v in m["Properties"]["DefinitionSubstitutions"].values()
               if getatt_of(v)}
    for name, m in machines.items():
        text = (ROOT / "infra" / m["Properties"]["DefinitionUri"]).read_text(encoding="utf-8")
        placeholders = set(re.findall(r"\$\{([A-Za-z0-9]+)\}", text))
        assert placeholders == set(m["Properties"]["DefinitionSubstitutions"]), name
        assert ref_of(m["Properties"]["DefinitionSubstitutions"]["MaxConcurrency"]) == "ScanMaxConcurrency"
        role = stack["Resources"][getatt_of(m["Properties"]["Role"])[0]]["Properties"]
        invoke = [s for s in statements(role["Policies"][0]["PolicyDocument"]) if s["Action"] == "lambda:InvokeFunction"]
        assert {getatt_of(r)[0] for s in invoke for r in cfn_policy.as_list(s["Resource"])} == fn_arns, name
        assert m["Properties"]["Tracing"] == {"Enabled": True}
        assert m["Properties"]["Logging"]["Level"] in ("ERROR", "ALL")


@pytest.mark.parametrize("path", sorted(ASL_DIR.glob("*.asl.json")), ids=lambda p: p.name)
def test_every_task_and_the_machine_have_timeouts_and_retries(path):
    d = rendered(path)
    assert isinstance(d.get("TimeoutSeconds"), int) and d["TimeoutSeconds"] <= 24 * 3600
    tasks = [(n, s) for n, s in asl_states(d) if s["Type"] == "Task"]
    assert tasks
    for name, s in tasks:
        assert isinstance(s.get("TimeoutSeconds"), int) and s["TimeoutSeconds"] <= 900, name
        retried = {e for r in s.get("Retry", []) for e in r["ErrorEquals"]}
        assert LAMBDA_ERRORS <= retried and "Transient" in retried, f"{name} retries {retried}"
        for r in s["Retry"]:
            assert r.get("BackoffRate", 1) >= 2 and r.get("MaxAttempts", 3) >= 3, f"{name}: back-off"
        assert "Resource" in s and s["Resource"].startswith("X{"), f"{name}: a substituted function ARN"


def test_one_account_failure_is_caught_inside_the_map():
    d = rendered(ASL_DIR / "scan.asl.json")
    maps = [s for _, s in asl_states(d) if s["Type"] == "Map"]
    assert len(maps) == 1
    proc = maps[0]["ItemProcessor"]
    for name, s in asl_states(proc):
        if s["Type"] == "Task":
            assert any("States.ALL" in c["ErrorEquals"] for c in s.get("Catch", [])), f"{name} is not caught"
    assert maps[0]["MaxConcurrency"] == 10


def test_the_scan_map_is_distributed_over_the_runs_bucket_with_a_role_scoped_to_it(stack):
    """Issue #20: the Map reads its items (JSON Lines) from and writes its results to the runs
    bucket; MaxConcurrency and the failure tolerance are stack parameters; the role has exactly
    the distributed Map's documented actions, on this machine and on runs/ of this bucket."""
    text = (ASL_DIR / "scan.asl.json").read_text(encoding="utf-8")
    d = rendered(ASL_DIR / "scan.asl.json")
    (m,) = [s for _, s in asl_states(d) if s["Type"] == "Map"]
    assert m["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    assert m["ItemReader"] == {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSONL"},
                               "Parameters": {"Bucket.$": "$.bucket", "Key.$": "$.key"}}
    assert m["ResultWriter"] == {"Resource": "arn:aws:states:::s3:putObject",
                                 "Parameters": {"Bucket.$": "$.bucket", "Prefix.$": "$.results_prefix"}}
    assert "ItemBatcher" not in m and "ItemsPath" not in m, "one account per child (docs/workflows.md)"
    assert '"MaxConcurrency": ${MaxConcurrency}' in text
    assert '"ToleratedFailurePercentage": ${ToleratedFailurePercentage}' in text
    assert m["ResultSelector"] == {"Bucket.$": "$.ResultWriterDetails.Bucket", "Key.$": "$.ResultWriterDetails.Key"}
    assert d["States"]["FinishRun"]["Parameters"] == {"task": "finish_run", "run_id.$": "$.run_id", "results.$": "$.results"}
    assert d["States"]["AnyDue"]["Choices"][0]["Next"] == "ScanAccounts" and d["States"]["AnyDue"]["Default"] == "NothingDue"

    machine = stack["Resources"]["ScanStateMachine"]["Properties"]
    assert machine["Name"] == {"Fn::Sub": "costradar-scan-${AWS::Region}"}
    assert ref_of(machine["DefinitionSubstitutions"]["ToleratedFailurePercentage"]) == "ScanToleratedFailurePercentage"
    tolerance = stack["Parameters"]["ScanToleratedFailurePercentage"]
    assert (tolerance["MinValue"], tolerance["MaxValue"]) == (0, 100)

    runs = "arn:aws:s3:::costradar-scanrunsbucket-example/runs/*"
    doc = stack_policy.rendered_policies()["ScanStateMachineRole/scan-workflow"]
    by_sid = {s["Sid"]: s for s in statements(doc)}
    assert by_sid["MapRunChildren"]["Action"] == "states:StartExecution"
    assert by_sid["MapRunChildren"]["Resource"] == "arn:aws:states:us-east-1:111122223333:stateMachine:costradar-scan-us-east-1"
    assert sorted(by_sid["MapRunChildExecutions"]["Action"]) == ["states:DescribeExecution", "states:StopExecution"]
    assert by_sid["MapRunChildExecutions"]["Resource"] == \
        "arn:aws:states:us-east-1:111122223333:execution:costradar-scan-us-east-1/*"
    assert sorted(by_sid["MapRunObjects"]["Action"]) == \
        ["s3:AbortMultipartUpload", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:PutObject"]
    assert by_sid["MapRunObjects"]["Resource"] == runs
    for label, policy in all_policies().items():
        for st in statements(policy):
            acts = cfn_policy.as_list(st["Action"])
            if any(a.startswith("states:") for a in acts):
                # The scheduler starts the machine; only the machine's own Map runs children.
                assert label.startswith("ScanStateMachineRole/") or acts == ["states:StartExecution"], f"{label}: {acts}"
            if any(a.startswith("s3:") for a in acts) and "ScanRunsBucket" in json.dumps(st) or runs in cfn_policy.as_list(st["Resource"]):
                assert cfn_policy.as_list(st["Resource"]) == [runs], f"{label}: {st}"
    scan_role = stack_policy.rendered_policies()["ScanRole/scan"]
    (objects,) = [st for st in statements(scan_role) if st.get("Sid") == "RunObjects"]
    assert sorted(cfn_policy.as_list(objects["Action"])) == ["s3:GetObject", "s3:PutObject"] and objects["Resource"] == runs

    bucket = stack["Resources"]["ScanRunsBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values()) and len(bucket["PublicAccessBlockConfiguration"]) == 4
    (rule,) = bucket["LifecycleConfiguration"]["Rules"]
    assert (rule["Prefix"], rule["ExpirationInDays"], rule["Status"]) == ("runs/", 30, "Enabled")
    (tls,) = stack["Resources"]["ScanRunsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    env = functions(stack)["ScanFunction"]["Properties"]["Environment"]["Variables"]
    assert ref_of(env["RUNS_BUCKET"]) == "ScanRunsBucket"


def test_the_price_list_cache_is_refreshed_daily_by_the_scan_function(stack):
    scan = functions(stack)["ScanFunction"]["Properties"]
    [event] = [e for e in scan["Events"].values() if e["Type"] == "ScheduleV2"]
    props = event["Properties"]
    assert props["ScheduleExpression"] == "rate(1 day)"
    task = json.loads(props["Input"])["task"]
    tasks_rs = (ROOT / "crates" / "core" / "src" / "scan" / "tasks.rs").read_text(encoding="utf-8")
    # `ScanTask` is `#[serde(tag = "task", rename_all = "snake_case")]`: the task is its variant.
    variant = "".join(part.title() for part in task.split("_"))
    enum = re.search(r"pub enum ScanTask \{(.*?)\n\}", tasks_rs, re.S)
    assert enum and re.search(rf"\b{variant}\b", enum.group(1)), f"the scan function has no task {task}"
    assert getatt_of(props["DeadLetterConfig"]["Arn"]) == ("SchedulerDlq", "Arn")
    # The scan role may read prices, and nothing else of the Price List's.
    doc = stack["Resources"]["ScanRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    pricing = [a for s in statements(doc) for a in cfn_policy.as_list(s["Action"]) if a.startswith("pricing:")]
    assert pricing == ["pricing:GetProducts"]
    scheduler = stack["Resources"][getatt_of(props["RoleArn"])[0]]["Properties"]["Policies"][0]["PolicyDocument"]
    invoke = [s for s in statements(scheduler) if s["Action"] == "lambda:InvokeFunction"]
    assert [getatt_of(s["Resource"]) for s in invoke] == [("ScanFunction", "Arn")]


def test_receiver_and_onboarding_have_reserved_capacity_by_default(stack):
    """Each public entry point has capacity another cannot exhaust (docs/security.md): reserved
    concurrency, a parameter with a non-zero default, and 0 to reserve none."""
    fns = functions(stack)
    for name, param in [("ReceiverFunction", "ReceiverReservedConcurrency"),
                        ("OnboardingFunction", "OnboardingReservedConcurrency"),
                        ("RegistrationFunction", "RegistrationReservedConcurrency")]:
        reserved = fns[name]["Properties"]["ReservedConcurrentExecutions"]
        cond, value, otherwise = reserved["Fn::If"]
        assert ref_of(value) == param and ref_of(otherwise) == "AWS::NoValue", reserved
        assert int(stack["Parameters"][param]["Default"]) > 0
        assert stack["Conditions"][cond] == {"Fn::Not": [{"Fn::Equals": [{"Ref": param}, 0]}]}


# ---------------------------------------------------------------- table grants per function


DYNAMO_WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
                 "dynamodb:ConditionCheckItem", "dynamodb:PartiQLInsert", "dynamodb:PartiQLUpdate",
                 "dynamodb:PartiQLDelete"}


def key_prefixes() -> dict[str, str]:
    """The partition-key families as crates/core/src/store/keys.rs spells them."""
    keys = (ROOT / "crates" / "core" / "src" / "store" / "keys.rs").read_text(encoding="utf-8")
    consts = dict(re.findall(r'pub const ([A-Z_]+): &str = "([^"]+)";', keys))
    claim = re.search(r'fn account_claim_pk.*?format!\("(CLAIM#)', keys, re.S).group(1)
    return {"tenant": consts["TENANT_PREFIX"], "registry": consts["REGISTRY_PREFIX"],
            "prices": consts["PRICE_LIST_PK"], "claims": claim}


def table_writes(doc: dict) -> tuple[set[str], list[str]]:
    """(write actions, LeadingKeys patterns) of a policy; every write is under the condition."""
    actions, leading = set(), None
    for s in statements(doc):
        writes = DYNAMO_WRITES & set(cfn_policy.as_list(s["Action"]))
        if not writes:
            continue
        cond = s.get("Condition", {}).get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys")
        assert cond, f"{sorted(writes)} without a dynamodb:LeadingKeys condition"
        assert leading in (None, cond), "one set of partitions per function"
        actions |= writes
        leading = cond
    return actions, leading or []


def test_each_function_writes_only_its_own_item_families(stack):
    """The receiver (a public URL) can never rewrite a tenant or account record (the token
    hashes), a claim or the Price List; each function has only the item actions it uses
    (docs/security.md)."""
    k = key_prefixes()
    expected = {
        "OnboardingRole": ({"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"},
                           {k["registry"] + "*", k["tenant"] + "*", k["claims"] + "*"}),
        "ReceiverRole": ({"dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}, {k["tenant"] + "*"}),
        "ScanRole": ({"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"},
                     {k["tenant"] + "*", k["registry"] + "*", k["prices"]}),
        "CurQueryRole": ({"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"},
                         {k["tenant"] + "*"}),
    }
    expected["RegistrationRole"] = expected["OnboardingRole"]
    policies = stack_policy.rendered_policies()
    for role, (actions, leading) in expected.items():
        (doc,) = [d for name, d in policies.items() if name.startswith(role + "/")]
        got_actions, got_leading = table_writes(doc)
        assert (got_actions, set(got_leading)) == (actions, leading), role
    # Nothing else in the stack writes the table.
    writers = {name.split("/")[0] for name, d in all_policies().items() if table_writes(d)[0]}
    assert writers == set(expected)
    # The receiver reads the registry (to check a token) but has no index to list tenants with.
    (receiver,) = [d for name, d in policies.items() if name.startswith("ReceiverRole/")]
    reads = [s for s in statements(receiver) if "dynamodb:GetItem" in cfn_policy.as_list(s["Action"])]
    assert all("index" not in json.dumps(s["Resource"]) for s in reads)


def test_the_ops_outputs_name_every_dead_letter_queue_and_the_alarms_prefix(stack):
    """`costradar console serve`'s /ops page reads COSTRADAR_DLQ_NAMES and COSTRADAR_ALARM_PREFIX
    from these outputs: every queue that is some resource's dead-letter target must be listed, and
    the prefix holds only while no alarm is given a name of its own."""
    outputs = stack["Outputs"]
    names = outputs["OpsDlqNames"]["Value"]["Fn::Join"]
    assert names[0] == ","
    listed = {getatt_of(v) for v in names[1]}
    assert all(attr == "QueueName" for _, attr in listed), listed
    queues = set(resources(stack, "AWS::SQS::Queue"))
    assert {q for q, _ in listed} == queues, "every queue of the stack is a dead-letter queue and is listed"
    assert outputs["OpsAlarmPrefix"]["Value"] == {"Fn::Sub": "${AWS::StackName}-"}
    alarms = resources(stack, "AWS::CloudWatch::Alarm")
    assert alarms and all("AlarmName" not in a["Properties"] for a in alarms.values()), "CloudFormation names them"
    # The deployed console (the onboarding function) reads the same values.
    env = stack["Resources"]["OnboardingFunction"]["Properties"]["Environment"]["Variables"]
    assert env["COSTRADAR_DLQ_NAMES"] == outputs["OpsDlqNames"]["Value"]
    assert env["COSTRADAR_ALARM_PREFIX"] == outputs["OpsAlarmPrefix"]["Value"]
