"""Generated files must match their sources: cfn/ACCESS.md (from the templates and the analysers)
and the forwarder template embedded in cfn/costradar-role.yaml. Fix: `.venv/bin/python
tools/cfn_policy.py write`, then commit."""

from __future__ import annotations

import difflib
import json

from conftest import ROOT, cfn_policy


def test_generated_files_are_up_to_date(db):
    stale = cfn_policy.stale_files(db)
    report = []
    for path, now, gen in stale:
        rel = str(path.relative_to(ROOT))
        report += list(difflib.unified_diff(now.splitlines(), gen.splitlines(), rel, rel + " (generated)", n=1, lineterm=""))[:40]
    assert not stale, "stale; run `.venv/bin/python tools/cfn_policy.py write`:\n" + "\n".join(report)


def test_embedded_forwarder_is_the_forwarder_template(role, forwarder):
    import yaml

    assert yaml.load(cfn_policy.embedded_forwarder(role), Loader=cfn_policy.CfnLoader) == forwarder  # noqa: S506


def test_access_md_carries_the_promised_sections():
    text = cfn_policy.ACCESS_MD.read_text(encoding="utf-8")
    for heading in ("## What we read", "### The exceptions, in one place", "## What we never do", "## How you grant access",
                    "## How you revoke access", "## How you audit us", "## How this compares"):
        assert heading in text, heading
    assert "costradar-<tenant>-<unix-time>" in text
    assert "readOnly = false" in text and "readonly = 'false'" in text  # CloudTrail Lake and Athena alerts


def test_generator_refuses_a_false_claim(monkeypatch, db):
    # If the policy grew a write action, ACCESS.md must not be written claiming read-only.
    original = cfn_policy.rendered_policy

    def with_write(cur=True, template=None):
        doc = original(cur=cur, template=template)
        doc["Statement"].append({"Sid": "Tags", "Effect": "Allow", "Action": ["ec2:CreateTags"], "Resource": "*"})
        return doc

    monkeypatch.setattr(cfn_policy, "rendered_policy", with_write)
    try:
        cfn_policy.access_md(db)
    except SystemExit as e:
        assert "ec2:CreateTags" in str(e)
    else:
        raise AssertionError("access_md accepted a policy with ec2:CreateTags")


def test_vendor_fixture_is_the_published_matrix():
    # 001's tables: 135 rows (its own summary says "~125"), 57 of them wildcards.
    doc = json.loads(cfn_policy.VENDOR_POLICY.read_text(encoding="utf-8"))
    entries = cfn_policy.action_entries(doc)
    assert len(entries) == 135
    assert sum("*" in e for e in entries) == 57
    for a in ("iam:PutRolePolicy", "iam:PassRole", "secretsmanager:GetSecretValue", "glue:*", "s3:*", "bedrock:InvokeModel"):
        assert a in entries, a


def test_figures_ours_tighter_than_the_vendor_s(db, policy_cur):
    ours = cfn_policy.figures(policy_cur, db)
    vendor = cfn_policy.figures(cfn_policy.vendor_policy(), db)
    assert ours.wildcard_entries == 0 and vendor.wildcard_entries == 57
    assert len(ours.expanded) < 150 < 1000 < len(vendor.expanded)
    assert set(ours.non_read) == {"athena:StartQueryExecution", "athena:StopQueryExecution", "s3:PutObject"}
    assert set(ours.data_read) == {"athena:GetQueryResults", "s3:GetObject"}
    assert len(vendor.non_read) > 250
    assert {"iam:PutRolePolicy", "secretsmanager:GetSecretValue"} <= set(vendor.expanded)
