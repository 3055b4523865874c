"""The real-time rules against the receiver's own fixtures (events/receiver/*.json): every event
kind the receiver prices must match one of the stack's rules, and the forwarders in other regions
must use exactly the same patterns as the home rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import ROOT

MISSING = object()


def leaf_matches(matcher, value) -> bool:
    """One element of an EventBridge pattern list against one event value."""
    if isinstance(matcher, dict):
        if "exists" in matcher:
            return (value is not MISSING) == matcher["exists"]
        if "prefix" in matcher:
            return isinstance(value, str) and value.startswith(matcher["prefix"])
        raise AssertionError(f"matcher not supported by this test: {matcher}")
    return value is not MISSING and value == matcher


def matches(pattern: dict, event) -> bool:
    """EventBridge pattern semantics for what the templates use: nested fields, value lists
    (any of), arrays in the event (any element), `exists`, `prefix`, and `$or`."""
    for key, p in pattern.items():
        if key == "$or":
            if not any(matches(sub, event) for sub in p):
                return False
            continue
        value = event.get(key, MISSING) if isinstance(event, dict) else MISSING
        if isinstance(p, dict):
            candidates = value if isinstance(value, list) else [value]
            if not any(isinstance(v, dict) and matches(p, v) for v in candidates):
                return False
        else:
            values = value if isinstance(value, list) else [value]
            if not any(leaf_matches(m, v) for m in p for v in values):
                return False
    return True


RULES = ("Ec2StateRule", "ApiCallRule", "ApiCallRule2", "BillingAlarmRule")
FIXTURES = sorted((ROOT / "events" / "receiver").glob("*.json"))


def patterns(role):
    return {r: role["Resources"][r]["Properties"]["EventPattern"] for r in RULES}


def test_there_are_receiver_fixtures():
    assert len(FIXTURES) >= 30, "events/receiver/ lost its fixtures"


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.stem)
def test_receiver_fixture_reaches_costradar_exactly_when_the_receiver_knows_it(role, fixture: Path):
    event = json.loads(fixture.read_text(encoding="utf-8"))
    matched = [r for r, p in patterns(role).items() if matches(p, event)]
    if fixture.stem == "unknown-event":
        assert matched == [], "an event the receiver cannot price should not be sent"
    else:
        assert len(matched) == 1, f"{fixture.name} matched {matched}"


def test_failed_calls_and_other_sources_are_filtered_out(role):
    p = patterns(role)
    run = json.loads((ROOT / "events" / "receiver" / "ec2-run-instances.json").read_text())
    assert matches(p["ApiCallRule"], run)
    failed = {**run, "detail": {**run["detail"], "errorCode": "Client.UnauthorizedOperation"}}
    assert not matches(p["ApiCallRule"], failed)
    other = {**run, "source": "aws.s3"}
    assert not matches(p["ApiCallRule"], other)
    pending = {"source": "aws.ec2", "detail-type": "EC2 Instance State-change Notification",
               "detail": {"instance-id": "i-1", "state": "pending"}}
    assert not matches(p["Ec2StateRule"], pending)


def test_matcher_handles_arrays_of_objects(role):
    alarm = json.loads((ROOT / "events" / "receiver" / "cloudwatch-billing-alarm.json").read_text())
    assert matches(patterns(role)["BillingAlarmRule"], alarm)
    alarm["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]["namespace"] = "AWS/EC2"
    assert not matches(patterns(role)["BillingAlarmRule"], alarm)


def test_the_issue_s_event_names_are_all_covered(role):
    wanted = {
        "aws.ec2": ["RunInstances", "StartInstances", "StopInstances", "TerminateInstances", "ModifyInstanceAttribute",
                    "CreateVolume", "ModifyVolume", "AllocateAddress", "ReleaseAddress", "CreateNatGateway",
                    "DeleteNatGateway"],
        "aws.elasticloadbalancing": ["CreateLoadBalancer", "DeleteLoadBalancer"],
        "aws.rds": ["CreateDBInstance", "ModifyDBInstance", "CreateDBCluster", "StartDBInstance", "DeleteDBInstance",
                    "DeleteDBCluster"],
        "aws.elasticache": ["CreateCacheCluster", "CreateReplicationGroup", "DeleteCacheCluster", "DeleteReplicationGroup"],
        "aws.eks": ["CreateCluster", "CreateNodegroup", "DeleteCluster", "DeleteNodegroup"],
        "aws.lambda": ["PutProvisionedConcurrencyConfig", "PutProvisionedConcurrencyConfig20190930",
                       "DeleteProvisionedConcurrencyConfig"],
        "aws.sagemaker": ["CreateEndpointConfig", "CreateEndpoint", "CreateNotebookInstance", "CreateTrainingJob", "DeleteEndpoint",
                          "DeleteNotebookInstance"],
        "aws.redshift": ["CreateCluster", "DeleteCluster"],
        "aws.es": ["CreateDomain", "DeleteDomain"],
        "aws.kafka": ["CreateCluster", "DeleteCluster"],
    }
    p = patterns(role)["ApiCallRule"]
    for source, names in wanted.items():
        for name in names:
            event = {"source": source, "detail-type": "AWS API Call via CloudTrail", "detail": {"eventName": name}}
            assert matches(p, event), f"{source} {name}"


def test_forwarders_use_the_home_patterns(role, forwarder):
    home = patterns(role)
    fwd = {r["Properties"]["Name"]: r["Properties"]["EventPattern"]
           for r in forwarder["Resources"].values() if r["Type"] == "AWS::Events::Rule"}
    assert fwd == {
        "costradar-forward-ec2-state": home["Ec2StateRule"],
        "costradar-forward-api-calls": home["ApiCallRule"],
        "costradar-forward-api-calls-2": home["ApiCallRule2"],
        "costradar-forward-billing-alarms": home["BillingAlarmRule"],
    }
    for r in forwarder["Resources"].values():
        if r["Type"] == "AWS::Events::Rule":
            assert r["Condition"] == "IsRemoteRegion", "nothing forwards to itself in the home region"


def test_function_url_wrapped_fixtures_are_current():
    """events/receiver/http/ holds every fixture wrapped as a function-URL request, generated by
    tools/wrap_events.py; a stale or orphaned file fails here."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, str(ROOT / "tools" / "wrap_events.py"), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("rule", RULES)
def test_every_pattern_fits_eventbridge_s_default_quota(role, rule):
    """EventBridge refuses an event pattern over 2,048 characters (its default quota, which a
    customer would have to ask AWS to raise): each rule's pattern, as compact JSON, fits."""
    pattern = role["Resources"][rule]["Properties"]["EventPattern"]
    size = len(json.dumps(pattern, separators=(",", ":")))
    assert size <= 2048, f"{rule}: {size} characters"
