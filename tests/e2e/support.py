"""Helpers of the end-to-end suite: inputs that are deterministic whatever the wall-clock time,
readers of what moto really delivered, and independent checks of the audit chain.

Time of day. The stack decides with its clock, ``stack.now()``: the real one, or GATEWAY_CLOCK_AT's when
it is set; tests pick their inputs by that clock too, never by the real one (so a run with
``GATEWAY_CLOCK_AT=...`` is the same run whatever the hour). The only shipped pack (``us-federal``)
allows contact 08:00-21:00 in *every* candidate zone of the recipient. Only US zones can ever be
candidates of a recipient that pack covers: a ``location.timezone`` outside the US makes
``zones.resolve`` add every US zone as well, unless a finer source (a +1 number or a subdivision)
already names one. Consequences the helpers encode:

* "allowed now" needs a US zone inside the window: :func:`open_number` picks a +1 number whose
  zones are all between 09:00 and 20:00 local (an hour of margin on each side). Every day there are
  hours (about 06:00-14:00 UTC) when no US zone is; tests then take a documented fallback.
* "not allowed now, but later" is always constructible: :func:`night_location` names a zone where
  it is night together with subdivision ``NY``, so the candidates are exactly that zone and
  America/New_York. Two 13-hour windows on a 24-hour day always overlap, so the outcome is a
  deferral (never a deny), and :func:`first_open_instant` computes its ``not_before`` independently.

``E2E_ASSUME_NO_OPEN_ZONE=1`` makes :func:`open_number` report no open zone, so the fallback paths
can be exercised at any time of day.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time as clock
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import phonenumbers
import requests
from phonenumbers import timezone as phone_timezone

TENANT = "demo"  # the local stack's tenant (tools.local.stack.DEV_TENANT)
PROBLEM = "application/problem+json"
GENESIS = "0" * 64
OPENS, CLOSES = time(8), time(21)  # policies/us-federal.yaml, quiet hours "08:00-21:00"

QUIET_HOURS = "us-federal/quiet-hours"
CALL_FREQUENCY = "us-federal/call-frequency"
CALL_AFTER_CONVERSATION = "us-federal/call-after-conversation"
NO_POLICY = "gateway/no-policy"

NY_NUMBER = "+14045550100"
NY_ZONE = "America/New_York"
# +1 numbers, one per US zone family (checked against phonenumbers in test_support_inputs).
US_NUMBERS = {
    "+14045550100": ("America/New_York",),
    "+13125550100": ("America/Chicago",),
    "+13035550100": ("America/Denver",),
    "+13105550100": ("America/Los_Angeles",),
    "+19075550100": ("America/Adak", "America/Anchorage"),
    "+18085550100": ("Pacific/Honolulu",),
}
# Zones to find "night" in: US ones first, then others so every UTC hour has one (max gap < 8 h).
NIGHT_ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Pacific/Honolulu",
    "Pacific/Kiritimati",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Europe/London",
    "Pacific/Pago_Pago",
)


def utcnow() -> datetime:
    """The machine's real time: not the stack's (``stack.now()``), which tests pick their inputs by."""
    return datetime.now(UTC)


def new_debtor() -> str:
    return f"e2e-{uuid.uuid4().hex}"


def parse_instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def local(at: datetime, zone: str) -> datetime:
    return at.astimezone(ZoneInfo(zone))


def phone_zones(number: str) -> tuple[str, ...]:
    return tuple(phone_timezone.time_zones_for_number(phonenumbers.parse(number, None)))


# --- choosing inputs by the clock ------------------------------------------------------------


def open_number(now: datetime, lo: int = 9, hi: int = 20) -> str | None:
    """A +1 number whose every zone is at a local hour in [lo, hi) now, or None."""
    if os.environ.get("E2E_ASSUME_NO_OPEN_ZONE") == "1":
        return None
    for number, zones in US_NUMBERS.items():
        if all(lo <= local(now, z).hour < hi for z in zones):
            return number
    return None


# Numbers in other packs' places whose message hours cover the hours no US zone is open (cn:
# 08:00-22:00 Beijing, uk: 08:00-21:00 London; India's pack limits the hours of calls only). None caps
# messages.
FOREIGN_MESSAGE_NUMBERS = {
    "+8613800138000": ("Asia/Shanghai", {"country": "CN"}),
    "+442079460000": ("Europe/London", {"country": "GB"}),
    "+919812345678": ("", {"country": "IN"}),
}


def open_message_number(now: datetime, lo: int = 9, hi: int = 20) -> tuple[str, dict[str, str]]:
    """A number (and location) where a message may be sent now, at every hour of the day."""
    number = open_number(now, lo, hi)
    if number:
        return number, {}
    for candidate, (zone, location) in FOREIGN_MESSAGE_NUMBERS.items():
        if not zone or lo <= local(now, zone).hour < hi:
            return candidate, location
    raise AssertionError(f"no open zone at {now.isoformat()}; extend FOREIGN_MESSAGE_NUMBERS")


def night_zone(now: datetime) -> str:
    """A zone where it is between 22:00 and 06:00 now: outside the window, and staying so for >= 2 h."""
    for zone in NIGHT_ZONES:
        hour = local(now, zone).hour
        if hour >= 22 or hour < 6:
            return zone
    raise AssertionError(f"no night zone at {now.isoformat()}; extend NIGHT_ZONES")


@dataclass(frozen=True)
class Night:
    location: dict[str, str]
    zones: frozenset[str]
    not_before: datetime  # expected: the first instant the window holds in every zone


def night_location(now: datetime) -> Night:
    """A location whose candidate zones are {night zone, New York}; usable with +1 404 or an email."""
    zone = night_zone(now)
    zones = frozenset({zone, NY_ZONE})
    location = {"country": "US", "subdivision": "NY", "timezone": zone}
    return Night(location, zones, first_open_instant(zones, now))


def is_open(at: datetime, zones: frozenset[str] | tuple[str, ...]) -> bool:
    return all(OPENS <= local(at, z).time() < CLOSES for z in zones)


def first_open_instant(zones: frozenset[str] | tuple[str, ...], after: datetime) -> datetime:
    """Earliest instant after ``after`` at which it is 08:00-21:00 in every zone (an independent oracle).

    The allowed set is an intersection of daily windows, so its first instant is an 08:00 in one zone.
    """
    candidates = []
    for zone in zones:
        tz = ZoneInfo(zone)
        day = after.astimezone(tz).date()
        for offset in range(-1, 4):
            at = datetime.combine(day + timedelta(days=offset), OPENS, tzinfo=tz).astimezone(UTC)
            if at > after:
                candidates.append(at)
    for at in sorted(candidates):
        if is_open(at, zones):
            return at
    raise AssertionError(f"the window never holds in all of {sorted(zones)}")


def last_noon(zone: str, now: datetime) -> datetime:
    """The most recent 12:00 local in ``zone`` (inside the window, within the last day)."""
    tz = ZoneInfo(zone)
    today = now.astimezone(tz).date()
    noon = datetime.combine(today, time(12), tzinfo=tz)
    if noon > now:
        noon = datetime.combine(today - timedelta(days=1), time(12), tzinfo=tz)
    return noon.astimezone(UTC)


# --- request bodies --------------------------------------------------------------------------


def sms_body(debtor: str, to: str, **extra: Any) -> dict[str, Any]:
    return {
        "debtor_id": debtor,
        "account_id": "acct-1",
        "channel": "sms",
        "to": to,
        "message": {"body": f"Reminder {debtor}: your payment is overdue. Reply STOP to opt out."},
        **extra,
    }


def email_body(debtor: str, **extra: Any) -> dict[str, Any]:
    return {
        "debtor_id": debtor,
        "account_id": "acct-1",
        "channel": "email",
        "to": f"{debtor}@example.com",
        "message": {
            "subject": f"Account {debtor}",
            "body": f"Dear customer {debtor}, your payment is overdue. Reply STOP to opt out.",
        },
        **extra,
    }


def voice_body(debtor: str, to: str, account: str = "acct-1", **extra: Any) -> dict[str, Any]:
    return {"debtor_id": debtor, "account_id": account, "channel": "voice", "to": to, **extra}


# --- what moto really delivered ---------------------------------------------------------------


def moto_data(endpoint: str) -> dict[str, Any]:
    response = requests.get(f"{endpoint}/moto-api/data.json", timeout=30)
    response.raise_for_status()
    return dict(response.json())


def sms_sent(endpoint: str, marker: str) -> list[dict[str, Any]]:
    """SNS SMS whose text holds ``marker``: [{"phone_number", "message", "message_id"}]."""
    return [m for m in moto_data(endpoint)["sns"]["SMS"] if marker in m["message"]]


def emails_sent(endpoint: str, to: str) -> list[dict[str, Any]]:
    """SES messages to ``to``: [{"id", "source", "destinations": {"ToAddresses"}, "subject", "body"}]."""
    data = moto_data(endpoint)
    messages = [m for key in ("ses", "sesv2") for m in (data.get(key) or {}).get("Message", [])]
    return [m for m in messages if to in m["destinations"].get("ToAddresses", [])]


# --- problems and the audit chain ------------------------------------------------------------


def assert_problem(response: requests.Response, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith(PROBLEM), response.headers
    body = response.json()
    assert body["status"] == status
    assert body["title"] and isinstance(body["title"], str)
    assert body["detail"] and isinstance(body["detail"], str)
    assert "Traceback" not in response.text
    if field is not None:
        fields = [e["field"] for e in body["errors"]]
        assert field in fields, body
    return dict(body)


def _canonical_sha256(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def expected_hash(event: dict[str, Any]) -> str:
    """SHA-256 over canonical JSON (sorted keys, compact, UTF-8) of the event without ``hash``, with
    its content (contact_id, channel, account_id, data and, on an event holding an address or a text, its
    random nonce) replaced by ``content_hash``, the SHA-256 of that content's own canonical JSON."""
    content_keys = ("contact_id", "channel", "account_id", "data", "nonce")
    body = {k: v for k, v in event.items() if k not in (*content_keys, "hash")}
    body["content_hash"] = _canonical_sha256({k: event[k] for k in content_keys if k in event})
    return _canonical_sha256(body)


