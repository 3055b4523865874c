#!/usr/bin/env bash
# Every requirements file that `make` installs must be a complete, hashed lock: each package
# pinned with == and carrying --hash. pip's --require-hashes then refuses anything else,
# transitive packages included. Checks the files named, or every tests/requirements*.txt.
# Exits 1 with the offending lines, naming the fix.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bad=0
[ $# -gt 0 ] || set -- tests/requirements*.txt
for f in "$@"; do
  # Join continuation lines, drop comments and blanks: one requirement per line.
  offenders=$(sed -e 's/#.*//' "$f" | sed -e ':a' -e '/\\$/N; s/\\\n//; ta' | awk 'NF' |
    grep -vE '^[A-Za-z0-9._-]+(\[[A-Za-z0-9,._-]+\])?==[^ ;]+( *;[^-]*)? +(--hash=sha256:[0-9a-f]{64} *)+$' || true)
  if [ -n "$offenders" ]; then
    echo "check-locks: $f is not a complete hashed lock; these lines lack an exact pin or a hash:" >&2
    printf '%s\n' "$offenders" | sed 's/^/  /' | cut -c1-160 >&2
    bad=1
  fi
done
if [ "$bad" -ne 0 ]; then
  echo "check-locks: edit the matching .in file and run tools/lock-python.sh to regenerate the locks." >&2
  exit 1
fi
