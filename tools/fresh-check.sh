#!/usr/bin/env bash
# What a new user gets: clones HEAD into a temporary folder and runs the README's two commands
# there, `make demo` then `make test`, with no pip cache, an empty cargo target and an empty npm
# cache, and prints both wall times. Run it before every stop.
#
#   tools/fresh-check.sh [--keep]      --keep: leave the clone (its path is printed)
# Exits non-zero if either command fails. Logs: <clone>/fresh-demo.log, <clone>/fresh-test.log.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
keep=0
[ "${1:-}" = --keep ] && keep=1
work=$(mktemp -d "${TMPDIR:-/tmp}/costradar-fresh.XXXXXX")
cleanup() { [ "$keep" -eq 1 ] || rm -rf "$work"; }
trap cleanup EXIT
git clone --quiet --no-local "$root" "$work/costradar"
cd "$work/costradar"
echo "fresh-check: $(git log --oneline -1) cloned into $work/costradar"
export PIP_NO_CACHE_DIR=1
export CARGO_TARGET_DIR="$work/target"
export npm_config_cache="$work/npm-cache"
mkdir -p "$CARGO_TARGET_DIR" "$npm_config_cache"
# The project's scripts read the build from target/: point it at the empty CARGO_TARGET_DIR.
ln -s "$CARGO_TARGET_DIR" target

run() {
  local name=$1 start status
  start=$(date +%s)
  set +e
  make "$name" >"$work/costradar/fresh-$name.log" 2>&1
  status=$?
  set -e
  local s=$(($(date +%s) - start))
  printf 'fresh-check: make %-5s %s in %dm%02ds (log: %s)\n' "$name" \
    "$([ "$status" -eq 0 ] && echo passed || echo FAILED)" $((s / 60)) $((s % 60)) "$work/costradar/fresh-$name.log"
  tail -n 3 "$work/costradar/fresh-$name.log" | sed 's/^/    /'
  return "$status"
}
status=0
run demo || status=1
run test || status=1
[ "$status" -eq 0 ] || keep=1
exit "$status"