def assert_chained(events: list[dict[str, Any]]) -> None:
    """A person's events from their first: seq 1.., GENESIS first, each linking to the previous hash."""
    assert events, "no events"
    head = GENESIS
    for number, event in enumerate(events, start=1):
        assert event["seq"] == number, [e["seq"] for e in events]
        assert event["prev_hash"] == head, f"event {number} does not link to the previous one"
        assert event["hash"] == expected_hash(event), f"event {number} hash does not match its content"
        head = event["hash"]


def rules(decision: dict[str, Any]) -> list[str]:
    return [r["rule"] for r in decision["reasons"]]


# --- driving the product's own services in-process (against the stack's moto) -------------------


def release(gateway: Any, debtor: str, contact_id: str) -> Any:
    """Dispatch one deferred contact once due, through the dispatcher's own path for one item.

    Same call ``dispatch.dispatch_due`` makes per due item, at ``not_before + 1 min``, but only for
    this contact, so other tests' deferred contacts are left alone.
    """
    from chalicelib.services.contacts import submit_contact

    item = gateway.deps.ledgers.get(TENANT, debtor).deferral(contact_id)
    assert item is not None, f"{contact_id} is not deferred"
    return submit_contact(
        item.request, gateway.deps, item.not_before + timedelta(minutes=1), contact_id=contact_id, trigger="dispatcher"
    )


