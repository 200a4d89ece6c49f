"""What the rule kinds that count earlier contacts share: which records they count, on which local day."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from operator import attrgetter, itemgetter
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
    DeliveryStatus,
    Direction,
    Result,
    possible_deliveries,
)
from chalicelib.domain.rules import matching
from chalicelib.domain.rules.base import BaseRule, Context
from chalicelib.domain.rules.matching import Classified, Signature

_AT, _RESULT, _FIRST = attrgetter("at"), attrgetter("result"), itemgetter(0)
_RESULT_VALUES = frozenset(r.value for r in Result)
_DELIVERY_VALUES = frozenset(s.value for s in DeliveryStatus)


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

    @cached_property
    def _counted_results(self) -> dict[Channel, frozenset[Result]]:
        """Per channel, the results a record on it is counted with: a result not yet known counts when anything
        it may turn out to be counts (the worst case, ``possible_results``)."""
        counts = frozenset(Result(c.value) for c in self.counts if c.value in _RESULT_VALUES)
        found = {}
        for channel in self.counted_channels or self.channels:
            finals = VOICE_RESULTS if channel is Channel.VOICE else MESSAGE_RESULTS
            found[channel] = counts | (UNRESOLVED if not finals.isdisjoint(counts) else frozenset())
        return found

    @cached_property
    def _counted_deliveries(self) -> frozenset[DeliveryStatus]:
        """The delivery states ``counts`` names (``delivered`` is a result and a state)."""
        return frozenset(DeliveryStatus(c.value) for c in self.counts if c.value in _DELIVERY_VALUES)

    def _counted_state(self, record: ContactRecord) -> bool:
        """Its result, or a delivery state it has or may still reach, is one ``counts`` names (on its channels)."""
        accept = self._counted_results.get(record.channel)
        if accept is None:
            return False
        if record.result in accept:
            return True
        return bool(self._counted_deliveries) and not possible_deliveries(record).isdisjoint(self._counted_deliveries)

    def matches(self, record: ContactRecord, request: ContactRequest) -> bool:
        return (
            self._counted_state(record)
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

    @cached_property
    def _answers(self) -> dict[Signature, bool]:
        """``matches`` per class of record (``matching``): pure in the rule and the class, so kept."""
        return {}

    def _counts_classes(self, found: Classified, request: ContactRequest) -> tuple[bool, ...]:
        answers, counted = self._answers, []
        for signature, sample in zip(found.signatures, found.samples, strict=True):
            answer = answers.get(signature)
            if answer is None:
                answer = answers[signature] = self.matches(sample, request)
            counted.append(answer)
        return tuple(counted)

    def selection(self, ctx: Context) -> tuple[object, ...]:
        """What names this rule's counted records in the evaluation's memo: the classes it counts, which
        rules counting the same share (once per rule and evaluation)."""
        key = (self.id, "selection")
        found = ctx.memo.get(key)
        if found is None:
            counted = self._counts_classes(matching.classified(ctx), ctx.request)
            found = ctx.memo[key] = self._named(ctx, counted)
        return found  # type: ignore[return-value]

    def _named(self, ctx: Context, counted: tuple[bool, ...]) -> tuple[object, ...]:
        return ("counted", counted)

    def _select(self, ctx: Context, counted: tuple[bool, ...]) -> list[ContactRecord]:
        return matching.classified(ctx).selected(counted)

    def counted_records(self, ctx: Context) -> list[ContactRecord]:
        """The history records this rule counts: ``counted`` on each, by class (``matching``)."""
        key = self.selection(ctx)
        found = ctx.memo.get(key)
        if found is None:
            found = ctx.memo[key] = self._select(ctx, key[1])  # type: ignore[arg-type]
        return found  # type: ignore[return-value]

    def in_zone(self, ctx: Context, zone: ZoneInfo) -> InZone:
        """The counted records dated in ``zone``: once per rule and evaluation, and built once for every
        rule counting the same records."""
        key = (self.id, zone)
        found = ctx.memo.get(key)
        if found is None:
            shared = (self.selection(ctx), zone)
            found = ctx.memo.get(shared)
            if found is None:
                found = ctx.memo[shared] = InZone.of(self.counted_records(ctx), zone)
            ctx.memo[key] = found
        return found  # type: ignore[return-value]

    def dated(self, ctx: Context, zone: ZoneInfo) -> list[tuple[date, ContactRecord]]:
        """The counted records with their local date in ``zone``, in date order (stable).

        Every record counts, even one stamped after the instant judged: a concurrent request may have
        reserved a contact a few milliseconds after this one started deciding."""
        return self.in_zone(ctx, zone).dated

    def by_date(self, ctx: Context, zone: ZoneInfo) -> tuple[list[int], list[tuple[date, ContactRecord]]]:
        """``dated``, with the dates as ordinals: a window's records are one slice."""
        found = self.in_zone(ctx, zone)
        return found.ordinals, found.dated

    @staticmethod
    def last_up_to(ordinals: list[int], day: int) -> int | None:
        """The latest counted date (an ordinal) on or before ``day``."""
        found = bisect_right(ordinals, day)
        return ordinals[found - 1] if found else None


@dataclass
class InZone:
    """Some counted records with their local dates in one zone, in date order, and what rules worked out
    from them during one evaluation (``found``: a window's records, a frequency's full days)."""

    ordinals: list[int]
    dated: list[tuple[date, ContactRecord]]
    found: dict[object, object] = field(default_factory=dict)

    @classmethod
    def of(cls, records: list[ContactRecord], zone: ZoneInfo) -> InZone:
        dates = localtime.record_dates(list(map(_AT, records)), zone)
        ordered = sorted(zip(dates, records, strict=True), key=_FIRST)
        return cls(list(map(date.toordinal, map(_FIRST, ordered))), ordered)


def unresolved_note(records: Iterable[ContactRecord]) -> str:
    pending = sum(map(UNRESOLVED.__contains__, map(_RESULT, records)))
    if not pending:
        return ""
    verb = "has" if pending == 1 else "have"
    return f"; {pending} of them {verb} no reported outcome and counts as the worst it can turn out to be"


def unresolved_detail(record: ContactRecord, zone: ZoneInfo) -> str:
    what = "a call permitted" if record.channel is Channel.VOICE else "a message sent"
    return f": {what} at {record.at.astimezone(zone):%H:%M} ({zone.key}) has no reported outcome"
