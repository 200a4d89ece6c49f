"""Helpers shared by the suite: the tenant, times, a contact request, a pack document and a settable clock.

Test modules import helpers from here (or from a package's helper module), never from another test
module or a conftest.py: fixtures are found by pytest, helpers are imported.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.domain.model import ContactRequest

TENANT = "local"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def make_request(**overrides: Any) -> ContactRequest:
    fields: dict[str, Any] = {
        "tenant": TENANT,
        "debtor_id": "d-1",
        "account_id": "a-1",
        "channel": "sms",
        "to": "+14045550100",
        "location": {"country": "US", "subdivision": "GA"},
        "message": {"body": "Your payment is overdue. Reply STOP to opt out."},
    }
    fields.update(overrides)
    return ContactRequest.model_validate(fields)


def pack_with(*rules: dict[str, Any], pack_id: str = "xx", countries: tuple[str, ...] = ("US",)) -> dict[str, Any]:
    """A minimal valid pack document holding ``rules`` (each gets citation and message if missing)."""
    return {
        "id": pack_id,
        "title": "test pack",
        "applies_to": {"countries": list(countries)},
        "retention_years": 1,
        "retention_source": {"citation": "test pack", "confidence": "unverified"},
        "sources": [{"citation": "test", "confidence": "high"}],
        "rules": [{"citation": "test", "message": "test rule", **rule} for rule in rules],
    }


class Clock:
    """A clock that answers ``now`` until a test sets it or moves it on with ``advance``."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


NOON_ATLANTA = utc(2026, 3, 2, 17, 0)  # a Monday: texts to Atlanta go at once
LATER = NOON_ATLANTA + timedelta(days=2)


def audited_texts(gateway: Any, **fields: Any) -> None:
    """Three texts to ``make_request(**fields)``'s debtor, 20 hours apart from NOON_ATLANTA, every event
    appended and the day shards written by LATER."""
    from chalicelib.services import dispatch, maintenance
    from chalicelib.services.contacts import submit_contact

    for step in range(3):
        submit_contact(make_request(**fields), gateway.deps, NOON_ATLANTA + timedelta(hours=20 * step))
    dispatch.sweep_audit(gateway.deps, LATER)
    maintenance.audit_pass(gateway.audit_deps, ["local"], LATER)