def seed_permit(gateway: Any, body: dict[str, Any], at: datetime) -> str:
    """Grant a voice permit at a past instant ``at`` through the submit use case; returns its id."""
    from chalicelib.domain.events import Status
    from chalicelib.http import models as api
    from chalicelib.services.contacts import submit_contact

    request = api.ContactIn.model_validate(body, strict=False).to_domain(TENANT)  # as app.py does
    result = submit_contact(request, gateway.deps, at)
    assert result is not None and result.status is Status.PERMITTED, result
    return str(result.contact_id)


def appended(gateway: Any, debtor: str, tenant: str = TENANT, timeout: float = 20) -> list[dict[str, Any]]:
    """The debtor's audit events once the stack's stream appender has caught up with the ledger (its outbox
    empty), as a compliance officer sees them a moment after the contacts."""
    deadline = clock.monotonic() + timeout
    while gateway.deps.ledgers.get(tenant, debtor).outbox:
        assert clock.monotonic() < deadline, f"the stream appender did not catch up with {debtor} in {timeout} s"
        clock.sleep(0.1)
    return list(gateway.deps.audit.for_person(tenant, debtor))


def gateway_command(stack: Any, *args: str) -> str:
    """Run ./gateway's module against this stack's moto server, as a person would against make run."""
    from tools.local.stack import ROOT as root

    env = {**stack.env(), "AWS_ENDPOINT_URL": stack.endpoint}
    done = subprocess.run(
        [sys.executable, "-m", "tools.cli.main", *args], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


Read = TypeVar("Read")


def eventually(read: Callable[[], Read], done: Callable[[Read], object], timeout: float = 15) -> Read:
    """``read()`` again every 0.3 s until ``done`` holds of it or ``timeout`` passes; its last value. For what
    the stack finishes after it has answered (the appender's trail and rollup, a webhook's attempt log)."""
    deadline = clock.monotonic() + timeout
    while True:
        found = read()
        if done(found) or clock.monotonic() > deadline:
            return found
        clock.sleep(0.3)
