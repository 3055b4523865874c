#!/usr/bin/env bash
# Installs a pinned tool into a venv of its own inside the project venv, .venv/NAME/, from
# REQUIREMENTS, a hashed lock (tools/lock-python.sh writes it; pip installs it with
# --require-hashes), and reinstalls it when that file changes (the stamp carries its hash). Tools get
# their own venv when their pins conflict with the main one's (moto, cloudsplaining):
#   tools/side-venv.sh checkov tests/requirements-checkov.txt
#   tools/side-venv.sh sam tests/requirements-sam.txt
# Prints nothing when the venv is current; exit 2 if it cannot be installed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
name=$1
req="$root/$2"
dir="$root/.venv/$name"
stamp="$dir/.installed-$(cat "$req" "$root/tests/requirements-pip.txt" | sha256sum | cut -c1-16)"
[ -f "$stamp" ] && exit 0
echo "side-venv: installing $name into $dir (pinned, ${2})" >&2
"$root/tools/locked-venv.sh" "$dir" "$req" && touch "$stamp" || { echo "side-venv: could not install $name" >&2; exit 2; }
