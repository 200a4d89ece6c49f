"""The daily report, from the rollup the appender writes in batches, against the events that produced it:
every total is recounted here from the stored events themselves."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from chalicelib.domain.errors import PermanentDeliveryError
from chalicelib.services import appender, dispatch, reports
from chalicelib.services.contacts import submit_contact
from tests.fakes import unit_of_work
from tests.support import NOON_ATLANTA, make_request

DAY = NOON_ATLANTA.date()
NIGHT = NOON_ATLANTA + timedelta(hours=10)  # 22:00 in Atlanta, still 2026-03-03 03:00 UTC: the next UTC day
EVENING = NOON_ATLANTA + timedelta(hours=5)  # 17:00 in Atlanta, the same UTC day


@pytest.fixture
def stream_deps(policies):
    """Events reach the audit table only through the appender, as deployed (AUDIT_APPEND=stream)."""
    return unit_of_work(policies, audit_inline=False)


def _append(deps) -> appender.AppendReport:
    """The appender over one batch holding every ledger's latest image, as the stream hands it over."""
    images = deps.ledgers.get_many(sorted(deps.ledgers._items))
    return appender.append_committed(images, deps.ledgers, deps.audit, deps.rollups)


def _day(deps):
    """One UTC day of mixed traffic for tenant ``local``, and a text of another tenant."""
    submit_contact(make_request(debtor_id="d-1"), deps, NOON_ATLANTA)  # sent
    submit_contact(make_request(debtor_id="d-2", channel="voice", message=None), deps, NOON_ATLANTA)  # permitted
    submit_contact(make_request(debtor_id="d-3", on_blocked="reject"), deps, NOON_ATLANTA - timedelta(hours=6))
    submit_contact(make_request(debtor_id="d-4", channel="email", to="d4@example.com"), deps, EVENING)  # sent
    deps.sms.fail_with = PermanentDeliveryError("InvalidParameter")
    submit_contact(make_request(debtor_id="d-5"), deps, EVENING)  # failed
    deps.sms.fail_with = None
    submit_contact(make_request(debtor_id="d-6"), deps, EVENING - timedelta(hours=12))  # 00:00 Atlanta: scheduled
    submit_contact(make_request(tenant="other", debtor_id="d-1"), deps, NOON_ATLANTA)


def _recount(events):
    """The day's totals, counted from the events themselves."""
    mine = [e for e in events if e["tenant"] == "local" and e["at"][:10] == DAY.isoformat()]
    decided = [e["data"] for e in mine if e["type"] == "decided"]
    return {
        "status": Counter(e["type"] for e in mine if e["type"] in reports.CHART_STATUSES),
        "outcome": Counter(d["outcome"] for d in decided),
        "channel": Counter(d["channel"] for d in decided),
        "pack": Counter(p for d in decided for p in d["inputs"].get("packs", [])),
        "rule": Counter(r["rule"] for d in decided for r in d["reasons"]),
        "events": len(mine),
    }


def test_the_reports_totals_are_the_events_totals(stream_deps):
    deps = stream_deps
    _day(deps)
    _append(deps)
    events = list(deps.audit.events.values())
    expected = _recount(events)
    report = reports.daily_report("local", DAY, deps, NOON_ATLANTA + timedelta(days=1))
    totals = report["totals"]
    assert totals["events"] == expected["events"] > 0
    assert totals["by_status"] == dict(expected["status"])
    assert set(totals["by_status"]) >= {"sent", "permitted", "blocked", "failed", "scheduled"}  # a mixed day
    assert totals["by_outcome"] == dict(expected["outcome"])
    assert totals["by_channel"] == dict(expected["channel"]) and set(totals["by_channel"]) == {"sms", "voice", "email"}
    assert totals["by_jurisdiction"] == dict(expected["pack"])
    top = {r["rule"]: r["hits"] for r in report["top_rules"]}
    assert top == dict(expected["rule"]) and top["us-federal/quiet-hours"] >= 2
    failed = Counter(e["channel"] for e in events if e["type"] == "failed" and e["tenant"] == "local")
    assert report["failed_and_unknown"]["failed"] == dict(failed) and failed["sms"] == 1
    assert report["deferred"]["added"] == 1 and report["deferred"]["backlog_at_end_of_day"] == 1


def test_another_tenants_events_are_not_in_the_report(stream_deps):
    _day(stream_deps)
    _append(stream_deps)
    other = reports.daily_report("other", DAY, stream_deps, NOON_ATLANTA + timedelta(days=1))
    assert other["totals"]["by_status"] == {"sent": 1}


def test_a_redelivered_batch_counts_nothing_twice(stream_deps):
    _day(stream_deps)
    _append(stream_deps)
    first = reports.daily_report("local", DAY, stream_deps, NOON_ATLANTA + timedelta(days=1))
    writes = stream_deps.rollups.writes
    _append(stream_deps)  # the same images again: every event is stored already
    again = reports.daily_report("local", DAY, stream_deps, NOON_ATLANTA + timedelta(days=1))
    assert again["totals"] == first["totals"] and stream_deps.rollups.writes == writes


def test_the_rollup_is_written_once_per_tenant_and_day_of_a_batch(stream_deps):
    _day(stream_deps)
    _append(stream_deps)
    assert stream_deps.rollups.writes == 2  # local and other, one UTC day: not one write per event or person


def test_a_dispatched_deferral_leaves_the_backlog_and_the_oldest_due_is_named(stream_deps):
    deps = stream_deps
    _day(deps)
    _append(deps)
    waiting = deps.ledgers.get("local", "d-6").deferred[0]
    now = NOON_ATLANTA + timedelta(hours=1)
    report = reports.daily_report("local", DAY, deps, now)
    assert report["deferred"]["oldest_due_now"] == {
        "contact_id": waiting.contact_id,
        "debtor_id": "d-6",
        "not_before": waiting.not_before.isoformat(),
    }
    dispatch.dispatch_due(deps, waiting.not_before)
    _append(deps)
    later = reports.daily_report("local", DAY, deps, waiting.not_before)
    assert later["deferred"]["dispatched"] == 1 and later["deferred"]["backlog_at_end_of_day"] == 0
    assert later["deferred"]["oldest_due_now"] is None


def test_the_last_invariant_check_and_the_chart_days_are_reported(stream_deps):
    _day(stream_deps)
    _append(stream_deps)
    stream_deps.rollups.record_check("local", {"ok": True, "at": "2026-03-03T00:30:00+00:00"})
    report = reports.daily_report("local", DAY, stream_deps, NOON_ATLANTA + timedelta(days=1))
    assert report["last_invariant_check"]["ok"] is True
    assert report["days"][-1]["date"] == DAY.isoformat() and report["days"][-1]["sent"] >= 1
    assert len(report["days"]) == reports.CHART_DAYS
