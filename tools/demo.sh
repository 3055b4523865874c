#!/usr/bin/env bash
# The local demo, run by `make demo` under tools/with-moto.sh (moto on loopback, no AWS, no
# Docker). Every part runs for real; a part that is not built yet says so and is skipped.
#
#   1 state table and the demo customer account in moto (role + known waste in two regions)
#   2 the four Lambdas (debug builds) under `cargo lambda watch` (its Lambda Invoke API, function
#     URLs and runtime API on loopback)
#   3 onboarding through the onboarding function: tenant (operator API event), then the
#     customer stack's custom resource (SNS event) answered to a local stand-in response URL
#   4 the scan state machine (infra/statemachines/scan.asl.json) in aws-local-stepfunctions,
#     tasks routed to the local scan / cur-query Lambdas
#   5 CUR analysis of a generated CUR 2.0 export on the embedded engine (report.html/json)
#   6 every payload in events/receiver/ through the receiver's function URL over HTTP
#   7 a saving confirmed by the bill: a volume the first scan flagged is deleted, a second run of
#     the state machine resolves its finding (realised), a generated CUR for the months around
#     the deletion bills it until that day, and the tenant's CUR analysis (embedded engine, as of
#     8 days later) confirms it in the savings ledger
#   8 summary, and the console (costradar console serve) driven in headless Chromium: screenshots
#     in target/demo/console/; KEEP=1 (make demo KEEP=1) keeps it open and says how to sign in
#
#   tools/demo.sh [--small] [--out DIR]     --small: the end-to-end test's smaller flow
# Every process it starts is stopped on success, failure or Ctrl-C.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
small=0
out="$root/target/demo"
while [ $# -gt 0 ]; do
  case "$1" in
    --small) small=1 ;;
    --out) out=$2; shift ;;
    *) echo "demo: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[ -n "${AWS_ENDPOINT_URL:-}" ] || { echo "demo: run through tools/with-moto.sh (make demo)" >&2; exit 2; }
py="$root/.venv/bin/python"
node=(node --require "$root/tests/sfn/node22-polyfill.cjs")
bin="$root/target/debug"
started=$(date +%s%N)
rm -rf "$out"
mkdir -p "$out/logs"

pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
trap cleanup EXIT
trap 'echo "demo: interrupted" >&2; exit 130' INT TERM
elapsed() { local ms=$((($(date +%s%N) - started) / 1000000)); printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)); }
phase() { printf '== %s/8 %s (at %s s)\n' "$1" "$2" "$(elapsed)"; }
free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
field() { "$py" -c "import json,sys; d=json.load(sys.stdin); print(eval('d'+sys.argv[1]))" "$1"; }

export PYTHONDONTWRITEBYTECODE=1
export TABLE_NAME="costradar-demo-$$"
# The scan runs' bucket (ScanRunsBucket): the due accounts' JSON Lines and the Map's results.
export RUNS_BUCKET="costradar-runs-demo-$$"
# The reports bucket (ReportsBucket): each CUR analysis of the state machine writes its report there.
export REPORTS_BUCKET="costradar-reports-demo-$$"
# A fictional operator account; moto's default account (123456789012) is the customer.
export COSTRADAR_ACCOUNT_ID=111122223333
export COSTRADAR_TOPIC_ARN="arn:aws:sns:$AWS_REGION:111122223333:costradar-custom-resource"
export COSTRADAR_TEMPLATE_URL="https://costradar-artifacts.s3.amazonaws.com/costradar-role.yaml"
# moto does not enforce sts:ExternalId and cannot presign S3 URLs: the negative assume check is
# skipped and http://127.0.0.1 response URLs are accepted (refused unless AWS calls go to loopback).
export COSTRADAR_LOCAL_EMULATOR=1
customer=123456789012
role_arn="arn:aws:iam::$customer:role/CostradarReadOnly"
regions='["us-east-1", "eu-west-1"]'
[ "$small" -eq 1 ] && regions='["us-east-1"]'

