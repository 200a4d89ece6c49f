"""The over-contact check replays stored contacts against the packs: it must find what a broken path would
have let through, and nothing in what the gateway did."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from chalicelib.adapters.dynamodb import body_text
from chalicelib.domain.model import ContactRecord, Result
from chalicelib.services import inbound
from chalicelib.services.contacts import submit_contact
from tests.support import make_request, utc
from tools import invariants

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)


def _calls(gateway, count: int, debtor_id: str = "d-1"):
    """Calls the dialer places and reports as unanswered (an unreported one would lock the debt)."""
    from chalicelib.services import calls

    answers = []
    for i in range(count):
        at = NOON_ATLANTA + timedelta(hours=i % 3, days=i // 3)
        answer = submit_contact(make_request(debtor_id=debtor_id, channel="voice", message=None), gateway.deps, at)
        if answer.status == "permitted":
            calls.record_call_outcome("local", answer.contact_id, Result.UNANSWERED, gateway.deps, at)
        answers.append(answer)
    return answers


def test_what_the_gateway_permitted_breaks_no_rule(gateway):
    answers = _calls(gateway, 10)
    assert [a.status for a in answers].count("permitted") == 7  # Reg F: 7 calls in 7 days
    report = invariants.check_people("local", ["d-1"], gateway.deps)
    assert (report.people, report.contacts, report.violations) == (1, 7, [])
    ranged = invariants.check_range("local", utc(2026, 3, 2), utc(2026, 3, 6), gateway.deps, gateway.audit)
    assert (ranged.people, ranged.contacts, ranged.violations) == (1, 7, [])


def test_a_contact_that_got_past_the_cap_is_reported_with_its_rule(gateway):
    _calls(gateway, 7)
    ledger = gateway.deps.ledgers.get("local", "d-1")
    extra = submit_contact(make_request(debtor_id="d-1", channel="voice", message=None), gateway.deps, NOON_ATLANTA)
    assert extra.status == "refused"
    # As if a second writer had ignored the ledger's version: the refused call is stored as permitted.
    forged = ledger.with_record(
        ContactRecord(
            contact_id=extra.contact_id,
            at=NOON_ATLANTA + timedelta(days=2, minutes=1),
            channel="voice",
            account_id="acct-1",
            to="+14045550100",
            result=Result.PLACED,
        )
    )
    stored = gateway.deps.ledgers.get("local", "d-1")
    gateway.deps.ledgers.commit(replace(stored, history=forged.history, outbox=()), stored.version)
    events = gateway.deps.audit.for_contact("local", extra.contact_id)
    decided = next(e for e in events if e["type"] == "decided")
    decided["data"]["outcome"] = "allow"
    monkey = gateway.deps.audit
    original = monkey.for_person
    monkey.for_person = lambda t, d, **kw: [decided if e["seq"] == decided["seq"] else e for e in original(t, d, **kw)]
    try:
        report = invariants.check_people("local", ["d-1"], gateway.deps)
    finally:
        monkey.for_person = original
    [violation] = report.violations
    assert (violation.kind, violation.contact_id) == ("over-contact", extra.contact_id)
    assert "us-federal/call-frequency" in violation.rules


def test_a_message_after_an_opt_out_is_reported(gateway):
    sent = submit_contact(make_request(), gateway.deps, NOON_ATLANTA)
    assert sent.status == "sent"
    stop = '{"originationNumber": "+14045550100", "destinationNumber": "+1800", "messageBody": "STOP"}'
    inbound.handle_inbound_sms(
        inbound.parse_two_way_sms(stop), "_shared", gateway.deps, NOON_ATLANTA - timedelta(hours=1)
    )
    [violation] = invariants.check_people("local", ["d-1"], gateway.deps).violations
    assert (violation.kind, violation.contact_id) == ("after-opt-out", sent.contact_id)
    ranged = invariants.check_range("local", utc(2026, 3, 2), utc(2026, 3, 3), gateway.deps, gateway.audit)
    assert [(v.kind, v.contact_id) for v in ranged.violations] == [("after-opt-out", sent.contact_id)]


# -- check_invariants: sends against the provider's lists, stuck work, chains ---------------------------


def _full(gateway, now, sent):
    from chalicelib.domain.access import SHARED_SCOPE

    start = now - timedelta(days=2)
    return invariants.check_invariants(
        ["local", SHARED_SCOPE], start, now, now, gateway.deps, sent, every_message=True
    ).violations


def _provider():
    from tools.local.motoserver import sent_messages

    return [invariants.SentMessage(**m) for m in sent_messages()]


def test_every_send_matches_the_provider_list_both_ways(gateway):
    sent = submit_contact(make_request(debtor_id="d-5"), gateway.deps, NOON_ATLANTA)
    later = NOON_ATLANTA + timedelta(hours=1)
    assert _full(gateway, later, _provider()) == []
    gateway.clients.sns.publish(PhoneNumber="+14045550199", Message="sent around the gateway")
    (stray,) = _full(gateway, later, _provider())
    assert stray.kind == "message-without-sent" and "+1404" in stray.detail and "0199" in stray.detail
    missing = [m for m in _provider() if m.message_id != sent.provider_message_id]
    kinds = sorted(v.kind for v in _full(gateway, later, missing))
    assert kinds == ["message-without-sent", "sent-without-message"]
    assert _full(gateway, later, None) == []  # no provider list (AWS): those two checks are off


def test_a_deferred_contact_nobody_handled_is_reported_until_the_dispatcher_runs(gateway):
    from chalicelib.services import dispatch

    night = utc(2026, 3, 2, 7, 0)
    deferred = submit_contact(make_request(debtor_id="d-6"), gateway.deps, night)
    due = deferred.decision.not_before
    assert due is not None
    assert _full(gateway, due + timedelta(minutes=5), _provider()) == []  # within the grace
    (late,) = _full(gateway, due + timedelta(minutes=30), _provider())
    assert (late.kind, late.contact_id) == ("deferred-past-due", deferred.contact_id)
    dispatch.run_dispatcher(gateway.deps, due + timedelta(minutes=30))
    assert _full(gateway, due + timedelta(minutes=31), _provider()) == []


def test_events_the_audit_table_lacks_and_a_broken_chain_are_reported(gateway):
    from dataclasses import replace as replace_settings

    from chalicelib.services.unit_of_work import UnitOfWork

    stream_deps: UnitOfWork = replace_settings(gateway.deps, audit_inline=False)  # committed, never appended
    submit_contact(make_request(debtor_id="d-7"), stream_deps, NOON_ATLANTA)
    kinds = {v.kind for v in _full(gateway, NOON_ATLANTA + timedelta(minutes=30), _provider())}
    assert "audit-pending" in kinds
    submit_contact(make_request(debtor_id="d-8"), gateway.deps, NOON_ATLANTA)
    table = gateway.settings.audit_table
    item = gateway.clients.dynamodb.get_item(TableName=table, Key={"pk": {"S": "local#d-8"}, "seq": {"N": "1"}})
    body = body_text(item["Item"]["body"]).replace("d-8", "d-X", 1)
    gateway.clients.dynamodb.update_item(
        TableName=table,
        Key={"pk": {"S": "local#d-8"}, "seq": {"N": "1"}},
        UpdateExpression="SET body = :b",
        ExpressionAttributeValues={":b": {"S": body}},
    )
    broken = [v for v in _full(gateway, NOON_ATLANTA + timedelta(minutes=30), _provider()) if v.kind == "chain-break"]
    assert [v.debtor_id for v in broken] == ["d-8"]


def test_a_call_placed_after_its_permit_lapsed_is_reported(gateway):
    from chalicelib.services import calls

    permit = submit_contact(make_request(channel="voice", message=None), gateway.deps, NOON_ATLANTA)
    assert permit.decision.valid_until is not None
    lapsed = permit.decision.valid_until + timedelta(seconds=5)
    calls.record_call_outcome("local", permit.contact_id, Result.UNANSWERED, gateway.deps, lapsed, lapsed)
    report = invariants.check_people("local", ["d-1"], gateway.deps)
    assert [(v.kind, v.contact_id) for v in report.violations] == [("call-without-valid-permit", permit.contact_id)]


def test_a_call_whose_outcome_never_came_is_listed_not_counted_as_a_violation(gateway):
    from chalicelib.services import dispatch

    permit = submit_contact(make_request(channel="voice", message=None), gateway.deps, NOON_ATLANTA)
    dispatch.run_dispatcher(gateway.deps, NOON_ATLANTA + gateway.deps.outcome_deadline)
    report = invariants.check_people("local", ["d-1"], gateway.deps)
    assert report.violations == []
    assert report.unreported_calls == [f"local/d-1 {permit.contact_id}"]
