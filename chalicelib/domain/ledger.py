"""The person's ledger: bounded recent history, deferred contacts, chain head and outbox.

One ledger per tenant x person is the commit point of every decision: a conditional write on
``version`` makes caps hold under any concurrency. History older than the longest policy window
is pruned, so the ledger's size does not grow with the person's total history.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from chalicelib.domain.audit import DEFAULT_RETENTION_DAYS, GENESIS, Draft, link
from chalicelib.domain.events import AuditEvent
from chalicelib.domain.model import Channel, ContactRecord, ContactRequest, RecipientRole, Result
from chalicelib.domain.preferences import Preferences
from chalicelib.domain.recipients import SentTo

MAX_DEFERRED = 50
# A message reserved this long ago whose send never recorded its outcome: the function that sent it died
# (no Lambda runs longer than 15 minutes). The dispatcher settles it as ``unknown``: it may have left.
SETTLE_AFTER = timedelta(minutes=15)
# The defaults of VOICE_PERMIT_SECONDS and OUTCOME_DEADLINE_SECONDS: a dialer places a permitted call
# within seconds, and reports its outcome once the call ends.
VOICE_PERMIT = timedelta(minutes=2)
OUTCOME_DEADLINE = timedelta(hours=1)


# How many shards the ledger's sparse indexes (``due``, ``pending``) spread over by default (INDEX_SHARDS): no
# partition key is shared by a whole deployment. At ~3 index writes per sent contact, a shard takes ~330 sent
# contacts/s before it reaches DynamoDB's 1,000 writes/s per partition; 768 shards, ~250,000 a second (bench/heat
# measures less, as a hash never spreads evenly: the goal of 100,000 holds with room).
INDEX_SHARDS = 768
# The audit table's ``by_day`` key (tenant x day) spreads over this many shards (DAY_SHARDS): a sent contact
# writes ~5 units there, so one shard takes ~200 sent contacts/s of one tenant; 96 shards, ~19,000 (64 measured
# 9,434 in bench/heat, under the goal of 10,000: the fullest shard of an uneven hash sets the bound).
DAY_SHARDS = 96


def index_shard(tenant: str, debtor_id: str, shards: int) -> int:
    """The shard of a person's ledger in the sparse indexes: stable, and spread evenly by a hash."""
    digest = hashlib.sha256(f"{tenant}#{debtor_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % shards


def settle_at(record: ContactRecord) -> datetime | None:
    """When a reservation still waiting for its result is settled as ``unknown`` by the dispatcher."""
    if record.result is Result.PENDING:
        return record.at + SETTLE_AFTER
    if record.result is Result.PLACED:
        return record.outcome_due or record.at + OUTCOME_DEADLINE
    return None


def reservation(
    request: ContactRequest,
    contact_id: str,
    at: datetime,
    valid_until: datetime | None,
    outcome_due: datetime | None = None,
) -> ContactRecord:
    """An allowed contact as the ledger counts it until its result is known: a call ``placed`` (until its
    outcome is reported, or settled ``unknown`` past ``outcome_due``), a message ``pending``."""
    voice = request.channel is Channel.VOICE
    return ContactRecord(
        contact_id=contact_id,
        at=at,
        channel=request.channel,
        account_id=request.account_id,
        to=request.to,
        result=Result.PLACED if voice else Result.PENDING,
        agency=request.agency,
        recipient_role=request.recipient_role,
        valid_until=valid_until,
        outcome_due=outcome_due if voice else None,
    )


@dataclass(frozen=True)
class Deferred:
    contact_id: str
    request: ContactRequest
    not_before: datetime
    deliveries_failed: int = 0  # hand-offs of this send to the provider that failed retryably (stored as "attempts")
    paced: bool = False  # not_before is a provider slot this contact holds: it does not queue for one again


@dataclass(frozen=True)
class Ledger:
    tenant: str
    debtor_id: str
    version: int = 0  # 0: not stored yet
    seq: int = 0
    head: str = GENESIS
    history: tuple[ContactRecord, ...] = ()
    deferred: tuple[Deferred, ...] = ()
    outbox: tuple[AuditEvent, ...] = field(default=())  # committed, maybe not yet in the audit table
    preferences: Preferences = Preferences()
    commit_id: str = ""  # written with each commit: tells a retried write that succeeded from a lost race
    retention_days: int = DEFAULT_RETENTION_DAYS  # the longest retention of any pack that applied so far
    last_event_at: datetime | None = None  # the person's last activity: retention runs from here
    appended_seq: int = 0  # every event up to here is known to be in the audit table (set by the appender)
    # An address's ledger only: the recent contacts sent to it, and the inbound replies already handled.
    recent_contacts: tuple[SentTo, ...] = ()
    replies_seen: tuple[str, ...] = ()

    @property
    def next_due(self) -> datetime | None:
        """When the dispatcher must look at this person: a deferred contact, or a reservation to settle."""
        unsettled = (due for r in self.history if (due := settle_at(r)) is not None)
        return min((*(d.not_before for d in self.deferred), *unsettled), default=None)

    def unsettled(self, now: datetime) -> list[ContactRecord]:
        """Reservations whose send stopped before recording what the provider did (see SETTLE_AFTER), and
        permitted calls whose outcome the dialer did not report in time."""
        return [r for r in self.history if (due := settle_at(r)) is not None and due <= now]

    def record(self, contact_id: str) -> ContactRecord | None:
        return next((r for r in self.history if r.contact_id == contact_id), None)

    def deferral(self, contact_id: str) -> Deferred | None:
        return next((d for d in self.deferred if d.contact_id == contact_id), None)

    def append(self, drafts: list[Draft], at: datetime) -> tuple[Ledger, list[AuditEvent]]:
        events = link(
            drafts,
            tenant=self.tenant,
            debtor_id=self.debtor_id,
            seq=self.seq,
            head=self.head,
            at=at,
            retention_days=self.retention_days,
        )
        if not events:
            return self, []
        last = at if self.last_event_at is None else max(at, self.last_event_at)
        updated = replace(
            self,
            seq=events[-1]["seq"],
            head=events[-1]["hash"],
            outbox=self.outbox + tuple(events),
            last_event_at=last,
        )
        return updated, events

    def with_retention(self, days: int) -> Ledger:
        """Retention only grows: a person once under a 6-year rule stays under it."""
        return replace(self, retention_days=max(self.retention_days, days))

    def with_record(self, record: ContactRecord) -> Ledger:
        others = tuple(r for r in self.history if r.contact_id != record.contact_id)
        return replace(self, history=tuple(sorted((*others, record), key=lambda r: r.at)))

    def with_result(self, contact_id: str, result: Result) -> Ledger:
        record = self.record(contact_id)
        return self if record is None else self.with_record(record.model_copy(update={"result": result}))

    def with_deferred(self, item: Deferred) -> Ledger:
        return replace(self, deferred=(*self.without_deferred(item.contact_id).deferred, item))

    def without_deferred(self, contact_id: str) -> Ledger:
        return replace(self, deferred=tuple(d for d in self.deferred if d.contact_id != contact_id))

    def without_outbox(self, appended: frozenset[int]) -> Ledger:
        """Drop the events known to be in the audit table (by sequence number)."""
        return replace(self, outbox=tuple(e for e in self.outbox if e["seq"] not in appended))

    def trimmed(self) -> Ledger:
        """Drop the events the appender has marked as appended: what every commit writes."""
        if not any(e["seq"] <= self.appended_seq for e in self.outbox):
            return self
        return replace(self, outbox=tuple(e for e in self.outbox if e["seq"] > self.appended_seq))

    def pruned(self, now: datetime, keep_days: int) -> Ledger:
        # Two extra days cover local dates that start before the UTC cutoff in any zone.
        # Contacts with third parties are kept: "only once" (15 U.S.C. 1692b(3)) has no time limit.
        cutoff = now - timedelta(days=keep_days + 2)
        kept = (r for r in self.history if r.at >= cutoff or r.recipient_role is RecipientRole.THIRD_PARTY)
        return replace(self, history=tuple(kept))
