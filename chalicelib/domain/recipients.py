"""Whom an address was recently texted about: the contacts a reply from that address may answer.

The address's own ledger keeps them (one entry per tenant x debtor, the latest contact), so a reply
such as "cease" reaches every debtor recently contacted at that number, and "wrong number" the one
whose message it answered. Bounded in age and count, so the ledger item stays small.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

KEEP = timedelta(days=30)
MAX_DEBTORS = 10
MAX_REPLIES_SEEN = 50


@dataclass(frozen=True)
class SentTo:
    """One contact sent to the address: whose debt, which account, when, and whether to a third party."""

    tenant: str
    debtor_id: str
    contact_id: str
    account_id: str
    at: datetime
    third_party: bool = False

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "at": self.at.isoformat()}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> SentTo:
        return cls(**{**raw, "at": datetime.fromisoformat(raw["at"])})


def remembered(sent: tuple[SentTo, ...], new: SentTo, now: datetime) -> tuple[SentTo, ...]:
    """The list with ``new`` as its latest: one entry per debtor, none older than KEEP, at most MAX_DEBTORS."""
    others = (s for s in sent if (s.tenant, s.debtor_id) != (new.tenant, new.debtor_id))
    return tuple(sorted((*recent(tuple(others), now), new), key=lambda s: s.at))[-MAX_DEBTORS:]


def recent(sent: tuple[SentTo, ...], now: datetime) -> tuple[SentTo, ...]:
    return tuple(s for s in sent if s.at >= now - KEEP)


def debtors(sent: tuple[SentTo, ...], now: datetime) -> tuple[SentTo, ...]:
    """The contacts made to the debtor themself: a cease from this address binds each of those debtors."""
    return tuple(s for s in recent(sent, now) if not s.third_party)


def latest(sent: tuple[SentTo, ...], now: datetime) -> SentTo | None:
    """The message a reply most likely answers: the last one sent to the address."""
    found = recent(sent, now)
    return found[-1] if found else None


def seen(replies: tuple[str, ...], message_id: str) -> tuple[str, ...]:
    """Inbound message ids already handled (a redelivered reply records nothing new), bounded."""
    return (*replies, message_id)[-MAX_REPLIES_SEEN:] if message_id and message_id not in replies else replies
