"""What the rule kinds that count earlier contacts share: which records they count, on which local day."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Literal
from zoneinfo import ZoneInfo

from chalicelib.domain import localtime
from chalicelib.domain.model import (
    Channel,
    ContactRecord,
    ContactRequest,
    DeliveryStatus,
    Direction,
    Result,
    possible_deliveries,
    possible_results,
)
from chalicelib.domain.rules.base import BaseRule, Context


class CountedRule(BaseRule):
    """Shared matching of history records: which ones a rule counts for this request."""

    key: Literal["person", "debt", "address"] = "debt"
    # Results, and delivery states (``temporary_failure``, ``permanent_failure``; ``delivered`` is both): a
    # message counts under a delivery state it has, or may still reach while its receipt is not final.
    counts: tuple[Result | DeliveryStatus, ...]
    counted_channels: tuple[Channel, ...] | None = None  # None: the rule's own channels
    directions: tuple[Direction, ...] = (Direction.OUTBOUND,)
    # A rule of the law that binds each debt collector on its own (Reg F counts per collector): the contacts
    # of one named agency do not count against another named agency. Contacts made by the creditor itself
    # (no agency) count against every agency, and a request of the creditor itself counts every agency's:
    # a label alone never lowers the count below what one collector would see. Off: all count together.
    per_collector: bool = False

    def matches(self, record: ContactRecord, request: ContactRequest) -> bool:
        channels = self.counted_channels or self.channels
        return (
            # A result not yet known counts when anything it may turn out to be counts (the worst case).
            self._counted_state(record)
            and record.channel in channels
            and record.direction in self.directions
            and (self.key != "debt" or record.account_id == request.account_id)
            and (self.key != "address" or record.to == request.to)
            and (not self.per_collector or self._same_collector(record, request))
        )

    def _counted_state(self, record: ContactRecord) -> bool:
        """Its result, or its delivery state (one it has, or may still reach), is one ``counts`` names."""
        return not (
            possible_results(record).isdisjoint(self.counts) and possible_deliveries(record).isdisjoint(self.counts)
        )

    @staticmethod
    def _same_collector(record: ContactRecord, request: ContactRequest) -> bool:
        return record.agency is None or request.agency is None or record.agency == request.agency

    def counted(self, ctx: Context, record: ContactRecord) -> bool:
        return self.matches(record, ctx.request)

    def dated(self, ctx: Context, zone: ZoneInfo) -> list[tuple[date, ContactRecord]]:
        """The counted records with their local date in ``zone``.

        Every record counts, even one stamped after the instant judged: a concurrent request may have
        reserved a contact a few milliseconds after this one started deciding."""
        key = (self.id, zone.key)
        if key not in ctx.memo:  # the matching records, once per evaluation
            matched = [r for r in ctx.history if self.counted(ctx, r)]
            ctx.memo[key] = [(localtime.local_date(r.at, zone), r) for r in matched]
        return ctx.memo[key]  # type: ignore[return-value]


def unresolved_note(records: Iterable[ContactRecord]) -> str:
    pending = sum(1 for r in records if r.unresolved)
    if not pending:
        return ""
    verb = "has" if pending == 1 else "have"
    return f"; {pending} of them {verb} no reported outcome and counts as the worst it can turn out to be"


def unresolved_detail(record: ContactRecord, zone: ZoneInfo) -> str:
    what = "a call permitted" if record.channel is Channel.VOICE else "a message sent"
    return f": {what} at {record.at.astimezone(zone):%H:%M} ({zone.key}) has no reported outcome"
