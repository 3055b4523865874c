#!/usr/bin/env bash
# The scan's moto benchmark, printed by `make bench` (nothing is asserted): an account holding
# every family in one region, then an account with
# 1,000 volumes and 200 instances over 4 regions: wall time, API calls per region, peak memory.
# (The in-process rule evaluation on 100,000 resources is the criterion bench `scan_rules`,
# which `cargo bench -p costradar-core` runs.)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build --locked -p costradar-tests --bin bench_scan >&2
tools/with-moto.sh target/debug/bench_scan
