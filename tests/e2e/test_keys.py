"""Keys over HTTP against the local stack: the dev keys it writes, API Gateway's own answers as problems,
and a key issued and revoked with the command line while the stack runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests

from tests.e2e.support import NY_NUMBER, PROBLEM, new_debtor, sms_body
from tools.local.stack import ROOT, LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def test_the_stack_writes_one_key_per_role_for_tenant_demo(stack: LocalStack) -> None:
    assert stack.keys_path is not None
    written = json.loads(stack.keys_path.read_text())
    assert written["tenant"] == "demo" and set(written["keys"]) == {"submitter", "compliance", "regulator", "admin"}
    assert oct(stack.keys_path.stat().st_mode & 0o777) == "0o600"
    listed = requests.get(
        f"{stack.url}/v1/keys", headers={"Authorization": f"Bearer {written['keys']['admin']}"}, timeout=10
    ).json()["keys"]
    assert sorted(k["role"] for k in listed if k["created_by"] == "make run") == sorted(written["keys"])


def test_no_authorization_header_is_api_gateways_401_written_as_a_problem(stack: LocalStack) -> None:
    body = sms_body(new_debtor(), NY_NUMBER)
    response = requests.post(f"{stack.url}/v1/contacts", json=body, timeout=10)
    assert (response.status_code, response.headers["Content-Type"]) == (401, PROBLEM)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    problem = response.json()
    assert (problem["status"], problem["errors"][0]["field"]) == (401, "Authorization")


def test_a_wrong_role_is_a_403_problem_and_public_routes_need_no_key(stack: LocalStack) -> None:
    submitter = stack.dev_keys["keys"]["submitter"]
    response = requests.get(
        f"{stack.url}/v1/audit/events?debtor_id=d-1", headers={"Authorization": f"Bearer {submitter}"}, timeout=10
    )
    assert (response.status_code, response.headers["Content-Type"]) == (403, PROBLEM)
    assert requests.get(f"{stack.url}/v1/health", timeout=10).status_code == 200
    assert requests.get(f"{stack.url}/v1/openapi.json", timeout=10).status_code == 200


def test_a_key_made_with_the_command_line_works_until_it_is_revoked(stack: LocalStack) -> None:
    env = {**os.environ, **stack.env(), "MOTO_PORT": str(stack.moto_port)}

    def gateway(*argv: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "tools.cli.main", *argv]
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)

    created = gateway("keys", "create", "--tenant", "demo", "--role", "compliance", "--name", "e2e officer")
    assert created.returncode == 0, created.stderr
    issued = json.loads(created.stdout)
    headers = {"Authorization": f"Bearer {issued['key']}"}
    assert requests.get(f"{stack.url}/v1/audit/events?debtor_id=d-1", headers=headers, timeout=10).status_code == 200
    listed = gateway("keys", "list", "--tenant", "demo")
    assert issued["key_id"] in listed.stdout and issued["key"] not in listed.stdout
    assert gateway("keys", "revoke", issued["key_id"], "--tenant", "demo").returncode == 0
    refused = requests.get(f"{stack.url}/v1/audit/events?debtor_id=d-1", headers=headers, timeout=10)
    assert (refused.status_code, refused.json()["detail"]) == (401, "this API key was revoked")
