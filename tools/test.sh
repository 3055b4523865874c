#!/usr/bin/env bash
# Everything `make test` runs, under tools/with-moto.sh. Every suite runs even if an earlier
# one failed; the last line is the plain total: "tests: N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mkdir -p target
log=target/test-cargo.log
status=0

# Gates before the tests: the Python locks are complete and hashed, the code is formatted, and
# clippy has nothing to say.
tools/check-locks.sh || status=1
cargo fmt --all -- --check || { echo "test: cargo fmt --all has changes to make" >&2; status=1; }
cargo clippy --workspace --all-targets --locked -- -D warnings || { echo "test: clippy found problems" >&2; status=1; }
# What ships builds without the features the tests turn on (the workspace build unifies them).
cargo check --locked -p costradar-cli -p costradar-onboarding -p costradar-receiver -p costradar-scan -p costradar-cur-query ||
  { echo "test: a shipped binary does not build on its own" >&2; status=1; }

cargo test --workspace --locked 2>&1 | tee "$log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

totals=$(awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } } END { printf "%d %d", p, f }' "$log")
passed=${totals% *}
failed=${totals#* }
tools/check-templates.sh 2>&1 | tee target/test-templates.log
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
# pytest's "N passed, N failed in Ts" and node's test runner's TAP "# pass N" / "# fail N".
read -r tp tf < <(awk '/ (passed|failed)/ && /in [0-9.]+s/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
  /^# pass [0-9]+$/ { p += $3 } /^# fail [0-9]+$/ { f += $3 } END { printf "%d %d", p, f }' target/test-templates.log)
passed=$((passed + tp)); failed=$((failed + tf))
# End to end: the demo's flow, smaller (tools/demo.sh --small), with its findings and report checked.
"$root/.venv/bin/pytest" -q -p no:cacheprovider tests/e2e 2>&1 | tee target/test-e2e.log
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
read -r ep ef < <(awk '/ (passed|failed)/ && /in [0-9.]+s/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^errors?/) f += $i } } END { printf "%d %d", p, f }' target/test-e2e.log)
passed=$((passed + ep)); failed=$((failed + ef))
# The console in a real browser: the OS's headless Chromium, playwright-core and axe-core.
tools/console-test.sh 2>&1 | tee target/test-console.log
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
read -r cp cf < <(awk '/^# pass [0-9]+$/ { p += $3 } /^# fail [0-9]+$/ { f += $3 } END { printf "%d %d", p, f }' target/test-console.log)
passed=$((passed + cp)); failed=$((failed + cf))
[ "$status" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1   # a build failure runs no test but fails
echo "tests: $passed passed, $failed failed"
exit "$status"
