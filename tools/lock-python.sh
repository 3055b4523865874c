#!/usr/bin/env bash
# Regenerates the hashed Python locks that `make` installs from, with uv:
#   tests/requirements.in          -> tests/requirements.txt          (.venv/)
#   tests/requirements-sam.in      -> tests/requirements-sam.txt      (.venv/sam/)
#   tests/requirements-checkov.in  -> tests/requirements-checkov.txt  (.venv/checkov/)
#   tests/requirements-bench.in    -> tests/requirements-bench.txt    (.venv/bench/)
#   tests/requirements-uv.in       -> tests/requirements-uv.txt       (.venv/uv/, this script's uv)
#   tests/requirements-pip.in      -> tests/requirements-pip.txt      (pip itself, in every venv)
# uv keeps the versions already in a lock unless the .in asks for others; pass --upgrade to move
# every transitive pin to the newest release that satisfies the .in. Edit the .in, run this,
# run `make test`, commit both files.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tools/side-venv.sh uv tests/requirements-uv.txt
for name in requirements requirements-sam requirements-checkov requirements-bench requirements-uv requirements-pip; do
  .venv/uv/bin/uv pip compile "tests/$name.in" -o "tests/$name.txt" \
    --generate-hashes --universal --python-version 3.11 --quiet \
    --custom-compile-command "tools/lock-python.sh" "$@"
done
tools/check-locks.sh
