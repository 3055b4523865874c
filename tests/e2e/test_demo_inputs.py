"""Bad input to the demo's tools: each refuses with a clear message and a non-zero exit before
it touches anything (no AWS call, no process started, nothing sent off the machine)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PY = str(ROOT / ".venv" / "bin" / "python")
NODE = ["node", "--require", str(ROOT / "tests" / "sfn" / "node22-polyfill.cjs")]
# No endpoint of any kind: a tool that did try to reach AWS would fail differently (or hang).
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}


def run(args, env=None, stdin=""):
    return subprocess.run([str(a) for a in args], cwd=ROOT, capture_output=True, text=True, timeout=60, input=stdin,
                          env={**CLEAN_ENV, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})})


def test_demo_refuses_unknown_arguments():
    r = run([ROOT / "tools" / "demo.sh", "--bogus"])
    assert r.returncode == 2 and "unknown argument --bogus" in r.stderr


def test_demo_refuses_to_run_without_moto():
    r = run([ROOT / "tools" / "demo.sh", "--small", "--out", "/nonexistent/never-created"])
    assert r.returncode == 2 and "tools/with-moto.sh" in r.stderr
    assert not Path("/nonexistent/never-created").exists()


@pytest.mark.parametrize("endpoint", ["", "https://iam.amazonaws.com", "http://10.0.0.1:5000", "http://127.0.0.1.evil.example:80"])
def test_seed_refuses_anything_but_a_loopback_endpoint(endpoint):
    r = run([PY, ROOT / "tools" / "demo" / "seed.py", "--small"], env={"AWS_ENDPOINT_URL": endpoint})
    assert r.returncode != 0 and "must be a loopback moto server" in r.stderr, r.stderr


@pytest.mark.parametrize("args", [
    ["invoke", "http://192.0.2.1:9000", "scan"],
    ["invoke", "https://lambda.us-east-1.amazonaws.com", "scan"],
    ["count-proxy", "/tmp/never-written", "http://192.0.2.1:5000"],
])
def test_local_tools_refuse_non_loopback_targets(args):
    r = run([PY, ROOT / "tools" / "demo" / "local.py", *args], stdin="{}")
    assert r.returncode != 0 and "is not a loopback address" in r.stderr, r.stderr
    assert not Path("/tmp/never-written").exists()


def test_send_events_needs_the_token_and_a_loopback_receiver(tmp_path):
    out = tmp_path / "events.json"
    r = run([PY, ROOT / "tools" / "demo" / "local.py", "send-events", "http://127.0.0.1:9", "t-x", "events/receiver", out],
            env={"COSTRADAR_INGEST_TOKEN": ""})
    assert r.returncode != 0 and "COSTRADAR_INGEST_TOKEN is not set" in r.stderr
    r = run([PY, ROOT / "tools" / "demo" / "local.py", "send-events", "http://203.0.113.9", "t-x", "events/receiver", out],
            env={"COSTRADAR_INGEST_TOKEN": "crt_x"})
    assert r.returncode != 0 and "is not a loopback address" in r.stderr
    assert not out.exists()


@pytest.mark.parametrize("args", [[], ["invoke"], ["invoke", "http://127.0.0.1:1"], ["frobnicate", "a", "b"]])
def test_local_tools_print_usage_on_wrong_arguments(args):
    r = run([PY, ROOT / "tools" / "demo" / "local.py", *args])
    assert r.returncode == 2 and "local.py invoke URL NAME" in r.stderr


@pytest.mark.parametrize("endpoint", [None, "https://lambda.us-east-1.amazonaws.com", "http://198.51.100.7:9000"])
def test_run_scan_refuses_without_a_loopback_lambda_endpoint(endpoint):
    env = {} if endpoint is None else {"AWS_ENDPOINT_URL_LAMBDA": endpoint}
    r = run([*NODE, ROOT / "tools" / "demo" / "run_scan.mjs", "run-1"], env=env)
    assert r.returncode == 2 and "AWS_ENDPOINT_URL_LAMBDA a loopback URL" in r.stderr


def test_run_scan_needs_a_run_id():
    r = run([*NODE, ROOT / "tools" / "demo" / "run_scan.mjs"], env={"AWS_ENDPOINT_URL_LAMBDA": "http://127.0.0.1:9000"})
    assert r.returncode == 2 and "usage" in r.stderr


def test_summary_prints_usage_on_wrong_arguments():
    r = run([PY, ROOT / "tools" / "demo" / "summary.py", "only-one"])
    assert r.returncode != 0 and "usage: summary.py OUT TENANT_ID TABLE" in r.stderr