# Everything the demo runs (the CLI, the four Lambdas) is built first, so an empty target/ works.
if [ "${DEMO_SKIP_BUILD:-0}" != 1 ]; then
  echo "== building the CLI and the Lambdas (debug; the first build on a fresh machine takes minutes)"
  # The same flags as `make test` builds with, so the two share build artifacts.
  cargo build --workspace --tests --bins --locked --quiet
fi
for b in costradar onboarding receiver scan cur-query; do
  [ -x "$bin/$b" ] || { echo "demo: $bin/$b was not built" >&2; exit 1; }
done

# Phase 7. The scan Lambda stamps the resolution with the real clock, so the CUR is generated for
# the months around today and the analysis runs as of 8 days later (the demo does not wait a
# week). The second run's AWS requests come after the per-phase counts (docs/deploy.md prices
# one scan run).
confirm_saving() {
  "$bin/costradar" findings list --tenant "$tenant" --status open --service ebs --limit 100 --json >"$out/ebs-findings.json"
  # The seeded volume the first scan flagged with the largest saving that counts on its own.
  "$py" - "$out/seed.json" "$out/ebs-findings.json" >"$out/deleted.json" <<'PY'
import json, sys
from decimal import Decimal
seed, page = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
volumes = {r["resource_id"]: r for r in seed["resources"] if r["kind"] == "ebs-volume"}
flagged = [f for f in page["findings"] if f["resource_id"] in volumes and f.get("savings_included_in") is None
           and Decimal(f.get("monthly_savings_usd") or 0) > 0]
if not flagged:
    sys.exit("demo: the first scan flagged no seeded volume with a saving: nothing to delete")
f = max(flagged, key=lambda f: (Decimal(f["monthly_savings_usd"]), f["resource_id"]))
vtype = volumes[f["resource_id"]]["waste"].split()[1]  # "unattached gp2 500 GiB"
monthly = Decimal(f.get("monthly_cost_usd") or f["monthly_savings_usd"])
print(json.dumps({"resource_id": f["resource_id"], "region": f["region"], "rule": f["rule"], "volume_type": vtype,
                  "monthly_savings_usd": f["monthly_savings_usd"], "monthly_cost_usd": str(monthly),
                  # What the CUR bills for it a day: its monthly cost x 24 / 730, to 4 decimals.
                  "daily_usd": str((monthly * 24 / 730).quantize(Decimal("0.0001")))}))
PY
  local vol
  vol=$(field "['resource_id']" <"$out/deleted.json")
  "$py" - "$out/deleted.json" "$TABLE_NAME" "$tenant" "$customer" <<'PY'
import json, sys, boto3
d, table, tenant, account = json.load(open(sys.argv[1])), *sys.argv[2:]
boto3.client("ec2", region_name=d["region"]).delete_volume(VolumeId=d["resource_id"])
# Due again now rather than in scan_interval_hours: the demo does not wait a day for the schedule.
boto3.client("dynamodb").update_item(TableName=table, UpdateExpression="REMOVE next_scan_at",
                                     Key={"PK": {"S": f"REGISTRY#{tenant}"}, "SK": {"S": f"ACCOUNT#{account}"}})
# ... and in the due index (keys::due_index_sk: never scanned is due since the epoch).
boto3.client("dynamodb").update_item(TableName=table, UpdateExpression="SET GSI1SK = :due",
                                     ExpressionAttributeValues={":due": {"S": f"1970-01-01T00:00:00.000000Z#{tenant}#{account}"}},
                                     Key={"PK": {"S": f"REGISTRY#{tenant}"}, "SK": {"S": f"ACCOUNT#{account}"}})
PY
  echo "   deleted $vol ($(field "['volume_type']" <"$out/deleted.json"), flagged $(field "['rule']" <"$out/deleted.json"): \$$(field "['monthly_savings_usd']" <"$out/deleted.json") a month; the volume costs \$$(field "['monthly_cost_usd']" <"$out/deleted.json") a month)"
  "${node[@]}" tools/demo/run_scan.mjs "demo-$(date +%Y%m%dT%H%M%S)-2" >"$out/scan-2.json" 2>"$out/logs/run_scan-2.log" ||
    { echo "demo: the second scan run could not run; see $out/logs/run_scan-2.log" >&2; exit 1; }
  [ "$(field "['status']" <"$out/scan-2.json")" = SUCCEEDED ] || { echo "demo: the second scan run failed: $(cat "$out/scan-2.json")" >&2; exit 1; }
  # The ledger entry the second run wrote, as the table holds it.
  "$py" - "$TABLE_NAME" "$tenant" "$vol" >"$out/realised.json" <<'PY'
import json, sys, boto3
from boto3.dynamodb.conditions import Key
table, tenant, vol = sys.argv[1:]
items = boto3.resource("dynamodb").Table(table).query(
    KeyConditionExpression=Key("PK").eq(f"TENANT#{tenant}") & Key("SK").begins_with("SAVING#"))["Items"]
mine = [i for i in items if i["resource_id"] == vol]
if not mine:
    sys.exit(f"demo: the second scan run realised no saving for {vol}")
print(json.dumps(mine[0], default=str))
PY
  local realised_on
  realised_on=$(field "['realised_at'][:10]" <"$out/realised.json")
  echo "   second scan run $(field "['output']['run_id']" <"$out/scan-2.json"): $(field "['output']['findings_resolved']" <"$out/scan-2.json") finding(s) resolved; realised \$$(field "['monthly_savings_usd']" <"$out/realised.json") a month on $realised_on"
  # This month's CUR (generated): the volume billed its daily cost until the deletion day, then nothing.
  local start as_of
  start=$(date -u -d "$realised_on - 7 days" +%Y-%m)
  as_of=$(date -u -d "$realised_on + 8 days" +%F)
  "$py" - "$out/deleted.json" "$customer" "$realised_on" >"$out/billed.json" <<'PY'
import json, sys
d, account, until = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
print(json.dumps([{"account_id": account, "region": d["region"], "resource_id": d["resource_id"], "product": "AmazonEC2",
                   "usage_type": f"EBS:VolumeUsage.{d['volume_type']}", "daily_usd": d["daily_usd"], "until": until}]))
PY
  "$bin/costradar" cur generate --out "$out/cur-month" --rows 5000 --start "$start" --months 2 --accounts 2 \
    --billed "$out/billed.json" >"$out/cur-month-generate.json"
  "$bin/costradar" analyze --cur "$out/cur-month" --out "$out/cur-month-report" --tenant "$tenant" --account "$customer" \
    --as-of "$as_of" >"$out/cur-month-analyze.json"
  "$bin/costradar" savings --tenant "$tenant" --json >"$out/ledger.json"
  "$py" - "$TABLE_NAME" "$tenant" "$vol" "$out/realised.json" "$out/ledger.json" "$out/cur-month-analyze.json" \
    >"$out/savings.json" <<'PY'
import json, sys, boto3
from boto3.dynamodb.conditions import Key
table, tenant, vol, realised, ledger, analyze = sys.argv[1:]
items = boto3.resource("dynamodb").Table(table).query(
    KeyConditionExpression=Key("PK").eq(f"TENANT#{tenant}") & Key("SK").begins_with("SAVING#"))["Items"]
entry = next(i for i in items if i["resource_id"] == vol)
print(json.dumps({"entry": entry, "realised_by_scan": json.load(open(realised)), "ledger": json.load(open(ledger)),
                  "analysis": json.load(open(analyze))}, default=str))
PY
  "$py" - "$out/savings.json" "$start" "$as_of" "$(field "['daily_usd']" <"$out/deleted.json")" <<'PY'
import json, sys
s, start, as_of, daily = json.load(open(sys.argv[1])), *sys.argv[2:]
c, l = s["entry"].get("confirmation") or {}, s["ledger"]
e = c.get("evidence") or {}
print(f"   generated CUR from {start} (2 months) with {s['entry']['resource_id']} billed ${daily} a day until the deletion day")
print(f"   the tenant's CUR analysis as of {as_of} (embedded engine): {c.get('status')}"
      + (f" ${c.get('confirmed_usd')} a month: ${e.get('before_per_day_usd')} a day from {e.get('before_from')} to"
         f" {e.get('before_to')}, ${e.get('after_per_day_usd')} a day from {e.get('after_from')} to {e.get('after_to')};"
         f" (before - after) x 730 / 24" if e else f" ({c.get('reason')})"))
print(f"   savings ledger: open ${l['open_usd']}, realised ${l['realised_usd']}, confirmed ${l['confirmed_usd']} a month"
      " (confirmed is the bill's figure, kept beside the realised estimate: never added to it, never capped by it)")
PY
}

