#!/usr/bin/env bash
# The receiver's release-binary figures, printed by `make bench` (nothing is asserted):
#   - the arm64 Lambda zip (`cargo lambda build --release --arm64`, cross-compiled with the zig
#     that cargo-lambda's PyPI package brings; target dir target/lambda/), against the 5 MB target;
#   - process start -> first event answered, for the host release binary against a minimal
#     Lambda Runtime API and DynamoDB in moto (tools/bench_cold_start.py).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$root/.venv/bin:$PATH"

CARGO_TARGET_DIR=target/lambda cargo-lambda lambda build --release --arm64 -p costradar-receiver --output-format zip >&2
zip=target/lambda/lambda/receiver/bootstrap.zip
python - "$zip" <<'PY'
import sys, zipfile, os
z = sys.argv[1]
size = os.path.getsize(z)
unpacked = sum(i.file_size for i in zipfile.ZipFile(z).infolist())
print(f"receiver arm64 zip: {size / 1e6:.2f} MB (target < 5 MB; {unpacked / 1e6:.2f} MB unpacked)")
PY

cargo build --locked --release -p costradar-receiver >&2
cargo build --locked -p costradar-cli >&2
tools/with-moto.sh python tools/bench_cold_start.py target/release/receiver target/debug/costradar "${COLD_START_RUNS:-20}"
