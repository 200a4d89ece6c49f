"""A debtor's standing, checked against the engine's own answers: each budget's count and the instant its
next unit frees, each lockout's end, the windows in every candidate zone, the deferred contacts."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain import engine
from chalicelib.domain.errors import NotFoundError
from chalicelib.domain.model import Channel, Location, Result
from chalicelib.services import calls, consent
from chalicelib.services.contacts import submit_contact
from chalicelib.services.debtor_status import Probe, debtor_status
from tests.support import NOON_ATLANTA, make_request

FREQUENCY, LOCKOUT, QUIET = "us-federal/call-frequency", "us-federal/call-after-conversation", "us-federal/quiet-hours"


def _call(deps, at, result: Result = Result.UNANSWERED, account: str = "a-1") -> str:
    contact_id = submit_contact(make_request(channel="voice", message=None, account_id=account), deps, at).contact_id
    calls.record_call_outcome("local", contact_id, result, deps, at + timedelta(minutes=1))
    return contact_id


def _rules(deps, at, **fields) -> set[str]:
    """The rules the engine names when it decides a call at ``at`` on the stored history."""
    led = deps.ledgers.get("local", "d-1")
    decision = engine.evaluate(make_request(channel="voice", message=None, **fields), led.history, deps.policies, at)
    return {r.rule for r in decision.reasons}


def _voice(status: dict, account: str = "a-1") -> dict:
    return next(c for c in status["contacts"] if c["channel"] == "voice" and c["account_id"] == account)


def test_a_full_call_budget_matches_the_engine_and_frees_when_the_engine_says(deps):
    for day in range(7):  # one unanswered call a day at noon in Atlanta: seven in seven days
        _call(deps, NOON_ATLANTA + timedelta(days=day))
    now = NOON_ATLANTA + timedelta(days=6, hours=2)
    budget = next(b for b in _voice(debtor_status("local", "d-1", deps, now))["budgets"] if b["rule"] == FREQUENCY)
    assert (budget["used"], budget["limit"], budget["window"]) == (7, 7, {"period": "rolling_days", "days": 7})
    assert FREQUENCY in _rules(deps, now) and budget["blocks_now"]
    assert budget["next_free_at"] is not None
    engine_time = datetime.fromisoformat(budget["next_free_at"])
    assert FREQUENCY not in _rules(deps, engine_time)
    assert FREQUENCY in _rules(deps, engine_time - timedelta(minutes=1))


def test_a_budget_with_room_frees_now_and_counts_what_the_engine_counts(deps):
    for day in range(3):
        _call(deps, NOON_ATLANTA + timedelta(days=day))
    _call(deps, NOON_ATLANTA, account="a-2")  # another debt: not counted against a-1
    now = NOON_ATLANTA + timedelta(days=2, hours=1)
    status = debtor_status("local", "d-1", deps, now)
    budget = next(b for b in _voice(status)["budgets"] if b["rule"] == FREQUENCY)
    led = deps.ledgers.get("local", "d-1")
    inputs = engine.evaluate(make_request(channel="voice", message=None), led.history, deps.policies, now).inputs
    assert budget["used_by_zone"] == inputs["rules"][FREQUENCY]  # type: ignore[index]
    assert budget["used"] == 3 and budget["blocks_now"] is None and budget["next_free_at"] == now.isoformat()
    other = next(b for b in _voice(status, "a-2")["budgets"] if b["rule"] == FREQUENCY)
    assert other["used"] == 1


def test_a_conversation_locks_out_calls_until_the_engine_lets_them_again(deps):
    _call(deps, NOON_ATLANTA, Result.CONVERSATION)
    now = NOON_ATLANTA + timedelta(days=2)
    [lockout] = _voice(debtor_status("local", "d-1", deps, now))["lockouts"]
    assert lockout["rule"] == LOCKOUT
    until = datetime.fromisoformat(lockout["until"])
    assert LOCKOUT in _rules(deps, now) and LOCKOUT in _rules(deps, until - timedelta(minutes=1))
    assert LOCKOUT not in _rules(deps, until)
    assert (
        until.astimezone(ZoneInfo("America/New_York")).isoformat() == "2026-03-09T00:00:00-04:00"
    )  # day 1: the call's


def test_windows_in_every_candidate_zone_now_and_later_today(deps):
    submit_contact(make_request(), deps, NOON_ATLANTA)
    # A location spanning two zones: Kentucky (Eastern and Central)
    probe = Probe(location=Location(country="US", subdivision="KY"))
    status = debtor_status("local", "d-1", deps, NOON_ATLANTA + timedelta(hours=8, minutes=30), probe)  # 20:30 EST
    [sms] = status["contacts"]
    windows = {w["zone"]: w for w in sms["windows"] if w["rule"] == QUIET}
    assert {"America/New_York", "America/Chicago"} <= set(windows)
    assert windows["America/New_York"]["open_now"] and windows["America/New_York"]["later_today"] == ["20:30-21:00"]
    assert windows["America/Chicago"]["local_now"].startswith("2026-03-02T19:30")
    assert windows["America/Chicago"]["later_today"] == ["19:30-21:00"]
    late = debtor_status("local", "d-1", deps, NOON_ATLANTA + timedelta(hours=10), probe)  # 22:00 in New York
    [sms] = late["contacts"]
    ny = next(w for w in sms["windows"] if w["zone"] == "America/New_York")
    assert not ny["open_now"] and ny["later_today"] == []
    assert sms["decision"]["allowed_now"] is False and QUIET in {r["rule"] for r in sms["decision"]["reasons"]}


def test_deferred_contacts_carry_the_engines_not_before(deps):
    night = NOON_ATLANTA + timedelta(hours=10)  # 22:00 in Atlanta: the text waits for 08:00
    result = submit_contact(make_request(), deps, night)
    assert result.decision.not_before is not None
    status = debtor_status("local", "d-1", deps, night + timedelta(minutes=5))
    [deferred] = status["deferred"]
    assert deferred["contact_id"] == result.contact_id
    assert deferred["not_before"] == result.decision.not_before.isoformat()
    [sms] = status["contacts"]
    assert sms["decision"]["next_allowed_at"] == result.decision.not_before.isoformat()


def test_consent_and_address_suppressions_are_shown(deps):
    submit_contact(make_request(), deps, NOON_ATLANTA)
    consent.change_preferences(
        "local", "d-1", deps, NOON_ATLANTA, {"opt_outs": [{"channel": "sms", "address": "+14045550100"}]}
    )
    status = debtor_status("local", "d-1", deps, NOON_ATLANTA + timedelta(hours=1), Probe(channel=Channel.SMS))
    assert status["preferences"]["opt_outs"][0]["address"] == "+14045550100"
    [sms] = status["contacts"]
    assert sms["decision"]["allowed_now"] is False
    assert "address_suppressions" in status


def test_a_debtor_without_a_ledger_is_not_found(deps):
    with pytest.raises(NotFoundError):
        debtor_status("local", "nobody", deps, NOON_ATLANTA)
