#!/usr/bin/env bash
# The local demo, run by `make demo` under tools/with-moto.sh (moto on loopback, no AWS):
# creates the table, seeds a demo customer role in moto, creates a tenant and connects the
# account through the same code the Lambda runs, and prints the quick-create link and status.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cr="$root/target/debug/costradar"
py="$root/.venv/bin/python"
export TABLE_NAME=costradar-demo
# A fictional operator account; moto's default account plays the customer.
export COSTRADAR_ACCOUNT_ID=111122223333
export COSTRADAR_TOPIC_ARN="arn:aws:sns:$AWS_REGION:111122223333:costradar-custom-resource"
export COSTRADAR_TEMPLATE_URL="https://costradar-artifacts.s3.amazonaws.com/costradar-role.yaml"
# moto does not enforce sts:ExternalId: the negative check is skipped, and said so.
export COSTRADAR_LOCAL_EMULATOR=1
field() { "$py" -c "import json,sys; d=json.load(sys.stdin); print(eval('d'+sys.argv[1]))" "$1"; }

echo "== 1/4 state table"
"$cr" table create >/dev/null
echo "   created DynamoDB table $TABLE_NAME in moto ($AWS_ENDPOINT_URL)"

echo "== 2/4 demo customer account"
"$py" - <<'PY'
import json, boto3
iam = boto3.client("iam")
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole",
    "Condition": {"StringEquals": {"sts:ExternalId": "set-by-the-customer-stack"}}}]}
iam.create_role(RoleName="CostradarReadOnly", AssumeRolePolicyDocument=json.dumps(trust))
print("   created role arn:aws:iam::123456789012:role/CostradarReadOnly in moto")
PY

echo "== 3/4 tenant"
tenant_json=$("$cr" tenants create --name "Demo Customer")
tenant=$(field "['tenant']['id']" <<<"$tenant_json")
echo "   tenant:      $tenant"
echo "   ExternalId:  $(field "['tenant']['external_id']" <<<"$tenant_json")"
echo "   ingest token: shown once at creation, stored only as a SHA-256 hash (not printed by the demo)"
echo "   quick-create link for the customer:"
echo "   $(field "['quick_create_url']" <<<"$tenant_json")"

echo "== 4/4 connect and verify the account"
account_json=$("$cr" accounts add --tenant "$tenant" --role-arn arn:aws:iam::123456789012:role/CostradarReadOnly --regions us-east-1,eu-west-1)
echo "   account 123456789012: $(field "['status']" <<<"$account_json") ($(field "['status_reason']" <<<"$account_json"))"
echo
echo "Done. The receiver is built (try: target/debug/costradar events price events/receiver/ec2-run-instances-gpu.json);"
echo "scans and CUR analysis are not built yet (see README)."
