#!/usr/bin/env python3
"""Small local stand-ins for the demo and the end-to-end test (standard library only):

    local.py invoke URL NAME            POST stdin to the Lambda Invoke API of `cargo lambda watch`
                                        (URL/2015-03-31/functions/NAME/invocations); prints the
                                        payload; exit 3 if the function ended with an error
    local.py cfn-response PORTFILE LOG  CloudFormation's presigned response URL, on loopback:
                                        records every PUT body as one JSON line in LOG, answers 200
    local.py count-proxy PORTFILE UPSTREAM
                                        a loopback proxy in front of moto that counts every AWS
                                        request by service and operation (GET /__counts answers
                                        the counts so far); the Lambdas' AWS calls go through it
    local.py send-events URL TENANT DIR OUT
                                        POSTs every DIR/*.json like an EventBridge API destination
                                        (x-api-key from COSTRADAR_INGEST_TOKEN) to
                                        URL/events/TENANT; writes each status, body and round
                                        trip in ms to OUT (JSON)
"""

from __future__ import annotations

import http.client
import json
import os
import re
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
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


def operation(headers, body: bytes) -> tuple[str, str]:
    """(service, operation) of a signed AWS request: the service from the SigV4 credential scope,
    the operation from X-Amz-Target (JSON protocols) or Action= (query protocols)."""
    m = re.search(r"Credential=[^/]+/[0-9]{8}/[^/]+/([^/]+)/aws4_request", headers.get("authorization") or "")
    service = m.group(1) if m else "unsigned"
    target = headers.get("x-amz-target")
    if target:
        return service, target.rsplit(".", 1)[-1]
    a = re.search(rb"(?:^|&)Action=([A-Za-z0-9]+)", body)
    return service, a.group(1).decode() if a else headers.get("x-amz-method", "") or "request"


def count_proxy(portfile: str, upstream: str) -> int:
    up = urlparse(loopback(upstream))
    counts: dict[str, int] = {}
    lock = threading.Lock()
    upstream_conns = threading.local()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in two writes: without TCP_NODELAY, Nagle's algorithm and the
        # client's delayed ACK would add ~40 ms to every proxied call.
        disable_nagle_algorithm = True

        def handle_one(self) -> None:
            n = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(n) if n else b""
            if self.path == "/__counts":
                with lock:
                    payload = json.dumps(counts, sort_keys=True).encode()
                self.send_response(200)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            service, op = operation(self.headers, body)
            with lock:
                counts[f"{service}:{op}"] = counts.get(f"{service}:{op}", 0) + 1
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
            # One kept-alive upstream connection per client connection: the proxy should add as
            # little as possible to the latencies the demo measures.
            for attempt in (1, 2):
                conn = getattr(upstream_conns, "conn", None) or http.client.HTTPConnection(up.hostname, up.port, timeout=60)
                upstream_conns.conn = conn
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    r = conn.getresponse()
                    data = r.read()
                    break
                except (http.client.HTTPException, OSError):
                    conn.close()
                    upstream_conns.conn = None
                    if attempt == 2:
                        raise
            self.send_response(r.status)
            for k, v in r.getheaders():
                if k.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
                    self.send_header(k, v)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = handle_one

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
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
    if argv[:1] == ["count-proxy"] and len(argv) == 3:
        return count_proxy(argv[1], argv[2])
    if argv[:1] == ["send-events"] and len(argv) == 5:
        return send_events(*argv[1:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