phase 1 "state table and the demo customer account in moto"
"$bin/costradar" table create >/dev/null
"$py" -c 'import os, boto3; s3 = boto3.client("s3"); [s3.create_bucket(Bucket=os.environ[b]) for b in ("RUNS_BUCKET", "REPORTS_BUCKET")]'
echo "   table $TABLE_NAME in moto at $AWS_ENDPOINT_URL"
seed_args=()
[ "$small" -eq 1 ] && seed_args=(--small)
"$py" tools/demo/seed.py "${seed_args[@]}" >"$out/seed.json"
"$py" - "$out/seed.json" <<'PY'
import json, sys, collections
d = json.load(open(sys.argv[1]))
kinds = collections.Counter((r["region"], r["kind"]) for r in d["resources"])
print(f"   customer account {d['account_id']}: role {d['role_arn']}")
for region in d["regions"]:
    print(f"   {region}: " + ", ".join(f"{n} {k}" for (r, k), n in sorted(kinds.items()) if r == region))
PY

phase 2 "the Lambdas under cargo lambda watch"
port=$(free_port)
export AWS_ENDPOINT_URL_LAMBDA="http://127.0.0.1:$port"
"$root/.venv/bin/cargo-lambda" lambda watch --only-lambda-apis -A 127.0.0.1 -P "$port" >"$out/logs/cargo-lambda-watch.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 "${pids[-1]}" 2>/dev/null || { echo "demo: cargo lambda watch exited; see $out/logs/cargo-lambda-watch.log" >&2; exit 1; }
  sleep 0.1
