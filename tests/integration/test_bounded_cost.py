"""A decision costs the same AWS calls and ledger bytes however long the person's history is."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.services.contacts import submit_contact
from chalicelib.services.dispatch import sweep_audit
from tests.integration.aws import count_calls
from tests.support import make_request, utc

START = utc(2026, 1, 5, 17, 0)


def _ledger_bytes(gateway, debtor_id: str) -> int:
    item = gateway.clients.dynamodb.get_item(
        TableName=gateway.settings.ledger_table, Key={"pk": {"S": f"local#{debtor_id}"}}
    )["Item"]
    return sum(len(str(v)) for v in item.values())


def test_calls_and_ledger_size_do_not_grow_with_history(gateway):
    # A long history: 4 messages a day for 90 days (360 contacts, over 1,000 audit events), and a
    # short one with the same rhythm for just over the longest policy window. The dispatcher's
    # sweep (every minute in AWS) runs daily here: the outbox holds only events newer than it.
    for day in range(90):
        for hour in range(4):
            at = START + timedelta(days=day, hours=hour)
            assert submit_contact(make_request(debtor_id="long"), gateway.deps, at).status == "sent"
            if day >= 90 - gateway.policies.longest_window_days - 5:
                submit_contact(make_request(debtor_id="short"), gateway.deps, at)
        sweep_audit(gateway.deps, START + timedelta(days=day, hours=4))

    now = START + timedelta(days=90, hours=5)
    gateway.deps.pacing.tenant("local", now)  # the tenant's settings, read once a minute, are read before
    calls = count_calls(gateway.clients.dynamodb)
    submit_contact(make_request(debtor_id="long"), gateway.deps, now)
    long_calls = list(calls)
    calls.clear()
    submit_contact(make_request(debtor_id="short"), gateway.deps, now)

    assert long_calls == calls  # same calls, in the same order
    assert long_calls.count("Query") == 0 and long_calls.count("Scan") == 0
    assert _ledger_bytes(gateway, "long") <= 1.1 * _ledger_bytes(gateway, "short")
