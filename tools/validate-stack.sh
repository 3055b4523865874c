#!/usr/bin/env bash
# `make validate` for the operator's stack, in order: sam validate --lint, cfn-lint, checkov,
# asl-validator on every state machine, cloudsplaining on every function and workflow policy.
# Every tool runs even if an earlier one failed; exit 1 if any found something. The same checks
# (and the static invariants) run as tests in `make test` (tests/templates/test_stack.py).
set -uo pipefail
export PYTHONDONTWRITEBYTECODE=1 SAM_CLI_TELEMETRY=0
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv="$root/.venv"
tools/side-venv.sh checkov tests/requirements-checkov.txt || exit 2
tools/side-venv.sh sam tests/requirements-sam.txt || exit 2
[ -f tests/node_modules/.installed ] || { echo "validate-stack: tests/node_modules is missing; run 'make node'" >&2; exit 2; }
status=0
step() { echo; echo "== $1"; }

step "sam validate --lint (infra/template.yaml)"
# Offline: the SAM translator and cfn-lint run locally; the region only names the partition.
"$venv/sam/bin/sam" validate --lint --template infra/template.yaml --region "${AWS_REGION:-us-east-1}" || status=1

step "cfn-lint (infra/template.yaml)"
"$venv/bin/cfn-lint" infra/template.yaml && echo "no finding" || status=1

step "checkov (infra/template.yaml)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp infra/template.yaml "$tmp/"
"$venv/checkov/bin/checkov" --directory "$tmp" --framework cloudformation --skip-download --compact --quiet || status=1

step "asl-validator (infra/statemachines/*.asl.json)"
node tests/sfn/validate.mjs || status=1

step "cloudsplaining (the stack's IAM policies)"
"$venv/bin/python" tools/stack_policy.py cloudsplaining || status=1

[ "$status" -eq 0 ] && echo && echo "validate-stack: clean"
exit "$status"