done
receiver_url="http://127.0.0.1:$port/lambda-url/receiver"
# The Lambdas' AWS calls go to moto through a counting proxy: the request counts per phase are
# what docs/deploy.md's cost estimate multiplies.
"$py" tools/demo/local.py count-proxy "$out/proxy-port" "$AWS_ENDPOINT_URL" &
pids+=($!)
for _ in $(seq 1 50); do [ -s "$out/proxy-port" ] && break; sleep 0.1; done
proxy="http://127.0.0.1:$(cat "$out/proxy-port")"
counts() { "$py" -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1] + "/__counts").read().decode())' "$proxy" >"$out/aws-requests-$1.json"; }
for fn in onboarding receiver scan cur-query; do
  AWS_ENDPOINT_URL="$proxy" COSTRADAR_RECEIVER_URL="https://receiver.example.lambda-url.us-east-1.on.aws" \
    AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$port/.rt/$fn" AWS_LAMBDA_FUNCTION_NAME="$fn" \
    AWS_LAMBDA_FUNCTION_VERSION=1 AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256 AWS_LAMBDA_LOG_FORMAT=JSON \
    "$bin/$fn" >"$out/logs/$fn.log" 2>&1 &
  pids+=($!)
done
printf '%s\n' "${pids[@]}" >"$out/pids"   # the end-to-end test checks they are all gone afterwards
sleep 0.3
for i in 2 3 4 5; do
  kill -0 "${pids[$i]}" 2>/dev/null || { echo "demo: a Lambda exited at start; see $out/logs/" >&2; exit 1; }
