#!/usr/bin/env bash
# Runs a command with moto's server on a free loopback port, and stops the server however the
# command ends (success, failure, Ctrl-C). The command sees:
#   COSTRADAR_TEST_ENDPOINT / AWS_ENDPOINT_URL  http://127.0.0.1:<port>
#   fake credentials and a region, so no SDK call can reach AWS.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
moto="$root/.venv/bin/moto_server"
[ -x "$moto" ] || { echo "with-moto: $moto is missing; run through make" >&2; exit 2; }
mkdir -p "$root/target"
port=$("$root/.venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log="$root/target/moto.log"
"$moto" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
pid=$!
stop() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
trap stop EXIT
trap 'stop; exit 130' INT TERM
for _ in $(seq 1 100); do
  if "$root/.venv/bin/python" -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/data.json', timeout=1)" 2>/dev/null; then
    break
  fi
  kill -0 "$pid" 2>/dev/null || { echo "with-moto: moto_server exited; see $log" >&2; exit 1; }
  sleep 0.2
done
export COSTRADAR_TEST_ENDPOINT="http://127.0.0.1:$port"
export AWS_ENDPOINT_URL="$COSTRADAR_TEST_ENDPOINT"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing
export AWS_REGION="${AWS_REGION:-us-east-1}" AWS_DEFAULT_REGION="${AWS_REGION:-us-east-1}"
echo "with-moto: moto_server on $COSTRADAR_TEST_ENDPOINT (pid $pid)" >&2
"$@"
