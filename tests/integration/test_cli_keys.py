"""``./gateway keys create|list|revoke`` against the key table (moto in-process), and the keys they make
working, or no longer working, over HTTP."""

from __future__ import annotations

import json

import pytest

from chalicelib.domain.access import key_hash
from tools.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_create_prints_the_key_once_and_stores_only_its_hash(gateway, capsys, monkeypatch):
    monkeypatch.setenv("GATEWAY_OPERATOR", "ops-anna")
    code, out, err = run(capsys, "keys", "create", "--tenant", "acme", "--role", "compliance", "--name", "Jane")
    assert code == 0 and "shown once" in err
    created = json.loads(out)
    assert created["key"].startswith("cgw_") and created["tenant"] == "acme" and created["role"] == "compliance"
    assert created["created_by"] == "cli:ops-anna" and created["name"] == "Jane"
    stored = gateway.keys.get(key_hash(created["key"]))
    assert stored is not None and created["key"] not in json.dumps(stored)
    [event] = [e for e in gateway.deps.audit.for_person("acme", "@access") if e["type"] == "key_created"]
    assert event["data"]["key_id"] == created["key_id"] and event["data"]["created_by"] == "cli:ops-anna"


def test_list_shows_ids_roles_and_agencies_never_a_key(gateway, capsys):
    _, out, _ = run(capsys, "keys", "create", "--tenant", "acme", "--role", "submitter", "--agency", "north-agency")
    key = json.loads(out)["key"]
    run(capsys, "keys", "create", "--tenant", "other", "--role", "admin")
    code, table, _ = run(capsys, "keys", "list", "--tenant", "acme")
    assert code == 0 and "north-agency" in table and "submitter" in table and key not in table
    _, lines, _ = run(capsys, "keys", "list", "--tenant", "acme", "--json")
    assert [json.loads(line)["tenant"] for line in lines.splitlines()] == ["acme"]


def test_revoke_stops_the_key_over_http_and_a_second_revoke_says_so(gateway, client, capsys):
    _, out, _ = run(capsys, "keys", "create", "--tenant", "local", "--role", "compliance")
    created = json.loads(out)
    headers = {"Authorization": f"Bearer {created['key']}"}
    assert client.http.get("/v1/audit/events?debtor_id=d-1", headers=headers).status_code == 200
    code, out, _ = run(capsys, "keys", "revoke", created["key_id"], "--tenant", "local")
    assert code == 0 and json.loads(out)["revoked_at"]
    refused = client.http.get("/v1/audit/events?debtor_id=d-1", headers=headers)
    assert (refused.status_code, json.loads(refused.body)["detail"]) == (401, "this API key was revoked")
    code, _, err = run(capsys, "keys", "revoke", created["key_id"], "--tenant", "local")
    assert (code, err) == (2, "error: this key was revoked before\n")


def test_revoke_within_another_tenant_finds_nothing(gateway, capsys):
    _, out, _ = run(capsys, "keys", "create", "--tenant", "acme", "--role", "admin")
    code, _, err = run(capsys, "keys", "revoke", json.loads(out)["key_id"], "--tenant", "other")
    assert code == 2 and "no such key in this tenant" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--tenant", "Acme Corp", "--role", "admin"], "error: tenant: lowercase letters"),
        (["--tenant", "_shared", "--role", "admin"], "error: tenant: lowercase letters"),
        (
            ["--tenant", "acme", "--role", "compliance", "--agency", "north"],
            "error: agency: an agency key is a submitter key",
        ),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(gateway, capsys, argv, message):
    code, out, err = run(capsys, "keys", "create", *argv)
    assert (code, out) == (2, "") and err.startswith(message)