done
echo "   cargo lambda watch on 127.0.0.1:$port: Invoke API for onboarding, scan, cur-query; function URL $receiver_url"
invoke() { "$py" tools/demo/local.py invoke "$AWS_ENDPOINT_URL_LAMBDA" "$1"; }

phase 3 "onboarding through the onboarding function"
create=$("$py" - <<'PY' | invoke onboarding
import json
e = json.load(open("events/onboarding/api-create-tenant.json"))
e["body"] = json.dumps({"name": "Demo Customer"})
print(json.dumps(e))
PY
)
status=$(field "['statusCode']" <<<"$create")
[ "$status" = 201 ] || { echo "demo: POST /tenants answered $status: $create" >&2; exit 1; }
body=$(field "['body']" <<<"$create")
tenant=$(field "['tenant']['id']" <<<"$body")
external_id=$(field "['tenant']['external_id']" <<<"$body")
echo "   POST /tenants (operator API event) -> 201, tenant $tenant, ExternalId $external_id"
"$py" tools/demo/local.py cfn-response "$out/cfn-port" "$out/cfn-responses.jsonl" &
pids+=($!)
echo "$!" >>"$out/pids"
for _ in $(seq 1 50); do [ -s "$out/cfn-port" ] && break; sleep 0.1; done
cfn_url="http://127.0.0.1:$(cat "$out/cfn-port")/cloudformation-custom-resource-response"
"$py" - "$tenant" "$external_id" "$role_arn" "$regions" "$cfn_url" "$COSTRADAR_TOPIC_ARN" >"$out/custom-resource.json" <<'PY'
import json, sys
tenant, external_id, role_arn, regions, url, topic = sys.argv[1:]
e = json.load(open("events/onboarding/custom-resource-create.sns.json"))
m = json.loads(e["Records"][0]["Sns"]["Message"])
m["ResponseURL"] = url
m["ServiceToken"] = topic
m["RequestId"] = "demo-create-0001"
m["ResourceProperties"].update({"ServiceToken": topic, "TenantId": tenant, "ExternalId": external_id,
                                "AccountId": role_arn.split(":")[4], "RoleArn": role_arn, "Regions": json.loads(regions),
                                # The customer stack's CUR part (EnableCur=true): Athena runs in moto.
                                "CurBucket": "costradar-demo-cur-123456789012", "CurDatabase": "costradar_cur",
                                "CurTable": "cur2", "CurWorkgroup": "costradar-demo"})
e["Records"][0]["Sns"]["Message"] = json.dumps(m)
e["Records"][0]["Sns"]["TopicArn"] = topic
print(json.dumps(e))
PY
invoke onboarding <"$out/custom-resource.json" >"$out/custom-resource-answer.json"
answer=$(tail -n 1 "$out/cfn-responses.jsonl" 2>/dev/null || true)
[ -n "$answer" ] || { echo "demo: the onboarding function sent no answer to the response URL" >&2; exit 1; }
cfn_status=$(field "['body']['Status']" <<<"$answer")
echo "   customer stack Create (SNS custom-resource event) -> answered $cfn_status to the response URL stand-in"
[ "$cfn_status" = SUCCESS ] || { echo "demo: custom resource failed: $answer" >&2; exit 1; }
# The account's own ingest token, as the stack's Connection gets it (!GetAtt Connection.IngestToken).
export COSTRADAR_INGEST_TOKEN
COSTRADAR_INGEST_TOKEN=$(field "['body']['Data']['IngestToken']" <<<"$answer")
echo "   the answer carries the account's own ingest token (NoEcho: $(field "['body']['NoEcho']" <<<"$answer")); costradar stores only its SHA-256 (not printed)"
account=$("$py" - "$tenant" <<'PY' | invoke onboarding
import json, sys
e = json.load(open("events/onboarding/api-create-tenant.json"))
path = f"/tenants/{sys.argv[1]}/accounts/123456789012"
e["rawPath"] = path
e["requestContext"]["http"].update({"method": "GET", "path": path})
e.pop("body", None)
print(json.dumps(e))
PY
)
account_status=$(field "['body']" <<<"$account" | field "['status']")
echo "   GET /tenants/$tenant/accounts/$customer -> $account_status"
counts 3-onboarding

