#!/usr/bin/env bash
# The templates' checks, as pytest tests in tests/templates/: the customer templates (cfn/: cfn-lint,
# checkov, parliament, cloudsplaining, policy_sentry, the freshness of the generated cfn/ACCESS.md)
# and the operator's stack (infra/: sam validate --lint, cfn-lint, checkov, cloudsplaining on the
# function policies, asl-validator, static security invariants), plus the state machines executed
# by aws-local-stepfunctions (node --test tests/sfn/). Fails on any finding; a tool that is
# missing or cannot run is a failure too, never a skip.
#
#   tools/check-templates.sh            the checks (what `make test` runs)
#   tools/check-templates.sh --report   the checks, then ours-vs-vendor figures (`make validate`)
#
# Needs the project venv (`make venv`) and the node tools (`make node`: tests/node_modules). checkov
# and aws-sam-cli get venvs of their own inside it, .venv/checkov/ and .venv/sam/, created here
# (tools/side-venv.sh) from tests/requirements-{checkov,sam}.txt and recreated when those files
# change: their pins conflict with moto's and cloudsplaining's in the main venv.
set -uo pipefail
export PYTHONDONTWRITEBYTECODE=1   # no __pycache__ in tools/ or tests/templates/
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv="$root/.venv"
report=0
[ "${1:-}" = "--report" ] && report=1

for tool in python pytest cfn-lint parliament; do
  [ -x "$venv/bin/$tool" ] || { echo "check-templates: $venv/bin/$tool is missing; run 'make venv'" >&2; exit 2; }
done

tools/side-venv.sh checkov tests/requirements-checkov.txt || exit 2
tools/side-venv.sh sam tests/requirements-sam.txt || exit 2
[ -f tests/node_modules/.installed ] || { echo "check-templates: tests/node_modules is missing; run 'make node'" >&2; exit 2; }

status=0
CHECKOV="$venv/checkov/bin/checkov" SAM="$venv/sam/bin/sam" "$venv/bin/pytest" -q -p no:cacheprovider tests/templates || status=1
# The state machines run by the real ASL interpreter (node's test runner; tools/test.sh counts its
# "# pass N" / "# fail N" lines).
node --require ./tests/sfn/node22-polyfill.cjs --test --test-reporter=tap tests/sfn/ || status=1

if [ "$report" -eq 1 ]; then
  echo
  echo "Customer role policy (cfn/costradar-role.yaml, CUR on) vs the FinOps vendor's published matrix:"
  "$venv/bin/python" tools/cfn_policy.py figures || status=1
fi
exit "$status"
