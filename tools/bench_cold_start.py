#!/usr/bin/env python3
"""Process start to first event handled, for the receiver's release binary.

Run by `make bench` under tools/with-moto.sh. It seeds moto (table, tenant, account) with the
`costradar` CLI, then starts the receiver binary N times against a minimal Lambda Runtime API
served here (the same protocol Lambda uses: GET .../invocation/next, POST .../response), hands
it one function-URL request (events/receiver/http/ec2-run-instances-gpu.json), and times from
the process spawn to its response. Figures are printed; nothing is asserted.

Usage: bench_cold_start.py RECEIVER_BINARY CLI_BINARY [RUNS]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class RuntimeApi(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, event: str):
        super().__init__(("127.0.0.1", 0), Handler)
        self.event = event
        self.served = False
        self.response: tuple[float, str] | None = None
        self.done = threading.Event()

    def handle_error(self, request, client_address):
        pass  # the runtime's second poll is cut off when the process is killed: expected


class Handler(BaseHTTPRequestHandler):
    server: RuntimeApi

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        if not self.path.endswith("/runtime/invocation/next"):
            self.send_error(404)
            return
        if self.server.served:
            self.server.done.wait(30)  # the runtime polls again; hold it until we kill the process
            self.send_error(503)
            return
        self.server.served = True
        body = self.server.event.encode()
        self.send_response(200)
        self.send_header("Lambda-Runtime-Aws-Request-Id", "bench-1")
        self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30_000))
        self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:111122223333:function:receiver")
        self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode(errors="replace") if length else ""
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.server.response = (time.perf_counter(), f"{self.path} {body}")
        self.server.done.set()


def cli(binary: str, *args: str) -> dict:
    out = subprocess.run([binary, *args], check=True, capture_output=True, text=True, env=os.environ)
    return json.loads(out.stdout)


def main() -> int:
    receiver, cr = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    os.environ.update(
        TABLE_NAME="costradar-bench-cold-start",
        COSTRADAR_ACCOUNT_ID="111122223333",
        COSTRADAR_TOPIC_ARN="arn:aws:sns:us-east-1:111122223333:costradar-custom-resource",
        COSTRADAR_TEMPLATE_URL="https://costradar-artifacts.s3.amazonaws.com/costradar-role.yaml",
        COSTRADAR_LOCAL_EMULATOR="1",
    )
    subprocess.run([cr, "table", "create"], check=True, capture_output=True, env=os.environ)
    created = cli(cr, "tenants", "create", "--name", "Cold start")
    tenant = created["tenant"]["id"]
    account = cli(cr, "accounts", "add", "--tenant", tenant, "--role-arn", "arn:aws:iam::123456789012:role/CostradarReadOnly")
    token = account["ingest_token"]
    template = (ROOT / "events/receiver/http/ec2-run-instances-gpu.json").read_text()
    template = template.replace("t-exampletenant001", tenant).replace("crt_placeholder-replaced-by-tests-0000000000", token)

    times = []
    for i in range(runs):
        # A new event id each run, so each run stores (not a duplicate).
        req = json.loads(template)
        event = json.loads(req["body"])
        event["id"] = f"00000000-0000-4000-8000-{i:012d}"
        req["body"] = json.dumps(event)
        api = RuntimeApi(json.dumps(req))
        threading.Thread(target=api.serve_forever, daemon=True).start()
        env = dict(
            os.environ,
            AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{api.server_address[1]}",
            AWS_LAMBDA_FUNCTION_NAME="receiver",
            AWS_LAMBDA_FUNCTION_MEMORY_SIZE="256",
            AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
            AWS_LAMBDA_LOG_STREAM_NAME="bench",
            AWS_LAMBDA_LOG_GROUP_NAME="/aws/lambda/receiver",
            RUST_LOG="warn",
        )
        start = time.perf_counter()
        proc = subprocess.Popen([receiver], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        ok = api.done.wait(30)
        proc.kill()
        _, err = proc.communicate()
        api.shutdown()
        if not ok or api.response is None:
            print(f"run {i}: no response; stderr: {err.decode(errors='replace')[-500:]}", file=sys.stderr)
            return 1
        at, what = api.response
        if "/response" not in what or '\\"accepted\\"' not in what:
            print(f"run {i}: unexpected reply: {what[:500]}", file=sys.stderr)
            return 1
        times.append((at - start) * 1000)
    size = Path(receiver).stat().st_size / 1e6
    print(
        f"receiver cold start ({runs} runs, host release binary {size:.1f} MB, DynamoDB in moto on loopback): "
        f"process start -> first event answered: median {statistics.median(times):.1f} ms, "
        f"min {min(times):.1f} ms, max {max(times):.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