phase 4 "scan state machine in aws-local-stepfunctions, tasks on the local Lambdas"
"${node[@]}" tools/demo/run_scan.mjs "demo-$(date +%Y%m%dT%H%M%S)" >"$out/scan.json" 2>"$out/logs/run_scan.log" ||
  { echo "demo: the state machine could not run; see $out/logs/run_scan.log" >&2; exit 1; }
scan_status=$(field "['status']" <<<"$(cat "$out/scan.json")")
if [ "$scan_status" = SUCCEEDED ]; then
  "$py" - "$out/scan.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
o = d["output"]
print(f"   run {o['run_id']} SUCCEEDED in {d['ms']} ms: {o['accounts']} account(s), {o['complete']} complete, "
      f"{o['partial']} partial, {o['failed']} failed; {o['findings_opened']} findings opened, {o['findings_resolved']} resolved")
for r in d.get("results") or []:
    print(f"   account {r['account_id']}: {r['status']}")
    for region in r.get("regions") or []:
        errors = "; ".join(f"{e['action']} {e['code']}" for e in region.get("errors") or [])
        print(f"     {region['region']}: {region['status']}, {region['api_calls']} API calls, "
              f"{region['findings_opened']} findings" + (f" (errors: {errors})" if errors else ""))
    cur = r.get("cur")
    if cur is None:
        print("     CUR: no CUR settings for this account")
    elif "error" in cur:
        e = cur["error"]
        if e.get("Error") == "NotImplemented":
            print("     CUR via the state machine: SKIPPED, the cur-query function is not built yet (NotImplemented);"
                  " phase 5 runs the analysis on the embedded engine")
        else:
            print(f"     CUR: {e.get('Error')}: {e.get('Cause')}")
    else:
        print(f"     CUR via the state machine (start, Wait/poll x{d['tasks'].get('PollCurQueries', 0)}, fetch_and_analyse on"
              f" moto's Athena, which runs no SQL and answers empty results): {cur['anomalies']} anomalies,"
              f" {cur['findings_opened']} findings, {cur['bytes_scanned']} bytes scanned; phase 5 analyses real CUR data")
print("   tasks run: " + ", ".join(f"{k} x{v} ({d.get('task_ms', {}).get(k, 0)} ms)" for k, v in d["tasks"].items()))
PY
else
  error_type=$(field "['error']['Error']" <<<"$(cat "$out/scan.json")")
  if [ "$error_type" = NotImplemented ]; then
    # The scan Lambda is not built yet: the real ASL ran and its first task said so.
    "$py" - "$out/scan.json" <<'PY'
import json, sys
p = sys.argv[1]; d = json.load(open(p)); d["skipped"] = "the scan function is not built yet (it answers NotImplemented)"
json.dump(d, open(p, "w"))
PY
    echo "   SKIPPED: the scan function is not built yet; the state machine ran and ListDueAccounts answered NotImplemented"
  else
    echo "   run FAILED: $(cat "$out/scan.json")"
    exit 1
  fi
fi

counts 4-scan

