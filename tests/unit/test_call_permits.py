"""A voice permit's life: refused while another call's outcome is unknown, valid until a bounded instant,
settled as unknown when no outcome comes, and replaced by an outcome that comes late."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.domain.events import AuditEvent
from chalicelib.domain.model import Result
from chalicelib.services import calls, dispatch
from chalicelib.services.contacts import submit_contact
from chalicelib.services.unit_of_work import UnitOfWork
from tests.support import TENANT, make_request, utc

NOON_ATLANTA = utc(2026, 3, 16, 16, 2)  # Monday 12:02 EDT
LOCKOUT = "us-federal/call-after-conversation"


def permit(deps: UnitOfWork, at=NOON_ATLANTA, **overrides):
    return submit_contact(make_request(channel="voice", message=None, **overrides), deps, at)


def events_of(deps: UnitOfWork, contact_id: str) -> list[AuditEvent]:
    return [e for e in deps.audit.for_person(TENANT, "d-1") if e["contact_id"] == contact_id]


def test_a_second_call_waits_for_the_first_calls_outcome_then_a_late_conversation_locks(deps: UnitOfWork) -> None:
    first = permit(deps)
    assert first.status == "permitted"

    second = permit(deps, NOON_ATLANTA + timedelta(minutes=4))
    assert second.status == "refused"
    reason = next(r for r in second.decision.reasons if r.rule == LOCKOUT)
    assert "a call permitted at 12:02 (America/New_York) has no reported outcome" in reason.message

    calls.record_call_outcome(TENANT, first.contact_id, Result.CONVERSATION, deps, NOON_ATLANTA + timedelta(minutes=9))
    third = permit(deps, NOON_ATLANTA + timedelta(hours=2))
    assert third.status == "refused"
    assert "no reported outcome" not in next(r for r in third.decision.reasons if r.rule == LOCKOUT).message


def test_an_unanswered_outcome_lifts_the_wait(deps: UnitOfWork) -> None:
    first = permit(deps)
    calls.record_call_outcome(TENANT, first.contact_id, Result.UNANSWERED, deps, NOON_ATLANTA + timedelta(minutes=1))
    assert permit(deps, NOON_ATLANTA + timedelta(minutes=4)).status == "permitted"


def test_the_voice_answer_carries_valid_until(deps: UnitOfWork) -> None:
    deps.permit_for = timedelta(seconds=90)
    body = permit(deps).to_json()
    assert body["valid_until"] == "2026-03-16T16:03:30Z"
    assert body["decision"]["valid_until"] == "2026-03-16T16:03:30Z"
    late = permit(deps, utc(2026, 3, 17, 0, 59, 30), account_id="a-2").to_json()  # 20:59:30 EDT
    assert late["valid_until"] == "2026-03-17T01:00:00Z"  # 21:00:00 EDT


def test_an_outcome_dated_after_the_permit_lapsed_is_flagged(deps: UnitOfWork) -> None:
    deps.permit_for = timedelta(seconds=60)
    first = permit(deps)
    placed_late = NOON_ATLANTA + timedelta(seconds=61)
    calls.record_call_outcome(TENANT, first.contact_id, Result.UNANSWERED, deps, placed_late, placed_late)
    (outcome,) = [e for e in events_of(deps, first.contact_id) if e["type"] == "outcome"]
    assert outcome["data"][calls.WITHOUT_VALID_PERMIT] is True
    assert outcome["data"]["valid_until"] == "2026-03-16T16:03:00+00:00"


def test_an_outcome_inside_the_permit_is_not_flagged(deps: UnitOfWork) -> None:
    first = permit(deps)
    calls.record_call_outcome(TENANT, first.contact_id, Result.UNANSWERED, deps, NOON_ATLANTA + timedelta(seconds=30))
    (outcome,) = [e for e in events_of(deps, first.contact_id) if e["type"] == "outcome"]
    assert calls.WITHOUT_VALID_PERMIT not in outcome["data"]


def test_a_missing_outcome_is_settled_unknown_keeps_counting_and_a_late_one_replaces_it(deps: UnitOfWork) -> None:
    deps.outcome_deadline = timedelta(minutes=30)
    first = permit(deps)
    early = dispatch.run_dispatcher(deps, NOON_ATLANTA + timedelta(minutes=29))
    assert early.settled_unknown == 0
    report = dispatch.run_dispatcher(deps, NOON_ATLANTA + timedelta(minutes=30))
    assert report.settled_unknown == 1
    assert deps.ledgers.get(TENANT, "d-1").record(first.contact_id).result is Result.UNKNOWN
    (settled,) = [e for e in events_of(deps, first.contact_id) if e["type"] == "unknown"]
    assert settled["data"]["error_code"] == dispatch.NO_CALL_OUTCOME

    assert permit(deps, NOON_ATLANTA + timedelta(minutes=40)).status == "refused"  # unknown: the worst case

    calls.record_call_outcome(TENANT, first.contact_id, Result.UNANSWERED, deps, NOON_ATLANTA + timedelta(minutes=45))
    assert [e["type"] for e in events_of(deps, first.contact_id)][-2:] == ["unknown", "outcome"]
    assert permit(deps, NOON_ATLANTA + timedelta(minutes=50)).status == "permitted"
