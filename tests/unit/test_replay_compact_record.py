"""A decision's replay inputs are recorded compactly (format 2) and decided again exactly; format 1 blocks,
already written, still replay.

Format 2 leaves out what the event already holds and what equals its default, keeps history records as
tuples with times relative to the decision and without their contact ids (no rule reads them)."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from bench.support import make_request
from chalicelib.adapters.dynamodb import pack_body
from chalicelib.domain import replay
from chalicelib.domain.model import ContactRecord
from chalicelib.domain.policy import canonical_json
from chalicelib.domain.preferences import Preferences
from chalicelib.services.contacts import submit_contact
from tests.fakes import unit_of_work
from tests.support import utc

NOW = utc(2026, 3, 2, 17, 0) + timedelta(microseconds=250)
ATLANTA = make_request(debtor_id="d-1", agency="ag-1")


def event(block: dict[str, Any], request=ATLANTA, at=NOW) -> dict[str, Any]:
    data = {
        "channel": request.channel.value,
        "account_id": request.account_id,
        "agency": request.agency,
        "outcome": "allow",
        "inputs": {"countries": ["US"], "subdivisions": ["US-GA"], "evaluated_at": at.isoformat()},
        "replay": block,
    }
    return {"contact_id": "ct_1", "debtor_id": request.debtor_id, "type": "decided", "at": at.isoformat(), "data": data}


def odd_records() -> list[ContactRecord]:
    """Records whose every field differs from the request's and from its default, and plain ones."""
    return [
        ContactRecord(contact_id="ct_a", at=NOW - timedelta(days=2, seconds=7), channel="sms", account_id="a-1",
                      to="+14045550100", result="sent", agency="ag-1"),
        ContactRecord(contact_id="ct_b", at=NOW - timedelta(hours=5, microseconds=123457), channel="voice",
                      account_id="a-2", to="+14045550199", result="placed", agency=None,
                      recipient_role="third_party", valid_until=NOW + timedelta(minutes=15, microseconds=1),
                      outcome_due=NOW + timedelta(minutes=30)),
        ContactRecord(contact_id="ct_c", at=NOW - timedelta(days=40), channel="email", account_id="a-1",
                      to="Jane.Doe@Example.com", result="delivered", agency="ag-2", delivery="permanent_failure",
                      delivery_at=NOW - timedelta(days=39, microseconds=5), delivery_code="550"),
        ContactRecord(contact_id="ct_d", at=NOW - timedelta(minutes=1), channel="sms", account_id="a-1", to=None,
                      result="conversation", direction="inbound", agency="ag-1"),
        ContactRecord(contact_id="ct_e", at=NOW + timedelta(seconds=3), channel="sms", account_id="a-1",
                      to="+14045550100", result="pending", agency="ag-1"),
    ]  # fmt: skip


def without_ids(records: tuple[ContactRecord, ...] | list[ContactRecord]) -> list[dict[str, Any]]:
    return [r.model_dump(exclude={"contact_id"}) for r in records]


def test_every_history_field_but_the_id_instant_and_result_has_a_short_key():
    assert set(ContactRecord.model_fields) - {"contact_id", "at", "result"} == set(replay.RECORD_FIELDS)


def test_a_history_record_is_replayed_with_every_field_it_had_but_its_id(policies):
    history = odd_records()
    block = replay.recorded(ATLANTA, history, Preferences(), policies, ["us-federal"], NOW)
    case = replay.case(event(block), "local")
    assert isinstance(case, replay.Case)
    expected = [r.model_copy(update={"to": replay.address_token(r.to)}) for r in history]
    assert without_ids(case.history) == without_ids(expected)
    assert "ct_a" not in str(block) and "ct_b" not in str(block)
    assert block["h"][0] == [172807, "sent"]  # as the request's: only its instant and result


def test_the_request_keeps_only_what_the_event_lacks_and_reads_back_whole(policies):
    request = make_request(debtor_id="d-1", purpose="negotiation", days_past_due=95, recipient_role="third_party")
    block = replay.recorded(request, [], Preferences(), policies, ["us-federal"], NOW)
    assert set(block) - {"ok", "f"} == {"v", "to", "purpose", "days_past_due", "recipient_role"}
    assert block["v"] == 2
    case = replay.case(event(block, request), "local")
    assert isinstance(case, replay.Case)
    fields = ("channel", "account_id", "recipient_role", "purpose", "days_past_due", "agency")
    assert case.request.model_dump(include=set(fields)) == request.model_dump(include=set(fields))
    assert case.request.to == "+1404•••0100" and case.at == NOW


def test_a_first_format_block_still_replays_as_the_second_does(policies):
    history = odd_records()[:2]
    packs = ["us-federal"]
    second = replay.case(event(replay.recorded(ATLANTA, history, Preferences(), policies, packs, NOW)), "local")
    verdicts = replay._content(ATLANTA, policies, packs)
    first_block = {
        "v": 1,
        "request": {
            **ATLANTA.model_dump(mode="json", include=set(replay.REQUEST_DEFAULTS) | {"channel", "account_id"}),
            "agency": "ag-1",
            "to": "+1404•••0100",
        },
        "history": [
            {**r.model_dump(mode="json", exclude_defaults=True), "to": replay.address_token(r.to)} for r in history
        ],
        "preferences": {},
        # format 1 kept 16 hex digits a content key
        "content": {key + "0f0f": found for key, found in verdicts.items()},
    }
    first = replay.case(event(first_block), "local")
    assert isinstance(first, replay.Case) and isinstance(second, replay.Case)
    assert first.request == second.request and first.content == second.content and first.content
    assert without_ids(first.history) == without_ids(second.history)
    assert [r.contact_id for r in first.history] == ["ct_a", "ct_b"]


def test_an_unknown_format_is_counted_not_replayable(policies):
    block = {**replay.recorded(ATLANTA, [], Preferences(), policies, ["us-federal"], NOW), "v": 3}
    found = replay.case(event(block), "local")
    assert isinstance(found, replay.Unreplayable) and "unknown format 3" in found.reason


def test_a_decided_event_after_fifty_contacts_stays_small(policies):
    """Measured: 2,874 bytes stored compressed (11,235 as JSON) in format 1; 1,482 (3,979) in format 2."""
    rng = random.Random(1)
    deps = unit_of_work(policies)
    submit_contact(ATLANTA, deps, NOW)
    [decided] = [dict(e) for e in deps.audit.for_person("local", "d-1") if e["type"] == "decided"]
    data: Any = decided["data"]
    history = [
        ContactRecord(contact_id=f"ct_{rng.getrandbits(96):024x}_{rng.getrandbits(25):05x}",
                      at=NOW - timedelta(seconds=rng.randrange(1, 90 * 86400), microseconds=rng.randrange(10**6)),
                      channel=("sms", "email", "voice")[i % 3], account_id="a-1", agency="ag-1",
                      to="+14045550100" if i % 3 != 1 else "jane.doe@example.com",
                      result=("sent", "sent", "unanswered")[i % 3])
        for i in range(50)
    ]  # fmt: skip
    packs = data["inputs"]["packs"]
    data["replay"] = replay.recorded(ATLANTA, history, Preferences(), policies, packs, NOW)
    assert len(canonical_json(decided).encode()) < 4_500
    assert len(pack_body(canonical_json(decided))) < 1_600
