"""``gateway audit`` and ``gateway export`` against the Chalice app in-process.

The CLI's HTTP session is handed to ``main``; a transport adapter routes its requests to
``chalice.test.Client`` (the app over moto), so every request, status code and problem body is the
app's own. Presigned downloads go to moto's S3 as the real ones would.
"""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from chalice.test import Client

from chalicelib.bootstrap import Runtime
from chalicelib.domain.access import Role
from chalicelib.services import dispatch, exports, maintenance
from chalicelib.services.contacts import submit_contact
from tests.support import CLI_URL, LATER, ChaliceAdapter, make_request, utc
from tools.cli.main import main

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)


@pytest.fixture
def session(client: Client, gateway: Runtime, monkeypatch: pytest.MonkeyPatch) -> requests.Session:
    """The CLI's session, routed to the app; a queued export is built at once, as the SQS worker would."""

    def run_queued_export(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if response.request.method == "POST" and response.status_code == 202:
            export_id = response.json()["export_id"]
            exports.run_export("local", export_id, gateway.deps, lambda: datetime.now(UTC))

    routed = requests.Session()
    routed.mount(CLI_URL, ChaliceAdapter(client))
    routed.hooks["response"].append(run_queued_export)
    monkeypatch.setenv("GATEWAY_URL", CLI_URL)
    return routed


def run(session: requests.Session | None, *argv: str) -> int:
    return main(list(argv), session=session)


def test_audit_events_prints_the_debtors_trail_as_a_table(session, history, capsys):
    assert run(session, "audit", "events", "--debtor", "d-1", "--limit", "3") == 0
    out, err = capsys.readouterr()
    header, first, *_ = out.splitlines()
    assert header.split()[:3] == ["seq", "time", "(UTC)"]
    assert first.split()[:5] == ["1", "2026-03-02", "17:00:00", "d-1", "requested"]
    assert "more events: add --all" in err


def test_audit_events_all_follows_every_cursor_as_json_lines(session, history, capsys):
    assert run(session, "audit", "events", "--debtor", "d-1", "--limit", "2", "--all", "--json") == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["seq"] for e in events] == list(range(1, history + 1))


def test_audit_events_of_an_unknown_debtor_says_so(session, history, capsys):
    assert run(session, "audit", "events", "--debtor", "d-nobody") == 0
    assert "no events for debtor d-nobody" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["2026-13-01", "2026-03-01T10:00", "last tuesday"])
def test_a_bad_date_is_refused_before_any_request(value, capsys):
    with pytest.raises(SystemExit) as exit_:
        run(None, "audit", "events", "--from", value)
    assert exit_.value.code == 2
    assert "argument --from: " in capsys.readouterr().err


def test_audit_verify_of_a_debtor_and_of_a_range_exit_0_when_intact(session, history, capsys):
    assert run(session, "audit", "verify", "--debtor", "d-1") == 0
    assert run(session, "audit", "verify", "--from", "2026-03-01", "--to", "2026-03-10") == 0
    out = capsys.readouterr().out
    assert f"debtor d-1: {history} events" in out and "1 chains" in out and out.count("ok: every chain verifies") == 2


def test_audit_verify_names_a_broken_chain_and_exits_1(session, gateway, history, capsys):
    table = gateway.settings.audit_table
    gateway.clients.dynamodb.delete_item(TableName=table, Key={"pk": {"S": "local#d-1"}, "seq": {"N": "2"}})
    assert run(session, "audit", "verify", "--from", "2026-03-01", "--to", "2026-03-10") == 1
    assert "BROKEN debtor d-1 at seq 2: expected seq 2, found 3" in capsys.readouterr().out


def test_an_export_is_created_downloaded_and_verified_offline(session, client, history, tmp_path, capsys):
    bundle = tmp_path / "bundle"
    assert (
        run(session, "export", "create", "--debtor", "d-1", "--formats", "csv,jsonl,pdf", "--to-dir", str(bundle)) == 0
    )
    export_id = capsys.readouterr().out.splitlines()[0]
    assert {"events.jsonl", "contact-history.pdf", "manifest.json", "manifest.sig"} <= {
        p.name for p in bundle.iterdir()
    }
    key = tmp_path / "gateway.pem"
    key.write_bytes(client.http.get("/v1/exports/public-key?format=pem").body)
    assert run(session, "export", "verify", str(bundle), "--public-key", str(key)) == 0
    again = tmp_path / "again"
    assert run(session, "export", "download", export_id, "--to", str(again)) == 0
    assert (again / "events.jsonl").read_bytes() == (bundle / "events.jsonl").read_bytes()
    (again / "events.jsonl").write_bytes((again / "events.jsonl").read_bytes().replace(b'"seq":2,', b'"seq":9,'))
    capsys.readouterr()
    assert run(session, "export", "verify", str(again), "--public-key", str(key)) == 1
    assert "problem: events.jsonl line 2: debtor d-1 seq 9: expected seq 2" in capsys.readouterr().out


