#!/usr/bin/env python3
"""Small local stand-ins for the demo and the end-to-end test (standard library only):

    local.py invoke URL NAME            POST stdin to the Lambda Invoke API of `cargo lambda watch`
                                        (URL/2015-03-31/functions/NAME/invocations); prints the
                                        payload; exit 3 if the function ended with an error
    local.py cfn-response PORTFILE LOG  CloudFormation's presigned response URL, on loopback:
                                        records every PUT body as one JSON line in LOG, answers 200
    local.py send-events URL TENANT DIR OUT
                                        POSTs every DIR/*.json like an EventBridge API destination
                                        (x-api-key from COSTRADAR_INGEST_TOKEN) to
                                        URL/events/TENANT; writes each status, body and round
                                        trip in ms to OUT (JSON)
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import urlparse


def loopback(url: str) -> str:
    if urlparse(url).hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit(f"local.py: {url} is not a loopback address")
    return url.rstrip("/")


def invoke(base: str, name: str) -> int:
    body = sys.stdin.buffer.read()
    req = urllib.request.Request(f"{loopback(base)}/2015-03-31/functions/{name}/invocations", data=body, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=180) as r:
            payload, error = r.read(), r.headers.get("X-Amz-Function-Error")
    except urllib.error.HTTPError as e:  # cargo lambda answers a function error with a 5xx
        payload, error = e.read(), e.headers.get("X-Amz-Function-Error") or str(e.code)
    sys.stdout.write(payload.decode("utf-8", "replace") + "\n")
    if error:
        return 3
    try:
        doc = json.loads(payload)
    except ValueError:
        return 0
    return 3 if isinstance(doc, dict) and "errorType" in doc and "errorMessage" in doc else 0


def cfn_response(portfile: str, log: str) -> int:
    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:  # noqa: N802
            n = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(n).decode("utf-8", "replace")
            with open(log, "a", encoding="utf-8") as f:
                f.write(json.dumps({"path": self.path, "body": json.loads(body or "null")}) + "\n")
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    Path(portfile).write_text(str(server.server_address[1]), encoding="utf-8")
    server.serve_forever()
    return 0


def send_events(base: str, tenant: str, directory: str, out: str) -> int:
    token = os.environ.get("COSTRADAR_INGEST_TOKEN") or sys.exit("local.py: COSTRADAR_INGEST_TOKEN is not set")
    url = f"{loopback(base)}/events/{tenant}"
    results = []
    for path in sorted(Path(directory).glob("*.json")):
        body = path.read_bytes()
        req = urllib.request.Request(url, data=body, method="POST",
                                     headers={"content-type": "application/json; charset=utf-8", "x-api-key": token,
                                              "user-agent": "Amazon/EventBridge/ApiDestinations"})
        start = time.perf_counter()
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, text = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read()
        ms = (time.perf_counter() - start) * 1000
        try:
            reply = json.loads(text)
        except ValueError:
            reply = text.decode("utf-8", "replace")
        results.append({"file": path.name, "status": status, "ms": round(ms, 2), "reply": reply})
    Path(out).write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0 if all(r["status"] == 200 for r in results) else 1


def main(argv: list[str]) -> int:
    if argv[:1] == ["invoke"] and len(argv) == 3:
        return invoke(argv[1], argv[2])
    if argv[:1] == ["cfn-response"] and len(argv) == 3:
        return cfn_response(argv[1], argv[2])
    if argv[:1] == ["send-events"] and len(argv) == 5:
        return send_events(*argv[1:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
