#!/usr/bin/env bash
# The console's browser test (a gate of `make test`, tools/test.sh): `costradar console serve
# --demo-data` (two tenants in the in-memory store) with the CUR report of a small generated
# export, people signing in with passwords through moto's Cognito (a pool, the operators group
# and a user per role made by tests/console/pool.py), driven in the OS's headless Chromium by
# tests/console/browse.mjs (playwright-core and axe-core from tests/package-lock.json). Prints
# TAP-style "# pass N" / "# fail N". Starts moto (tools/with-moto.sh) unless one is running.
#
#   tools/console-test.sh [OUT]      default OUT: target/test-console (screenshots, results.json)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
[ -n "${COSTRADAR_TEST_ENDPOINT:-}" ] || exec tools/with-moto.sh "$0" "$@"
out=${1:-$root/target/test-console}
bin="$root/target/debug/costradar"
[ -x /usr/bin/chromium ] || { echo "console test: /usr/bin/chromium is missing; make test installs Debian's chromium" >&2; exit 1; }
[ -d tests/node_modules/playwright-core ] || { echo "console test: run through make (npm ci installs playwright-core)" >&2; exit 1; }
# The same build flags as make test and make demo: a no-op when they already built.
cargo build --workspace --tests --bins --locked --quiet
rm -rf "$out"
mkdir -p "$out"
"$bin" cur generate --out "$out/cur-export" --rows 5000 --months 2 --accounts 2 >/dev/null
"$bin" analyze --cur "$out/cur-export" --out "$out/cur" >/dev/null
tenant=t-acmeanalytics001 other=t-globexlogistics1
"$root/.venv/bin/python" tests/console/pool.py --tenant "$tenant" --tenant "$other" >"$out/pool.json"
field() { "$root/.venv/bin/python" -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$out/pool.json" "$1"; }
node tests/console/browse.mjs --bin "$bin" --serve-arg --demo-data --serve-arg --report --serve-arg "demo=$out/cur" \
  --serve-arg --endpoint-url --serve-arg "$COSTRADAR_TEST_ENDPOINT" \
  --serve-arg --cognito-pool --serve-arg "$(field pool)" --serve-arg --cognito-client --serve-arg "$(field client)" \
  --users "$out/pool.json" --require-report --tenant "$tenant" --other "$other" --out "$out/screens"
