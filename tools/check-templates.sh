#!/usr/bin/env bash
# The customer templates' checks: cfn-lint, checkov, parliament, cloudsplaining, policy_sentry and
# the static tests in tests/templates/ (pytest), plus the freshness of the generated cfn/ACCESS.md.
# Fails on any finding; a tool that is missing or cannot run is a failure too, never a skip.
#
#   tools/check-templates.sh            the checks (what `make test` runs)
#   tools/check-templates.sh --report   the checks, then ours-vs-vendor figures (`make validate`)
#
# Needs the project venv (`make venv`). checkov gets a venv of its own inside it, .venv/checkov/,
# created here from tests/requirements-checkov.txt and recreated when that file changes: its pins
# conflict with moto's and cloudsplaining's in the main venv.
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

checkov_venv="$venv/checkov"
stamp="$checkov_venv/.installed-$(sha256sum tests/requirements-checkov.txt | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "check-templates: installing checkov into $checkov_venv (pinned, tests/requirements-checkov.txt)" >&2
  rm -rf "$checkov_venv"
  "${PYTHON:-python3}" -m venv "$checkov_venv" &&
    "$checkov_venv/bin/pip" install --quiet --disable-pip-version-check -r tests/requirements-checkov.txt &&
    touch "$stamp" || { echo "check-templates: could not install checkov" >&2; exit 2; }
fi

status=0
CHECKOV="$checkov_venv/bin/checkov" "$venv/bin/pytest" -q -p no:cacheprovider tests/templates || status=1

if [ "$report" -eq 1 ]; then
  echo
  echo "Customer role policy (cfn/costradar-role.yaml, CUR on) vs the FinOps vendor's published matrix:"
  "$venv/bin/python" tools/cfn_policy.py figures || status=1
fi
exit "$status"
