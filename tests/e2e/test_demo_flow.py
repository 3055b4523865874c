"""End to end: the demo's flow, smaller (`tools/demo.sh --small`), run once against moto with the
Lambdas under `cargo lambda watch` and the scan state machine in aws-local-stepfunctions; then
its findings and report are checked against what the flow put in (the seeded account, the CUR
generator's ground truth, the receiver fixtures). Run by tools/test.sh under
tools/with-moto.sh (`make test`)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCAN_BUILT = "NotImplemented" not in (ROOT / "functions" / "scan" / "src" / "main.rs").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict:
    if not os.environ.get("AWS_ENDPOINT_URL"):
        pytest.fail("run through tools/with-moto.sh (make test): the flow needs moto on loopback")
    out = tmp_path_factory.mktemp("demo")
    start = time.monotonic()
    p = subprocess.run([str(ROOT / "tools" / "demo.sh"), "--small", "--out", str(out)], cwd=ROOT, capture_output=True,
                       text=True, timeout=1200, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    seconds = time.monotonic() - start
    print(f"end-to-end flow: {seconds:.1f} s")
    assert p.returncode == 0, f"tools/demo.sh --small failed ({p.returncode}):\n{p.stdout[-4000:]}\n{p.stderr[-4000:]}"

    def load(name):
        return json.loads((out / name).read_text(encoding="utf-8"))

    return {"out": out, "stdout": p.stdout, "seconds": seconds, "summary": load("summary.json"), "seed": load("seed.json"),
            "events": load("events.json"), "scan": load("scan.json"), "report": load("cur/report.json"),
            "truth": load("cur-export/ground_truth.json"),
            "savings": load("savings.json") if (out / "savings.json").exists() else None,
            "month_truth": load("cur-month/ground_truth.json") if (out / "cur-month").exists() else None}


def test_every_phase_ran_in_order_and_nothing_was_left_running(run):
    phases = re.findall(r"^== (\d)/8 ", run["stdout"], flags=re.M)
    assert phases == [str(i) for i in range(1, 9)], run["stdout"]
    pids = [int(x) for x in (run["out"] / "pids").read_text().split()]
    assert len(pids) == 7, "cargo lambda watch, the AWS request counter, four Lambdas, the response-URL stand-in"
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        # A recycled pid would not be one of ours: check what it runs.
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        assert "cargo-lambda" not in cmd and "target/debug" not in cmd and "local.py" not in cmd, f"left running: {cmd}"


def test_the_lambdas_aws_requests_were_counted_per_phase(run):
    req = run["summary"]["aws_requests_by_phase"]
    assert set(req) == {"3-onboarding", "4-scan", "6-events"}
    onboarding = req["3-onboarding"]
    assert onboarding.get("sts:AssumeRole", 0) >= 1, "verification assumed the customer role"
    assert any(k.startswith("dynamodb:") for k in onboarding)
    events = req["6-events"]
    writes = sum(n for k, n in events.items() if k in ("dynamodb:PutItem", "dynamodb:TransactWriteItems", "dynamodb:UpdateItem"))
    assert writes >= run["summary"]["events"]["stored"], "every stored event is at least one write"


def test_onboarding_answered_cloudformation_and_activated_the_account(run):
    answers = [json.loads(line) for line in (run["out"] / "cfn-responses.jsonl").read_text().splitlines()]
    assert len(answers) == 1, "one answer per custom-resource request"
    body = answers[0]["body"]
    assert body["Status"] == "SUCCESS"
    assert body["RequestId"] == "demo-create-0001" and body["LogicalResourceId"] == "CostradarConnection"
    tenant = run["summary"]["tenant_id"]
    assert body["PhysicalResourceId"] == f"costradar-{tenant}-123456789012"
    # The account's own ingest token, masked by CloudFormation (NoEcho); the table holds its hash only.
    assert body["NoEcho"] is True
    assert set(body["Data"]) == {"TenantId", "AccountStatus", "IngestToken"}
    assert (body["Data"]["TenantId"], body["Data"]["AccountStatus"]) == (tenant, "active")
    assert re.fullmatch(r"crt_[A-Za-z0-9_-]{43}", body["Data"]["IngestToken"])
    assert run["summary"]["accounts"] == [{"account_id": "123456789012", "status": "active", "regions": ["us-east-1"]}]


def test_every_receiver_fixture_is_accepted_and_stored_once(run):
    fixtures = sorted(p.name for p in (ROOT / "events" / "receiver").glob("*.json"))
    assert [e["file"] for e in run["events"]] == fixtures
    bad = [(e["file"], e["status"], e["reply"]) for e in run["events"] if e["status"] != 200]
    assert not bad, bad
    assert all(e["reply"]["status"] == "accepted" for e in run["events"]), "first delivery: none is a duplicate"
    ev = run["summary"]["events"]
    assert ev["sent"] == ev["accepted"] == ev["stored"] == len(fixtures)


def test_real_time_findings_carry_the_priced_rules(run):
    # The receiver's answer holds no price: the priced events are read from the table.
    assert all(set(e["reply"]) == {"status", "event_id"} for e in run["events"])
    priced = run["summary"]["priced_events"]
    replies = {e["file"]: priced[e["reply"]["event_id"]] for e in run["events"]}
    gpu = replies["ec2-run-instances-gpu.json"]
    assert gpu["finding"]["rule"] == "realtime.accelerated-instance"
    # Money is a decimal string to the cent, never a JSON number (docs/realtime.md).
    assert gpu["monthly_cost_usd"] == "16029.08", "1 x p4d.24xlarge x 730 h"
    assert replies["ec2-run-instances-previous-gen.json"]["finding"]["rule"] == "realtime.previous-generation"
    assert replies["ebs-create-volume-gp2.json"]["finding"]["rule"] == "realtime.gp2-volume"
    assert replies["unknown-event.json"]["finding"] is None and replies["unknown-event.json"]["monthly_cost_usd"] is None
    rules = {(r["source"], r["rule"]): r for r in run["summary"]["findings_by_rule"]}
    answered = {e["finding"]["rule"] for e in replies.values() if e["finding"]}
    assert {r for (s, r) in rules if s == "real time"} == answered, "every rule the receiver answered is in the table"
    # One finding per account, rule and resource: two events about one instance update one finding.
    stored = sum(r["count"] for (s, _), r in rules.items() if s == "real time")
    assert 0 < stored <= run["summary"]["events"]["with_finding"]
    assert Decimal(rules[("real time", "realtime.previous-generation")]["monthly_savings_usd"]) > 0


def test_cur_findings_and_anomalies_match_the_generator_s_ground_truth(run):
    truth, report = run["truth"], run["report"]
    injected = {(w["rule"], w["resource_id"]) for w in truth["injected_waste"]}
    found = {(f["rule"], f["resource_id"]) for f in report["findings"]}
    assert injected <= found, f"missed: {sorted(injected - found)}"
    spikes = {(a["date"], a["account_id"], a["service"]) for a in truth["injected_anomalies"]}
    detected = {(a["date"], a["account_id"], a["service"]) for a in report["anomalies"]}
    assert spikes <= detected, f"missed anomalies: {sorted(spikes - detected)}"
    # report.json rounds to the cent half away from zero (Python's ROUND_HALF_UP), see domain/money.rs.
    cents = Decimal(truth["total_billed"]).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert report["schema_version"] == 2, "contract v2: every money field ends in _usd"
    assert report["totals"]["billed_cost_usd"] == str(cents), "a decimal string to the cent"
    assert run["summary"]["anomalies"] == len(report["anomalies"])
    cur_rules = {r["rule"]: r for r in run["summary"]["findings_by_rule"] if r["source"] == "CUR"}
    assert sum(r["count"] for r in cur_rules.values()) == len(report["findings"])


def test_the_html_report_shows_the_findings_and_anomalies(run):
    html = (run["out"] / "cur" / "report.html").read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    for f in run["report"]["findings"]:
        assert f["resource_id"] in html, f"report.html misses {f['rule']} on {f['resource_id']}"
    for a in run["report"]["anomalies"]:
        assert a["date"] in html
    assert "<script" not in html.lower(), "a static report: no script"


def test_summary_prints_latency_and_athena_bytes(run):
    s = run["summary"]
    lat = s["event_to_finding_latency"]
    assert lat["events"] == s["events"]["with_finding"] > 10
    assert 0 < lat["p50_ms"] <= lat["p99_ms"] <= lat["max_ms"]
    athena = s["athena"]
    assert athena["queries"] == len(run["report"]["queries"]) > 0
    assert athena["bytes_scanned"] == sum(q["bytes_scanned"] for q in run["report"]["queries"]) > 0
    assert athena["bytes_billed"] >= athena["queries"] * 10 * 1024 * 1024
    assert "event-to-finding latency" in run["stdout"] and "Athena: the same" in run["stdout"]


def test_scan_workflow_ran_through_the_real_state_machine(run):
    scan = run["scan"]
    assert scan["tasks"]["ListDueAccounts"] >= 1, "the ASL's first task reached the local scan Lambda"
    if not SCAN_BUILT:
        # The scan Lambda still answers NotImplemented: the demo must say so, never fake a scan.
        assert scan["status"] == "FAILED" and scan["error"]["Error"] == "NotImplemented"
        assert "SKIPPED: the scan function is not built yet" in run["stdout"]
        assert not [r for r in run["summary"]["findings_by_rule"] if r["source"] == "scan"]
        return
    assert scan["status"] == "SUCCEEDED", scan
    assert scan["output"]["accounts"] == 1 and scan["output"]["failed"] == 0
    scanned = [r for r in run["summary"]["findings_by_rule"] if r["source"] == "scan"]
    assert sum(r["count"] for r in scanned) >= 3, "the seeded waste (volumes, EIP, log groups, ...) is found"


CUR_BUILT = "NotImplemented" not in (ROOT / "functions" / "cur-query" / "src" / "main.rs").read_text(encoding="utf-8")


def test_cur_part_ran_through_the_state_machine_with_its_poll_loop(run):
    scan = run["scan"]
    (item,) = scan["results"]
    if not CUR_BUILT:
        assert item["cur"]["error"]["Error"] == "NotImplemented", item
        return
    # The seeded account has the CUR stack's settings, so start returned queries; moto's Athena
    # succeeds at once with empty results, so the numbers are zeros but every task ran.
    assert scan["tasks"]["StartCurQueries"] == 1
    assert scan["tasks"]["PollCurQueries"] >= 1 and scan["tasks"]["FetchCurResults"] == 1
    assert set(item["cur"]) >= {"anomalies", "findings_opened", "bytes_scanned", "query_cost_usd"}, item["cur"]
    assert item["status"] in ("complete", "partial"), "the scan's own result is kept next to cur"


def test_summary_says_what_the_scan_could_not_read(run):
    """A region read only in part is in the summary with its failing action, and the summary says
    plainly whether the idle rules ran (they need CloudWatch datapoints)."""
    cov = run["summary"]["scan_coverage"]
    regions = [r for a in run["scan"]["results"] for r in a["regions"]]
    partial = [r for r in regions if r["status"] != "complete"]
    assert len(cov["partial_regions"]) == len(partial)
    for r in cov["partial_regions"]:
        assert r["errors"], r
        line = f"scan: {r['account_id']} {r['region']} was read only in part"
        assert line in run["stdout"] and r["errors"][0]["action"] in run["stdout"]
    assert f"idle rules (CloudWatch): {cov['idle_rules']}" in run["stdout"]
    calls = run["summary"]["aws_requests_by_phase"].get("4-scan", {}).get("cloudwatch:GetMetricData", 0)
    assert cov["get_metric_data_calls"] == calls
    assert cov["idle_rules"].startswith("NOT exercised") == (calls == 0 or any(
        e["action"] == "cloudwatch:GetMetricData" for r in partial for e in r["errors"]))


def by_hand(daily: dict, resolved: date, days: int = 7) -> Decimal:
    """The confirmed monthly saving from the line items: the cost over the `days` days before the
    resolution day minus the `days` days after, per day, x 730 / 24, to the cent (half up)."""
    def total(ks):
        return sum((Decimal(daily.get((resolved + timedelta(days=k)).isoformat(), "0")) for k in ks), Decimal(0))
    per_day = (total(range(-days, 0)) - total(range(1, days + 1))) / days
    return (max(per_day, Decimal(0)) * 730 / 24).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_the_bill_confirms_the_saving_of_the_volume_deleted_between_two_scans(run):
    if not SCAN_BUILT:
        assert "SKIPPED: the scan did not run" in run["stdout"]
        return
    s, truth = run["savings"], run["month_truth"]
    assert s is not None and truth is not None, "phase 7 wrote savings.json and the month's CUR"
    entry, ledger = s["entry"], s["ledger"]
    deleted = json.loads((run["out"] / "deleted.json").read_text())
    assert entry["resource_id"] == deleted["resource_id"] and entry["rule"] == deleted["rule"]
    # Realised by the second scan run, at the finding's estimate.
    assert Decimal(ledger["realised_usd"]) > 0
    assert Decimal(entry["monthly_savings_usd"]) == Decimal(deleted["monthly_savings_usd"]) > 0
    # The generated line items: the volume's daily cost every day up to the deletion day, none after.
    resolved = date.fromisoformat(entry["realised_at"][:10])
    daily = truth["billed_daily"][entry["resource_id"]]
    assert max(daily) == resolved.isoformat() and len(set(daily.values())) == 1
    c = entry["confirmation"]
    assert c["status"] == "confirmed"
    want = by_hand(daily, resolved)
    assert want > 0 and Decimal(c["confirmed_usd"]) == want, (c, want)
    # 7 days at the daily cost before, nothing after: the hand-worked figure, written out.
    per_day = Decimal(deleted["daily_usd"])
    assert want == ((7 * per_day - 0) / 7 * 730 / 24).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    e = c["evidence"]
    assert (e["before_from"], e["after_to"]) == ((resolved - timedelta(days=7)).isoformat(), (resolved + timedelta(days=7)).isoformat())
    assert (Decimal(e["before_per_day_usd"]), Decimal(e["after_per_day_usd"])) == (per_day, 0)
    assert int(e["line_items_before"]) == 7 and int(e["line_items_after"]) == 0
    # The ledger: confirmed is a figure of its own, the realised estimate kept beside it.
    assert Decimal(ledger["confirmed_usd"]) == want > 0
    assert ledger["confirmations"]["confirmed"] == 1
    assert Decimal(ledger["confirmations"]["realised_of_confirmed_usd"]) == Decimal(entry["monthly_savings_usd"])
    assert Decimal(ledger["realised_usd"]) == sum(Decimal(m["realised_usd"]) for m in ledger["by_month"])
    assert f"confirmed ${want} a month" in run["stdout"]
