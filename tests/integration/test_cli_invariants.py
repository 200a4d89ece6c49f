"""``./gateway audit check-invariants`` on the tables (moto in-process): says nothing is wrong when nothing is,
names what is, and exits 1 then."""

from __future__ import annotations

import json

from chalicelib.adapters.dynamodb import body_text
from chalicelib.services.contacts import submit_contact
from tests.support import make_request, utc
from tools.cli.main import main

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_clean_tables_pass_and_a_tampered_event_is_named(gateway, capsys):
    for debtor in ("d-1", "d-2"):
        submit_contact(make_request(debtor_id=debtor), gateway.deps, NOON_ATLANTA)
    window = ("--from", "2026-03-01", "--to", "2026-03-03", "--tenant", "local")
    code, out = run(capsys, "audit", "check-invariants", *window)
    assert code == 0, out
    assert out.rstrip().endswith("invariant violations: 0")
    assert '"people": 2' in out and '"contacts": 2' in out and "not available" in out  # no provider list in AWS
    table, key = gateway.settings.audit_table, {"pk": {"S": "local#d-2"}, "seq": {"N": "2"}}
    body = body_text(gateway.clients.dynamodb.get_item(TableName=table, Key=key)["Item"]["body"])
    gateway.clients.dynamodb.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET body = :b",
        ExpressionAttributeValues={":b": {"S": body.replace('"sms"', '"email"', 1)}},
    )
    code, out = run(capsys, "audit", "check-invariants", *window, "--json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    assert [(v["kind"], v["debtor_id"]) for v in lines[:-1]] == [("chain-break", "d-2")]
    assert lines[-1]["summary"]["violations"] == {"chain-break": 1}