def test_an_unknown_export_is_not_found(session, capsys):
    assert run(session, "export", "status", "ex_nothing_here") == 2
    assert capsys.readouterr().err == "error: export ex_nothing_here not found\n"


def test_an_expired_export_says_when_and_to_request_a_new_one(session, gateway, history, capsys):
    spec = exports.ExportSpec(debtor_id="d-1")
    old = exports.request_export("local", spec, gateway.deps, datetime.now(UTC) - timedelta(days=8))
    assert run(session, "export", "download", old["export_id"], "--to", "unused") == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: export {old['export_id']} expired at ") and err.endswith("; request a new one\n")


def test_an_unknown_debtor_is_a_clear_error_not_an_empty_ok(session, history, capsys):
    """Nothing was ever recorded for d-404: verifying or exporting them is an error, never "ok"."""
    assert run(session, "audit", "verify", "--debtor", "d-404") == 2
    assert "no such object: debtor d-404" in capsys.readouterr().err
    assert run(session, "export", "create", "--debtor", "d-404", "--formats", "pdf") == 2
    assert "debtor d-404: nothing was ever recorded" in capsys.readouterr().err
    assert run(session, "audit", "verify", "--debtor", "d-1") == 0  # the known one still verifies


def test_a_refused_request_shows_the_problems_detail_and_fields(session, capsys):
    assert run(session, "export", "create", "--formats", "pdf") == 2
    assert capsys.readouterr().err == (
        "error: formats: a PDF contact history is made per debtor: give debtor_id (fields: formats)\n"
    )


def test_the_api_key_is_sent_as_a_bearer_token(session, history, monkeypatch, ring):
    sent: list[str] = []
    session.hooks["response"].append(lambda r, *a, **k: sent.append(r.request.headers.get("Authorization")))
    key = ring.key(Role.COMPLIANCE)
    monkeypatch.setenv("GATEWAY_API_KEY", key)
    assert run(session, "audit", "events", "--debtor", "d-1") == 0
    assert sent == [f"Bearer {key}"]


def test_a_key_of_the_wrong_role_is_refused_with_the_reason(session, history, monkeypatch, ring, capsys):
    monkeypatch.setenv("GATEWAY_API_KEY", ring.key(Role.SUBMITTER))
    assert run(session, "audit", "events", "--debtor", "d-1") == 2
    assert "a submitter key may not use this route" in capsys.readouterr().err


def test_an_unreachable_gateway_asks_whether_the_stack_is_up(capsys):
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert run(None, "audit", "events", "--url", f"http://127.0.0.1:{port}") == 2
    assert capsys.readouterr().err == f"error: cannot reach the gateway at http://127.0.0.1:{port}: is `make run` up?\n"


def test_export_verify_of_a_missing_folder_exits_2(tmp_path: Path, capsys):
    assert run(None, "export", "verify", str(tmp_path / "nowhere")) == 2
    assert "not a folder" in capsys.readouterr().err


def test_range_verify_reports_a_chain_the_trail_lost_entirely(session, gateway: Runtime, capsys):
    for debtor in ("d-1", "d-2"):
        submit_contact(make_request(debtor_id=debtor), gateway.deps, NOON_ATLANTA)
    dispatch.sweep_audit(gateway.deps, LATER)
    maintenance.audit_pass(gateway.deps, ["local"], LATER)
    dynamodb, settings = gateway.clients.dynamodb, gateway.settings
    for event in gateway.deps.audit.for_person("local", "d-2"):
        key = {"pk": {"S": "local#d-2"}, "seq": {"N": str(event["seq"])}}
        dynamodb.delete_item(TableName=settings.audit_table, Key=key)
    dynamodb.delete_item(TableName=settings.ledger_table, Key={"pk": {"S": "local#d-2"}})

    assert run(session, "audit", "verify", "--from", "2026-03-02", "--to", "2026-03-02") == 1
    out = capsys.readouterr().out
    assert "BROKEN chain " in out and "has no events in the trail" in out
    assert "FAILED: 1 broken chain(s)" in out
