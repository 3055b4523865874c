"""The tenant digest's part of the operator stack (issue 19): a daily EventBridge Scheduler
schedule that invokes the scan function with `{"task": "digest"}` (a task the function has), with
its retry policy and the scheduler's dead-letter queue; the scan function gets the operator's
topic; the scan role gains only what the digest uses: Query on GSI2 and Publish to that topic.
Checked on the template as SAM transforms it (samtranslator from .venv/sam/, as test_users.py)."""

from __future__ import annotations

import json
import re

from conftest import ROOT
from test_stack import getatt_of, ref_of, statements
from test_users import transformed  # noqa: F401 (a fixture)


def policy(t: dict, role: str) -> list[dict]:
    (doc,) = [p["PolicyDocument"] for p in t["Resources"][role]["Properties"]["Policies"]]
    return statements(doc)


def actions(s: dict) -> list[str]:
    a = s["Action"]
    return a if isinstance(a, list) else [a]


def test_a_daily_schedule_invokes_the_scan_function_s_digest_task(transformed):
    r = transformed["Resources"]
    s = r["DigestScheduler"]
    assert s["Type"] == "AWS::Scheduler::Schedule"
    p = s["Properties"]
    assert re.fullmatch(r"cron\(\d+ \d+ \* \* \? \*\)", p["ScheduleExpression"]), "once a day"
    assert p["ScheduleExpressionTimezone"] == "UTC", "digest periods are UTC days"
    target = p["Target"]
    assert getatt_of(target["Arn"]) == ("ScanFunction", "Arn")
    assert json.loads(target["Input"]) == {"task": "digest"}
    # The task exists: `ScanTask` is tagged by `task`, snake_case.
    tasks_rs = (ROOT / "crates" / "core" / "src" / "scan" / "tasks.rs").read_text(encoding="utf-8")
    enum = re.search(r"pub enum ScanTask \{(.*?)\n\}", tasks_rs, re.S)
    assert enum and re.search(r"^\s*Digest\(", enum.group(1), re.M)
    assert getatt_of(target["DeadLetterConfig"]["Arn"]) == ("SchedulerDlq", "Arn")
    assert 1 <= target["RetryPolicy"]["MaximumRetryAttempts"] <= 5
    # The scheduler's role may invoke exactly the scan function (and write its DLQ).
    role = getatt_of(target["RoleArn"])[0]
    invoke = [s for s in policy(transformed, role) if "lambda:InvokeFunction" in actions(s)]
    assert [getatt_of(s["Resource"]) for s in invoke] == [("ScanFunction", "Arn")]
    dlq = [s for s in policy(transformed, role) if "sqs:SendMessage" in actions(s)]
    assert [getatt_of(s["Resource"]) for s in dlq] == [("SchedulerDlq", "Arn")]


def test_the_scan_function_gets_the_operator_topic_and_only_what_the_digest_uses(transformed):
    r = transformed["Resources"]
    env = r["ScanFunction"]["Properties"]["Environment"]["Variables"]
    assert ref_of(env["NOTIFY_TOPIC_ARN"]) == "NotifyTopic"
    config = (ROOT / "functions" / "scan" / "src" / "config.rs").read_text(encoding="utf-8")
    assert 'get("NOTIFY_TOPIC_ARN")' in config.split("#[cfg(test)]")[0], "the code reads what the stack sets"
    stmts = policy(transformed, "ScanRole")
    publish = [s for s in stmts if any(a.startswith("sns:") for a in actions(s))]
    assert len(publish) == 1 and actions(publish[0]) == ["sns:Publish"]
    assert ref_of(publish[0]["Resource"]) == "NotifyTopic", "the operator's topic only, never a wildcard"
    # GSI2 (findings by saving): Query only, on that index only.
    gsi2 = [s for s in stmts if "GSI2" in json.dumps(s["Resource"])]
    assert len(gsi2) == 1 and actions(gsi2[0]) == ["dynamodb:Query"]
    assert gsi2[0]["Resource"] == {"Fn::Sub": "${Table.Arn}/index/GSI2"}
    # Nothing the digest does not need: no Scan, no other topic, no SES, no HTTP-invoking service.
    every = {a for s in stmts for a in actions(s)}
    assert not {a for a in every if a.startswith(("ses:", "sns:Subscribe", "sns:CreateTopic", "dynamodb:Scan"))}
    assert all(s["Effect"] == "Allow" for s in stmts)
