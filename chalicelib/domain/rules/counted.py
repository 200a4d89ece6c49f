"""What the rule kinds that count earlier contacts share: which records they count, on which local day."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from datetime import date
from functools import cached_property
from typing import Literal
from zoneinfo import ZoneInfo

from chalicelib.domain import localtime
from chalicelib.domain.model import (
    MESSAGE_RESULTS,
    UNRESOLVED,
    VOICE_RESULTS,
    Channel,
    ContactRecord,
    ContactRequest,
    Direction,
    Result,
)
from chalicelib.domain.rules.base import BaseRule, Context


class CountedRule(BaseRule):
    """Shared matching of history records: which ones a rule counts for this request."""

    key: Literal["person", "debt", "address"] = "debt"
    counts: tuple[Result, ...]
    counted_channels: tuple[Channel, ...] | None = None  # None: the rule's own channels
    directions: tuple[Direction, ...] = (Direction.OUTBOUND,)
    # A rule of the law that binds each debt collector on its own (Reg F counts per collector): the contacts
    # of one named agency do not count against another named agency. Contacts made by the creditor itself
    # (no agency) count against every agency, and a request of the creditor itself counts every agency's:
    # a label alone never lowers the count below what one collector would see. Off: all count together.
    per_collector: bool = False

    @cached_property
    def _counted_results(self) -> dict[Channel, frozenset[Result]]:
        """Per channel, the results a record on it is counted with: a result not yet known counts when anything
        it may turn out to be counts (the worst case, ``possible_results``)."""
        counts = frozenset(self.counts)
        found = {}
        for channel in self.counted_channels or self.channels:
            finals = VOICE_RESULTS if channel is Channel.VOICE else MESSAGE_RESULTS
            found[channel] = counts | (UNRESOLVED if not finals.isdisjoint(counts) else frozenset())
        return found

    def matches(self, record: ContactRecord, request: ContactRequest) -> bool:
        return (
            record.result in self._counted_results.get(record.channel, ())
            and record.direction in self.directions
            and (self.key != "debt" or record.account_id == request.account_id)
            and (self.key != "address" or record.to == request.to)
            and (not self.per_collector or self._same_collector(record, request))
        )

    @staticmethod
    def _same_collector(record: ContactRecord, request: ContactRequest) -> bool:
        return record.agency is None or request.agency is None or record.agency == request.agency

    def counted(self, ctx: Context, record: ContactRecord) -> bool:
        return self.matches(record, ctx.request)

    def counted_records(self, ctx: Context) -> list[ContactRecord]:
        """The history records this rule counts: ``counted`` on each, in one pass over the history."""
        accept, directions, request = self._counted_results, self.directions, ctx.request
        found = [r for r in ctx.history if r.result in accept.get(r.channel, ()) and r.direction in directions]
        if self.key == "debt":
            found = [r for r in found if r.account_id == request.account_id]
        elif self.key == "address":
            found = [r for r in found if r.to == request.to]
        if self.per_collector and request.agency is not None:
            found = [r for r in found if r.agency is None or r.agency == request.agency]
        return found

    def dated(self, ctx: Context, zone: ZoneInfo) -> list[tuple[date, ContactRecord]]:
        """The counted records with their local date in ``zone``.

        Every record counts, even one stamped after the instant judged: a concurrent request may have
        reserved a contact a few milliseconds after this one started deciding."""
        key = (self.id, zone.key)
        if key not in ctx.memo:  # the matching records, once per evaluation
            matched = self.counted_records(ctx)
            ctx.memo[key] = [(localtime.record_date(r.at, zone), r) for r in matched]
        return ctx.memo[key]  # type: ignore[return-value]

    def by_date(self, ctx: Context, zone: ZoneInfo) -> tuple[list[int], list[tuple[date, ContactRecord]]]:
        """``dated`` sorted by date (stable), with the dates as ordinals: a window's records are one slice."""
        key = (self.id, zone.key, "by_date")
        if key not in ctx.memo:
            ordered = sorted(self.dated(ctx, zone), key=lambda pair: pair[0])
            ctx.memo[key] = ([d.toordinal() for d, _ in ordered], ordered)
        return ctx.memo[key]  # type: ignore[return-value]

    @staticmethod
    def last_up_to(ordinals: list[int], day: int) -> int | None:
        """The latest counted date (an ordinal) on or before ``day``."""
        found = bisect_right(ordinals, day)
        return ordinals[found - 1] if found else None


def unresolved_note(records: Iterable[ContactRecord]) -> str:
    pending = sum(1 for r in records if r.unresolved)
    if not pending:
        return ""
    verb = "has" if pending == 1 else "have"
    return f"; {pending} of them {verb} no reported outcome and counts as the worst it can turn out to be"


def unresolved_detail(record: ContactRecord, zone: ZoneInfo) -> str:
    what = "a call permitted" if record.channel is Channel.VOICE else "a message sent"
    return f": {what} at {record.at.astimezone(zone):%H:%M} ({zone.key}) has no reported outcome"
