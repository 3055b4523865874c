#!/usr/bin/env python3
"""Writes events/receiver/http/<name>.json: each receiver fixture wrapped as the function-URL
request (payload format 2.0) an EventBridge API destination produces. The tenant id and token
are placeholders that tests replace. `--check` fails if the wrapped files are stale."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "events" / "receiver"
DST = SRC / "http"
TENANT = "t-exampletenant001"
TOKEN = "crt_placeholder-replaced-by-tests-0000000000"
DOMAIN = "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws"


def wrap(event: dict, body: str) -> dict:
    path = f"/events/{TENANT}"
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "content-type": "application/json; charset=utf-8",
            "x-api-key": TOKEN,
            "user-agent": "Amazon/EventBridge/ApiDestinations",
            "host": DOMAIN,
            "x-amzn-trace-id": "Root=1-673dbe41-5f1c0d2e3b4a4c5d8e6f7a8b",
            "x-forwarded-proto": "https",
        },
        "requestContext": {
            "accountId": "anonymous",
            "apiId": DOMAIN.split(".")[0],
            "domainName": DOMAIN,
            "domainPrefix": DOMAIN.split(".")[0],
            "http": {
                "method": "POST",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": "Amazon/EventBridge/ApiDestinations",
            },
            "requestId": f"req-{event['id']}",
            "routeKey": "$default",
            "stage": "$default",
            "time": "20/Nov/2026:10:00:01 +0000",
            "timeEpoch": 1795168801000,
        },
        "body": body,
        "isBase64Encoded": False,
    }


def main() -> int:
    check = "--check" in sys.argv[1:]
    stale = []
    DST.mkdir(exist_ok=True)
    for src in sorted(SRC.glob("*.json")):
        body = src.read_text()
        text = json.dumps(wrap(json.loads(body), body), indent=2) + "\n"
        dst = DST / src.name
        if check:
            if not dst.exists() or dst.read_text() != text:
                stale.append(dst.name)
        else:
            dst.write_text(text)
    extra = {p.name for p in DST.glob("*.json")} - {p.name for p in SRC.glob("*.json")}
    if check and (stale or extra):
        print(f"stale: {stale}, without a source: {sorted(extra)}; run tools/wrap_events.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
