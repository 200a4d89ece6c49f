"""``GET /v1/reports/daily`` and ``GET /v1/debtors/{id}/status`` over moto: the rollup the appender writes to
the keys table, read back by the report; the invariant check's recorded result; the standing of a debtor."""

from __future__ import annotations

import json
from datetime import timedelta

from chalicelib.domain.errors import PermanentDeliveryError
from chalicelib.services import appender
from chalicelib.services.contacts import submit_contact
from tests.support import NOON_ATLANTA, make_request
from tools.cli.main import main


def _appended(gateway) -> None:
    """The stream appender's work over every ledger written: the audit events and the day's rollup."""
    items = gateway.clients.dynamodb.scan(TableName=gateway.settings.ledger_table)["Items"]  # a test may scan
    people = sorted({(i["tenant"]["S"], i["debtor_id"]["S"]) for i in items if "tenant" in i})
    images = gateway.deps.ledgers.get_many(people)
    appender.append_committed(images, gateway.deps.ledgers, gateway.audit, gateway.deps.rollups)


def test_the_report_counts_what_the_appender_stored(client, gateway, monkeypatch):
    gateway.clock = lambda: NOON_ATLANTA + timedelta(days=1)
    monkeypatch.setattr(gateway.deps, "audit_inline", False)
    submit_contact(make_request(debtor_id="d-1"), gateway.deps, NOON_ATLANTA)
    submit_contact(make_request(debtor_id="d-2", on_blocked="reject"), gateway.deps, NOON_ATLANTA - timedelta(hours=6))
    monkeypatch.setattr(gateway.deps.sms, "send_sms", _failing)
    submit_contact(make_request(debtor_id="d-3"), gateway.deps, NOON_ATLANTA)
    _appended(gateway)
    answer = client.http.get("/v1/reports/daily?date=2026-03-02")
    assert answer.status_code == 200, answer.body
    report = json.loads(answer.body)
    assert report["totals"]["by_status"] == {"sent": 1, "blocked": 1, "failed": 1}
    assert report["totals"]["by_outcome"] == {"allow": 2, "defer": 1}  # a deferral refused: blocked
    assert report["failed_and_unknown"]["failed"] == {"sms": 1}
    assert report["top_rules"] == [{"rule": "us-federal/quiet-hours", "hits": 1}]
    items = gateway.clients.dynamodb.scan(TableName=gateway.settings.keys_table)["Items"]
    rollups = [i for i in items if i["pk"]["S"].startswith("@rollup@local@2026-03-02@")]
    assert len(rollups) == 1  # one batch, one write


def _failing(*, to: str, body: str) -> str:
    raise PermanentDeliveryError("InvalidParameter")


def test_each_invariant_check_records_its_result_for_the_report(client, gateway, capsys):
    gateway.clock = lambda: NOON_ATLANTA + timedelta(days=1)
    submit_contact(make_request(), gateway.deps, NOON_ATLANTA)
    window = ("--from", "2026-03-01", "--to", "2026-03-03", "--tenant", "local")
    assert main(["audit", "check-invariants", *window]) == 0
    capsys.readouterr()
    report = json.loads(client.http.get("/v1/reports/daily?date=2026-03-02").body)
    check = report["last_invariant_check"]
    assert check["ok"] is True and check["violations"] == {} and check["people"] == 1


def test_a_bad_date_is_a_problem_naming_it(client):
    for bad in ("2026-13-01", "yesterday", "2999-01-01"):
        answer = client.http.get(f"/v1/reports/daily?date={bad}")
        assert answer.status_code == 400
        assert json.loads(answer.body)["errors"][0]["field"] == "date"


def test_a_debtors_status_over_http(client, gateway):
    gateway.clock = lambda: NOON_ATLANTA + timedelta(hours=1)
    submit_contact(make_request(channel="voice", message=None), gateway.deps, NOON_ATLANTA)
    answer = client.http.get("/v1/debtors/d-1/status?channel=voice")
    assert answer.status_code == 200, answer.body
    [voice] = json.loads(answer.body)["contacts"]
    budget = next(b for b in voice["budgets"] if b["rule"] == "us-federal/call-frequency")
    assert (budget["used"], budget["limit"]) == (1, 7)
    assert client.http.get("/v1/debtors/nobody/status").status_code == 404
    bad = client.http.get("/v1/debtors/d-1/status?timezone=Mars/Base")
    assert bad.status_code == 400 and json.loads(bad.body)["errors"][0]["field"] == "timezone"
