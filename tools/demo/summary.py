#!/usr/bin/env python3
"""The demo's closing summary, from what the run left behind: the table in moto (accounts and
findings, read with a plain Query on the tenant's partition), the CUR analysis's report.json,
the receiver's answers with their round-trip times, and the scan workflow's result. Writes
OUT/summary.json and prints the summary; never invents a number (a part that did not run says
so).

    summary.py OUT TENANT_ID
"""

from __future__ import annotations

import json
import math
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import boto3
from boto3.dynamodb.conditions import Key

ATHENA_USD_PER_TB = Decimal("5")
ATHENA_MIN_BYTES = 10 * 1024 * 1024  # Athena bills at least 10 MB per query


def load(path: Path):
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def table_items(table: str, tenant: str) -> list[dict]:
    """Both partitions of the tenant: its registry (record, accounts) and its data, with the
    data's write shards (`TENANT#<id>#S<n>`, n < keys::SHARDS = 8, crates/core/src/store/keys.rs)."""
    t = boto3.resource("dynamodb").Table(table)
    items = []
    shards = tuple(f"TENANT#{tenant}#S{n}" for n in range(8))
    for pk in (f"REGISTRY#{tenant}", f"TENANT#{tenant}") + shards:
        kw = {"KeyConditionExpression": Key("PK").eq(pk)}
        while True:
            page = t.query(**kw)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                break
            kw["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return items


def field(item: dict, name: str):
    """An attribute of a stored record, whether stored flat or under `data`."""
    if name in item:
        return item[name]
    data = item.get("data")
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            data = None
    return data.get(name) if isinstance(data, dict) else None


def money(v) -> Decimal:
    return Decimal(str(v)) if v not in (None, "") else Decimal(0)


def scan_coverage(scan: dict | None, scan_requests: dict) -> dict:
    """What the scan could not read: regions read only in part, with the failing actions, and
    whether the idle rules ran at all (they need CloudWatch datapoints)."""
    partial = []
    for account in (scan or {}).get("results") or []:
        for region in account.get("regions") or []:
            if region.get("status") != "complete":
                partial.append({"account_id": account.get("account_id"), "region": region.get("region"),
                                "status": region.get("status"), "errors": region.get("errors") or []})
    calls = scan_requests.get("cloudwatch:GetMetricData", 0)
    failed = [r for r in partial if any(e["action"] == "cloudwatch:GetMetricData" for e in r["errors"])]
    if calls == 0:
        idle = ("NOT exercised: the scan asked CloudWatch for nothing (moto's resources are minutes old, younger "
                "than idle_min_age_days); tests/tests/scan_moto.rs runs the NAT and RDS idle rules on moto's "
                "CloudWatch, and the EC2 CPU p95 rule runs on aws-smithy-mocks only (moto computes no percentiles)")
    elif failed:
        idle = f"NOT exercised: GetMetricData failed in {len(failed)} region(s) (see above)"
    else:
        idle = f"exercised: {calls} GetMetricData call(s) answered"
    return {"partial_regions": partial, "get_metric_data_calls": calls, "idle_rules": idle}


def main(out: Path, tenant: str, table: str) -> dict:
    items = table_items(table, tenant)
    accounts = [i for i in items if str(i["SK"]).startswith("ACCOUNT#")]
    findings = [i for i in items if str(i["SK"]).startswith("FINDING#")]
    events = [i for i in items if str(i["SK"]).startswith("EVENT#")]

    by_rule: dict[tuple[str, str], dict] = defaultdict(lambda: {"count": 0, "monthly_savings_usd": Decimal(0)})
    for f in findings:
        source = "real time" if field(f, "source_event") else "scan"
        row = by_rule[(source, str(field(f, "rule")))]
        row["count"] += 1
        row["monthly_savings_usd"] += money(field(f, "monthly_savings_usd"))

    report = load(out / "cur" / "report.json")
    anomalies = []
    athena = None
    if report:
        for f in report["findings"]:
            row = by_rule[("CUR", f["rule"])]
            row["count"] += 1
            row["monthly_savings_usd"] += money(f.get("monthly_savings_usd"))
        anomalies = report["anomalies"]
        queries = report["queries"]
        scanned = sum(int(q.get("bytes_scanned") or 0) for q in queries)
        billed = sum(max(int(q.get("bytes_scanned") or 0), ATHENA_MIN_BYTES) for q in queries)
        athena = {"queries": len(queries), "bytes_scanned": scanned, "bytes_billed": billed,
                  "usd": str((ATHENA_USD_PER_TB * billed / Decimal(1024 ** 4)).quantize(Decimal("0.000001")))}

    sent = load(out / "events.json") or []
    ok = [e for e in sent if e["status"] == 200]
    # The 200 says only that the event was accepted: its price and finding are read from the table.
    priced = {}
    for i in events:
        ev = field(i, "event")
        ev = json.loads(ev) if isinstance(ev, str) else ev
        if isinstance(ev, dict):
            priced[ev.get("event_id")] = ev
    with_finding = [e for e in ok
                    if isinstance(e["reply"], dict) and (priced.get(e["reply"].get("event_id")) or {}).get("finding")]
    latency = None
    if with_finding:
        ms = [e["ms"] for e in with_finding]
        latency = {"events": len(ms), "p50_ms": percentile(ms, 50), "p99_ms": percentile(ms, 99), "max_ms": max(ms)}

    # AWS requests the Lambdas made, per phase (the counting proxy's totals after each phase).
    requests, before = {}, {}
    for phase in ("3-onboarding", "4-scan", "6-events"):
        now = load(out / f"aws-requests-{phase}.json")
        if now is None:
            continue
        requests[phase] = {k: n - before.get(k, 0) for k, n in sorted(now.items()) if n - before.get(k, 0)}
        before = now

    scan = load(out / "scan.json")
    coverage = scan_coverage(scan, requests.get("4-scan", {}))
    summary = {
        "tenant_id": tenant,
        "accounts": [{"account_id": field(a, "account_id") or str(a["SK"]).split("#", 1)[1],
                      "status": field(a, "status"), "regions": field(a, "regions")} for a in accounts],
        "findings_by_rule": [{"source": s, "rule": r, "count": v["count"], "monthly_savings_usd": str(v["monthly_savings_usd"])}
                             for (s, r), v in sorted(by_rule.items())],
        "monthly_savings_usd": str(sum((v["monthly_savings_usd"] for v in by_rule.values()), Decimal(0))),
        "anomalies": len(anomalies),
        "events": {"sent": len(sent), "accepted": len(ok), "stored": len(events), "with_finding": len(with_finding)},
        "event_to_finding_latency": latency,
        "priced_events": priced,
        "athena": athena,
        "scan": scan,
        "scan_coverage": coverage,
        "aws_requests_by_phase": requests,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")

    p = print
    p("")
    p("costradar demo summary")
    p(f"  tenant {tenant}")
    for a in summary["accounts"]:
        regions = ", ".join(a["regions"] or [])
        p(f"  account {a['account_id']}: {a['status']} (regions {regions})")
    p("  findings by rule (monthly savings, USD):")
    if not by_rule:
        p("    none")
    for row in summary["findings_by_rule"]:
        p(f"    {row['source']:<9} {row['rule']:<44} {row['count']:>3}  {row['monthly_savings_usd']:>12}")
    p(f"    {'total':<54} {summary['monthly_savings_usd']:>16}")
    if scan is None or scan.get("status") != "SUCCEEDED":
        why = (scan or {}).get("skipped") or ((scan or {}).get("error") or {}).get("Cause") or "did not run"
        p(f"  scheduled scan: no scan findings ({why})")
    for r in coverage["partial_regions"]:
        p(f"  scan: {r['account_id']} {r['region']} was read only in part ({r['status']}): "
          + "; ".join(f"{e['action']} failed ({e['code']})" for e in r["errors"]))
    p(f"  idle rules (CloudWatch): {coverage['idle_rules']}")
    if report:
        p(f"  anomalies (CUR, embedded engine): {len(anomalies)}")
        for a in sorted(anomalies, key=lambda a: -Decimal(a["impact_usd"]))[:3]:
            p(f"    {a['date']} {a['account_id']} {a['service']}: ${a['actual_usd']} against ${a['expected_usd']} expected")
    else:
        p("  anomalies: the CUR analysis did not run")
    if latency:
        p(f"  event-to-finding latency over {latency['events']} events with a finding: p50 {latency['p50_ms']:.1f} ms, "
          f"p99 {latency['p99_ms']:.1f} ms (HTTP round trip; the receiver answers after storing the event and finding)")
    p(f"  real-time events: {len(sent)} sent, {len(ok)} accepted, {len(events)} stored, {len(with_finding)} with a finding")
    labels = {"3-onboarding": "onboarding (tenant, custom resource, account read)", "4-scan": "scan run",
              "6-events": f"{len(sent)} real-time events"}
    for phase, ops in requests.items():
        p(f"  AWS requests by the Lambdas, {labels[phase]}: " + (", ".join(f"{k} {n}" for k, n in ops.items()) or "none"))
    if athena:
        p(f"  Athena: the same {athena['queries']} queries would scan {athena['bytes_scanned']:,} bytes "
          f"(billed {athena['bytes_billed']:,} with the 10 MB minimum per query: ${athena['usd']} at $5/TB)")
    return summary


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: summary.py OUT TENANT_ID TABLE")
    main(Path(sys.argv[1]), sys.argv[2], sys.argv[3])
