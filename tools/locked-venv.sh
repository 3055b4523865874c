#!/usr/bin/env bash
# Creates the venv DIR from the hashed lock LOCK: the lock is checked (tools/check-locks.sh), pip
# itself comes from tests/requirements-pip.txt (the pip that ships with Python 3.11 refuses a
# hashed lock where a package is also required with extras), then every package is installed
# with --require-hashes. Used for .venv/ (the Makefile) and the side venvs (tools/side-venv.sh).
#   tools/locked-venv.sh DIR LOCK
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$1
lock=$2
"$root/tools/check-locks.sh" "$lock" "$root/tests/requirements-pip.txt"
rm -rf "$dir"
"${PYTHON:-python3}" -m venv "$dir"
pip=("$dir/bin/pip" install --quiet --disable-pip-version-check --require-hashes)
"${pip[@]}" -r "$root/tests/requirements-pip.txt"
"${pip[@]}" -r "$lock"
