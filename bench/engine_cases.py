"""Generated decisions across every pack: a request, a history, preferences and an instant.

The engine's mix bench cycles 1,000 of them; the search's differential test draws its cases from here too.
Every pack applies to some of them: the house pack is adopted by every tenant in ``every_pack_policies``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib import policy_store
from chalicelib.domain.model import Channel, ContactRecord, ContactRequest, Direction, RecipientRole, Result
from chalicelib.domain.policy import PolicySet, build_policy_set
from chalicelib.domain.preferences import Consent, InconvenientTime, Preferences

# A number and an address for every pack's place (and a few that put the person in two zones).
PLACES: tuple[tuple[str, dict[str, str]], ...] = (
    ("+16175550100", {"country": "US", "subdivision": "MA"}),
    ("+12125550100", {"country": "US", "subdivision": "NY"}),
    ("+13055550100", {"country": "US", "subdivision": "FL"}),
    ("+12065550100", {"country": "US", "subdivision": "WA"}),
    ("+13045550100", {"country": "US", "subdivision": "WV"}),
    ("+12025550100", {"country": "US", "subdivision": "DC"}),
    ("+14045550100", {"country": "US", "subdivision": "GA"}),
    ("+14045550100", {"country": "US", "subdivision": "CA"}),
    ("+18085550100", {"country": "US", "subdivision": "TX"}),
    ("+14165550100", {"country": "CA", "subdivision": "ON"}),
    ("+15145550100", {"country": "CA", "subdivision": "QC"}),
    ("+8613800138000", {"country": "CN"}),
    ("+6281234567890", {"country": "ID"}),
    ("+353861234567", {"country": "IE"}),
    ("+919876543210", {"country": "IN"}),
    ("+639171234567", {"country": "PH"}),
    ("+447911123456", {"country": "GB"}),
    ("+61412345678", {"country": "AU", "subdivision": "NSW"}),
)
# Instants of 2025-2027, a third of them within four days of a DST change (US, Europe, Australia).
DST_CHANGES = tuple(
    datetime(*parts, tzinfo=UTC)
    for parts in ((2025, 3, 9, 7), (2025, 11, 2, 6), (2026, 3, 29, 1), (2026, 10, 25, 1), (2026, 4, 4, 16))
)
START, YEARS = datetime(2025, 1, 1, tzinfo=UTC), 3
BODIES = ("Your payment is due. Reply STOP to opt out.", "Your payment is due.", "回复TD退订")


@dataclass(frozen=True)
class Case:
    request: ContactRequest
    history: tuple[ContactRecord, ...]
    preferences: Preferences
    now: datetime


def every_pack_policies() -> PolicySet:
    """The packs in policies/, each house pack adopted by every tenant."""
    documents: dict[str, Any] = policy_store.read_documents([policy_store.SOURCE_DIR])
    for document in documents.values():
        if document.get("kind") == "house":
            document["applies_to"]["tenants"] = ["*"]
    return build_policy_set(documents)


def instant(rng: random.Random) -> datetime:
    if rng.random() < 1 / 3:
        return rng.choice(DST_CHANGES) + timedelta(minutes=rng.randint(-4 * 1440, 4 * 1440))
    return START + timedelta(minutes=rng.randrange(YEARS * 365 * 1440))


def request(rng: random.Random, n: int) -> ContactRequest:
    to, location = rng.choice(PLACES)
    channel = rng.choice((Channel.VOICE, Channel.VOICE, Channel.SMS, Channel.EMAIL))
    return ContactRequest(
        tenant="bench",
        debtor_id=f"d-{n}",
        account_id=rng.choice(("a", "a", "b")),
        channel=channel,
        to=f"p{n}@example.com" if channel is Channel.EMAIL else to,
        location=location,
        message=None if channel is Channel.VOICE else {"subject": "Reminder", "body": rng.choice(BODIES)},
        days_past_due=rng.choice((None, 5, 20, 45, 120)),
        agency=rng.choice((None, None, "agency-1")),
    )


def history(rng: random.Random, req: ContactRequest, now: datetime, size: int) -> tuple[ContactRecord, ...]:
    """Records of the 20 days before ``now`` (or all in the last 7, so that caps bind), mostly of this debt."""
    days = rng.choice((7, 20))
    records = []
    for i in range(size):
        channel = rng.choice((req.channel, req.channel, Channel.VOICE, Channel.SMS, Channel.EMAIL))
        result = rng.choice(sorted(Result))
        records.append(
            ContactRecord(
                contact_id=f"c-{i}",
                at=now - timedelta(seconds=rng.randrange(days * 86400)),
                channel=channel,
                account_id=rng.choice((req.account_id, req.account_id, "z")),
                to=rng.choice((req.to, "other")),
                result=result,
                direction=Direction.INBOUND if rng.random() < 0.1 else Direction.OUTBOUND,
                agency=rng.choice((None, "agency-1", "agency-2")),
                recipient_role=RecipientRole.DEBTOR,
            )
        )
    return tuple(sorted(records, key=lambda r: r.at))


def preferences(rng: random.Random, now: datetime) -> Preferences:
    if rng.random() < 0.7:
        return Preferences()
    windows = []
    for _ in range(rng.randint(0, 3)):
        start = rng.randrange(0, 23 * 60, 30)
        end = rng.randrange(start + 30, 24 * 60 + 1, 30)
        days = tuple(rng.sample(("monday", "wednesday", "saturday", "sunday"), rng.randint(0, 2)))
        windows.append(InconvenientTime(start=_clock(start), end=_clock(end), days=days))
    consents = []
    if rng.random() < 0.3:
        begins = now + timedelta(hours=rng.randint(-48, 72))
        consents.append(Consent(start=begins, until=begins + timedelta(hours=rng.randint(1, 96))))
    return Preferences(inconvenient_times=tuple(windows), consents=tuple(consents))


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def case(rng: random.Random, n: int = 0) -> Case:
    now = instant(rng)
    req = request(rng, n)
    return Case(req, history(rng, req, now, rng.choice((0, 5, 15, 50))), preferences(rng, now), now)


def cases(count: int, seed: int = 24) -> list[Case]:
    rng = random.Random(seed)
    return [case(rng, n) for n in range(count)]
