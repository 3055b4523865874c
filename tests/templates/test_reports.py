"""The CUR reports bucket (issue 19): private and TLS-only, one lifecycle rule per retention a
tenant can choose (filtering on the object tag the code writes), cur-query may only write reports
and the onboarding function only read them, and GET /tenants/{id}/reports is on both APIs. Checked
on the template as SAM transforms it (the `transformed` fixture of test_users)."""

from __future__ import annotations

import re

from conftest import ROOT
from test_stack import stack  # noqa: F401 (fixture)
from test_users import routes, transformed  # noqa: F401 (fixture)

SETTINGS = ROOT / "crates" / "core" / "src" / "domain" / "settings.rs"
STORE = ROOT / "crates" / "core" / "src" / "report" / "store.rs"


def retention_days() -> list[int]:
    m = re.search(r"pub const REPORT_RETENTION_DAYS: &\[u32\] = &\[([0-9, ]+)\];", SETTINGS.read_text(encoding="utf-8"))
    assert m, "REPORT_RETENTION_DAYS moved"
    return [int(x) for x in m.group(1).split(",")]


def retention_tag() -> str:
    m = re.search(r'pub const RETENTION_TAG: &str = "([^"]+)";', STORE.read_text(encoding="utf-8"))
    assert m, "RETENTION_TAG moved"
    return m.group(1)


def bucket(t: dict) -> dict:
    return t["Resources"]["ReportsBucket"]["Properties"]


def mentions_bucket(v) -> bool:
    return "ReportsBucket" in repr(v)


def s3_statements(t: dict) -> dict[str, list[dict]]:
    """Every role's statements that name the reports bucket, by role."""
    out: dict[str, list[dict]] = {}
    for name, r in t["Resources"].items():
        if r["Type"] != "AWS::IAM::Role":
            continue
        for policy in r["Properties"].get("Policies", []):
            for st in policy["PolicyDocument"]["Statement"]:
                if mentions_bucket(st.get("Resource")):
                    out.setdefault(name, []).append(st)
    return out


def actions(st: dict) -> set[str]:
    a = st["Action"]
    return {a} if isinstance(a, str) else set(a)


def test_the_bucket_is_private_encrypted_and_tls_only(stack):
    b = bucket(stack)
    assert b["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    sse = b["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert sse["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert b["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}], "no ACLs"
    assert "VersioningConfiguration" not in b, "expired reports must not linger as versions"
    policy = stack["Resources"]["ReportsBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "ReportsBucket"}
    [deny] = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert deny["Principal"] == "*" and deny["Action"] == "s3:*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Resource"] == [{"Fn::GetAtt": ["ReportsBucket", "Arn"]}, {"Fn::Sub": "${ReportsBucket.Arn}/*"}]
    assert all(s["Effect"] == "Deny" for s in policy["PolicyDocument"]["Statement"]), "the policy grants nothing"


def test_one_lifecycle_rule_per_allowed_retention_filters_on_the_tag_the_code_writes(stack):
    days = retention_days()
    assert days[0] == 7, "the FinOps Pack seed keeps reports 7 days: the default and the shortest"
    tag = retention_tag()
    rules = bucket(stack)["LifecycleConfiguration"]["Rules"]
    tagged = [r for r in rules if r.get("TagFilters")]
    assert sorted(r["ExpirationInDays"] for r in tagged) == sorted(days)
    for r in tagged:
        assert r["Status"] == "Enabled" and r["Prefix"] == "reports/", r
        assert r["TagFilters"] == [{"Key": tag, "Value": str(r["ExpirationInDays"])}], r
    # Whatever carries no (or another) tag still goes, after the longest retention.
    [rest] = [r for r in rules if not r.get("TagFilters")]
    assert rest["Status"] == "Enabled" and rest["Prefix"] == "reports/"
    assert rest["ExpirationInDays"] == max(days)
    assert len({r["Id"] for r in rules}) == len(rules)


def test_cur_query_only_writes_reports_and_onboarding_only_reads_them(transformed):
    by_role = s3_statements(transformed)
    assert set(by_role) == {"CurQueryRole", "OnboardingRole"}, "no other role touches the reports bucket"
    objects = {"Fn::Sub": "${ReportsBucket.Arn}/reports/*"}
    [write] = by_role["CurQueryRole"]
    assert write["Effect"] == "Allow"
    assert actions(write) == {"s3:PutObject", "s3:PutObjectTagging"}
    assert write["Resource"] == objects
    read = {tuple(sorted(actions(s))): s for s in by_role["OnboardingRole"]}
    assert set(read) == {("s3:GetObject",), ("s3:ListBucket",)}
    assert read[("s3:GetObject",)]["Resource"] == objects
    listing = read[("s3:ListBucket",)]
    assert listing["Resource"] == {"Fn::GetAtt": ["ReportsBucket", "Arn"]}
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["reports/*"]}}
    for st in [write, *by_role["OnboardingRole"]]:
        assert not any(a.endswith("*") for a in actions(st)), st
        assert not {"s3:DeleteObject", "s3:PutBucketPolicy", "s3:PutLifecycleConfiguration"} & actions(st)


def test_the_functions_that_use_the_bucket_are_told_its_name(stack):
    for fn in ("CurQueryFunction", "OnboardingFunction", "RegistrationFunction"):
        env = stack["Resources"][fn]["Properties"]["Environment"]["Variables"]
        assert env["REPORTS_BUCKET"] == {"Ref": "ReportsBucket"}, fn
    for fn in ("ScanFunction", "ReceiverFunction"):
        assert "REPORTS_BUCKET" not in stack["Resources"][fn]["Properties"]["Environment"]["Variables"], fn


def test_the_reports_route_is_on_both_apis_behind_their_authorizers(transformed):
    route = ("get", "/tenants/{id}/reports")
    users = routes(transformed, "UsersApi")
    assert route in users
    assert users[route]["security"] == [{"UsersJwt": []}], users[route]
    assert "OnboardingFunction.Arn" in users[route]["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
    operator = routes(transformed, "OperatorApi")
    assert route in operator
    assert operator[route].get("security") == [{"AWS_IAM": []}], operator[route]
