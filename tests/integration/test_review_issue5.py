"""Defects found reviewing the audit read side (issue 5), each pinned by the test that showed it."""

from __future__ import annotations

import base64
import csv
import io
import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from chalice.test import Client

from chalicelib.bootstrap import Gateway
from chalicelib.services import dispatch, exports, maintenance
from chalicelib.services.audit_read import EventQuery
from chalicelib.services.contacts import submit_contact
from gateway_cli.bundle import verify_bundle
from tests.integration.test_cli_audit import run, session  # noqa: F401 - the CLI routed to the app
from tests.support import make_request, utc

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)
LATER = NOON_ATLANTA + timedelta(days=2)


def _history(gateway: Gateway, **fields: Any) -> None:
    for step in range(3):
        submit_contact(make_request(**fields), gateway.deps, NOON_ATLANTA + timedelta(hours=20 * step))
    dispatch.sweep_audit(gateway.deps, LATER)
    maintenance.audit_pass(gateway.audit_deps, ["local"], LATER)


# --- a date or an instant at the edge of the calendar is a 400, not a 500 ----------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/audit/events?to=9999-12-31", None),
        ("GET", "/v1/audit/events?debtor_id=d-1&to=9999-12-31", None),
        ("GET", "/v1/audit/events?to=0001-01-01", None),
        ("GET", "/v1/audit/events?debtor_id=d-1&from=0001-01-01T00:00:00%2B14:00", None),
        ("GET", "/v1/audit/verify?from=9999-12-30&to=9999-12-31", None),
        ("POST", "/v1/exports", {"debtor_id": "d-1", "to": "9999-12-31", "formats": ["csv"]}),
    ],
)
def test_a_date_at_the_edge_of_the_calendar_is_a_400_problem_not_a_500(client: Client, method, path, body):
    headers = {"Content-Type": "application/json"} if body else {}
    response = client.http.request(method, path, headers=headers, body=json.dumps(body) if body else b"")
    assert response.status_code == 400, response.body
    problem = json.loads(response.body)
    assert problem["status"] == 400 and problem["errors"][0]["field"] in ("from", "to")


def test_a_cursor_whose_window_is_off_the_calendar_is_a_400_not_a_500(client: Client):
    # The fingerprint is no secret (a hash of the filters): anyone can rebuild a cursor around it.
    payload = {
        "q": EventQuery().fingerprint(),
        "k": {"pk": "local#d-1", "seq": 1, "day_key": "local#0001-01-01", "at_key": "0001-01-01T00:00:00.000000Z#d-1"},
        "w": ["0001-01-01T00:00:00+14:00", "0001-01-02T00:00:00+00:00"],
    }
    cursor = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    response = client.http.get(f"/v1/audit/events?cursor={cursor}")
    assert response.status_code == 400, response.body
    assert json.loads(response.body)["errors"][0]["field"] == "cursor"


# --- events.csv opens in a spreadsheet as data, never as a formula ------------------------------


def test_no_cell_of_events_csv_starts_a_spreadsheet_formula(gateway: Gateway):
    _history(gateway)
    submit_contact(
        make_request(channel="email", to="=cmd|'/Ccalc'!A0@example.com", message={"subject": "s", "body": "b"}),
        gateway.deps,
        NOON_ATLANTA + timedelta(hours=1),
    )
    dispatch.sweep_audit(gateway.deps, LATER)
    spec = exports.ExportSpec(debtor_id="d-1", formats=("csv",))
    export_id = exports.request_export("local", spec, gateway.export_deps, LATER)["export_id"]
    job = exports.run_export("local", export_id, gateway.export_deps, lambda: LATER)
    [listed] = [f for f in job["files"] if f["name"] == "events.csv"]
    raw = gateway.clients.s3.get_object(Bucket=gateway.settings.export_bucket, Key=listed["key"])["Body"].read()
    rows = list(csv.DictReader(io.StringIO(raw.decode())))
    masked = {r["to_masked"] for r in rows if r["to_masked"]}
    assert masked == {"'+1404•••0100", "'=•••0@example.com"}  # still readable, but text
    assert not [cell for row in rows for cell in row.values() if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]