phase 5 "CUR analysis on the embedded engine (generated CUR 2.0 export)"
rows=200000
[ "$small" -eq 1 ] && rows=10000
"$bin/costradar" cur generate --out "$out/cur-export" --rows "$rows" --months 2 --accounts 4 >"$out/cur-generate.json"
"$bin/costradar" analyze --cur "$out/cur-export" --out "$out/cur" >"$out/cur-analyze.json"
echo "   $(field "['rows']" <"$out/cur-generate.json") CUR rows; $(field "['queries']" <"$out/cur-analyze.json") queries, $(field "['findings']" <"$out/cur-analyze.json") findings, $(field "['anomalies']" <"$out/cur-analyze.json") anomalies in $(field "['seconds']" <"$out/cur-analyze.json") s"

phase 6 "every payload in events/receiver/ through the receiver over HTTP"
set +e
"$py" tools/demo/local.py send-events "$receiver_url" "$tenant" events/receiver "$out/events.json"
set -e
counts 6-events
"$py" - "$out/events.json" <<'PY'
import json, sys, collections
d = json.load(open(sys.argv[1]))
by = collections.Counter(r["status"] for r in d)
print("   " + ", ".join(f"{n} x {s}" for s, n in sorted(by.items())) + f" ({len(d)} events)")
for r in d:
    if r["status"] != 200:
        print(f"   {r['file']}: {r['status']} {r['reply']}")
PY

phase 7 "a saving confirmed by the bill: a flagged volume deleted, a second scan, this month's CUR"
if [ "$scan_status" = SUCCEEDED ]; then
  confirm_saving
else
  echo "   SKIPPED: the scan did not run, so nothing was realised to confirm"
fi

phase 8 "report, summary and the console"
"$py" tools/demo/summary.py "$out" "$tenant" "$TABLE_NAME"
echo
echo "   HTML report: $out/cur/report.html (CUR analysis); JSON: $out/cur/report.json, $out/summary.json"
console_url=
if [ "$small" -eq 0 ]; then
  # The console on loopback against this table, and a second tenant for the isolation check.
  other=$("$bin/costradar" tenants create --name "Other Customer" | field "['tenant']['id']")
  # Its users in moto's Cognito: a pool, the operators group, an operator and a user per tenant.
  "$py" tests/console/pool.py --tenant "$tenant" --tenant "$other" >"$out/console-pool.json"
  "$bin/costradar" console serve --listen "127.0.0.1:${CONSOLE_PORT:-0}" --report "$tenant=$out/cur" \
    --cognito-pool "$(field "['pool']" <"$out/console-pool.json")" --cognito-client "$(field "['client']" <"$out/console-pool.json")" \
    >"$out/console.json" 2>"$out/logs/console.log" &
  pids+=($!)
  console_pid=$!
  for _ in $(seq 1 100); do [ -s "$out/console.json" ] && break; sleep 0.1; done
  console_url=$(field "['console']" <"$out/console.json")
  # The same browser test as make test (headless Chromium, axe-core), on the demo's own data.
  "${node[@]}" tests/console/browse.mjs --url "$console_url" --tenant "$tenant" --other "$other" --out "$out/console" \
    --users "$out/console-pool.json" \
    >"$out/logs/console-browser.log" 2>&1 || { tail -n 30 "$out/logs/console-browser.log" >&2; echo "demo: the console's browser test failed" >&2; exit 1; }
  echo "   console at $console_url: $(tail -n 1 "$out/logs/console-browser.log")"
  echo "   screenshots: $(cd "$out/console" && ls ./*.png | sed 's|^./||' | tr '\n' ' ')"
fi
echo "Done in $(elapsed) s; every process the demo started is stopped on exit."
if [ "${KEEP:-0}" = 1 ] && [ -n "$console_url" ]; then
  echo
  echo "The console stays open at $console_url (Ctrl-C stops it, moto and everything else)."
  echo "Sign in at ${console_url}login with a user of moto's Cognito pool (user name / password):"
  "$py" -c 'import json,sys
for u in json.load(open(sys.argv[1]))["users"]: print("     {username:<32} {password:<20} {role}".format(**u))' "$out/console-pool.json"
  echo "(Demo Customer is $tenant; Other Customer, $other, is empty.)"
  wait "$console_pid"
fi