# --- two workers on one redelivered message -----------------------------------------------------


class _SignsAfterAnotherWorker:
    """Worker A's signer: while A is signing, SQS redelivers the message (its visibility timeout ran
    out) and worker B builds the whole export."""

    def __init__(self, inner: Any, other_worker: Any) -> None:
        self.inner, self.other_worker = inner, other_worker
        self.ALGORITHM, self.key_id = inner.ALGORITHM, inner.key_id

    def sign(self, message: bytes) -> bytes:
        if self.other_worker:
            other, self.other_worker = self.other_worker, None
            other()
        return bytes(self.inner.sign(message))

    def public_key_pem(self) -> str:
        return str(self.inner.public_key_pem())


def test_two_workers_on_a_redelivered_message_leave_a_bundle_that_verifies(gateway: Gateway, tmp_path: Path):
    _history(gateway)
    deps = gateway.export_deps
    spec = exports.ExportSpec(debtor_id="d-1", formats=("jsonl", "csv", "pdf"))
    export_id = exports.request_export("local", spec, deps, LATER)["export_id"]

    def worker_b() -> None:
        exports.run_export("local", export_id, deps, lambda: LATER + timedelta(minutes=1))

    worker_a = replace(deps, signer=_SignsAfterAnotherWorker(deps.signer, worker_b))
    exports.run_export("local", export_id, worker_a, lambda: LATER)

    job = exports.export_status("local", export_id, deps, LATER + timedelta(minutes=2))
    assert job["status"] == "done"
    for listed in job["files"]:
        response = requests.get(listed["url"], timeout=10)
        assert response.status_code == 200, listed["name"]
        (tmp_path / listed["name"]).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / listed["name"]).write_bytes(response.content)
    report = verify_bundle(tmp_path, deps.signer.public_key_pem())
    assert report.problems == []


def test_a_worker_that_fails_after_another_finished_leaves_the_job_done(gateway: Gateway):
    _history(gateway)
    deps = gateway.export_deps
    export_id = exports.request_export("local", exports.ExportSpec(debtor_id="d-1"), deps, LATER)["export_id"]

    class FailsAfterAnotherWorker(_SignsAfterAnotherWorker):
        def sign(self, message: bytes) -> bytes:
            super().sign(message)
            raise RuntimeError("KMS said no")

    def worker_b() -> None:
        exports.run_export("local", export_id, deps, lambda: LATER)

    exports.run_export(
        "local", export_id, replace(deps, signer=FailsAfterAnotherWorker(deps.signer, worker_b)), lambda: LATER
    )
    assert exports.export_status("local", export_id, deps, LATER)["status"] == "done"


# --- the CLI reports a vanished chain instead of crashing on it ---------------------------------


def test_cli_range_verify_reports_a_chain_the_trail_lost_entirely(session, gateway: Gateway, capsys):  # noqa: F811
    for debtor in ("d-1", "d-2"):
        submit_contact(make_request(debtor_id=debtor), gateway.deps, NOON_ATLANTA)
    dispatch.sweep_audit(gateway.deps, LATER)
    maintenance.audit_pass(gateway.audit_deps, ["local"], LATER)
    dynamodb, settings = gateway.clients.dynamodb, gateway.settings
    for event in gateway.deps.audit.for_person("local", "d-2"):
        key = {"pk": {"S": "local#d-2"}, "seq": {"N": str(event["seq"])}}
        dynamodb.delete_item(TableName=settings.audit_table, Key=key)
    dynamodb.delete_item(TableName=settings.ledger_table, Key={"pk": {"S": "local#d-2"}})

    assert run(session, "audit", "verify", "--from", "2026-03-02", "--to", "2026-03-02") == 1
    out = capsys.readouterr().out
    assert "BROKEN chain " in out and "has no events in the trail" in out
    assert "FAILED: 1 broken chain(s)" in out
